from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.generate import generate_persona
from pipeline.personas.sampler import sample_personas
from pipeline.records import PersonaPart
from tests.conftest import write_run


@pytest.fixture(scope="session")
def bench_parts(lex) -> list[PersonaPart]:
    """Sixteen benchmark personas over two months, generated in-process."""
    cfg = load_config(overrides={"personas": 1, "bench_personas": 16, "months": 2, "seed": 3})
    return [generate_persona(p, cfg) for p in sample_personas(cfg, lex) if p.split == "bench"]


@pytest.fixture(scope="session")
def bench_run(bench_parts, tmp_path_factory) -> Path:
    """Those personas' parts and shards in a run directory (no Ray)."""
    return write_run(bench_parts, tmp_path_factory.mktemp("mme") / "run")
