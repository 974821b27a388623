"""The LLM text backend end to end through Ray, against the local fake server."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pyarrow.dataset as pads
import pytest

from pipeline.run import main
from tests.fake_openai import Behaviour, FakeOpenAI

pytestmark = pytest.mark.slow
SMALL = ["--personas", "3", "--bench-personas", "1", "--months", "1", "--no-progress", "--text-backend", "openai",
         "--llm-model", "fake-model", "--llm-timeout-s", "2"]
SECRET = "sk-secret-do-not-log-123"


@pytest.fixture(scope="module", autouse=True)
def _ray():
    yield
    import ray

    ray.shutdown()


def _shards(run: Path) -> dict:
    return {p.relative_to(run): p.read_bytes() for p in (run / "data").rglob("*.parquet")}


def _manifest(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text())


def test_llm_run_cache_and_offline_replay(tmp_path, capsys):
    server = FakeOpenAI(behaviour="strong")
    url = server.start()
    cache = str(tmp_path / "cache")
    try:
        assert main([*SMALL, "--llm-base-url", url, "--out", str(tmp_path / "a"), "--llm-cache-dir", cache,
                     "--llm-api-key", SECRET]) == 0
        first = server.requests
        assert first > 0
        assert main([*SMALL, "--llm-base-url", url, "--out", str(tmp_path / "b"), "--llm-cache-dir", cache]) == 0
        assert server.requests == first + 1, "a second run asks nothing but the probe: it is served from the cache"
    finally:
        server.stop()
    assert main([*SMALL, "--llm-base-url", url, "--out", str(tmp_path / "c"), "--llm-cache-dir", cache,
                 "--offline-replay"]) == 0
    runs = [tmp_path / x / "p3-b1-m1-s0" for x in "abc"]
    assert _shards(runs[0]) == _shards(runs[1]) == _shards(runs[2])
    manifest = _manifest(runs[0])
    totals = manifest["stats"]["totals"]
    assert totals["llm_requests"] == first - 1 and totals.get("quarantined", 0) == 0
    assert manifest["counts"]["personas"] == {"train": 3, "answer_key": 1}
    llm = manifest["text"]["llm"]
    assert llm["planned"]["requests"] == totals["sessions_first_try"] + totals.get("sessions_repaired", 0) \
        + totals.get("sessions_fallback", 0)
    # the plan counts each session's first request; repairs and split sessions add to it, but stay a minority
    assert llm["planned"]["prompt_tokens"] * 0.95 <= llm["actual"]["prompt_tokens"] <= llm["planned"]["prompt_tokens"] * 1.25
    assert manifest["text"]["share_by_source"]["llm"] > 0.95
    sessions = pads.dataset(runs[0] / "data" / "sessions").to_table().to_pylist()
    assert any(t["text"].startswith("Honestly") for s in sessions for t in s["turns"])  # the model's words, not the draft
    assert {t["source"] for s in sessions for t in s["turns"]} <= {"llm", "llm-repaired", "scripted-fallback"}
    assert "Who wrote the text" in (runs[0] / "README.md").read_text()
    assert (runs[0] / "report" / "text_sources.png").exists()
    # the key was given on the command line; it must not be written or printed anywhere
    ray_logs = Path("/tmp/ray/session_latest/logs")  # the driver's and every worker's logs of this Ray session
    leaked = [p for d in (*runs, ray_logs) for p in d.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert any(ray_logs.iterdir())
    assert not leaked and SECRET not in capsys.readouterr().err


def test_a_typical_7b_on_a_flaky_endpoint_loses_no_persona(tmp_path):
    """30% transport errors and 10% cut-off bodies, on a model that errs like a typical 7B: nothing crashes,
    every persona ships, almost all of the text is the model's."""
    server = FakeOpenAI(faults={"429": 0.1, "503": 0.05, "500": 0.1, "timeout": 0.05, "corrupt": 0.1}, hang_s=3,
                        retry_after_s=0.1, behaviour="7b", seed=11)
    url = server.start()
    try:
        assert main([*SMALL, "--llm-base-url", url, "--out", str(tmp_path)]) == 0
    finally:
        server.stop()
    manifest = _manifest(tmp_path / "p3-b1-m1-s0")
    assert manifest["counts"]["personas"] == {"train": 3, "answer_key": 1}
    assert not manifest["counts"].get("quarantine") and not manifest["pending"]["personas"]
    assert manifest["stats"]["totals"]["llm_retries"] > 0 and server.outcomes["corrupt"] > 0
    shares = manifest["text"]["share_by_source"]
    assert shares["llm"] + shares.get("llm-repaired", 0) >= 0.95, shares


