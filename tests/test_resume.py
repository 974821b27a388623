"""Killed runs resume: SIGKILL of the driver during generation, dedup, shard writing and the report (one after
the other on the same run folder), and of a Ray worker mid-persona; the final shards and statistics equal an
uninterrupted run's."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from tests.conftest import E2E, E2E_RUN, REPO

pytestmark = pytest.mark.slow
ARGS = [*E2E, "--workers", "2"]
RUN = E2E_RUN
PERSONAS = 6


def _start(out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "pipeline/run.py", *ARGS, "--out", str(out)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _finish(out: Path) -> dict:
    done = subprocess.run([sys.executable, "pipeline/run.py", *ARGS, "--out", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / RUN / "manifest.json").read_text())


def _wait_for(proc: subprocess.Popen, condition, what: str, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while not condition():
        assert proc.poll() is None, f"the run ended before {what}: {proc.stderr.read()[-2000:]}"
        assert time.time() < deadline, f"no {what} within {timeout}s"
        time.sleep(0.005)


def _kill_driver(proc: subprocess.Popen) -> None:
    """SIGKILL the driver, then make sure the local Ray it started is gone too. Ray reaps the raylet, the GCS
    and the workers within seconds; its dashboard and runtime-env agents linger about 40 s before they notice,
    so whatever is left after a short wait is killed (never leave a cluster behind for the next run)."""
    children = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    _, alive = psutil.wait_procs(children, timeout=5)
    for p in alive:
        p.kill()
    psutil.wait_procs(alive, timeout=10)


def _stage(run: Path) -> str | None:
    try:
        return json.loads((run / "status.json").read_text())["stage"]
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _parts(run: Path) -> dict[str, int]:
    """Complete parts (a part appears by an atomic rename) -> when their files were written."""
    folder = run / "parts"
    return {p.name: max(f.stat().st_mtime_ns for f in p.iterdir()) for p in folder.iterdir()
            if p.is_dir() and not p.name.startswith(".")} if folder.is_dir() else {}


def _shard_bytes(run: Path) -> dict[str, bytes]:
    return {p.relative_to(run).as_posix(): p.read_bytes() for p in sorted((run / "data").rglob("*.parquet"))}


@pytest.fixture(scope="module")
def reference_run(one_worker_run) -> Path:
    return one_worker_run


@pytest.fixture(scope="module")
def reference(reference_run) -> dict[str, bytes]:
    return _shard_bytes(reference_run)


def test_driver_killed_in_each_stage_then_resumed(tmp_path, reference, reference_run):
    run = tmp_path / RUN

    proc = _start(tmp_path)  # killed while personas are being generated
    _wait_for(proc, lambda: 1 <= len(_parts(run)) < PERSONAS, "a first finished persona")
    _kill_driver(proc)
    before = _parts(run)
    assert _stage(run) == "generate" and 1 <= len(before) < PERSONAS and not (run / "manifest.json").exists()

    proc = _start(tmp_path)  # resumed, then killed during dedup
    _wait_for(proc, lambda: _stage(run) == "dedup", "the dedup stage")
    _kill_driver(proc)
    after = _parts(run)
    assert len(after) == PERSONAS
    assert {k: after[k] for k in before} == before, "a finished persona is never generated again"

    proc = _start(tmp_path)  # resumed, then killed while shards are being written
    _wait_for(proc, lambda: (run / "data.tmp").is_dir(), "shard writing")
    _kill_driver(proc)
    assert _parts(run) == after

    proc = _start(tmp_path)  # resumed, then killed while the report's aggregates are read
    _wait_for(proc, lambda: _stage(run) == "report", "the report stage")
    _kill_driver(proc)

    manifest = _finish(tmp_path)
    assert manifest["timings"]["generated_this_run"] == 0 and _parts(run) == after
    assert not (run / "data.tmp").exists() and not (run / "dedup.tmp").exists() and _stage(run) == "done"
    assert _shard_bytes(run) == reference
    assert manifest["stats"] == json.loads((reference_run / "manifest.json").read_text())["stats"]


def test_a_killed_worker_is_retried(tmp_path, reference):
    proc = _start(tmp_path)
    driver = psutil.Process(proc.pid)

    def generating_worker() -> psutil.Process | None:
        for p in driver.children(recursive=True):
            try:
                if "_generate_batch" in " ".join(p.cmdline()):
                    return p
            except psutil.Error:
                continue
        return None

    _wait_for(proc, lambda: generating_worker() is not None, "a worker generating a persona")
    victim = generating_worker()
    os.kill(victim.pid, signal.SIGKILL)
    assert proc.wait(600) == 0, proc.stderr.read()[-3000:]
    assert _shard_bytes(tmp_path / RUN) == reference


@contextmanager
def small_disk(where: Path, size: int):
    """A filesystem of `size` bytes at `where` (a tmpfs: mounting one needs root, as on CI)."""
    where.mkdir()
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True, text=True)
    if mount.returncode:
        pytest.skip(f"cannot mount a small filesystem to fill up: {mount.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_full_disk_stops_with_a_clear_error_and_keeps_the_finished_run(tmp_path, reference_run):
    """A finished run whose shard stage is struck from its record writes its shards again, on a disk with room
    for only half of them: every process (driver and Ray workers) sees it full, the run stops with a clear
    message, and the previous shards, manifest and card are intact."""
    shard_bytes = sum(p.stat().st_size for p in (reference_run / "data").rglob("*.parquet"))
    used = sum(p.stat().st_blocks * 512 for p in reference_run.rglob("*") if p.is_file())
    with small_disk(tmp_path / "disk", used + shard_bytes // 2) as disk:
        run = disk / reference_run.name
        shutil.copytree(reference_run, run)
        record = json.loads((run / "stages.json").read_text())
        del record["stages"]["shards"]  # else the finished run is verified and left alone
        (run / "stages.json").write_text(json.dumps(record))
        before = {p.relative_to(run).as_posix(): p.read_bytes() for p in run.rglob("*")
                  if p.is_file() and p.parts[len(run.parts)] in ("data", "README.md", "manifest.json")}
        done = subprocess.run([sys.executable, "pipeline/run.py", *ARGS, "--run-name", run.name, "--out", str(disk)],
                              cwd=REPO, capture_output=True, text=True, timeout=600)
        assert done.returncode == 2, done.stderr[-3000:]
        assert "No space left on device" in done.stderr and "rerun the same command" in done.stderr
        assert "Traceback" not in done.stderr
        after = {p.relative_to(run).as_posix(): p.read_bytes() for p in run.rglob("*")
                 if p.is_file() and p.parts[len(run.parts)] in ("data", "README.md", "manifest.json")}
        assert after == before and not (run / "data.tmp").exists()
