"""GRPO prompts: the agent's search questions, answered from retrieved memory that holds more than the answer."""

from __future__ import annotations

from collections import Counter

from pipeline.labels.audit import matchable, prompt_text
from pipeline.labels.rl import uniquely_longest
from tests.personavlm import release as R


def test_kinds_references_and_balance(small_parts, small_cfg):
    samples = [r for p in small_parts for r in p.rl]
    train = [p for p in small_parts if p.persona.split == "train"]
    assert 0 < len(samples) <= small_cfg.rl_per_persona * len(train)
    assert set(Counter(r.kind for r in samples)) == {"multiple-choice", "two-choice", "open"}
    for r in samples:
        assert r.group_size == 6 and r.evidence
        assert [m.role for m in r.prompt] == ["user", "assistant", "user"]
        assert R.parse_reasoning(prompt_text_of(r.prompt[1]))["action"] == "retrieve"
        assert sum(c.type == "image" for m in r.prompt for c in m.content) == len(r.images) == len(r.image_ids)
        start = prompt_text_of(r.prompt[0]).lower()
        assert r.reference_text.lower() not in start.split("\\noptions:\\n")[0], "the answer is already in the prompt"
        assert not matchable(r)
        if r.kind == "open":
            assert not r.choices and r.reference == r.reference_text
        else:
            assert len(r.choices) == (4 if r.kind == "multiple-choice" else 2)
            texts = [c.text for c in r.choices]
            assert len(set(texts)) == len(texts)
            assert next(c.text for c in r.choices if c.key == r.reference) == r.reference_text
    mc = [r for r in samples if r.kind == "multiple-choice"]
    assert len(Counter(r.reference for r in mc)) >= 3
    assert sum(uniquely_longest([(c.key, c.text) for c in r.choices], r.reference) for r in mc) / len(mc) < 0.5


def test_the_search_retrieves_other_days_to_tell_apart(small_parts):
    """An activity question's retrieved dialogue holds the asked exchange and other ones about the same people,
    whose answers are among the options: the time phrase decides."""
    weighed = 0
    for p in small_parts:
        facts = {f.id: f for e in p.events for f in e.facts}
        for r in p.rl:
            if facts[r.evidence[0]].kind != "activity" or not r.choices:
                continue
            assert prompt_text(r).count("\nUser: ") >= prompt_text_of(r.prompt[0]).count("\nUser: ") + 2
            weighed += 1
    assert weighed > 0


def prompt_text_of(message) -> str:
    return "".join(c.text or "" for c in message.content)
