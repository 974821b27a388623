"""The leak checks: each baseline sees the leak it is for, and a fair task passes."""

from __future__ import annotations

from collections import Counter

import numpy as np

from pipeline.mme.bias import BALANCE, WorldPrior, _words, balance, bias_report, wilson

KEYS = ("(a)", "(b)", "(c)", "(d)")


def _q(i: int, task: str, options: list[str], answer: int, query: str = "what was it?", setting: str = "32k",
       persona: str | None = None) -> dict:
    return {"id": f"{task}/q{i:05d}", "persona_id": persona or f"p{i % 50:03d}", "task": task, "setting": setting,
            "query": query, "choices": [{"key": k, "text": t} for k, t in zip(KEYS, options)], "answer": KEYS[answer],
            "answer_text": options[answer]}


def _fair(rng, n: int, task: str = "fair") -> list[dict]:
    words = [f"word{k}" for k in range(40)]
    return [_q(i, task, [str(w) for w in rng.choice(words, 4, replace=False)], int(rng.integers(4))) for i in range(n)]


def _acc(report: dict, task: str, baseline: str) -> float:
    return report[task]["baselines"][baseline]["accuracy"]


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
    assert report["fair"]["failures"] == [] and report["fair"]["on_target"]
    assert abs(_acc(report, "fair", "longest") - 0.25) < 0.06
    assert report["longest"]["failures"] and _acc(report, "longest", "longest") > 0.9
    assert report["overlap"]["failures"] and _acc(report, "overlap", "overlap") > 0.9
    assert any("positions" in f for f in report["position"]["failures"])


def test_the_learned_baseline_finds_a_regularity_the_heuristics_miss():
    """A hint word that belongs to exactly one answer (a milestone that names its goal): no heuristic sees it."""
    rng = np.random.default_rng(3)
    goals = [f"goal{k}" for k in range(12)]
    qs = []
    for i in range(480):
        options = [str(g) for g in rng.choice(goals, 4, replace=False)]
        a = int(rng.integers(4))
        qs.append(_q(i, "intent", options, a, query=f"I just did milestone{goals.index(options[a])}! What is it for?"))
    report = bias_report(qs)
    heuristics = [k for k in report["intent"]["baselines"] if not k.startswith("learned")]
    assert all(_acc(report, "intent", k) < 0.32 for k in heuristics)
    assert _acc(report, "intent", "learned") > 0.8
    assert report["intent"]["best"] == "learned" and report["intent"]["failures"]


def test_the_world_prior_sees_options_from_the_wrong_kind_of_place():
    venues = {"trail": ["hiked up", "camped out", "ran the loop", "picked berries"],
              "kitchen": ["baked bread", "made pasta", "shared dinner", "prepped lunch"],
              "office": ["gave a talk", "held a meeting", "pulled a shift", "wrote a report"],
              "beach": ["built sandcastles", "swam laps", "watched sunsets", "found shells"]}
    facts = {f"p{k:03d}": [f"{a} at the {v}" for v, acts in venues.items() for a in acts] for k in range(50)}
    rng = np.random.default_rng(4)
    mixed, same = [], []
    for i in range(400):
        venue = str(rng.choice(list(venues)))
        a = int(rng.integers(4))
        answer = str(rng.choice(venues[venue]))
        opts = [str(rng.choice(acts)) for v, acts in venues.items() if v != venue]  # the old design: other venues
        opts.insert(a, answer)
        mixed.append(_q(i, "mixed", opts, a, query=f"what was I doing at the {venue}?"))
        opts = [x for x in venues[venue] if x != answer]  # the new one: the same kind of venue
        opts.insert(a, answer)
        same.append(_q(i, "same", opts, a, query=f"what was I doing at the {venue}?"))
    vocabulary = {w for q in mixed + same for w in _words(q["query"]) | {x for c in q["choices"] for x in _words(c["text"])}}
    report = bias_report(mixed + same, WorldPrior(facts, vocabulary))
    assert _acc(report, "mixed", "world") > 0.45 and report["mixed"]["failures"]
    assert abs(_acc(report, "same", "world") - 0.25) < 0.05


def test_same_case_and_profile_baselines_see_answers_other_inputs_give_away():
    rng = np.random.default_rng(5)
    items = [f"item{k}" for k in range(30)]
    qs, cards, told = [], {}, {}
    for i in range(300):
        persona = f"p{i:03d}"
        options = [str(x) for x in rng.choice(items, 4, replace=False)]
        a = int(rng.integers(4))
        qs.append(_q(i, "pref", options, a, persona=persona))
        # another item of the same persona names the answer in its candidate reply
        qs.append(_q(i, "align", ["Yes, it aligns well.", "No, it misaligns."], int(rng.integers(2)), persona=persona,
                     query=f"Candidate reply: go with {options[a]}!"))
        cards[persona] = f"favourite {options[a]}; lives in town"
        told[persona] = "Sam teacher Lisbon"
    report = bias_report(qs, profiles=cards)
    assert _acc(report, "pref", "same_case") > 0.9 and report["pref"]["failures"]
    assert _acc(report, "pref", "profile") > 0.9
    fair = bias_report([q for q in qs if q["task"] == "pref"], profiles=told)
    assert fair["pref"]["failures"] == []


def test_small_cells_say_so_and_do_not_fail_on_noise():
    rng = np.random.default_rng(1)
    report = bias_report(_fair(rng, 30))
    assert report["fair"]["failures"] == []
    assert not report["fair"]["testable"] and "too small" in report["fair"]["note"]
    lo, hi = wilson(15, 60)
    assert lo < 0.25 < hi


def test_balance_caps_a_recurring_answer():
    states = ["achieved", "gave up", "still working", "not told"]
    rng = np.random.default_rng(2)
    qs = [_q(i, "goal", states, int(rng.choice(4, p=[0.1, 0.1, 0.3, 0.5]))) for i in range(300)]
    dropped = set(balance(qs, seed=0))
    kept = [q for q in qs if q["id"] not in dropped]
    shares = Counter(q["answer_text"] for q in kept)
    assert max(shares.values()) / len(kept) <= 0.25 + BALANCE + 1e-9
    assert set(shares) == set(states)
    assert bias_report(kept)["goal"]["failures"] == []
    assert any("'frequent'" in f or "'learned'" in f for f in bias_report(qs)["goal"]["failures"])
    assert balance(qs, seed=0) == sorted(dropped), "deterministic"
