from __future__ import annotations

from collections import Counter

import pytest

from pipeline.labels.memory import PROCEDURAL_CAP, ReplayError, empty_memory, episode, memory_entry, replay
from pipeline.records import MEMORIES


def _train(parts):
    return [p for p in parts if p.persona.split == "train"]


def _expected_snapshots(part):
    """Memory after each session computed straight from the conveyed facts, without the ops."""
    events = {e.id: e for e in part.events}
    facts = {f.id: f for e in part.events for f in e.facts}
    memory, out = empty_memory(), {}
    for s in part.sessions:
        for t in s.turns:
            if t.role != "user":
                continue
            by_event = {}
            for fid in t.fact_ids:
                by_event.setdefault(fid.rsplit("/", 1)[0], []).append(fid)
                entry = memory_entry(facts[fid], part.persona)
                if entry:
                    mem, key, value = entry
                    if value is None:
                        memory[mem].pop(key, None)
                    else:
                        memory[mem][key] = value
            for eid, fids in by_event.items():
                if events[eid].kind != "background":
                    key, summary, _ = episode(events[eid], fids, facts)
                    memory["episodic"][key] = summary
        out[s.id] = {m: dict(v) for m, v in memory.items()}
    return out


def test_replaying_ops_reproduces_every_snapshot(small_parts):
    for part in _train(small_parts):
        replayed = replay(part.memory_ops)
        expected = _expected_snapshots(part)
        assert set(replayed) == {s.id for s in part.sessions}
        for sid, snap in expected.items():
            assert replayed[sid] == snap, sid
            assert len(snap["procedural"]) <= PROCEDURAL_CAP


def test_op_semantics(small_parts):
    ops = [o for p in _train(small_parts) for o in p.memory_ops]
    kinds = Counter((o.memory, o.op) for o in ops)
    assert kinds[("core", "UPDATE")] > 0, "preference shifts are UPDATEs of core memory"
    assert kinds[("procedural", "DELETE")] > 0 and kinds[("procedural", "NOOP")] > 0
    assert not [o for o in ops if o.key and o.key.startswith("preference/") and o.op == "DELETE"]
    assert all(o.op == "ADD" for o in ops if o.memory == "episodic" and o.key)  # append-only
    for o in ops:
        if o.op == "UPDATE":
            assert o.before and o.after and o.before != o.after
        if o.key is not None and o.op != "NOOP":
            assert o.evidence, "every change points at the turn that states it"
    repeated = [o for o in ops if o.op == "NOOP" and o.key]
    assert repeated and all(o.before == o.after for o in repeated), "a repeated mention is a NOOP"
    for p in _train(small_parts):  # every session says something about every memory
        per_session = Counter((o.session_id, o.memory) for o in p.memory_ops)
        assert all(per_session[(s.id, m)] >= 1 for s in p.sessions for m in MEMORIES)


def test_replay_refuses_ops_that_do_not_fit(small_parts):
    ops = list(_train(small_parts)[0].memory_ops)
    update = next(i for i, o in enumerate(ops) if o.op == "UPDATE")
    broken = ops[:update] + [ops[update].model_copy(update={"before": "something else"})] + ops[update + 1:]
    with pytest.raises(ReplayError, match="before"):
        replay(broken)
    add = next(i for i, o in enumerate(ops) if o.op == "ADD")
    with pytest.raises(ReplayError, match="already present"):
        replay(ops[: add + 1] + [ops[add]])
