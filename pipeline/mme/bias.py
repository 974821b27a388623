"""Can the benchmark be answered without the history? The build's leak checks, and the balancing that
keeps recurring answers from becoming a prior.

Per task, no-history baselines each pick an option (ties count as a uniform guess among the tied):

- `longest`, `overlap` (most words shared with the query), `frequent` (the option text most often right
  in the other questions of the setting);
- `learned`: a logistic regression over (query, option) features (option words, query-word x option-word
  pairs, length and its rank, position, overlap), trained and scored with 5-fold cross-validation split
  by persona (averaged over 3 random fold assignments), so it learns whatever regularity the other personas' questions have;
- `world`: a prior learnt from the other personas' world (how often the option's words occur in the same
  event fact as the query's words: which activities happen at which kind of venue, which milestones
  belong to which goal, which habits happen at which part of the day);
- `same_case`: the option named most often by the persona's other items (queries, candidate replies, options);
- `profile`: the option sharing most words with the profile the benchmark ships as input.

The heuristic scores are also tried the other way round (the lowest score), since a signal is a signal
in either direction. Each accuracy comes with a 95% Wilson interval. A task is `on_target` when its best
baseline is within 5 points of chance and the upper end of its interval within 8; a cell whose interval
at chance is already wider than that is marked too small to test. A task fails (and is not shipped)
when its best baseline is more than 5 points above chance and significantly so (one-sided binomial,
Bonferroni over every baseline of every task), or its answer positions are not uniform (chi-square).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.stats import binomtest, chisquare

from pipeline.atomic import write_json
from pipeline.dedup import normalize as norm
from pipeline.mme.context import BUDGET
from pipeline.mme.recheck import recheck
from pipeline.progress import Task, silent

MARGIN = 0.05  # a baseline this far above chance fails
UPPER = 0.08  # ... or the upper end of its 95% interval this far
ALPHA = 0.01  # family-wise, for the baselines and for the answer positions
# the most often right answer of a task with a fixed set of answers: a baseline that always picks it gains this much
BALANCE = 0.01
_STOP = frozenset("a an the i me my you your to of in on at and or is it was were what did do with for".split())


def _words(s: str) -> set[str]:
    return {w for w in norm(s).split() if w not in _STOP}


def _credit(q: dict, scores) -> float:
    """The expected accuracy of picking a top-scoring option, ties broken uniformly (not by position,
    which the position check covers)."""
    scores = list(scores)
    top = [c["key"] for c, s in zip(q["choices"], scores) if s == max(scores)]
    return (q["answer"] in top) / len(top)


def wilson(successes: float, n: int) -> tuple[float, float]:
    """95% Wilson interval of an accuracy (fractional credits from ties are rounded to a count)."""
    if n == 0:
        return 0.0, 1.0
    ci = binomtest(min(n, round(successes)), n).proportion_ci(0.95, method="wilson")
    return float(ci.low), float(ci.high)


def gold_line(audit: dict) -> str:
    """The re-check of every gold, in one sentence for the card and the report."""
    g = audit.get("gold_check", {})
    return (f"Golds re-checked from the written tables: {g.get('checked', 0):,}, wrong or not unique: "
            f"{g.get('wrong_or_not_unique', 0)} (left out).")


def verdict(r: dict) -> str:
    """One task's line in the card and the report."""
    return "; ".join(r["failures"]) or r.get("note") or ("on target" if r["on_target"] else "ok")


# ---------------------------------------------------------------- scores per option


def longest(q: dict) -> list[float]:
    return [len(c["text"]) for c in q["choices"]]


def overlap(q: dict) -> list[float]:
    asked = _words(q["query"])
    return [len(_words(c["text"]) & asked) for c in q["choices"]]


def frequent(questions: list[dict]) -> list[list[float]]:
    """Leave-one-out: how often each option's text is right in the other questions of its setting."""
    gold = Counter((q.get("setting"), norm(q["answer_text"])) for q in questions)
    return [[gold[(q.get("setting"), norm(c["text"]))] - (norm(c["text"]) == norm(q["answer_text"])) for c in q["choices"]]
            for q in questions]


def named_forms(q: dict) -> tuple[str, str, list[str]]:
    """What `naming` compares of an item, normalized once: (task, padded query, option texts)."""
    return q["task"], f" {norm(q['query'])} ", [norm(c["text"]) for c in q["choices"]]


