"""The GRPO reward functions TRL calls: PersonaVLM's reward and its terms, each completion scored once."""

from __future__ import annotations

from pipeline.labels.reward import f_format, reward
from pipeline.train.trainers import _scored, accuracy_term, consistency_term, format_term, personavlm_reward


def test_reward_functions_agree_with_the_reward_and_score_once(small_parts):
    sample = next(s for p in small_parts for s in p.rl if s.choices)
    right = next(c for c in sample.choices if c.key == sample.reference)
    completions = [f"<think>It was said.</think><answer>{right.key}. {right.text}</answer>", "no idea", "<answer>x</answer>"]
    kw = {"sample_id": [sample.id] * 3, "kind": [sample.kind] * 3, "reference": [sample.reference] * 3,
          "reference_text": [sample.reference_text] * 3, "choices": [[c.model_dump() for c in sample.choices]] * 3}
    _scored.cache_clear()
    totals = personavlm_reward(None, completions, **kw)
    assert totals == [reward(c, sample).total for c in completions]
    assert totals[0] > totals[1]
    assert accuracy_term(None, completions, **kw) == [reward(c, sample).acc for c in completions]
    assert consistency_term(None, completions, **kw) == [reward(c, sample).cons for c in completions]
    assert format_term(None, completions, **kw) == [f_format(c) for c in completions]
    info = _scored.cache_info()
    assert (info.misses, info.hits) == (3, 6), "each completion is scored once for the three reward functions"
