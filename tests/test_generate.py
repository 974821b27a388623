"""One persona through the backend contract: what generate.py guarantees whatever the backend does."""

from __future__ import annotations

import asyncio

import pytest

from pipeline.generate import agenerate_persona, generate_persona
from pipeline.llm import EndpointUnavailable
from pipeline.personas.sampler import sample_personas
from pipeline.verbalize.backend import ScriptedBackend


class _Raising(ScriptedBackend):
    name = "raising"

    def __init__(self, error: Exception):
        self.error = error

    async def rewrite(self, world, draft, events, facts, stats):
        if draft.index == 2:
            raise self.error
        return await super().rewrite(world, draft, events, facts, stats)


class _Garbage(ScriptedBackend):
    """A backend that writes nonsense for every user turn: all of it fails the check and falls back."""

    name = "garbage"
    source = "llm"
    repairs = 1

    async def rewrite(self, world, draft, events, facts, stats):
        return {t.index: "blah" if t.role == "user" else t.text for t in draft.turns}

    async def repair(self, world, draft, current, problems, events, facts, round_, stats):
        return {i: "still blah" for i in problems}


def test_a_persona_that_raises_is_quarantined_with_the_reason(small_cfg, lex):
    persona = sample_personas(small_cfg, lex)[0]
    part = asyncio.run(agenerate_persona(persona, small_cfg, _Raising(KeyError("turns"))))
    assert part.quarantine and part.quarantine[0].reason == "KeyError: 'turns'" and not part.sessions
    with pytest.raises(EndpointUnavailable):  # the endpoint failed, not the persona: nothing to write, a rerun retries
        asyncio.run(agenerate_persona(persona, small_cfg, _Raising(EndpointUnavailable("down"))))


def test_turns_that_never_pass_ship_as_their_draft_with_the_same_labels(small_cfg, lex):
    persona = sample_personas(small_cfg, lex)[0]
    cfg = small_cfg.model_copy(update={"llm_max_fallback_share": 1.0})
    part = asyncio.run(agenerate_persona(persona, cfg, _Garbage()))
    scripted = generate_persona(persona, cfg)
    by_index = [{t.index: t for t in s.turns} for s in part.sessions]
    facts = {f.id: f for e in scripted.events for f in e.facts}
    carrying = 0  # sessions with a user turn that has something to carry
    for s, turns in zip(scripted.sessions, by_index):
        carries_any = False
        for t in s.turns:
            shipped = turns[t.index]
            carries = any(facts[f].modality == "text" for f in t.fact_ids) or t.time_refs
            if t.role == "user" and carries:  # it had something to carry: the draft ships
                assert (shipped.text, shipped.source) == (t.text, "scripted-fallback")
                carries_any = True
            else:  # small talk carries nothing the check could miss
                assert shipped.source == "llm"
        carrying += carries_any
    assert part.memory_ops == scripted.memory_ops and part.personality == scripted.personality
    assert carrying and part.stats["sessions_fallback"] == carrying
    assert part.stats.get("sessions_first_try", 0) == len(part.sessions) - carrying
    assert ScriptedBackend.shape(small_cfg, 10, 2).personas_per_task == 1  # small runs: every worker busy
    assert ScriptedBackend.shape(small_cfg, 700, 2).personas_per_task == 10
