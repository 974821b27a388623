"""SFT samples are the PersonaVLM agent's calls: its protocol, PersonaVLM's mix, targets equal to the native labels."""

from __future__ import annotations

from collections import Counter

from pipeline.labels.memory import replay
from pipeline.labels.sft import MEMORY_TASKS, MIX
from tests.personavlm import release as R


def _samples(parts, task=None):
    return [s for p in parts for s in p.sft if task is None or s.task == task]


def _text(m):
    return "".join("<image>" if c.type == "image" else c.text or "" for c in m.content)


def test_mix_is_personavlm_like(small_parts):
    counts = Counter(s.task for s in _samples(small_parts))
    total = sum(counts.values())
    assert abs(counts["reasoning"] / total - MIX["reasoning"]) < 0.03
    assert abs(counts["personality"] / total - MIX["personality"]) < 0.03
    assert abs(sum(counts[t] for t in MEMORY_TASKS) / total - MIX["memory"]) < 0.03
    assert all(counts[t] for t in MEMORY_TASKS)
    assert not [p for p in small_parts if p.persona.split == "bench" and (p.sft or p.rl or p.memory_ops)]


def test_reasoning_follows_the_agent_protocol(small_parts):
    searched = 0
    for p in small_parts:
        turns = {(s.id, t.index): t for s in p.sessions for t in s.turns}
        for s in (x for x in p.sft if x.task == "reasoning"):
            assert [m.role for m in s.messages] == ["user", "assistant"] * (len(s.messages) // 2)
            start = _text(s.messages[0])
            assert "\n\nUser Input:\n{'time': '" in start and "Openness:" in start and "Recent Conversations:" in start
            steps = [R.parse_reasoning(_text(m)) for m in s.messages[1::2]]
            assert [x["action"] for x in steps] == ["retrieve"] * (len(steps) - 1) + ["answer"]
            if len(steps) > 1:
                searched += 1
                assert "[" not in steps[0]["keywords"] and steps[0]["start_time"]
                retrieved = _text(s.messages[2])
                assert retrieved.startswith("Retrieved Procedural Memory:")
                # the retrieved exchange is the one that told what is asked, from an earlier session
                told = [t for (sid, _), t in turns.items() if sid != s.session_id and t.role == "user" and t.text in retrieved]
                assert told and all(t.time < start.split("'time': '")[1][:16] for t in told)
    assert searched > 10


def test_images_line_up(small_parts):
    with_images = [s for s in _samples(small_parts) if s.images]
    assert with_images
    for s in with_images:
        assert sum(c.type == "image" for m in s.messages for c in m.content) == len(s.images) == len(s.image_ids)


def test_memory_targets_are_the_native_labels(small_parts):
    for p in small_parts:
        if p.persona.split != "train":
            continue
        after = replay(p.memory_ops)
        for s in p.sft:
            target = _text(s.messages[-1])
            if s.task == "core":
                keys = set(R.parse_profile(target, "x")) - {"name"}
                native = {k.split("/", 1)[1] if k.startswith("profile/") else f"favourite {k.split('/', 1)[1]}"
                          for k in after[s.session_id]["core"] if k != "profile/name"}
                assert keys == native
            elif s.task == "procedural":
                assert len(R.parse_procedural(target)) == len(after[s.session_id]["procedural"])
            elif s.task == "semantic":
                t = R.parse_semantic(target)
                query = _text(s.messages[0]).split("'query': ")[1]
                turn = next(x for x in next(ss for ss in p.sessions if ss.id == s.session_id).turns
                            if x.role == "user" and repr(x.text)[1:-1] in query)
                new = [o for o in p.memory_ops if o.session_id == s.session_id and o.evidence == [turn.index]
                       and o.memory != "episodic" and o.op != "NOOP"]
                assert t["decision"] == bool(new)
