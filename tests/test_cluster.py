"""A real multi-node Ray cluster on this machine: the pipeline submitted through the Jobs API spreads its
personas over the nodes and writes the same shards as one node with one worker."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
SMALL = ["--personas", "4", "--bench-personas", "2", "--months", "1", "--no-progress"]


def _shard_bytes(run_dir: Path) -> dict[str, bytes]:
    return {p.relative_to(run_dir).as_posix(): p.read_bytes() for p in sorted((run_dir / "data").rglob("*.parquet"))}


@contextmanager
def two_node_cluster():
    """A head and a worker node, each its own raylet with one CPU, and the head's dashboard for jobs."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": True,
                                                             "dashboard_port": 0})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        yield cluster
    finally:
        cluster.shutdown()


def test_job_on_two_nodes_equals_one_node_one_worker(tmp_path):
    from ray.job_submission import JobStatus, JobSubmissionClient

    # first, alone: a local `ray.init()` would join a cluster already running on this machine
    one = subprocess.run([sys.executable, "pipeline/run.py", *SMALL, "--workers", "1", "--out", str(tmp_path / "one")],
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert one.returncode == 0, one.stderr[-3000:]

    with two_node_cluster() as cluster:
        client = JobSubmissionClient(f"http://{cluster.webui_url}")
        job = client.submit_job(
            entrypoint=f"{sys.executable} pipeline/run.py {' '.join(SMALL)} --out {tmp_path / 'two'}",
            runtime_env={"working_dir": str(REPO), "excludes": [".venv", "outputs", ".git", "*.egg-info", "__pycache__"]})
        deadline = time.time() + 600
        while (status := client.get_job_status(job)) not in {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.STOPPED}:
            assert time.time() < deadline, "the job did not finish in 10 minutes"
            time.sleep(2)
        assert status == JobStatus.SUCCEEDED, client.get_job_logs(job)[-3000:]
        cluster_nodes = {n.node_id for n in (cluster.head_node, *cluster.worker_nodes)}

    run_one, run_two = (tmp_path / x / "p4-b2-m1-s0" for x in ("one", "two"))
    nodes = json.loads((run_two / "manifest.json").read_text())["timings"]["nodes"]
    assert set(nodes) <= cluster_nodes and len(nodes) == 2, "personas were generated on both nodes"
    assert len(json.loads((run_one / "manifest.json").read_text())["timings"]["nodes"]) == 1
    assert _shard_bytes(run_one) == _shard_bytes(run_two)
