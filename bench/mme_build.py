"""Benchmark: building Persona-MME for the default 200 benchmark personas (both settings).

Generation (world, text, images) is timed apart from the benchmark build itself (history windows,
questions, verification, token counts) and the run-level audit (balancing and bias checks). Prints
the question counts per task and setting and the bias table. Usage:

    python bench/mme_build.py [--bench-personas 200] [--workers 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.config import load_config  # noqa: E402
from pipeline.generate import generate_persona  # noqa: E402
from pipeline.mme.bias import balance, bias_report  # noqa: E402
from pipeline.mme.tasks import ASPECT_OF  # noqa: E402
from pipeline.personas.lexicon import load_lexicon  # noqa: E402
from pipeline.personas.sampler import sample_personas  # noqa: E402

CFG = load_config(overrides={"personas": 1})


def _one(persona) -> tuple[list[dict], dict[str, float]]:
    timings: dict[str, float] = {}
    part = generate_persona(persona, CFG, timings)
    return [q.model_dump(include={"id", "setting", "task", "query", "choices", "answer", "answer_text", "needs_image",
                                  "context_turns", "context_tokens"}) for q in part.mme], timings


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench-personas", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    global CFG
    CFG = load_config(overrides={"personas": 1, "bench_personas": args.bench_personas})
    bench = [p for p in sample_personas(CFG, load_lexicon(CFG.lexicon_dir)) if p.split == "bench"]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        out = list(pool.map(_one, bench, chunksize=8))
    wall = time.perf_counter() - t0
    questions = [q for qs, _ in out for q in qs]
    cpu = Counter()
    for _, timings in out:
        cpu.update(timings)
    t1 = time.perf_counter()
    dropped = set(balance(questions, CFG.seed))
    kept = [q for q in questions if q["id"] not in dropped]
    report = bias_report(kept)
    audit = time.perf_counter() - t1
    mme_cpu = cpu["mme"]
    print(f"{len(bench)} benchmark personas, {args.workers} workers: generation + build {wall:.1f} s wall")
    print("  CPU s per stage (summed over personas): " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(cpu.items())))
    print(f"  Persona-MME build: {mme_cpu:.2f} CPU s in total ({1000 * mme_cpu / len(bench):.1f} ms per persona), "
          f"~{mme_cpu / args.workers:.2f} s wall on {args.workers} workers; audit (balance + bias checks) {audit:.2f} s")
    print(f"  questions: {len(questions)} built, {len(dropped)} dropped to balance answers, {len(kept)} kept "
          f"({dict(sorted(Counter(q['setting'] for q in kept).items()))}); needs an image: "
          f"{sum(q['needs_image'] for q in kept) / len(kept):.1%}")
    for setting in ("32k", "128k"):
        sub = sorted(q["context_tokens"] for q in kept if q["setting"] == setting)
        turns = sorted(q["context_turns"] for q in kept if q["setting"] == setting)
        print(f"  {setting}: turns median {turns[len(turns) // 2]} (min {turns[0]}, max {turns[-1]}); tokens median "
              f"{sub[len(sub) // 2]} (max {sub[-1]}, approximate counter)")
    cells = Counter((q["task"], q["setting"]) for q in kept)
    print(f"\n{'task':<38}{'32k':>6}{'128k':>6}{'chance':>8}{'longest':>9}{'overlap':>9}{'frequent':>10}{'uniq.long':>10}  verdict")
    for task in ASPECT_OF:
        r = report.get(task)
        if r is None:
            print(f"{task:<38}{0:>6}{0:>6}  (none)")
            continue
        b = r["baselines"]
        print(f"{task:<38}{cells[(task, '32k')]:>6}{cells[(task, '128k')]:>6}{r['chance']:>8.0%}{b['longest']:>9.1%}"
              f"{b['overlap']:>9.1%}{b['frequent']:>10.1%}{r['uniquely_longest']:>10.1%}  {'; '.join(r['failures']) or 'ok'}")


if __name__ == "__main__":
    main()
