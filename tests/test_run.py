"""End to end through Ray: the job a user runs, on a small config."""

from __future__ import annotations

import json
import shutil
import time

import pytest

from pipeline.run import main
from tests.conftest import E2E, E2E_RUN
from tests.test_progress import progress_lines

pytestmark = pytest.mark.slow
SMALL = E2E


@pytest.fixture(scope="module", autouse=True)
def _ray():
    yield
    import ray

    ray.shutdown()


def _shard_bytes(run_dir):
    return {p.relative_to(run_dir).as_posix(): p.read_bytes() for p in sorted((run_dir / "data").rglob("*.parquet"))}


def _files(folder):
    return {p.relative_to(folder).as_posix(): (p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(folder.rglob("*"))}


def _progress_gaps(err: str) -> tuple[list[str], int]:
    """The job's messages and the longest silence between two of its lines."""
    lines = progress_lines(err)
    return [m for _, m in lines], max(b - a for (a, _), (b, _) in zip(lines, lines[1:]))


def test_run_loads_resumes_and_is_byte_identical(tmp_path, capfd, monkeypatch, one_worker_run):
    monkeypatch.setenv("PERSONAFORGE_PROGRESS_S", "2")  # off a terminal: a line every 2 s (10 s by default)
    assert main([*SMALL[:-1], "--out", str(tmp_path / "a"), "--workers", "2"]) == 0
    run_a = tmp_path / "a" / E2E_RUN
    msgs, longest_silence = _progress_gaps(capfd.readouterr().err)
    assert longest_silence <= 3, msgs
    for stage in ("generate", "dedup", "mme_audit", "shards", "report", "card"):
        assert any(m.startswith(f"{stage}: started") for m in msgs) and any(m.startswith(f"{stage}: done") for m in msgs)
    assert msgs[-1] == f"dataset: {run_a / 'data'}  report: {run_a / 'report' / 'index.html'}"

    # a finished run reruns in seconds and touches nothing
    before = _files(run_a)
    t = time.perf_counter()
    assert main([*SMALL[:-1], "--out", str(tmp_path / "a")]) == 0
    assert time.perf_counter() - t < 10 and _files(run_a) == before
    assert "already finished with this configuration" in capfd.readouterr().err
    manifest = json.loads((run_a / "manifest.json").read_text())
    assert manifest["counts"]["personas"] == {"train": 4, "answer_key": 2}
    assert manifest["timings"]["generated_this_run"] == 6
    assert manifest["stats"]["image_rate"] >= 0.2
    for f in ("index.html", "big_five.png", "calendar.png", "rhythm.png", "image_rate.png", "preference_shifts.png", "personality.png"):
        assert (run_a / "report" / f).stat().st_size > 1000
    assert "<img" in (run_a / "report" / "index.html").read_text()

    import datasets
    from PIL import Image

    files = lambda t: {s: str(run_a / "data" / t / f"{s}-*.parquet") for s in ("train", "test")}  # noqa: E731
    images = datasets.load_dataset("parquet", data_files=files("images"), cache_dir=str(tmp_path / "hf-cache"))
    assert isinstance(images["train"].features["image"], datasets.Image)
    assert isinstance(images["train"][0]["image"], Image.Image)
    assert images["train"].num_rows == manifest["counts"]["images"]["train"]
    sessions = datasets.load_dataset("parquet", data_files=files("sessions"), cache_dir=str(tmp_path / "hf-cache"))
    turn = sessions["test"][0]["turns"][0]
    assert turn["role"] == "user" and turn["time"] == sessions["test"][0]["start_time"]
    assert set(sessions["train"]["persona_id"]) == {f"train-{i:05d}" for i in range(4)}
    sft = datasets.load_dataset("parquet", data_files={"train": str(run_a / "data" / "sft" / "train-*.parquet")},
                                cache_dir=str(tmp_path / "hf-cache"))["train"]
    assert sft.num_rows == manifest["counts"]["sft"]["train"] and "test" not in manifest["counts"]["sft"]
    with_image = next(r for r in sft if r["images"])
    assert all(isinstance(im, Image.Image) for im in with_image["images"])
    assert with_image["messages"][-1]["role"] == "assistant"
    assert manifest["counts"]["persona_mme"]["test"] > 0 and "train" not in manifest["counts"]["persona_mme"]
    assert manifest["stats"]["persona_mme_audit"]["failing_tasks"] == [] and (run_a / "mme_build.json").exists()
    for f in ("personality_estimate.png", "labels.png", "mme.png"):
        assert (run_a / "report" / f).stat().st_size > 1000

    # the run folder is a dataset repo: the card's configs load every table by name
    from pipeline.parts import read_part
    from pipeline.tables import TABLES

    dedup = manifest["stats"]["dedup"]
    assert dedup["turns"]["seen"] == manifest["stats"]["user_turns"] and (run_a / "dedup.json").exists()
    cache = str(tmp_path / "hf-cache")  # datasets keys a local folder's cache by its name, not its content
    assert set(manifest["counts"]) == set(TABLES) - {"quarantine"}  # scripted text never quarantines
    for table in manifest["counts"]:
        ds = datasets.load_dataset(str(run_a), table, cache_dir=cache)
        assert {k: v.num_rows for k, v in ds.items()} == manifest["counts"][table]
    first = datasets.load_dataset(str(run_a), "sessions", split="train", cache_dir=cache)[0]
    assert first == read_part(run_a, "train-00000", "sessions").to_pylist()[0]

    # the PersonaVLM export re-renders the run's own SFT and RL rows, no more, no fewer
    from pipeline.personavlm.export import export_personavlm

    export_personavlm(run_a, tmp_path / "pv")
    released = json.loads((tmp_path / "pv" / "data" / "training" / "sft" / "personaforge_sft.json").read_text())
    assert sorted(r["id"] for r in released) == sorted(sft["id"])
    row = next(r for r in sft if r["id"] == released[0]["id"])
    assert [c["value"] for c in released[0]["conversations"][:-2]] == [
        "".join("<image>" if p["type"] == "image" else p["text"] for p in m["content"]) for m in row["messages"]]
    rl_rows = (tmp_path / "pv" / "data" / "training" / "rl" / "rl.jsonl").read_text().splitlines()
    assert len(rl_rows) == manifest["counts"]["rl"]["train"]

    # another output folder, run name and worker count: the same bytes
    assert _shard_bytes(run_a) == _shard_bytes(one_worker_run)

    # resume: a lost part is regenerated alone, the shards come out the same
    before = _shard_bytes(run_a)
    shutil.rmtree(run_a / "parts" / "bench-00001")
    capfd.readouterr()
    assert main([*SMALL[:-1], "--out", str(tmp_path / "a")]) == 0
    err = capfd.readouterr().err
    assert "5 already done, generating 1" in err and "1 regenerated persona(s) came out as recorded" in err
    assert _shard_bytes(run_a) == before

    # the same run folder with a different config is refused, nothing touched
    capfd.readouterr()
    assert main([*SMALL[:-3], "--months", "2", "--out", str(tmp_path / "a"), "--run-name", E2E_RUN]) == 2
    assert "different configuration (months: 1 -> 2)" in capfd.readouterr().err
    assert _shard_bytes(run_a) == before
