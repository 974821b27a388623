from __future__ import annotations

from collections import Counter

import numpy as np

from pipeline.mme.bias import balance, bias_report


def _q(i: int, task: str, options: list[str], answer: int, query: str = "what was it?", setting: str = "32k") -> dict:
    keys = ("(a)", "(b)", "(c)", "(d)")
    return {"id": f"q{i:05d}", "task": task, "setting": setting, "query": query,
            "choices": [{"key": k, "text": t} for k, t in zip(keys, options)], "answer": keys[answer],
            "answer_text": options[answer]}


def _fair(rng, n: int, task: str = "fair") -> list[dict]:
    words = [f"word{k}" for k in range(40)]
    out = []
    for i in range(n):
        options = [str(w) for w in rng.choice(words, 4, replace=False)]
        out.append(_q(i, task, options, int(rng.integers(4))))
    return out


def test_a_fair_task_passes_and_planted_biases_are_caught():
    rng = np.random.default_rng(0)
    fair = _fair(rng, 400)
    longest, overlapping, positional = [], [], []
    for i in range(400):
        a = int(rng.integers(4))
        opts = ["red", "blue", "teal", "gray"]
        opts[a] = "a much longer correct option"
        longest.append(_q(i, "longest", opts, a))
        opts = ["pears", "plums", "figs", "kiwis"]
        opts[a] = "lemons"
        overlapping.append(_q(i, "overlap", opts, a, query="do I still like lemons?"))
        positional.append(_q(i, "position", [f"x{i}", f"y{i}", f"z{i}", f"w{i}"], 0 if rng.random() < 0.6 else a))
    report = bias_report(fair + longest + overlapping + positional)
    assert report["fair"]["failures"] == []
    assert abs(report["fair"]["baselines"]["longest"] - 0.25) < 0.06
    assert any("'longest'" in f for f in report["longest"]["failures"])
    assert any("uniquely longest" in f for f in report["longest"]["failures"])
    assert any("'overlap'" in f for f in report["overlap"]["failures"])
    assert any("positions" in f for f in report["position"]["failures"])


def test_small_samples_do_not_fail_on_noise():
    rng = np.random.default_rng(1)
    report = bias_report(_fair(rng, 6))
    assert report["fair"]["failures"] == []


def test_balance_caps_a_recurring_answer():
    states = ["achieved", "gave up", "still working", "not told"]
    rng = np.random.default_rng(2)
    qs = [_q(i, "goal", states, int(rng.choice(4, p=[0.1, 0.1, 0.3, 0.5]))) for i in range(300)]
    dropped = set(balance(qs, seed=0))
    kept = [q for q in qs if q["id"] not in dropped]
    shares = Counter(q["answer_text"] for q in kept)
    assert max(shares.values()) / len(kept) <= 0.28 + 1e-9
    assert set(shares) == set(states)
    assert bias_report(kept)["goal"]["failures"] == []
    assert any("'frequent'" in f for f in bias_report(qs)["goal"]["failures"])
    assert balance(qs, seed=0) == sorted(dropped), "deterministic"
