from __future__ import annotations

import re
from collections import Counter

from pipeline.labels.sft import MIX, to_conversations
from pipeline.verbalize.match import mentions

STEP = re.compile(r'^<think>.+?</think>(<answer>.+?</answer>|<retrieve>"keywords": \[.*?\], "start_time": "[^"]+", '
                  r'"end_time": "[^"]+"</retrieve>)$', re.DOTALL)


def _samples(parts, task=None):
    return [s for p in parts for s in p.sft if task is None or s.task == task]


def _text(m):
    return "".join(c.text or "" for c in m.content)


def test_mix_is_personavlm_like(small_parts):
    counts = Counter(s.task for s in _samples(small_parts))
    total = sum(counts.values())
    memory = sum(counts[t] for t in ("core", "semantic", "episodic", "procedural"))
    assert abs(counts["reasoning"] / total - MIX["reasoning"]) < 0.03
    assert abs(counts["personality"] / total - MIX["personality"]) < 0.03
    assert abs(memory / total - MIX["memory"]) < 0.03
    assert all(counts[t] for t in ("core", "semantic", "episodic", "procedural"))
    assert not [p for p in small_parts if p.persona.split == "bench" and (p.sft or p.rl or p.memory_ops)]


def test_reasoning_follows_the_protocol_and_is_supported(small_parts):
    multi = 0
    for s in _samples(small_parts, "reasoning"):
        roles = [m.role for m in s.messages]
        assert roles[0] == "system" and roles[1] == "user" and roles[-1] == "assistant"
        steps = [_text(m) for m in s.messages if m.role == "assistant"]
        assert 1 <= len(steps) <= 4
        assert all(STEP.match(x) for x in steps), steps
        assert all("<retrieve>" in x for x in steps[:-1]) and "<answer>" in steps[-1]
        assert _text(s.messages[1]).startswith("{'time': '")
        if len(steps) > 1:
            multi += 1
            retrieved = _text(s.messages[3])
            think = steps[-1].split("</think>")[0]
            answer = steps[-1].split("<answer>")[1]
            # the evidence the reasoning quotes was really retrieved, and the answer states it
            assert think.split("says: ")[1] in retrieved
            place = re.search(r" at (.+?)(?: with|\.| \()", think.split("says: ")[1])
            if place:
                assert mentions(answer, place.group(1))
    assert multi > 10


def test_images_line_up_and_export_to_conversations(small_parts):
    with_images = [s for s in _samples(small_parts) if s.images]
    assert with_images
    for s in with_images:
        parts = sum(c.type == "image" for m in s.messages for c in m.content)
        assert parts == len(s.images) == len(s.image_ids)
        conv = to_conversations(s)
        assert sum(t["value"].count("<image>") for t in conv["conversations"]) == len(conv["image"])
        assert [t["from"] for t in conv["conversations"]][::2][0] == "human"


def test_memory_targets_are_the_ops(small_parts):
    import json

    for p in small_parts:
        ops = {}
        for o in p.memory_ops:
            ops.setdefault((o.session_id, o.memory), []).append(o)
        for s in p.sft:
            if s.task in ("core", "semantic", "episodic", "procedural"):
                target = json.loads(_text(s.messages[-1]))["operations"]
                assert [(t["op"], t["key"]) for t in target] == [(o.op, o.key) for o in ops[(s.session_id, s.task)] if o.key]
