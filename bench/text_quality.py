"""Benchmark: how the generated dialogue reads, by the figures a corpus audit uses.

Generates the training personas of a run in-process (the embedded backends by default) and prints,
for user and assistant turns: words per turn; distinct-1/2/3 on a fixed 20k-word sample and over all
turns; the share of turns repeated verbatim across personas; distinct sentence skeletons in a fixed
8k-sentence sample (every word outside the corpus's 200 most common replaced by a slot); and how well
the Big Five can be read from the text: the cross-validated R² of a ridge regression over TF-IDF
word 1-2-grams per trait, at persona level (all of a persona's user or assistant text against its
mean true personality) and at session level (one session's user text against that session's true
personality, folds split by persona). Usage:

    python bench/text_quality.py [--personas 500] [--workers 2] [--months 3] [--seed 0]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.config import load_config  # noqa: E402
from pipeline.dedup import normalize  # noqa: E402
from pipeline.generate import generate_persona  # noqa: E402
from pipeline.personas.lexicon import load_lexicon  # noqa: E402
from pipeline.personas.sampler import sample_personas  # noqa: E402
from pipeline.records import TRAITS  # noqa: E402

CFG = load_config()
WORD = re.compile(r"[a-z0-9']+")
SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _one(persona) -> dict:
    part = generate_persona(persona, CFG)
    sessions = []
    for s in part.sessions:
        sessions.append({"user": [t.text for t in s.turns if t.role == "user"],
                         "assistant": [t.text for t in s.turns if t.role == "assistant"],
                         "traits": [getattr(s.true_personality, t) for t in TRAITS]})
    return {"id": persona.id, "sessions": sessions}


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def distinct(texts: list[str], n: int) -> float:
    grams = [tuple(ws[i:i + n]) for ws in map(words, texts) for i in range(len(ws) - n + 1)]
    return len(set(grams)) / max(len(grams), 1)


def sample_words(texts: list[str], budget: int, rng: np.random.Generator) -> list[str]:
    """Turns in a seeded random order until `budget` words."""
    out, total = [], 0
    for i in rng.permutation(len(texts)):
        if total >= budget:
            break
        out.append(texts[int(i)])
        total += len(words(texts[int(i)]))
    return out


def repeated_across_personas(turns: list[tuple[str, str]]) -> float:
    """Share of turns whose normalized text also occurs in another persona's turns."""
    owners: dict[str, set[str]] = defaultdict(set)
    for pid, text in turns:
        owners[normalize(text)].add(pid)
    return sum(len(owners[normalize(text)]) > 1 for _, text in turns) / max(len(turns), 1)


def skeletons(texts: list[str], rng: np.random.Generator, n: int = 8000, common: int = 200) -> int:
    sentences = [s for t in texts for s in SENTENCE.split(t) if s.strip()]
    top = {w for w, _ in Counter(w for s in sentences for w in words(s)).most_common(common)}
    picked = [sentences[int(i)] for i in rng.permutation(len(sentences))[:n]]
    return len({re.sub(r"(_ )+", "_ ", " ".join(w if w in top else "_" for w in words(s)) + " ") for s in picked})


def cv_r2(docs: list[str], y: np.ndarray, groups: list[str], folds: int = 5) -> list[float]:
    """Cross-validated R² per trait of a ridge regression over TF-IDF word 1-2-grams, folds split by `groups`."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import Ridge
    from sklearn.metrics import r2_score
    from sklearn.model_selection import GroupKFold

    pred = np.zeros_like(y)
    for train, test in GroupKFold(n_splits=folds).split(docs, y, groups):
        vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        x_train = vec.fit_transform([docs[i] for i in train])
        model = Ridge(alpha=1.0).fit(x_train, y[train])
        pred[test] = model.predict(vec.transform([docs[i] for i in test]))
    return [float(r2_score(y[:, k], pred[:, k])) for k in range(y.shape[1])]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--personas", type=int, default=500, help="training personas (the default run has 500)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--months", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    global CFG
    CFG = load_config(overrides={"personas": args.personas, "bench_personas": 0, "months": args.months, "seed": args.seed})
    personas = sample_personas(CFG, load_lexicon(CFG.lexicon_dir))
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        runs = list(pool.map(_one, personas, chunksize=8))
    wall = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    turns = sum(len(s["user"]) + len(s["assistant"]) for r in runs for s in r["sessions"])
    print(f"{len(runs)} personas, {args.months} months: {turns:,} turns generated in {wall:.1f} s on {args.workers} workers "
          f"({args.workers * wall / len(runs):.3f} CPU s per persona)\n")
    print(f"{'':<11}{'words/turn':>11}{'d-1 20k':>9}{'d-2 20k':>9}{'d-3 20k':>9}{'d-3 all':>9}{'repeated':>10}"
          f"{'skeletons/8k':>14}")
    for role in ("user", "assistant"):
        texts = [t for r in runs for s in r["sessions"] for t in s[role]]
        sample = sample_words(texts, 20_000, rng)
        repeated = repeated_across_personas([(r["id"], t) for r in runs for s in r["sessions"] for t in s[role]])
        print(f"{role:<11}{np.mean([len(words(t)) for t in texts]):>11.1f}{distinct(sample, 1):>9.3f}"
              f"{distinct(sample, 2):>9.3f}{distinct(sample, 3):>9.3f}{distinct(texts, 3):>9.3f}{repeated:>10.1%}"
              f"{skeletons(texts, rng):>14,}")
    ids = [r["id"] for r in runs]
    mean_traits = np.array([np.mean([s["traits"] for s in r["sessions"]], axis=0) for r in runs])
    rows = {
        "user, persona": cv_r2([" ".join(t for s in r["sessions"] for t in s["user"]) for r in runs], mean_traits, ids),
        "assistant, persona": cv_r2([" ".join(t for s in r["sessions"] for t in s["assistant"]) for r in runs],
                                    mean_traits, ids),
    }
    session_docs = [(r["id"], " ".join(s["user"]), s["traits"]) for r in runs for s in r["sessions"]]
    rows["user, session"] = cv_r2([d for _, d, _ in session_docs], np.array([y for _, _, y in session_docs]),
                                  [pid for pid, _, _ in session_docs])
    print("\ncross-validated R² of the Big Five from the text (ridge over TF-IDF 1-2-grams, 5 folds by persona)")
    print(f"{'':<22}" + "".join(f"{t[:5]:>8}" for t in TRAITS))
    for name, r2 in rows.items():
        print(f"{name:<22}" + "".join(f"{x:>8.2f}" for x in r2))


if __name__ == "__main__":
    main()
