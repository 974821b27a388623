"""Memory-operation labels for the Update stage, derived from what each session actually conveyed.

Four memories as in PersonaVLM: core (the user's profile and current preferences), semantic
(people, interests, reasons, visual concepts), episodic (append-only time-stamped episodes) and
procedural (goals and habits; at most 5 live entries). Each conveyed fact has one home
(`memory_entry`); comparing it with the memory so far gives the operation: a new key is an ADD, a
changed value an UPDATE (a preference shift is never DELETE + ADD), the same value again a NOOP, and
a goal that ends (completed or abandoned) or a habit dropped a DELETE. A memory that nothing touched
in a session gets one session-level NOOP. `replay` rebuilds the memory from the ops alone and refuses
any op that does not apply to the state it claims to change.
"""

from __future__ import annotations

from collections import defaultdict

from pipeline.records import MEMORIES, Event, Fact, MemoryOp, Persona, Session
from pipeline.verbalize.check import image_holds
from pipeline.verbalize.match import mentions

Snapshot = dict[str, dict[str, str]]  # memory -> key -> value
PROCEDURAL_CAP = 5

_HOME = {
    "profile": "core", "preference": "core", "preference_shift": "core",
    "shift_reason": "semantic", "interest": "semantic", "relationship": "semantic", "relationship_change": "semantic",
    "visual": "semantic", "habit": "procedural", "goal": "procedural", "goal_progress": "procedural",
    "goal_outcome": "procedural", "habit_end": "procedural",
}


class ReplayError(ValueError):
    """An op that does not apply to the memory it claims to change."""


def empty_memory() -> Snapshot:
    return {m: {} for m in MEMORIES}


def copy_memory(memory: Snapshot) -> Snapshot:
    """A snapshot's exact copy (its values are strings), without copy.deepcopy's per-object bookkeeping."""
    return {m: dict(entries) for m, entries in memory.items()}


def memory_entry(fact: Fact, persona: Persona) -> tuple[str, str, str | None] | None:
    """Where a fact lives: (memory, key, value); value None removes the key. None: episodic only."""
    memory = _HOME.get(fact.kind)
    if memory is None:
        return None
    if fact.kind == "goal_progress":
        gid = fact.key.split("/", 1)[1]
        goal = next(g for g in persona.goals if g.id == gid)
        return memory, f"goal/{gid}", f"working towards: {goal.text}; latest step: {fact.value}"
    if fact.kind in ("goal_outcome", "habit_end"):  # a goal that ended, a habit dropped
        return memory, fact.key, None
    return memory, fact.key, fact.value


def episode(event: Event, fact_ids: list[str], facts: dict[str, Fact]) -> tuple[str, str, list[str]]:
    """(key, summary, keywords) of the episode a told event adds to episodic memory."""
    told = [facts[f] for f in fact_ids]
    text = [f for f in told if f.modality == "text"]
    if text:
        summary = " ".join(f.text for f in text)
        keywords = [t for f in text for t in f.terms]
    else:  # a snapshot: only a picture was shared
        summary = f"Shared a photo: {event.image_spec.caption}"
        keywords = [o.name for o in event.image_spec.objects]
    if event.image_spec is not None and text:
        summary += " (photo shared)"
    return f"episode/{event.id.rsplit('/', 1)[1]}", f"[{event.time}] {summary}", list(dict.fromkeys(keywords))


