"""The LLM text backend end to end through Ray, against the local fake server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.run import main
from tests.fake_openai import FakeOpenAI

pytestmark = pytest.mark.slow
SMALL = ["--personas", "3", "--bench-personas", "1", "--months", "1", "--no-progress", "--text-backend", "openai",
         "--llm-model", "fake-model", "--llm-timeout-s", "2"]
SECRET = "sk-secret-do-not-log-123"


@pytest.fixture(scope="module", autouse=True)
def _ray():
    yield
    import ray

    ray.shutdown()


def test_llm_run_cache_and_offline_replay(tmp_path, capsys):
    server = FakeOpenAI()
    url = server.start()
    cache = str(tmp_path / "cache")
    try:
        assert main([*SMALL, "--llm-base-url", url, "--out", str(tmp_path / "a"), "--llm-cache-dir", cache,
                     "--llm-api-key", SECRET]) == 0
        first = server.requests
        assert first > 0
        assert main([*SMALL, "--llm-base-url", url, "--out", str(tmp_path / "b"), "--llm-cache-dir", cache]) == 0
        assert server.requests == first, "a second run is served from the cache"
    finally:
        server.stop()
    assert main([*SMALL, "--llm-base-url", url, "--out", str(tmp_path / "c"), "--llm-cache-dir", cache,
                 "--offline-replay"]) == 0
    runs = [tmp_path / x / "p3-b1-m1-s0" for x in "abc"]
    shards = [{p.relative_to(r): p.read_bytes() for p in (r / "data").rglob("*.parquet")} for r in runs]
    assert shards[0] == shards[1] == shards[2]
    manifest = json.loads((runs[0] / "manifest.json").read_text())
    totals = manifest["stats"]["totals"]
    assert totals["llm_requests"] == first and totals.get("quarantined", 0) == 0
    assert manifest["counts"]["personas"] == {"train": 3, "test": 1}
    import pyarrow.dataset as pads

    sessions = pads.dataset(runs[0] / "data" / "sessions").to_table().to_pylist()
    assert any(t["text"].startswith("Honestly") for s in sessions for t in s["turns"])  # the model's words, not the draft
    # the key was given on the command line; it must not be written or printed anywhere
    ray_logs = Path("/tmp/ray/session_latest/logs")  # the driver's and every worker's logs of this Ray session
    leaked = [p for d in (*runs, ray_logs) for p in d.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert any(ray_logs.iterdir())
    assert not leaked and SECRET not in capsys.readouterr().err


def test_flaky_endpoint_every_persona_complete_or_quarantined(tmp_path):
    server = FakeOpenAI(faults={"429": 0.1, "500": 0.1, "timeout": 0.1, "malformed": 0.05, "invalid": 0.05, "omit": 0.1},
                        hang_s=4, seed=11)
    url = server.start()
    try:
        assert main([*SMALL, "--llm-base-url", url, "--out", str(tmp_path), "--llm-repairs", "1"]) == 0
    finally:
        server.stop()
    run = tmp_path / "p3-b1-m1-s0"
    manifest = json.loads((run / "manifest.json").read_text())
    shipped = sum(manifest["counts"]["personas"].values())
    quarantined = sum(manifest["counts"].get("quarantine", {}).values())
    assert shipped + quarantined == 4
    assert manifest["stats"]["totals"].get("quarantined", 0) == quarantined
    assert manifest["stats"]["totals"]["llm_retries"] > 0
    assert server.outcomes["ok"] > 0 and sum(server.outcomes[f] for f in ("429", "500", "timeout")) > 0


def test_model_served_on_the_cluster_with_ray_serve(tmp_path):
    """--llm-serve-model: the run deploys the Serve app, generates through Serve's proxy, deletes the app.
    The builder is the test's stand-in for ray.serve.llm's (which needs vLLM and a GPU); the data equals
    that of the same model behind an external endpoint."""
    from ray import serve

    from pipeline.serve import APP_NAME

    server = FakeOpenAI()
    url = server.start()
    try:
        assert main([*SMALL, "--llm-base-url", url, "--out", str(tmp_path / "direct")]) == 0
    finally:
        server.stop()
    config = tmp_path / "serve.yaml"
    config.write_text("llm_serve_builder: tests.fake_openai:build_serve_app\n"
                      "llm_serve_engine_kwargs: {max_model_len: 4096}\n")
    assert main([*SMALL, "--config", str(config), "--llm-serve-model", "org/tiny-model", "--llm-serve-port", "8765",
                 "--out", str(tmp_path / "served")]) == 0
    assert APP_NAME not in serve.status().applications, "the app is deleted after generation, freeing its GPUs"
    runs = [tmp_path / x / "p3-b1-m1-s0" for x in ("direct", "served")]
    manifest = json.loads((runs[1] / "manifest.json").read_text())
    assert manifest["stats"]["totals"]["llm_requests"] > 0
    shards = [{p.relative_to(r): p.read_bytes() for p in (r / "data").rglob("*.parquet")} for r in runs]
    assert shards[0] == shards[1]
