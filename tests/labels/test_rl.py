from __future__ import annotations

from collections import Counter

from pipeline.labels.rl import uniquely_longest


def test_kinds_references_and_balance(small_parts, small_cfg):
    samples = [r for p in small_parts for r in p.rl]
    train = [p for p in small_parts if p.persona.split == "train"]
    assert len(samples) == small_cfg.rl_per_persona * len(train)
    kinds = Counter(r.kind for r in samples)
    assert set(kinds) == {"multiple-choice", "two-choice", "open"}
    for r in samples:
        assert r.group_size == 6 and r.evidence
        if r.kind == "open":
            assert not r.choices and r.reference == r.reference_text
        else:
            assert len(r.choices) == (4 if r.kind == "multiple-choice" else 2)
            texts = [c.text for c in r.choices]
            assert len(set(texts)) == len(texts)
            assert next(c.text for c in r.choices if c.key == r.reference) == r.reference_text
            assert r.reference_text not in r.prompt[-1].content[0].text.split("Options:")[0]
    positions = Counter(r.reference for r in samples if r.kind == "multiple-choice")
    assert len(positions) >= 3
    mc = [r for r in samples if r.kind == "multiple-choice"]
    assert sum(uniquely_longest([(c.key, c.text) for c in r.choices], r.reference) for r in mc) / len(mc) < 0.5


def test_after_a_shift_the_old_favourite_is_a_distractor(small_parts):
    seen = 0
    for p in small_parts:
        facts = {f.id: f for e in p.events for f in e.facts}
        for r in p.rl:
            fact = facts[r.evidence[0]]
            if fact.kind != "preference_shift":
                continue
            old = next(t for t in fact.terms if t != fact.value)
            assert r.reference_text == fact.value != old
            if r.choices:
                assert old in [c.text for c in r.choices]
            seen += 1
    assert seen > 0