def derive_ops(persona: Persona, sessions: list[Session], events: dict[str, Event], facts: dict[str, Fact]) -> list[MemoryOp]:
    memory = empty_memory()
    ops: list[MemoryOp] = []
    for s in sessions:
        session_ops: list[dict] = []
        for turn in (t for t in s.turns if t.role == "user"):
            base = {"evidence": [turn.index], "time": turn.time}
            by_event: dict[str, list[str]] = defaultdict(list)
            for fid in turn.fact_ids:
                f = facts[fid]
                by_event[fid.rsplit("/", 1)[0]].append(fid)
                entry = memory_entry(f, persona)
                if entry is None:
                    continue
                mem, key, value = entry
                current = memory[mem].get(key)
                if value is None:
                    if current is None:
                        continue
                    op = "DELETE"
                else:
                    op = "ADD" if current is None else "NOOP" if current == value else "UPDATE"
                session_ops.append({**base, "memory": mem, "op": op, "key": key, "before": current, "after": value,
                                    "keywords": f.terms, "fact_ids": [fid]})
                _apply(memory, mem, op, key, value)
            for eid, fids in by_event.items():
                event = events[eid]
                if event.kind == "background":
                    continue
                key, summary, keywords = episode(event, fids, facts)
                session_ops.append({**base, "memory": "episodic", "op": "ADD", "key": key, "before": None,
                                    "after": summary, "keywords": keywords, "fact_ids": fids})
                _apply(memory, "episodic", "ADD", key, summary)
        touched = {o["memory"] for o in session_ops if o["op"] != "NOOP"}
        for mem in MEMORIES:
            if mem not in touched:
                session_ops.append({"memory": mem, "op": "NOOP", "key": None, "before": None, "after": None,
                                    "keywords": [], "evidence": [], "fact_ids": [], "time": s.end_time})
        ops += [MemoryOp(session_id=s.id, persona_id=persona.id, split=persona.split, index=k, **o)
                for k, o in enumerate(session_ops)]
        if len(memory["procedural"]) > PROCEDURAL_CAP:
            raise ReplayError(f"{s.id}: procedural memory holds {len(memory['procedural'])} entries (cap {PROCEDURAL_CAP})")
    return ops


def _apply(memory: Snapshot, mem: str, op: str, key: str | None, value: str | None) -> None:
    if op in ("ADD", "UPDATE"):
        memory[mem][key] = value
    elif op == "DELETE":
        del memory[mem][key]


def apply_op(memory: Snapshot, o: MemoryOp) -> None:
    _apply(memory, o.memory, o.op, o.key, o.after)


def replay(ops: list[MemoryOp]) -> dict[str, Snapshot]:
    """Memory after each session, rebuilt from the ops alone (strict: each op must fit the state)."""
    memory = empty_memory()
    after: dict[str, Snapshot] = {}
    for i, o in enumerate(ops):
        current = memory[o.memory].get(o.key) if o.key is not None else None
        where = f"{o.session_id} op {o.index} ({o.op} {o.memory}/{o.key})"
        if o.op == "ADD" and o.key in memory[o.memory]:
            raise ReplayError(f"{where}: key already present")
        if o.op in ("UPDATE", "DELETE") and (o.key not in memory[o.memory] or current != o.before):
            raise ReplayError(f"{where}: 'before' does not match the memory ({current!r})")
        if o.op == "NOOP" and o.key is not None and current != o.after:
            raise ReplayError(f"{where}: NOOP on a value that differs ({current!r})")
        apply_op(memory, o)
        if i + 1 == len(ops) or ops[i + 1].session_id != o.session_id:  # the memory as this session leaves it
            after[o.session_id] = copy_memory(memory)
    return after


def check_ops(ops: list[MemoryOp], sessions: list[Session], events: dict[str, Event], facts: dict[str, Fact]) -> list[str]:
    """Every op's content must be stated by its evidence turns (text terms, or the picture shown)."""
    turns = {(s.id, t.index): t for s in sessions for t in s.turns}
    problems = []
    for o in ops:
        for fid in o.fact_ids:
            f = facts[fid]
            shown = [turns[(o.session_id, i)] for i in o.evidence]
            event = events[fid.rsplit("/", 1)[0]]
            if f.modality == "image":
                ok = any(f"{event.id}/image" in t.image_ids for t in shown) and image_holds(f, event)
            else:
                ok = any(all(mentions(t.text, term) for term in f.terms) for t in shown)
            if not ok:
                problems.append(f"{o.session_id} op {o.index}: {o.op} {o.memory}/{o.key} not stated by turns {o.evidence}")
        if o.key and o.key.startswith("preference/") and o.op == "DELETE":
            problems.append(f"{o.session_id} op {o.index}: a preference shift must be an UPDATE, not a DELETE")
    return problems
