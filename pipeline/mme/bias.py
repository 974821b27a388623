"""Can the benchmark be answered without the history? The build's bias checks, and the balancing
that keeps recurring answers from becoming a prior.

Per task: the correct option's position (uniform over the options), how often it is the uniquely
longest option, and three no-context baselines that see only the question and the options — the
longest option, the option sharing the most words with the question, and the option whose text is
most often correct in this task (counted over the other questions). A task fails when a baseline
beats chance by more than 5 points and the excess is significant (one-sided binomial, p < 0.01),
so small test runs do not fail on noise while a real bias at scale does (Bonferroni-corrected over
all checks). Ties between options count as a uniform guess among them.
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from scipy.stats import binomtest, chisquare

from pipeline.atomic import write_json
from pipeline.dedup import normalize as norm
from pipeline.labels.rl import uniquely_longest

MARGIN = 0.05
ALPHA = 0.01
_STOP = frozenset("a an the i me my you your to of in on at and or is it was were what did do with for".split())


def _words(s: str) -> set[str]:
    return {w for w in norm(s).split() if w not in _STOP}


def _credit(q: dict, scores: list[float]) -> float:
    """The expected accuracy of picking a top-scoring option, ties broken uniformly (not by position,
    which the position check covers)."""
    top = [c["key"] for c, s in zip(q["choices"], scores) if s == max(scores)]
    return (q["answer"] in top) / len(top)


def longest(q: dict) -> float:
    return _credit(q, [len(c["text"]) for c in q["choices"]])


def overlap(q: dict) -> float:
    asked = _words(q["query"])
    return _credit(q, [len(_words(c["text"]) & asked) for c in q["choices"]])


def frequent(questions: list[dict]) -> list[float]:
    """Leave-one-out: per question, pick the option whose text is most often correct in the other questions
    of its setting (a model is scored on one setting at a time, and a persona may be asked the same in both)."""
    gold = Counter((q.get("setting"), norm(q["answer_text"])) for q in questions)
    out = []
    for q in questions:
        own = norm(q["answer_text"])
        out.append(_credit(q, [gold[(q.get("setting"), norm(c["text"]))] - (norm(c["text"]) == own) for c in q["choices"]]))
    return out


def bias_report(questions: list[dict]) -> dict:
    """Per task (and setting-independent): n, chance, baselines, uniquely-longest rate, positions, failures."""
    by_task: dict[str, list[dict]] = defaultdict(list)
    for q in questions:
        by_task[q["task"]].append(q)
    report = {}
    alpha = ALPHA / (5 * max(len(by_task), 1))  # Bonferroni over the five checks of every task
    for task, qs in sorted(by_task.items()):
        n = len(qs)
        chance = float(np.mean([1 / len(q["choices"]) for q in qs]))
        credits = {"longest": [longest(q) for q in qs], "overlap": [overlap(q) for q in qs], "frequent": frequent(qs)}
        acc = {k: float(np.mean(v)) for k, v in credits.items()}
        positions = Counter(q["answer"] for q in qs)
        keys = sorted({c["key"] for q in qs for c in q["choices"]})
        counts = [positions.get(k, 0) for k in keys]
        p_uniform = float(chisquare(counts).pvalue) if len(keys) > 1 and n >= 5 * len(keys) else 1.0
        failures = []
        for name, a in acc.items():
            # far below chance is a signal too (its inverse is far above); not for the leave-one-out
            # prior, which falls below chance exactly when the answers are balanced
            two_sided = name != "frequent"
            off = abs(a - chance) if two_sided else a - chance
            test = binomtest(round(a * n), n, chance, alternative="two-sided" if two_sided else "greater")
            if off > MARGIN and test.pvalue < alpha:
                failures.append(f"no-context baseline '{name}' scores {a:.1%} vs chance {chance:.1%}")
        long_rate = float(np.mean([uniquely_longest([(c["key"], c["text"]) for c in q["choices"]], q["answer"]) for q in qs]))
        if long_rate - chance > MARGIN and binomtest(round(long_rate * n), n, chance, alternative="greater").pvalue < alpha:
            failures.append(f"the answer is the uniquely longest option {long_rate:.1%} of the time (chance {chance:.1%})")
        if p_uniform < alpha:
            failures.append(f"answer positions are not uniform ({dict(zip(keys, counts))}, p={p_uniform:.1e})")
        report[task] = {"n": n, "chance": round(chance, 4), "baselines": {k: round(v, 4) for k, v in acc.items()},
                        "uniquely_longest": round(long_rate, 4), "positions": dict(zip(keys, counts)),
                        "positions_p": round(p_uniform, 4), "failures": failures}
    return report


def balance(questions: list[dict], seed: int) -> list[str]:
    """Ids to drop so that no answer text is correct in more than chance + 3 points of its task's questions
    (per setting, as a model is scored on one setting at a time).

    Tasks with a fixed set of answers (a goal's state, an explanation tier) would otherwise let a model
    learn the most common answer instead of reading the history. Dropping is seeded and in id order.
    """
    rng = np.random.default_rng(seed)
    by_task: dict[tuple, list[dict]] = defaultdict(list)
    for q in sorted(questions, key=lambda q: q["id"]):
        by_task[(q["task"], q.get("setting"))].append(q)
    dropped: list[str] = []
    for task, qs in sorted(by_task.items()):
        if len(qs) < 20:
            continue
        cap = float(np.mean([1 / len(q["choices"]) for q in qs])) + 0.03
        by_answer: dict[str, list[dict]] = defaultdict(list)
        for q in qs:
            by_answer[norm(q["answer_text"])].append(q)
        sizes = [len(g) for g in by_answer.values()]
        # the largest per-answer limit m whose kept total K = sum(min(size, m)) satisfies m <= cap * K
        m = max(sizes)
        while m > 1 and m > cap * sum(min(n, m) for n in sizes):
            m -= 1
        for answer, group in sorted(by_answer.items()):
            if len(group) > m:
                dropped += [group[int(i)]["id"] for i in rng.permutation(len(group))[: len(group) - m]]
    return sorted(dropped)


def audit_run(run_dir: Path, bench_ids: list[str], seed: int) -> tuple[dict, list[str]]:
    """A run's Persona-MME audit: balance recurring answers, run the bias checks, and leave out any task
    that fails them. Returns the audit (also written to mme_build.json) and the question ids to drop."""
    from pipeline.parts import read_part

    rows = [r for pid in sorted(bench_ids) for r in read_part(run_dir, pid, "persona_mme")
            .select(["id", "setting", "task", "query", "choices", "answer", "answer_text"]).to_pylist()]
    balanced = set(balance(rows, seed))
    rows = [r for r in rows if r["id"] not in balanced]
    report = bias_report(rows)
    failing = sorted(t for t, r in report.items() if r["failures"])
    for task in failing:
        print(f"warning: Persona-MME task '{task}' is not shipped: " + "; ".join(report[task]["failures"]), file=sys.stderr)
    unshipped = [r["id"] for r in rows if r["task"] in failing]
    audit = {"questions": len(rows) - len(unshipped), "balanced_away": len(balanced), "failing_tasks": failing, "bias": report}
    write_json(run_dir / "mme_build.json", audit)
    return audit, sorted(balanced) + unshipped
