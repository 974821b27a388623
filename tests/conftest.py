from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.config import RunConfig, load_config
from pipeline.generate import generate_persona
from pipeline.personas.lexicon import Lexicon, load_lexicon
from pipeline.personas.sampler import sample_personas
from pipeline.records import PersonaPart

# every Ray the tests start is their own: a plain ray.init() would join a cluster `ray start` left on this machine
os.environ["RAY_ADDRESS"] = "local"
REPO = Path(__file__).resolve().parents[1]
# the end-to-end tests' config (run, resume, cluster): small, but enough personas for every worker and node
E2E = ["--personas", "4", "--bench-personas", "2", "--months", "1", "--no-progress"]
E2E_RUN = "p4-b2-m1-s0"


@pytest.fixture(scope="session")
def one_worker_run(tmp_path_factory) -> Path:
    """The end-to-end config run once by the job's command with one worker and another run name: the bytes that
    every other run of it (two workers, two nodes, killed and resumed) must equal."""
    out = tmp_path_factory.mktemp("one-worker")
    done = subprocess.run([sys.executable, "pipeline/run.py", *E2E, "--workers", "1", "--run-name", "reference",
                           "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return out / "reference"


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
