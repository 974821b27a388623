"""Benchmark: how cost grows with the number of personas (1x, 2x, 4x the default 500 + 200).

Each scale runs `pipeline/run.py` in its own process (a fresh local Ray, embedded backends) while a
sampler reads the run's stage from `<run>/status.json` each second and sums the proportional set size
(PSS: shared pages split between the processes that map them, so Ray's shared object store is counted
once) of the driver and every Ray process under it. Prints wall time per stage and the growth relative
to 1x, the peak memory during each stage, and its rise within the stage (a stage runs in processes that
still hold what earlier stages left, e.g. the driver's heap after dedup). Usage:

    python bench/scale.py [--scales 1 2 4] [--months 3] [--base 500 200]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
STAGES = ("generate", "dedup", "mme_audit", "shards", "report")


class StagePeaks(threading.Thread):
    """Peak summed PSS of a process tree, per stage of the run it is executing."""

    def __init__(self, pid: int, status: Path, every: float = 1.0):
        super().__init__(daemon=True)
        self.root, self.status, self.every = psutil.Process(pid), status, every
        self.peaks: dict[str, int] = {}
        self.starts: dict[str, int] = {}  # the first sample in each stage: what earlier stages left behind
        self.done = threading.Event()

    def _stage(self) -> str:
        try:
            return json.loads(self.status.read_text())["stage"]
        except (OSError, json.JSONDecodeError, KeyError):
            return "sample"

    def run(self) -> None:
        while not self.done.is_set():
            stage, total = self._stage(), 0
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                return
            for p in procs:
                try:
                    total += p.memory_full_info().pss
                except psutil.Error:
                    pass
            self.starts.setdefault(stage, total)
            self.peaks[stage] = max(self.peaks.get(stage, 0), total)
            time.sleep(self.every)


def run_scale(scale: int, base: tuple[int, int], months: int, out: Path) -> dict:
    personas, bench = base[0] * scale, base[1] * scale
    run_dir = out / f"x{scale}"
    cmd = [sys.executable, "pipeline/run.py", "--personas", str(personas), "--bench-personas", str(bench),
           "--months", str(months), "--out", str(out), "--run-name", f"x{scale}", "--no-progress"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stderr=subprocess.PIPE, text=True)
    sampler = StagePeaks(proc.pid, run_dir / "status.json")
    sampler.start()
    _, err = proc.communicate()
    total = time.perf_counter() - t0
    sampler.done.set()
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"scale {scale}x failed:\n{err[-3000:]}")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    return {"scale": scale, "personas": personas + bench, "turns": manifest["stats"]["turns"], "total_s": total,
            "wall_s": manifest["timings"]["wall_s"], "peak_gib": {k: v / 2**30 for k, v in sampler.peaks.items()},
            "rise_gib": {k: (sampler.peaks[k] - sampler.starts[k]) / 2**30 for k in sampler.peaks}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--months", type=int, default=3)
    ap.add_argument("--base", type=int, nargs=2, default=[500, 200], metavar=("TRAIN", "BENCH"),
                    help="personas at 1x (default: the pipeline's defaults)")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="pf-scale-") as tmp:
        for scale in args.scales:
            rows.append(run_scale(scale, tuple(args.base), args.months, Path(tmp)))
            print(json.dumps(rows[-1]), flush=True)
            for leftover in Path(tmp).iterdir():  # keep the disk small: each run is measured, then deleted
                shutil.rmtree(leftover, ignore_errors=True)
    base = rows[0]
    print(f"\n{'scale':>5} {'personas':>8} {'total s':>8} {'x time':>7} " + " ".join(f"{s + ' s':>12}" for s in STAGES))
    for r in rows:
        print(f"{r['scale']:>4}x {r['personas']:>8} {r['total_s']:>8.1f} {r['total_s'] / base['total_s']:>7.2f} "
              + " ".join(f"{r['wall_s'].get(s, 0):>12.1f}" for s in STAGES))
    for key, title in (("peak_gib", "peak memory (GiB, summed PSS of driver + Ray processes) during each stage"),
                       ("rise_gib", "rise within each stage (GiB: its peak minus what the stage started with)")):
        print(f"\n{title}")
        print(f"{'scale':>5} " + " ".join(f"{s:>10}" for s in STAGES))
        for r in rows:
            print(f"{r['scale']:>4}x " + " ".join(f"{r[key][s]:>10.2f}" if s in r[key] else f"{'-':>10}" for s in STAGES))


if __name__ == "__main__":
    main()
