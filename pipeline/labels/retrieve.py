"""Keyword-and-time retrieval over a memory snapshot, as the Response stage's <retrieve> step does.

Top-k per memory as PersonaVLM at inference: procedural 2, semantic 4, episodic 2. An entry scores
one point per keyword it contains; entries with a known time outside the requested window are left
out; ties go to the most recent entry.
"""

from __future__ import annotations

from datetime import datetime

from pipeline.records import parse_time

TOP_K = {"procedural": 2, "semantic": 4, "episodic": 2}


def entry_time(key: str, value: str, event_times: dict[str, str]) -> str | None:
    """When an entry's content happened: episodes carry it in front, visual concepts via their event."""
    if value.startswith("[") and value[17:18] == "]":
        return value[1:17]
    if key.startswith("visual/"):
        return event_times.get(key.split("/")[1])
    return None


def retrieve(snapshot: dict[str, dict[str, str]], keywords: list[str], start: datetime | None, end: datetime | None,
             event_times: dict[str, str]) -> dict[str, list[tuple[str, str]]]:
    words = [k.lower() for k in keywords]
    out = {}
    for memory, k in TOP_K.items():
        scored = []
        for key, value in snapshot.get(memory, {}).items():
            t = entry_time(key, value, event_times)
            if t is not None and start is not None and not (start <= parse_time(t) <= end):
                continue
            if t is None and start is not None and memory == "episodic":
                continue
            text = f"{key} {value}".lower()
            score = sum(w in text for w in words) + (0.5 if t is not None and start is not None else 0)
            if score > 0:
                scored.append((-score, -(parse_time(t).timestamp() if t else 0), key, value))
        out[memory] = [(key, value) for *_, key, value in sorted(scored)[:k]]
    return out
