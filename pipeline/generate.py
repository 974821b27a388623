"""One persona, start to finish: world -> plan -> verbalized sessions (checked) -> images -> labels.

This is the unit of parallel work. `generate_persona` uses the embedded scripted text backend;
`agenerate_persona` the LLM backend (async, so one worker keeps many personas in flight). Both are
plain functions; Ray only maps them over personas.
"""

from __future__ import annotations

import functools
import time
from contextlib import contextmanager

from pipeline.config import RunConfig
from pipeline.images.procedural import render_scene
from pipeline.labels.build import build_labels
from pipeline.mme.build import build_questions
from pipeline.mme.context import TokenCounter
from pipeline.personas.lexicon import load_lexicon
from pipeline.records import Event, Image, Persona, PersonaPart, Quarantine, Session
from pipeline.verbalize.check import VerificationError, check_session
from pipeline.verbalize.scripted import ScriptedVerbalizer
from pipeline.world.plan import plan_sessions
from pipeline.world.simulate import World, simulate_world

STAGES = ("world", "verbalize", "images", "labels", "mme")


@contextmanager
def _timed(timings: dict[str, float], stage: str):
    t0 = time.perf_counter()
    yield
    timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - t0


def _world(persona: Persona, cfg: RunConfig, timings: dict[str, float]):
    with _timed(timings, "world"):
        world = simulate_world(persona, cfg, load_lexicon(cfg.lexicon_dir))
        events, plans = plan_sessions(world, cfg)
    return world, events, plans, {e.id: e for e in events}, {f.id: f for e in events for f in e.facts}


def _finish(persona: Persona, cfg: RunConfig, events: list[Event], sessions: list[Session],
            timings: dict[str, float]) -> PersonaPart:
    by_id = {e.id: e for e in events}
    with _timed(timings, "images"):
        shown = [(s, turn, image_id) for s in sessions for turn in s.turns for image_id in turn.image_ids]
        specs = [by_id[image_id.rsplit("/", 1)[0]].image_spec for _, _, image_id in shown]
        keys = [image_id for _, _, image_id in shown]
        if cfg.image_backend == "diffusers":
            from pipeline.images.diffusion import render_captions

            pngs = render_captions(specs, keys, cfg.image_model, cfg.image_size, cfg.seed, cfg.image_steps, cfg.image_guidance)
        else:
            pngs = [render_scene(spec, cfg.image_size, key, cfg.seed) for spec, key in zip(specs, keys)]
        images = [Image(id=image_id, persona_id=persona.id, split=persona.split, session_id=s.id, turn_index=turn.index,
                        event_id=image_id.rsplit("/", 1)[0], spec=spec, caption=spec.caption, png=png)
                  for (s, turn, image_id), spec, png in zip(shown, specs, pngs)]
    part = PersonaPart(persona=persona, events=events, sessions=sessions, images=images)
    if persona.split == "train":  # benchmark personas get no training labels: nothing of them leaks into training
        with _timed(timings, "labels"):
            ops, track, sft, rl, stats = build_labels(persona, sessions, events, images, cfg, load_lexicon(cfg.lexicon_dir))
        part = part.model_copy(update={"memory_ops": ops, "personality": track, "sft": sft, "rl": rl, "stats": stats})
    else:
        with _timed(timings, "mme"):
            questions, stats = build_questions(persona, events, sessions, images, load_lexicon(cfg.lexicon_dir), cfg.seed,
                                               cfg.mme_per_setting, cfg.mme_alignment_pairs,
                                               _counter(cfg.mme_tokenizer, cfg.image_size))
        part = part.model_copy(update={"mme": questions, "stats": dict(stats)})
    return part


@functools.cache
def _counter(tokenizer: str | None, image_size: int) -> TokenCounter:
    """One tokenizer per worker process, not one per persona."""
    return TokenCounter(tokenizer, image_size)


def generate_persona(persona: Persona, cfg: RunConfig, timings: dict[str, float] | None = None) -> PersonaPart:
    timings = {} if timings is None else timings
    world, events, plans, by_id, facts = _world(persona, cfg, timings)
    with _timed(timings, "verbalize"):
        verbalizer = ScriptedVerbalizer(cfg.seed)
        sessions, known = [], set()
        for plan in plans:
            session = verbalizer.session(world, by_id, facts, plan)
            problems = check_session(session, by_id, facts, known)
            if problems:
                raise VerificationError(f"{len(problems)} problem(s) in {session.id}:\n" + "\n".join(problems[:10]))
            known.update(session.planned_fact_ids)
            sessions.append(session)
    return _finish(persona, cfg, events, sessions, timings)


async def agenerate_persona(persona: Persona, cfg: RunConfig, verbalizer, timings: dict[str, float] | None = None
                            ) -> PersonaPart:
    """The same with an async verbalizer (`LLMVerbalizer`); a session it cannot get right quarantines the persona."""
    from pipeline.llm import LLMStats
    from pipeline.verbalize.openai_backend import Quarantined

    stats = LLMStats()
    timings = {} if timings is None else timings
    world: World
    world, events, plans, by_id, facts = _world(persona, cfg, timings)
    sessions, known = [], set()
    t0 = time.perf_counter()
    try:
        for plan in plans:
            session = await verbalizer.session(world, by_id, facts, plan, known, stats)
            known.update(session.planned_fact_ids)
            sessions.append(session)
    except Quarantined as q:
        return PersonaPart(persona=persona, events=[], sessions=[], images=[], stats={"quarantined": 1, **stats.as_dict()},
                           quarantine=[Quarantine(persona_id=persona.id, split=persona.split, session_id=q.session_id,
                                                  reason=q.reason, attempts=q.attempts)])
    finally:
        timings["verbalize"] = timings.get("verbalize", 0.0) + time.perf_counter() - t0
    part = _finish(persona, cfg, events, sessions, timings)
    part.stats.update(stats.as_dict())
    return part
