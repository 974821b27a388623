"""All training labels of one persona, derived from its world and checked against its sessions."""

from __future__ import annotations

from pipeline.config import RunConfig
from pipeline.labels.agent import Replay
from pipeline.labels.audit import audit
from pipeline.labels.memory import check_ops, derive_ops, replay
from pipeline.labels.personality import final_mae, personality_track
from pipeline.labels.queries import find_queries
from pipeline.labels.rl import build_rl
from pipeline.labels.sft import build_sft
from pipeline.personavlm.protocol import load_templates
from pipeline.records import EventIndex, Image, MemoryOp, Persona, PersonalityObs, RlSample, Session, SftSample
from pipeline.rng import rng_for


class LabelError(ValueError):
    """Labels that contradict the dialogue: a bug, never shipped."""


def build_labels(persona: Persona, sessions: list[Session], index: EventIndex, images: list[Image], cfg: RunConfig,
                 templates=None
                 ) -> tuple[list[MemoryOp], list[PersonalityObs], list[SftSample], list[RlSample], dict, Replay]:
    """The labels, and the agent replay they come from (its store is what the export writes); `templates`:
    a prompts file to render the agent's calls with (default: ours)."""
    by_id, facts = index.event, index.fact
    ops = derive_ops(persona, sessions, by_id, facts)
    problems = check_ops(ops, sessions, by_id, facts)
    if problems:
        raise LabelError(f"{persona.id}: {len(problems)} memory ops not supported by the dialogue:\n" + "\n".join(problems[:10]))
    replay(ops)
    track = personality_track(persona, sessions)
    queries = [q for q in find_queries(persona, sessions, ops, by_id, facts) if q.supported]
    image_by_id = {im.id: im for im in images}
    agent = Replay(persona, sessions, ops, track, index, load_templates(templates))
    calls = agent.run(queries)
    sft, stats = build_sft(persona, calls, image_by_id, rng_for(cfg.seed, persona.id, "sft"))
    rl, rl_counts = build_rl(persona, calls, agent, list(index.events), image_by_id, rng_for(cfg.seed, persona.id, "rl"),
                             cfg.rl_per_persona)
    stats.update(rl_counts)
    stats.update(audit(calls, rl))
    stats["final_personality_mae"] = round(final_mae(track), 4)
    return ops, track, sft, rl, stats, agent
