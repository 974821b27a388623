"""The questions in the conversations whose answers come from memory: the raw material of the
reasoning SFT samples and the GRPO prompts.

A query is a user turn that conveys nothing new and whose assistant reply recalls an earlier fact:
a recall question ("what did I do last Tuesday with Ana?", "what colour was the kite?") or a
request the assistant personalizes from a preference. For each, the memory as it stood at that
moment is rebuilt from the ops, the retrieval the model should issue is derived, and the answer is
kept only if what is retrieved (or the core memory) actually supports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from pipeline.labels.memory import Snapshot, apply_op, copy_memory, empty_memory
from pipeline.labels.retrieve import retrieve
from pipeline.records import Event, Fact, MemoryOp, Persona, Session, Turn, parse_time
from pipeline.world.clock import resolve


@dataclass
class Query:
    session: Session
    turn: Turn
    reply: Turn
    fact: Fact
    event: Event
    memory: Snapshot  # as it stood when the question was asked
    source: str  # "core", "episodic" or "semantic": where the answer lives
    keywords: list[str]
    window: tuple[datetime, datetime] | None
    retrieved: dict[str, list[tuple[str, str]]] | None
    supported: bool


def find_queries(persona: Persona, sessions: list[Session], ops: list[MemoryOp], events: dict[str, Event],
                 facts: dict[str, Fact]) -> list[Query]:
    event_times = {eid.rsplit("/", 1)[1]: e.time for eid, e in events.items()}
    by_session: dict[str, list[MemoryOp]] = {}
    for o in ops:
        by_session.setdefault(o.session_id, []).append(o)
    memory = empty_memory()
    out = []
    for s in sessions:
        session_ops = by_session.get(s.id, [])
        for user, reply in zip(s.turns[::2], s.turns[1::2]):
            if user.fact_ids or not reply.fact_ids:
                continue
            now = copy_memory(memory)
            for o in session_ops:
                if o.evidence and o.evidence[0] < user.index:
                    apply_op(now, o)
            q = _query(s, user, reply, facts[reply.fact_ids[0]], events, now, event_times)
            if q is not None:
                out.append(q)
        for o in session_ops:
            apply_op(memory, o)
    return out


def _query(s: Session, user: Turn, reply: Turn, fact: Fact, events: dict[str, Event], memory: Snapshot,
           event_times: dict[str, str]) -> Query | None:
    event = events[fact.id.rsplit("/", 1)[0]]
    base = dict(session=s, turn=user, reply=reply, fact=fact, event=event, memory=memory)
    if fact.key.startswith("preference/"):
        return Query(**base, source="core", keywords=[], window=None, retrieved=None,
                     supported=memory["core"].get(fact.key) == fact.value)
    if fact.kind not in ("activity", "visual") or not user.time_refs:
        return None
    lo, hi = resolve(user.time_refs[0].phrase, parse_time(user.time))
    window = (datetime.combine(lo, time(0, 0)), datetime.combine(hi, time(23, 59)))
    if fact.kind == "activity":
        source, keywords = "episodic", list(event.participants)
        target = f"episode/{event.id.rsplit('/', 1)[1]}"
    else:
        source, keywords = "semantic", [fact.key.rsplit("/", 1)[1]]
        target = fact.key
    found = retrieve(memory, keywords, *window, event_times)
    return Query(**base, source=source, keywords=keywords, window=window, retrieved=found,
                 supported=any(k == target for k, _ in found[source]))
