"""One persona, start to finish: world -> plan -> verbalized sessions (checked) -> images -> labels.

This is the unit of parallel work, the same for every text backend: the scripted draft of each
session, the backend's rewrite, the check of every turn, repair requests for the turns that fail,
and the draft for a turn that never comes right (so the labels, derived from the world, stay exact
for the text that ships). A persona is quarantined only when too much of it fell back to drafts or
it raised; when the endpoint itself failed it raises `EndpointUnavailable` and writes nothing, so
a rerun tries it again. Plain async functions; Ray only maps them over personas.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import time
from contextlib import contextmanager
from dataclasses import dataclass

from pipeline.config import RunConfig
from pipeline.images.procedural import render_scene
from pipeline.labels.build import build_labels
from pipeline.llm import EndpointUnavailable, OfflineCacheMiss
from pipeline.mme.build import build_questions
from pipeline.mme.context import TokenCounter
from pipeline.personas.lexicon import load_lexicon
from pipeline.records import TEXT_SOURCES, Event, EventIndex, Fact, Image, Persona, PersonaPart, Quarantine, Session
from pipeline.verbalize.backend import ScriptedBackend, TextBackend
from pipeline.verbalize.check import VerificationError, check_turns
from pipeline.verbalize.scripted import ScriptedVerbalizer
from pipeline.verbalize.voice import Observed
from pipeline.world.plan import SessionPlan, plan_sessions
from pipeline.world.simulate import World, simulate_world

STAGES = ("world", "verbalize", "images", "labels", "mme")


@contextmanager
def _timed(timings: dict[str, float], stage: str):
    t0 = time.perf_counter()
    yield
    timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - t0


@dataclass(frozen=True)
class PersonaContext:
    """One persona's world, built once and read by every stage after it (none changes it): the final world
    (photos and snapshots included), its session plans, and its events and facts by id."""

    world: World
    plans: list[SessionPlan]
    index: EventIndex


def build_world(persona: Persona, cfg: RunConfig, timings: dict[str, float] | None = None) -> PersonaContext:
    with _timed({} if timings is None else timings, "world"):
        world, plans = plan_sessions(simulate_world(persona, cfg, load_lexicon(cfg.lexicon_dir)), cfg)
    return PersonaContext(world, plans, EventIndex.of(world.events))


def _apply(draft: Session, texts: dict[int, str], sources: dict[int, str]) -> Session:
    """The draft with the given texts and sources (turns that keep theirs are not copied)."""
    turns = [t if (texts.get(t.index, t.text), sources[t.index]) == (t.text, t.source)
             else t.model_copy(update={"text": texts.get(t.index, t.text), "source": sources[t.index]}) for t in draft.turns]
    return draft.model_copy(update={"turns": turns})


async def write_session(backend: TextBackend, world: World, draft: Session, events: dict[str, Event],
                        facts: dict[str, Fact], known_before: set[str], stats: dict[str, float]) -> Session:
    """The backend's text for one session, every turn checked: failing turns are asked again with their
    problems (`backend.repairs` rounds), and a turn still wrong ships as its draft, marked as such.
    Raises VerificationError if what ships does not pass (a bug: the draft passes by construction)."""
    texts = await backend.rewrite(world, draft, events, facts, stats)
    sources = {t.index: backend.source if t.index in texts else "scripted-fallback" for t in draft.turns}
    problems: dict[int, list[str]] = {}
    session = draft
    for round_ in range(backend.repairs + 1):
        if round_:
            fixed = await backend.repair(world, draft, session, problems, events, facts, round_ - 1, stats)
            texts.update({i: text for i, text in fixed.items() if i in problems})
            sources.update({i: "llm-repaired" for i in fixed if i in problems})
        session = _apply(draft, texts, sources)
        found, whole = check_turns(session, events, facts, known_before, draft, backend.vocabulary)
        unwritten = {t.index: [f"turn {t.index}: no usable text in the reply"] for t in draft.turns if t.index not in texts}
        problems = {**unwritten, **found}
        if not problems:
            break
    if problems:  # the draft carries the plan by construction
        for i in problems:
            texts.pop(i, None)
            sources[i] = "scripted-fallback"
        session = _apply(draft, texts, sources)
        found, whole = check_turns(session, events, facts, known_before, draft, backend.vocabulary)
    if found or whole:
        lines = [p for i in sorted(found) for p in found[i]] + whole
        raise VerificationError(f"{len(lines)} problem(s) in {session.id}:\n" + "\n".join(lines[:10]))
    kind = "fallback" if problems else "repaired" if "llm-repaired" in sources.values() else "first_try"
    stats[f"sessions_{kind}"] = stats.get(f"sessions_{kind}", 0) + 1
    return session


async def verbalize(backend: TextBackend, world: World, plans, events: dict[str, Event], facts: dict[str, Fact],
                    seed: int, stats: dict[str, float]) -> list[Session]:
    """Every session of a persona in order (each one's memory depends on the earlier ones), checked."""
    drafts = ScriptedVerbalizer(seed)
    sessions, known, observed = [], set(), Observed()
    for plan in plans:
        draft = drafts.session(world, events, facts, plan, observed.poles())
        session = await write_session(backend, world, draft, events, facts, known, stats)
        known.update(session.planned_fact_ids)
        observed.add(session)
        sessions.append(session)
    return sessions


def _finish(persona: Persona, cfg: RunConfig, ctx: PersonaContext, sessions: list[Session],
            timings: dict[str, float]) -> PersonaPart:
    events, by_id = ctx.world.events, ctx.index.event
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
            ops, track, sft, rl, stats, _ = build_labels(persona, sessions, ctx.index, images, cfg, cfg.agent_prompts)
        part = part.model_copy(update={"memory_ops": ops, "personality": track, "sft": sft, "rl": rl, "stats": stats})
    else:
        with _timed(timings, "mme"):
            questions, stats = build_questions(persona, ctx.index, sessions, images, load_lexicon(cfg.lexicon_dir), cfg.seed,
                                               cfg.mme_per_setting, cfg.mme_alignment_pairs,
                                               _counter(cfg.mme_tokenizer, cfg.image_size), cfg.mme_cases)
        part = part.model_copy(update={"mme": questions, "stats": dict(stats)})
    return part


@functools.cache
def _counter(tokenizer: str | None, image_size: int) -> TokenCounter:
    """One tokenizer per worker process, not one per persona."""
    return TokenCounter(tokenizer, image_size)


def _quarantined(persona: Persona, session_id: str, reason: str, stats: dict[str, float]) -> PersonaPart:
    return PersonaPart(persona=persona, events=[], sessions=[], images=[], stats={**stats, "quarantined": 1},
                       quarantine=[Quarantine(persona_id=persona.id, split=persona.split, session_id=session_id,
                                              reason=reason, attempts=1)])


async def agenerate_persona(persona: Persona, cfg: RunConfig, backend: TextBackend,
                            timings: dict[str, float] | None = None) -> PersonaPart:
    """One persona's part. Raises EndpointUnavailable when the endpoint failed (write nothing, retry later);
    any other failure of the persona becomes its quarantine row, never a failed run."""
    timings = {} if timings is None else timings
    stats: dict[str, float] = {}
    ctx = build_world(persona, cfg, timings)
    try:
        with _timed(timings, "verbalize"):
            sessions = await verbalize(backend, ctx.world, ctx.plans, ctx.index.event, ctx.index.fact, cfg.seed, stats)
    except (EndpointUnavailable, OfflineCacheMiss, OSError, VerificationError):
        raise  # the endpoint or the disk failed, or a checker bug: not this persona's fault
    except Exception as e:  # noqa: BLE001 - one persona's failure must never end the run
        return _quarantined(persona, "", f"{type(e).__name__}: {e}"[:500], stats)  # no single session to blame
    turns = [t for s in sessions for t in s.turns]
    for source in TEXT_SOURCES:
        if n := sum(t.source == source for t in turns):
            stats[f"text_{source.replace('-', '_')}"] = n
    fallback = stats.get("text_scripted_fallback", 0) / max(1, len(turns))
    if backend.name != "scripted" and fallback > cfg.llm_max_fallback_share:
        worst = max(sessions, key=lambda s: sum(t.source == "scripted-fallback" for t in s.turns))
        return _quarantined(persona, worst.id, f"{fallback:.0%} of its turns fell back to the scripted draft "
                                               f"(limit {cfg.llm_max_fallback_share:.0%}, llm_max_fallback_share)", stats)
    part = _finish(persona, cfg, ctx, sessions, timings)
    part.stats.update(stats)
    return part


def generate_persona(persona: Persona, cfg: RunConfig, timings: dict[str, float] | None = None) -> PersonaPart:
    """The same with the embedded scripted backend, from synchronous code."""
    return run_sync(agenerate_persona(persona, cfg, ScriptedBackend(), timings))


def run_sync(coroutine):
    """Run a coroutine to its end on a fresh event loop, from a worker or other batch code.

    Not `asyncio.run`: on the main thread it swaps in a SIGINT handler that holds the task, and putting
    the old one back formats that handler, whose repr includes the task's whole result (for a persona's
    part, a sixth of its generation time). An interactive command that wants Ctrl-C to cancel cleanly
    (`mme eval`) keeps `asyncio.run`."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


@contextmanager
def fewer_collections(young: int = 50_000):
    """Batch code that generates personas runs the cycle collector less often: a persona allocates millions
    of objects that reference counting frees, and at Python's default threshold (700) the collector keeps
    rescanning the persona's live world (0.295 -> 0.244 CPU s per persona, three runs of 16 each)."""
    before = gc.get_threshold()
    gc.set_threshold(young, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)
