"""At the default scale (200 benchmark personas), the benchmark is big enough, needs its photos, is
certified, and no baseline without the history beats chance beyond sampling noise."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ProcessPoolExecutor

import pytest

from pipeline.config import load_config
from pipeline.generate import generate_persona
from pipeline.mme.bias import WorldPrior, _words, balance, bias_report, summary
from pipeline.mme.history import told_profile
from pipeline.mme.tasks import ASPECT_OF
from pipeline.personas.sampler import sample_personas

pytestmark = pytest.mark.slow
CFG = load_config(overrides={"personas": 1})  # the default 200 benchmark personas, 3 months


def _questions(persona) -> tuple[list[dict], list[str], str]:
    part = generate_persona(persona, CFG)
    profile = told_profile(part.sessions[0].model_dump(), [e.model_dump() for e in part.events])
    return [q.model_dump() for q in part.mme], [f.text for e in part.events for f in e.facts], " ".join(profile.values())


def test_default_benchmark_size_coverage_and_leaks(lex):
    bench = [p for p in sample_personas(CFG, lex) if p.split == "bench"]
    assert len(bench) == 200
    with ProcessPoolExecutor(2) as pool:
        out = list(pool.map(_questions, bench, chunksize=10))
    questions = [q for qs, _, _ in out for q in qs]
    dropped = set(balance(questions, CFG.seed))
    kept = [q for q in questions if q["id"] not in dropped]
    assert len(kept) >= 3000
    per_cell = Counter((q["setting"], q["task"]) for q in kept)
    assert all(per_cell[(s, t)] >= 5 for s in ("32k", "128k") for t in ASPECT_OF), per_cell
    shares = summary(kept)
    assert shares["certified_share_multiple_choice"] == 1.0
    assert shares["needs_image_share_multiple_choice"] >= 0.30
    assert shares["context_tokens"]["32k"]["max"] <= 32_768 and shares["context_tokens"]["128k"]["max"] <= 131_072
    vocabulary = {w for q in kept for w in _words(q["query"]) | {x for c in q["choices"] for x in _words(c["text"])}}
    world = WorldPrior({p.id: facts for p, (_, facts, _) in zip(bench, out)}, vocabulary)
    report = bias_report(kept, world, {p.id: profile for p, (_, _, profile) in zip(bench, out)})
    assert {t: r["failures"] for t, r in report.items() if r["failures"]} == {}
    for task, r in report.items():
        # every baseline within 5 points of chance, up to sampling noise (two standard errors at this task's n)
        slack = 0.05 + 2 * (r["chance"] * (1 - r["chance"]) / r["n"]) ** 0.5
        assert all(b["accuracy"] - r["chance"] <= slack for b in r["baselines"].values()), (task, r)