def naming(q: tuple[str, str, list[str]], other: tuple[str, str, list[str]]) -> list[int]:
    """How often `other` names each of `q`'s options (both `named_forms`): twice for its query (or candidate
    reply), once among its options if it is of another task (the same task's items share their option class,
    e.g. the palette)."""
    offered = set(other[2]) if other[0] != q[0] else set()
    return [2 * (f" {t} " in other[1]) + (t in offered) for t in q[2]]


def same_case(questions: list[dict]) -> list[list[float]]:
    """How often the persona's other items name each option (`naming`, summed)."""
    forms = [named_forms(q) for q in questions]
    by_persona: dict[str, list[int]] = defaultdict(list)
    for i, q in enumerate(questions):
        by_persona[q["persona_id"]].append(i)
    out = []
    for i, q in enumerate(questions):
        total = np.zeros(len(q["choices"]))
        for j in by_persona[q["persona_id"]]:
            if j != i:
                total += naming(forms[i], forms[j])
        out.append(total.tolist())
    return out


def profile(questions: list[dict], profiles: dict[str, str]) -> list[list[float]]:
    out = []
    for q in questions:
        words = _words(profiles.get(q["persona_id"], ""))
        out.append([len(_words(c["text"]) & words) for c in q["choices"]])
    return out


class WorldPrior:
    """Word co-occurrence in the event facts of every persona; a persona's own facts are left out when it is scored."""

    def __init__(self, facts_by_persona: dict[str, list[str]], vocabulary: set[str]):
        self.index = {w: i for i, w in enumerate(sorted(vocabulary))}
        self.own: dict[str, sparse.csr_matrix] = {}
        size = len(self.index)
        total = sparse.csr_matrix((size, size))
        for pid, texts in facts_by_persona.items():
            rows, cols = [], []
            for k, t in enumerate(texts):
                ids = {self.index[w] for w in _words(t) if w in self.index}
                rows += [k] * len(ids)
                cols += list(ids)
            x = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(texts), size))
            self.own[pid] = (x.T @ x).tocsr()
            total = total + self.own[pid]
        self.total = total.tocsr()

    def _ids(self, text: str) -> list[int]:
        return [self.index[w] for w in _words(text) if w in self.index]

    def scores(self, questions: list[dict]) -> list[list[float]]:
        """Per question and option: how strongly the option's words predict the query's words in the other
        personas' facts (the mean over option words of the best P(query word | option word))."""
        out: list[list[float]] = [[] for _ in questions]
        by_persona: dict[str, list[int]] = defaultdict(list)
        for i, q in enumerate(questions):
            by_persona[q["persona_id"]].append(i)
        for pid, idx in by_persona.items():
            # one dense block per persona, over the words of its own questions only
            ids = self._ids
            vocab = sorted({k for i in idx for k in ids(questions[i]["query"]) + [k for c in questions[i]["choices"]
                                                                                 for k in ids(c["text"])]})
            local = {k: j for j, k in enumerate(vocab)}
            cooc = self.total[vocab][:, vocab].toarray()
            if pid in self.own:
                cooc -= self.own[pid][vocab][:, vocab].toarray()
            alone = np.maximum(np.diag(cooc), 1.0)
            for i in idx:
                asked = sorted({local[k] for k in ids(questions[i]["query"])})
                for c in questions[i]["choices"]:
                    words = sorted({local[k] for k in ids(c["text"])})
                    if not words or not asked:
                        out[i].append(0.0)
                        continue
                    block = cooc[np.ix_(words, asked)] / alone[words, None]
                    out[i].append(float(block.max(axis=1).mean()))
        return out


