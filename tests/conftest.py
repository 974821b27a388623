from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.config import RunConfig, load_config
from pipeline.generate import generate_persona
from pipeline.personas.lexicon import Lexicon, load_lexicon
from pipeline.personas.sampler import sample_personas
from pipeline.records import PersonaPart

# every Ray the tests start is their own: a plain ray.init() would join a cluster `ray start` left on this machine
os.environ["RAY_ADDRESS"] = "local"


@pytest.fixture(scope="session")
def lex() -> Lexicon:
    return load_lexicon(RunConfig().lexicon_dir)


@pytest.fixture(scope="session")
def small_cfg() -> RunConfig:
    return load_config(overrides={"personas": 6, "bench_personas": 2, "months": 2, "seed": 7})


@pytest.fixture(scope="session")
def small_parts(small_cfg: RunConfig, lex: Lexicon) -> list[PersonaPart]:
    """A small run's personas generated in-process (no Ray): the input of most tests."""
    return [generate_persona(p, small_cfg) for p in sample_personas(small_cfg, lex)]


def write_run(parts: list[PersonaPart], run: Path) -> Path:
    """Parts and shards of `parts` in a run directory, without Ray (what the job writes, minus the report)."""
    from pipeline.parts import write_part
    from pipeline.shards import write_shards

    for part in parts:
        write_part(run, part, "fp")
    write_shards(run, [p.persona.id for p in parts], target_mb=64)
    return run
