"""At the default scale (200 benchmark personas), the benchmark is big enough and unbiased."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ProcessPoolExecutor

import pytest

from pipeline.config import load_config
from pipeline.generate import generate_persona
from pipeline.mme.bias import balance, bias_report
from pipeline.mme.tasks import ASPECT_OF
from pipeline.personas.sampler import sample_personas

pytestmark = pytest.mark.slow
CFG = load_config(overrides={"personas": 1})  # the default 200 benchmark personas, 3 months


def _questions(persona) -> list[dict]:
    return [q.model_dump() for q in generate_persona(persona, CFG).mme]


def test_default_benchmark_size_coverage_and_bias(lex):
    bench = [p for p in sample_personas(CFG, lex) if p.split == "bench"]
    assert len(bench) == 200
    with ProcessPoolExecutor(2) as pool:
        questions = [q for qs in pool.map(_questions, bench, chunksize=10) for q in qs]
    dropped = set(balance(questions, CFG.seed))
    kept = [q for q in questions if q["id"] not in dropped]
    assert len(kept) >= 2000
    per_cell = Counter((q["setting"], q["task"]) for q in kept)
    assert all(per_cell[(s, t)] >= 10 for s in ("32k", "128k") for t in ASPECT_OF), per_cell
    report = bias_report(kept)
    assert {t: r["failures"] for t, r in report.items() if r["failures"]} == {}
    for task, r in report.items():
        # within 5 points of chance, up to sampling noise (two standard errors at this task's n)
        slack = 0.05 + 2 * (r["chance"] * (1 - r["chance"]) / r["n"]) ** 0.5
        assert all(abs(v - r["chance"]) <= slack for k, v in r["baselines"].items() if k != "frequent"), (task, r)
        assert r["baselines"]["frequent"] - r["chance"] <= slack, (task, r)
        assert r["uniquely_longest"] - r["chance"] <= slack, (task, r)