def test_an_outage_loses_no_persona_and_a_rerun_finishes_them(tmp_path):
    """The endpoint goes down for longer than the retry budget: the run still writes what it has (report,
    card, manifest), the personas that met the outage write nothing, and the same command afterwards
    generates exactly them, ending with the shards of a run that never met an outage."""
    clean = FakeOpenAI(behaviour="strong")
    url = clean.start()
    try:
        assert main([*SMALL, "--llm-base-url", url, "--out", str(tmp_path / "clean")]) == 0
    finally:
        clean.stop()
    server = FakeOpenAI(behaviour="strong", retry_after_s=0.5, outage_after=(12, 600.0))  # after the first sessions
    url = server.start()
    args = [*SMALL, "--llm-base-url", url, "--out", str(tmp_path / "out"), "--llm-retry-budget-s", "3"]
    try:
        assert main(args) == 0
        run = tmp_path / "out" / "p3-b1-m1-s0"
        manifest = _manifest(run)
        pending = manifest["pending"]["personas"]
        assert pending and "still failed" in manifest["pending"]["reasons"][0]
        assert not manifest["counts"].get("quarantine")
        assert all(not (run / "parts" / pid).exists() for pid in pending)
        assert (run / "README.md").exists() and (run / "report" / "index.html").exists()
        server._down_until = time.monotonic()  # the endpoint is back
        assert main(args) == 0
    finally:
        server.stop()
    assert not _manifest(run)["pending"]["personas"]
    assert _shards(run) == _shards(tmp_path / "clean" / "p3-b1-m1-s0")


def test_every_persona_failing_still_writes_report_card_and_manifest_and_a_retry_draws_fresh_samples(tmp_path):
    args = [*SMALL, "--out", str(tmp_path), "--llm-repairs", "0", "--llm-max-fallback-share", "0.05"]
    server = FakeOpenAI(behaviour=Behaviour(invent=1.0))
    url = server.start()
    try:
        assert main([*args, "--llm-base-url", url]) == 0
        run = tmp_path / "p3-b1-m1-s0"
        manifest = _manifest(run)
        assert sum(manifest["counts"]["quarantine"].values()) == 4 and "personas" not in manifest["counts"]
        assert (run / "README.md").exists() and (run / "report" / "index.html").exists()
        before = server.requests
        assert main([*args, "--llm-base-url", url]) == 0  # a plain rerun keeps the finished (quarantined) personas
        assert server.requests == before  # nothing to do: not even the probe
    finally:
        server.stop()
    fixed = FakeOpenAI()  # the same endpoint, now with a model that gets it right
    url = fixed.start()
    try:
        assert main([*args, "--llm-base-url", url, "--llm-retry-quarantined"]) == 0
    finally:
        fixed.stop()
    manifest = _manifest(run)
    assert manifest["counts"]["personas"] == {"train": 3, "answer_key": 1} and not manifest["counts"].get("quarantine")
    assert json.loads((run / "llm_retries.json").read_text()) == {p: 1 for p in
                                                                            ["bench-00000", *(f"train-0000{i}" for i in range(3))]}


def test_a_small_context_and_an_unusable_endpoint(tmp_path, capsys):
    """A 4,096-token model with a fixed 2,048-token budget runs (requests shrink to fit); a wrong model name,
    an unreachable URL and a refused key stop the run before any work with one clear line."""
    server = FakeOpenAI(behaviour="strong", context_tokens=4096)
    url = server.start()
    try:
        assert main([*SMALL, "--llm-base-url", url, "--out", str(tmp_path / "a"), "--llm-max-tokens", "2048"]) == 0
        assert _manifest(tmp_path / "a" / "p3-b1-m1-s0")["counts"]["personas"] == {"train": 3, "answer_key": 1}
        capsys.readouterr()
        assert main([*SMALL, "--llm-base-url", url, "--out", str(tmp_path / "b"), "--llm-model", "no-such-model"]) == 2
        err = capsys.readouterr().err
        assert "does not serve the model 'no-such-model'" in err and "fake-model" in err
    finally:
        server.stop()
    assert main([*SMALL, "--llm-base-url", "http://127.0.0.1:9/v1", "--out", str(tmp_path / "c")]) == 2
    assert "cannot reach http://127.0.0.1:9/v1" in capsys.readouterr().err
    assert not (tmp_path / "c" / "p3-b1-m1-s0" / "parts").exists()


def test_model_served_on_the_cluster_with_ray_serve(tmp_path):
    """--llm-serve-model: the run deploys the Serve app, generates through Serve's proxy, deletes the app.
    The builder is the test's stand-in for ray.serve.llm's (which needs vLLM and a GPU); the data equals
    that of the same model behind an external endpoint."""
    from ray import serve

    from pipeline.serve import APP_NAME

    server = FakeOpenAI(model="writer")
    url = server.start()
    try:
        assert main([*SMALL, "--llm-model", "writer", "--llm-base-url", url, "--out", str(tmp_path / "direct")]) == 0
    finally:
        server.stop()
    config = tmp_path / "serve.yaml"
    config.write_text("llm_serve_builder: tests.fake_openai:build_serve_app\n"
                      "llm_serve_engine_kwargs: {max_model_len: 4096}\n")
    assert main([*SMALL, "--llm-model", "writer", "--config", str(config), "--llm-serve-model", "org/tiny-model",
                 "--llm-serve-port", "8765", "--out", str(tmp_path / "served")]) == 0
    assert APP_NAME not in serve.status().applications, "the app is deleted after generation, freeing its GPUs"
    runs = [tmp_path / x / "p3-b1-m1-s0" for x in ("direct", "served")]
    assert _manifest(runs[1])["stats"]["totals"]["llm_requests"] > 0
    assert _shards(runs[0]) == _shards(runs[1])
