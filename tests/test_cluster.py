"""A real multi-node Ray cluster on this machine: the pipeline submitted through the Jobs API spreads its
personas, its dedup steps and its shard streams over the nodes, and decides and writes the same as one
node with one worker."""

from __future__ import annotations

import json
import socket
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests.conftest import E2E, E2E_RUN, REPO

pytestmark = pytest.mark.slow


def _shard_bytes(run_dir: Path) -> dict[str, bytes]:
    return {p.relative_to(run_dir).as_posix(): p.read_bytes() for p in sorted((run_dir / "data").rglob("*.parquet"))}


RAY_DEFAULT_PORTS = (8265, 52365, 6379, 10001)  # dashboard, dashboard agent, GCS, client server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def ports_taken(ports):
    """Stand in for another Ray on this machine: hold Ray's default ports (those not already held)."""
    with ExitStack() as stack:
        for port in ports:
            s = stack.enter_context(socket.socket())
            try:
                s.bind(("0.0.0.0", port))
                s.listen()
            except OSError:
                pass  # taken already, which is the point
        yield


@contextmanager
def two_node_cluster():
    """A head and a worker node, each its own raylet with one CPU, and the head's dashboard for jobs. Every port
    is picked free and the session lives in its own temp dir, so another Ray on the machine cannot collide."""
    from ray.cluster_utils import Cluster

    temp_dir = tempfile.mkdtemp(prefix="pf-ray-", dir="/tmp")  # short: Ray's socket paths must fit in 107 bytes

    def own_ports() -> dict:
        return {"temp_dir": temp_dir, "dashboard_agent_listen_port": free_port(), "metrics_export_port": free_port(),
                "metrics_agent_port": free_port(), "runtime_env_agent_port": free_port()}

    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "include_dashboard": True, "dashboard_port": free_port(), "gcs_server_port": free_port(),
        "ray_client_server_port": free_port(), **own_ports()})
    try:
        cluster.add_node(num_cpus=1, **own_ports())
        cluster.wait_for_nodes()
        yield cluster
    finally:
        cluster.shutdown()


def test_job_on_two_nodes_equals_one_node_one_worker(tmp_path, one_worker_run):
    with ports_taken(RAY_DEFAULT_PORTS):
        _two_nodes_equal_one(tmp_path, one_worker_run)


def _two_nodes_equal_one(tmp_path: Path, run_one: Path) -> None:
    """`run_one`: the same config alone (conftest sets RAY_ADDRESS=local: its own Ray, whatever else runs here)."""
    from ray.job_submission import JobStatus, JobSubmissionClient

    with two_node_cluster() as cluster:
        client = JobSubmissionClient(f"http://{cluster.webui_url}")
        job = client.submit_job(
            entrypoint=f"{sys.executable} pipeline/run.py {' '.join(E2E)} --out {tmp_path / 'two'}",
            runtime_env={"working_dir": str(REPO), "excludes": [".venv", "outputs", ".git", "*.egg-info", "__pycache__"]})
        deadline = time.time() + 600
        while (status := client.get_job_status(job)) not in {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.STOPPED}:
            assert time.time() < deadline, "the job did not finish in 10 minutes"
            time.sleep(2)
        assert status == JobStatus.SUCCEEDED, client.get_job_logs(job)[-3000:]
        cluster_nodes = {n.node_id for n in (cluster.head_node, *cluster.worker_nodes)}

    run_two = tmp_path / "two" / E2E_RUN
    timings = json.loads((run_two / "manifest.json").read_text())["timings"]
    assert set(timings["nodes"]) <= cluster_nodes and len(timings["nodes"]) == 2, "personas were generated on both nodes"
    for stage in ("dedup", "shards"):
        assert set(timings["stage_nodes"][stage]) == set(timings["nodes"]), f"{stage} ran its tasks on both nodes"
    assert len(json.loads((run_one / "manifest.json").read_text())["timings"]["nodes"]) == 1
    assert (run_one / "dedup.json").read_bytes() == (run_two / "dedup.json").read_bytes()
    assert _shard_bytes(run_one) == _shard_bytes(run_two)
