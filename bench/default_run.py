"""Benchmark: the default run (500 + 200 personas, 3 months, images) end to end on this machine.

Prints wall time per stage, personas/s and turns/s, per-persona CPU time per generation stage, the
driver's own CPU time, and the peak memory of the job (driver + Ray workers, sampled). Usage:

    python bench/default_run.py [--out /tmp/pf-bench] [any pipeline/run.py option]
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.run import build_parser, config_from_args, run  # noqa: E402
from pipeline.stages import STAGES  # noqa: E402


class PeakMemory(threading.Thread):
    """Samples the summed RSS of this process and all its descendants (Ray's raylet and workers)."""

    def __init__(self, every: float = 0.25):
        super().__init__(daemon=True)
        self.every, self.peak, self.stop = every, 0, threading.Event()

    def run(self) -> None:
        me = psutil.Process()
        while not self.stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            time.sleep(self.every)


def main() -> None:
    argv = sys.argv[1:]
    tmp = None
    if "--out" not in argv:
        tmp = tempfile.mkdtemp(prefix="pf-bench-")
        argv += ["--out", tmp]
    args = build_parser().parse_args(argv + ["--no-progress"])
    cfg = config_from_args(args)
    shutil.rmtree(cfg.run_dir, ignore_errors=True)
    mem = PeakMemory()
    mem.start()
    t0 = time.perf_counter()
    manifest = run(cfg)
    total = time.perf_counter() - t0
    driver_cpu = sum(psutil.Process().cpu_times()[:2])  # user + system of this process alone
    mem.stop.set()
    mem.join()
    t0 = time.perf_counter()
    again = run(cfg)  # the same command once more: a finished run is verified, not redone
    rerun = time.perf_counter() - t0
    assert again["timings"]["reused_stages"] == [s.name for s in STAGES], again["timings"]["reused_stages"]

    n_personas = cfg.personas + cfg.bench_personas
    turns = manifest["stats"]["turns"]
    wall = manifest["timings"]["wall_s"]
    cpu = manifest["timings"]["persona_cpu_s"]
    print(f"default run: {n_personas} personas, {manifest['stats']['sessions']} sessions, {turns} turns, "
          f"{manifest['stats']['images']} images, {sum(s['bytes'] for s in manifest['files']) / 2**20:.0f} MB of shards")
    print(f"{'stage':<10}{'wall s':>9}{'personas/s':>12}{'turns/s':>11}")
    for stage in ("sample", "generate", *(s.name for s in STAGES)):
        if stage not in wall:
            continue
        s = wall[stage]
        print(f"{stage:<10}{s:>9.1f}{n_personas / s if s else 0:>12.1f}{turns / s if s else 0:>11.0f}")
    print(f"{'total':<10}{total:>9.1f}{n_personas / total:>12.1f}{turns / total:>11.0f}")
    print("per-persona CPU time inside generation (summed over workers): "
          + ", ".join(f"{k} {v:.1f}s ({n_personas / v:.0f} personas/cpu-s)" for k, v in cpu.items() if v))
    print(f"the driver's own CPU time (sampling, Ray Data's scheduling, the stages' driver side): {driver_cpu:.1f}s")
    print(f"peak memory (driver + Ray processes): {mem.peak / 2**30:.2f} GiB")
    print(f"rerun of the finished run (every stage verified, nothing written): {rerun:.1f}s")
    print(json.dumps({"total_s": round(total, 1), "wall_s": wall, "driver_cpu_s": round(driver_cpu, 1),
                      "peak_gib": round(mem.peak / 2**30, 2),
                      "rerun_s": round(rerun, 1)}))
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
