"""Benchmark: building Persona-MME for the default 200 benchmark personas (both settings).

Generation (world, text, images) is timed apart from the benchmark build itself (history windows,
questions, verification, token counts) and the run-level audit (balancing and bias checks). Prints
the question counts per task and setting, the certified and photo shares, the histories against their
token budgets, and every task's best no-history baseline with its 95% interval. Usage:

    python bench/mme_build.py [--bench-personas 200] [--workers 2] [--shuffles 8] [--seed S] [--per-setting N]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.config import load_config  # noqa: E402
from pipeline.generate import generate_persona  # noqa: E402
from pipeline.mme.bias import WorldPrior, _credit, _words, balance, bias_report, learned, summary  # noqa: E402
from pipeline.mme.recheck import recheck  # noqa: E402
from pipeline.mme.tasks import ASPECT_OF  # noqa: E402
from pipeline.personas.lexicon import load_lexicon  # noqa: E402
from pipeline.personas.sampler import sample_personas  # noqa: E402

CFG = load_config(overrides={"personas": 1})


def _one(persona) -> tuple[list[dict], dict[str, float], list[str], str, int]:
    from pipeline.mme.history import told_profile

    timings: dict[str, float] = {}
    part = generate_persona(persona, CFG, timings)
    profile = told_profile(part.sessions[0].model_dump(), [e.model_dump() for e in part.events])
    questions = [q.model_dump() for q in part.mme]
    _, wrong = recheck(questions, {s.id: s.model_dump() for s in part.sessions},
                       {f.id: f.model_dump() for e in part.events for f in e.facts})
    return questions, timings, [f.text for e in part.events for f in e.facts], " ".join(profile.values()), len(wrong)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench-personas", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=None, help="the run's seed (default: the run's default)")
    ap.add_argument("--per-setting", type=int, default=None, help="multiple-choice questions per persona and setting "
                    "(default: the run's default)")
    ap.add_argument("--shuffles", type=int, default=0, help="also score the learned baseline on K answer shuffles per task "
                    "(no signal), to show how far its cross-validated accuracy spreads by chance")
    args = ap.parse_args()
    global CFG
    overrides = {"personas": 1, "bench_personas": args.bench_personas}
    if args.per_setting is not None:
        overrides["mme_per_setting"] = args.per_setting
    if args.seed is not None:
        overrides["seed"] = args.seed
    CFG = load_config(overrides=overrides)
    bench = [p for p in sample_personas(CFG, load_lexicon(CFG.lexicon_dir)) if p.split == "bench"]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        out = list(pool.map(_one, bench, chunksize=8))
    wall = time.perf_counter() - t0
    questions = [q for qs, _, _, _, _ in out for q in qs]
    cpu = Counter()
    for _, timings, _, _, _ in out:
        cpu.update(timings)
    t1 = time.perf_counter()
    dropped = set(balance(questions, CFG.seed))
    kept = [q for q in questions if q["id"] not in dropped]
    vocabulary = {w for q in kept for w in _words(q["query"]) | {x for c in q["choices"] for x in _words(c["text"])}}
    world = WorldPrior({p.id: facts for p, (_, _, facts, _, _) in zip(bench, out)}, vocabulary)
    report = bias_report(kept, world, {p.id: prof for p, (_, _, _, prof, _) in zip(bench, out)})
    audit = time.perf_counter() - t1
    mme_cpu = cpu["mme"]
    wrong = sum(o[4] for o in out)
    s = summary(kept)
    print(f"{len(bench)} benchmark personas, {args.workers} workers: generation + build {wall:.1f} s wall")
    print("  CPU s per stage (summed over personas): " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(cpu.items())))
    print(f"  Persona-MME build: {mme_cpu:.2f} CPU s in total ({1000 * mme_cpu / len(bench):.1f} ms per persona), "
          f"~{mme_cpu / args.workers:.2f} s wall on {args.workers} workers; audit (balance + leak checks) {audit:.2f} s")
    print(f"  questions: {len(questions)} built, {len(dropped)} dropped to balance answers, {len(kept)} kept "
          f"({dict(sorted(Counter(q['setting'] for q in kept).items()))})")
    print(f"  certified by an evidence flip: {s['certified_share']:.1%} of all items, "
          f"{s['certified_share_multiple_choice']:.1%} of multiple-choice; multiple-choice needing a photo: "
          f"{s['needs_image_share_multiple_choice']:.1%}")
    print(f"  golds re-checked from the tables (the run audit's check): {len(questions)}, wrong or not unique: {wrong}")
    for setting, c in s["context_tokens"].items():
        turns = sorted(q["context_turns"] for q in kept if q["setting"] == setting)
        print(f"  {setting}: turns median {turns[len(turns) // 2]} (min {turns[0]}, max {turns[-1]}); tokens median "
              f"{c['median']} ({c['median_share']:.0%} of the budget), max {c['max']} ({c['max_share']:.0%})")
    cells = Counter((q["task"], q["setting"]) for q in kept)
    print(f"\n{'task':<38}{'32k':>5}{'128k':>6}{'chance':>8}  {'best no-history baseline':<26}{'acc':>7}  {'95% CI':<15}"
          f"{'on target':>10}  verdict")
    for task in ASPECT_OF:
        r = report.get(task)
        if r is None:
            print(f"{task:<38}{0:>5}{0:>6}  (none)")
            continue
        b = r["baselines"][r["best"]]
        verdict = "; ".join(r["failures"]) or r.get("note", "ok")
        print(f"{task:<38}{cells[(task, '32k')]:>5}{cells[(task, '128k')]:>6}{r['chance']:>8.0%}  {r['best']:<26}"
              f"{b['accuracy']:>7.1%}  [{b['ci95'][0]:.1%}, {b['ci95'][1]:.1%}]{'yes' if r['on_target'] else 'no':>10}  {verdict}")
    if args.shuffles:
        print(f"\nlearned baseline on {args.shuffles} answer shuffles per task (min-max accuracy; no signal by construction)")
        rng = np.random.default_rng(0)
        for task in ASPECT_OF:
            sub = [q for q in kept if q["task"] == task]
            accs = []
            for _ in range(args.shuffles):
                shuffled = []
                for q in sub:
                    c = q["choices"][int(rng.integers(len(q["choices"])))]
                    shuffled.append({**q, "answer": c["key"], "answer_text": c["text"]})
                accs.append(np.mean([_credit(q, s) for q, s in zip(shuffled, learned(shuffled))]))
            print(f"{task:<38}{len(sub):>6}  {min(accs):.1%} - {max(accs):.1%}")


if __name__ == "__main__":
    main()