def learned(questions: list[dict], folds: int = 5, repeats: int = 3, seed: int = 0) -> list[list[float]]:
    """Cross-validated (split by persona) probability that each option is the answer, from its text alone."""
    from sklearn.feature_extraction import FeatureHasher
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    rows, labels, owner = [], [], []
    for i, q in enumerate(questions):
        asked = _words(q["query"])
        lengths = [len(c["text"]) for c in q["choices"]]
        for j, c in enumerate(q["choices"]):
            words = _words(c["text"])
            feats = {f"o:{w}": 1.0 for w in words}
            feats.update({f"x:{a}|{b}": 1.0 for a in asked for b in words})
            feats.update({"len": lengths[j] / 100, f"rank:{sorted(lengths).index(lengths[j])}": 1.0, f"pos:{j}": 1.0,
                          "overlap": float(len(words & asked))})
            rows.append(feats)
            labels.append(int(c["key"] == q["answer"]))
            owner.append(i)
    x = FeatureHasher(n_features=2 ** 16, alternate_sign=False).transform(rows)
    y, owner = np.array(labels), np.array(owner)
    groups = np.array([questions[i]["persona_id"] for i in owner])
    prob = np.zeros(len(y))
    n_groups = len(set(groups))
    if n_groups < 2 or len(set(y)) < 2:
        return [[0.0] * len(q["choices"]) for q in questions]
    # the out-of-fold probabilities averaged over several random fold assignments: one assignment's folds are
    # small, and which personas share a fold moves a single estimate by several points
    for repeat in range(repeats):
        splits = GroupKFold(n_splits=min(folds, n_groups), shuffle=True, random_state=seed + repeat).split(x, y, groups)
        for train, test in splits:
            if len(set(y[train])) < 2:
                continue
            model = LogisticRegression(C=1.0, solver="liblinear").fit(x[train], y[train])
            prob[test] += model.predict_proba(x[test])[:, 1] / repeats
    out: list[list[float]] = [[] for _ in questions]
    for i, p in zip(owner, prob):
        out[i].append(round(float(p), 9))
    return out


# ---------------------------------------------------------------- the report


def bias_report(questions: list[dict], world: WorldPrior | None = None, profiles: dict[str, str] | None = None) -> dict:
    """Per task: n, chance, every baseline's accuracy with its 95% interval, positions, failures."""
    scored: dict[str, list[list[float]]] = {
        "longest": [longest(q) for q in questions], "overlap": [overlap(q) for q in questions],
        "frequent": frequent(questions), "same_case": same_case(questions)}
    if world is not None:
        scored["world"] = world.scores(questions)
    if profiles is not None:
        scored["profile"] = profile(questions, profiles)
    by_task: dict[str, list[int]] = defaultdict(list)
    for i, q in enumerate(questions):
        by_task[q["task"]].append(i)
    report = {}
    for task, idx in sorted(by_task.items()):
        qs = [questions[i] for i in idx]
        n = len(qs)
        chance = float(np.mean([1 / len(q["choices"]) for q in qs]))
        per = {k: [v[i] for i in idx] for k, v in scored.items()}
        per["learned"] = learned(qs)
        baselines = {}
        for name, scores in per.items():
            credit = [_credit(q, s) for q, s in zip(qs, scores)]
            # the other way round too (the frequency prior falls below chance exactly when answers are balanced)
            if name not in ("learned", "frequent"):
                low = [_credit(q, [-x for x in s]) for q, s in zip(qs, scores)]
                if np.mean(low) > np.mean(credit):
                    name, credit = f"{name} (lowest)", low
            acc = float(np.mean(credit))
            lo, hi = wilson(sum(credit), n)
            baselines[name] = {"accuracy": round(acc, 4), "ci95": [round(lo, 4), round(hi, 4)]}
        best_name = max(baselines, key=lambda k: baselines[k]["accuracy"])
        best = baselines[best_name]
        testable = wilson(chance * n, n)[1] - chance <= UPPER
        on_target = best["accuracy"] - chance <= MARGIN and best["ci95"][1] - chance <= UPPER
        failures = []
        # leaving a task out takes evidence: a baseline significantly above chance (Bonferroni over every
        # baseline of every task), by more than the margin
        p = binomtest(round(best["accuracy"] * n), n, chance, "greater").pvalue
        if best["accuracy"] - chance > MARGIN and p < ALPHA / (len(per) * max(len(by_task), 1)):
            failures.append(f"no-history baseline '{best_name}' scores {best['accuracy']:.1%} vs chance {chance:.1%} "
                            f"(p={p:.1e})")
        positions = Counter(q["answer"] for q in qs)
        keys = sorted({c["key"] for q in qs for c in q["choices"]})
        counts = [positions.get(k, 0) for k in keys]
        p_uniform = float(chisquare(counts).pvalue) if len(keys) > 1 and n >= 5 * len(keys) else 1.0
        if p_uniform < ALPHA / max(len(by_task), 1):
            failures.append(f"answer positions are not uniform ({dict(zip(keys, counts))}, p={p_uniform:.1e})")
        report[task] = {"n": n, "chance": round(chance, 4), "baselines": baselines, "best": best_name,
                        "testable": testable, "on_target": on_target, "positions": dict(zip(keys, counts)),
                        "positions_p": round(p_uniform, 4),
                        "failures": failures, **({} if testable else {"note": f"too small to test (n={n})"})}
    return report


