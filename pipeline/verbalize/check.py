"""Checks a verbalized session against the world: the text must carry the plan, and nothing else.

Used on every session of every backend. For the scripted backend a failure is a bug; for an LLM
backend it triggers a regeneration and, if that keeps failing, a quarantine.
"""

from __future__ import annotations

import re

from pipeline.records import Event, Fact, Session, parse_time
from pipeline.world.clock import resolve


class VerificationError(ValueError):
    """A session whose text does not match its plan; the message lists every problem."""


def states(text: str, term: str) -> bool:
    """Whether `text` contains `term` as a word start (case-insensitive): 'Ana' is not in 'banana'."""
    return re.search(r"(?<![\w])" + re.escape(term), text, flags=re.IGNORECASE) is not None


def image_holds(fact: Fact, event: Event) -> bool:
    """A visual fact is conveyed by the picture: its object, colour and count must be in the spec."""
    if event.image_spec is None:
        return False
    from pipeline.world.plan import object_phrase

    name = fact.key.rsplit("/", 1)[1]
    return any(o.name == name and object_phrase(o) == fact.value for o in event.image_spec.objects)


def check_session(session: Session, events: dict[str, Event], facts: dict[str, Fact], known_before: set[str]) -> list[str]:
    """Problems with one session (empty when it is right). `known_before`: facts conveyed in earlier sessions."""
    problems = []
    known = set(known_before)
    start, end = parse_time(session.start_time), parse_time(session.end_time)
    previous = start
    conveyed = []
    for turn in session.turns:
        where = f"{session.id} turn {turn.index}"
        t = parse_time(turn.time)
        if not (previous <= t <= end):
            problems.append(f"{where}: time {turn.time} out of order")
        previous = t
        for ref in turn.time_refs:
            if ref.phrase.lower() not in turn.text.lower():
                problems.append(f"{where}: date phrase '{ref.phrase}' not in the text")
                continue
            lo, hi = resolve(ref.phrase, t)
            day = parse_time(events[ref.event_id].time).date()
            if not lo <= day <= hi:
                problems.append(f"{where}: '{ref.phrase}' means {lo}..{hi} but {ref.event_id} happened on {day}")
        for fid in turn.fact_ids:
            f = facts.get(fid)
            if f is None:
                problems.append(f"{where}: unknown fact {fid}")
                continue
            event = events[fid.rsplit("/", 1)[0]]
            if parse_time(event.time) > t:
                problems.append(f"{where}: fact {fid} is from the future ({event.time} > {turn.time})")
            if turn.role == "assistant" and fid not in known:
                problems.append(f"{where}: the assistant recalls {fid}, which the user had not told yet")
            if turn.role == "user" and f.modality == "image":
                if f"{event.id}/image" not in turn.image_ids or not image_holds(f, event):
                    problems.append(f"{where}: visual fact {fid} is not shown by the turn's image")
            else:
                missing = [x for x in f.terms if not states(turn.text, x)]
                if missing:
                    problems.append(f"{where}: fact {fid} ({f.text}) not stated; missing {missing}")
            if turn.role == "user":
                conveyed.append(fid)
        if turn.role == "user":
            known.update(turn.fact_ids)
    if sorted(conveyed) != sorted(session.planned_fact_ids):
        problems.append(f"{session.id}: conveyed facts differ from the plan")
    return problems
