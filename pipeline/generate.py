"""One persona, start to finish: world -> plan -> verbalized sessions (checked) -> rendered images.

This is the unit of parallel work; it is a plain function, and Ray only maps it over personas.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

from pipeline.config import RunConfig
from pipeline.images.procedural import render_scene
from pipeline.labels.build import build_labels
from pipeline.personas.lexicon import load_lexicon
from pipeline.records import Image, Persona, PersonaPart
from pipeline.verbalize.check import VerificationError, check_session
from pipeline.verbalize.scripted import ScriptedVerbalizer
from pipeline.world.plan import plan_sessions
from pipeline.world.simulate import simulate_world

STAGES = ("world", "verbalize", "images", "labels")


@contextmanager
def _timed(timings: dict[str, float], stage: str):
    t0 = time.perf_counter()
    yield
    timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - t0


def generate_persona(persona: Persona, cfg: RunConfig, timings: dict[str, float] | None = None) -> PersonaPart:
    timings = {} if timings is None else timings
    lex = load_lexicon(cfg.lexicon_dir)
    with _timed(timings, "world"):
        world = simulate_world(persona, cfg, lex)
        events, plans = plan_sessions(world, cfg)
    events_by_id = {e.id: e for e in events}
    facts = {f.id: f for e in events for f in e.facts}

    with _timed(timings, "verbalize"):
        verbalizer = ScriptedVerbalizer(cfg.seed)
        sessions, known = [], set()
        for plan in plans:
            session = verbalizer.session(world, events_by_id, facts, plan)
            problems = check_session(session, events_by_id, facts, known)
            if problems:
                raise VerificationError(f"{len(problems)} problem(s) in {session.id}:\n" + "\n".join(problems[:10]))
            known.update(session.planned_fact_ids)
            sessions.append(session)

    with _timed(timings, "images"):
        images = []
        for s in sessions:
            for turn in s.turns:
                for image_id in turn.image_ids:
                    event = events_by_id[image_id.rsplit("/", 1)[0]]
                    images.append(Image(
                        id=image_id, persona_id=persona.id, split=persona.split, session_id=s.id, turn_index=turn.index,
                        event_id=event.id, spec=event.image_spec, caption=event.image_spec.caption,
                        png=render_scene(event.image_spec, cfg.image_size, image_id, cfg.seed)))
    part = PersonaPart(persona=persona, events=events, sessions=sessions, images=images)
    if persona.split == "train":  # benchmark personas get no training labels: nothing of them leaks into training
        with _timed(timings, "labels"):
            ops, track, sft, rl, stats = build_labels(persona, sessions, events, images, cfg, lex)
        part = part.model_copy(update={"memory_ops": ops, "personality": track, "sft": sft, "rl": rl, "stats": stats})
    return part