def balance(questions: list[dict], seed: int) -> list[str]:
    """Ids to drop so that no answer text is correct in more than chance + 1 point of its task's questions
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
        cap = float(np.mean([1 / len(q["choices"]) for q in qs])) + BALANCE
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


def summary(questions: list[dict]) -> dict:
    """Certified and image shares, and the histories' sizes against their budgets."""
    mc = [q for q in questions if q["task"] != "Personality Alignment"]
    out = {"questions": len(questions), "certified": sum(q["certified"] for q in questions),
           "certified_share": round(sum(q["certified"] for q in questions) / max(len(questions), 1), 4),
           "certified_share_multiple_choice": round(sum(q["certified"] for q in mc) / max(len(mc), 1), 4),
           "needs_image_share_multiple_choice": round(sum(q["needs_image"] for q in mc) / max(len(mc), 1), 4),
           "context_tokens": {}}
    for setting, budget in BUDGET.items():
        tokens = sorted(q["context_tokens"] for q in questions if q["setting"] == setting)
        if tokens:
            out["context_tokens"][setting] = {"median": int(np.median(tokens)), "max": tokens[-1],
                                              "median_share": round(float(np.median(tokens)) / budget, 4),
                                              "max_share": round(tokens[-1] / budget, 4)}
    return out


def audit_run(run_dir: Path, bench_ids: list[str], seed: int, task: Task | None = None) -> tuple[dict, list[str]]:
    """A run's Persona-MME audit: re-check every gold from the written tables (`recheck`), balance recurring
    answers, run the leak checks, and leave out any question whose gold fails the re-check and any task that
    fails the leak checks (`failing_tasks`, each with its reasons under `bias`). Returns the audit (also
    written to mme_build.json) and the question ids to drop."""
    from pipeline.mme.history import told_profile
    from pipeline.parts import read_part

    columns = ["id", "persona_id", "setting", "task", "time", "query", "choices", "answer", "answer_text", "evidence",
               "history_sessions", "certified", "needs_image", "context_tokens"]
    note = (task or silent()).note
    note("reading questions, re-checking golds")
    rows: list[dict] = []
    events = {pid: read_part(run_dir, pid, "events", ["facts"]).to_pylist() for pid in sorted(bench_ids)}
    profiles: dict[str, str] = {}  # the profile the benchmark ships as input: what the user told in session 0
    golds = {"checked": 0, "wrong_or_not_unique": 0}
    wrong: list[str] = []
    examples: list[dict] = []
    for pid in sorted(bench_ids):  # one persona's histories in memory at a time
        own = read_part(run_dir, pid, "persona_mme", columns).to_pylist()
        sessions = read_part(run_dir, pid, "sessions", ["id", "index", "turns"]).to_pylist()
        first = [s for s in sessions if s["index"] == 0]
        profiles[pid] = " ".join(str(v) for v in told_profile(first[0], events[pid]).values()) if first else ""
        figures, failed = recheck(own, {s["id"]: s for s in sessions}, {f["id"]: f for e in events[pid] for f in e["facts"]})
        for k in golds:
            golds[k] += figures[k]
        examples += figures["examples"][: 5 - len(examples)]
        wrong += failed
        bad = set(failed)
        rows += [r for r in own if r["id"] not in bad]
    note("balancing answers")
    balanced = set(balance(rows, seed))
    rows = [r for r in rows if r["id"] not in balanced]
    vocabulary = {w for r in rows for w in _words(r["query"]) | {x for c in r["choices"] for x in _words(c["text"])}}
    facts = {pid: [f["text"] for e in evs for f in e["facts"]] for pid, evs in events.items()}
    note("no-history baselines")
    report = bias_report(rows, WorldPrior(facts, vocabulary), profiles)
    failing = sorted(t for t, r in report.items() if r["failures"])
    unshipped = [r["id"] for r in rows if r["task"] in failing]
    kept = [r for r in rows if r["task"] not in failing]
    audit = {**summary(kept), "gold_check": {**golds, "examples": examples}, "balanced_away": len(balanced),
             "failing_tasks": failing, "bias": report}
    write_json(run_dir / "mme_build.json", audit)
    return audit, sorted(balanced) + sorted(wrong) + unshipped
