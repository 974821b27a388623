from __future__ import annotations

import pytest

from pipeline.config import RunConfig, load_config
from pipeline.generate import generate_persona
from pipeline.personas.lexicon import Lexicon, load_lexicon
from pipeline.personas.sampler import sample_personas
from pipeline.records import PersonaPart


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
