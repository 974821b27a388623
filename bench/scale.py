"""Benchmark: how cost grows with the number of personas (1x, 4x, 16x the default 500 + 200).

Each scale gets a fresh Ray head of its own (`ray start --head --block`, its own port and temp dir) and
runs `pipeline/run.py` against it, as a cluster job would. A sampler reads the run's stage from
`<run>/status.json` each second and records, per stage:
- the driver's own memory: the proportional set size (PSS) of the `run.py` process alone, what must
  stay flat as the run grows;
- the object store's use, summed over the nodes (Ray's memory-info call, the one `ray memory` makes);
- the PSS of the driver plus every Ray process (shared pages split between the processes that map them,
  so the object store is counted once).
Prints wall time per stage and per persona against 1x, and those peaks. Usage:

    python bench/scale.py [--scales 1 4 16] [--months 3] [--image-rate 0.2] [--base 500 200]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
STAGES = ("sample", "generate", "dedup", "mme_audit", "shards", "report")
MEMORY_STAGES = (*STAGES, "done")  # "done": the card and the end of the run
MIB = 2**20


def _pss(procs: list[psutil.Process]) -> int:
    total = 0
    for p in procs:
        try:
            total += p.memory_full_info().pss
        except psutil.Error:
            pass
    return total


def _tree(root: psutil.Process) -> list[psutil.Process]:
    try:
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


class StagePeaks(threading.Thread):
    """Per stage of the run: peak driver PSS, peak object store use, peak PSS of driver + Ray processes."""

    def __init__(self, driver: int, head: int, ray_address: str, status: Path, every: float = 1.0):
        super().__init__(daemon=True)
        self.driver, self.head, self.status, self.every = psutil.Process(driver), psutil.Process(head), status, every
        self.address = ray_address
        self.peaks: dict[str, dict[str, int]] = {}
        self.done = threading.Event()

    def _stage(self) -> str:
        try:
            return json.loads(self.status.read_text())["stage"]
        except (OSError, json.JSONDecodeError, KeyError):
            return "sample"

    def run(self) -> None:
        import ray
        from ray._private import internal_api, state  # the call behind `ray memory --stats-only`

        ray.init(address=self.address, logging_level="ERROR", log_to_driver=False)
        try:
            while not self.done.is_set():
                stage = self._stage()
                try:
                    store = internal_api.get_memory_info_reply(state.state).store_stats.object_store_bytes_used
                except Exception:  # noqa: BLE001 - a missed sample, not a failed benchmark
                    store = 0
                sample = {"driver": _pss([self.driver]), "store": store,
                          "all": _pss(_tree(self.driver) + _tree(self.head))}
                peak = self.peaks.setdefault(stage, dict.fromkeys(sample, 0))
                for k, v in sample.items():
                    peak[k] = max(peak[k], v)
                time.sleep(self.every)
        finally:
            ray.shutdown()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_head(temp_dir: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    ray_cli = shutil.which("ray", path=os.path.dirname(sys.executable)) or "ray"
    head = subprocess.Popen([ray_cli, "start", "--head",
                             "--block", "--port", str(port), "--temp-dir", str(temp_dir), "--include-dashboard=false",
                             "--disable-usage-stats", "--num-cpus", str(os.cpu_count())],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    address = f"127.0.0.1:{port}"
    deadline = time.time() + 120
    while subprocess.run([ray_cli, "status", "--address", address], capture_output=True).returncode:
        if time.time() > deadline or head.poll() is not None:
            head.terminate()
            raise SystemExit(f"the Ray head did not start (ray start --head --port {port}, temp dir {temp_dir})")
        time.sleep(1)
    return head, address


def run_scale(scale: int, base: tuple[int, int], months: int, image_rate: float, out: Path) -> dict:
    personas, bench = base[0] * scale, base[1] * scale
    run_dir = out / f"x{scale}"
    head, address = _start_head(Path(tempfile.mkdtemp(prefix="pf-ray-", dir="/tmp")))
    try:
        cmd = [sys.executable, "pipeline/run.py", "--personas", str(personas), "--bench-personas", str(bench),
               "--months", str(months), "--image-rate", str(image_rate), "--out", str(out), "--run-name", f"x{scale}",
               "--no-progress"]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, stderr=subprocess.PIPE, text=True, env={**os.environ, "RAY_ADDRESS": address})
        sampler = StagePeaks(proc.pid, head.pid, address, run_dir / "status.json")
        sampler.start()
        _, err = proc.communicate()
        total = time.perf_counter() - t0
        sampler.done.set()
        sampler.join()
    finally:
        head.terminate()
        head.wait(60)
    if proc.returncode:
        raise SystemExit(f"scale {scale}x failed:\n{err[-3000:]}")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    return {"scale": scale, "personas": personas + bench, "turns": manifest["stats"]["turns"], "total_s": total,
            "wall_s": manifest["timings"]["wall_s"], "peaks_mib": {s: {k: v / MIB for k, v in p.items()}
                                                                    for s, p in sampler.peaks.items()}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--months", type=int, default=3)
    ap.add_argument("--image-rate", type=float, default=0.2)
    ap.add_argument("--base", type=int, nargs=2, default=[500, 200], metavar=("TRAIN", "BENCH"),
                    help="personas at 1x (default: the pipeline's defaults)")
    args = ap.parse_args()
    os.environ["RAY_AUTH_MODE"] = "token"  # the same for every Ray process of the benchmark: head, CLI, driver, sampler
    rows = []
    with tempfile.TemporaryDirectory(prefix="pf-scale-") as tmp:
        for scale in args.scales:
            rows.append(run_scale(scale, tuple(args.base), args.months, args.image_rate, Path(tmp)))
            print(json.dumps(rows[-1]), flush=True)
            for leftover in Path(tmp).iterdir():  # keep the disk small: each run is measured, then deleted
                shutil.rmtree(leftover, ignore_errors=True)
    base = rows[0]
    per = {r["scale"]: r["total_s"] / r["personas"] for r in rows}
    print(f"\n{'scale':>5} {'personas':>8} {'total s':>8} {'s/persona':>9} {'x 1x':>5} " + " ".join(f"{s + ' s':>12}" for s in STAGES))
    for r in rows:
        print(f"{r['scale']:>4}x {r['personas']:>8} {r['total_s']:>8.1f} {per[r['scale']]:>9.3f} "
              f"{per[r['scale']] / per[base['scale']]:>5.2f} " + " ".join(f"{r['wall_s'].get(s, 0):>12.1f}" for s in STAGES))
    for key, title in (("driver", "driver's own peak memory (MiB, PSS of run.py) during each stage; x 1x: its peak"),
                       ("store", "object store peak use (MiB, all nodes) during each stage"),
                       ("all", "peak memory (MiB, summed PSS of driver + every Ray process) during each stage")):
        print(f"\n{title}")
        print(f"{'scale':>5} " + " ".join(f"{s:>10}" for s in MEMORY_STAGES) + f" {'x 1x':>6}")
        for r in rows:
            peaks = r["peaks_mib"]
            top = max(p[key] for p in peaks.values())
            top_1x = max(p[key] for p in base["peaks_mib"].values())
            print(f"{r['scale']:>4}x " + " ".join(f"{peaks[s][key]:>10.0f}" if s in peaks else f"{'-':>10}" for s in MEMORY_STAGES)
                  + f" {top / top_1x if top_1x else 0:>6.2f}")


if __name__ == "__main__":
    main()
