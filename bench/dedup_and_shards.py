"""Benchmark: dedup throughput (every step: shingling, MinHash, exact and LSH matching) and shard writing,
on one core.

Generates ~50k user turns in-process (no Ray), then prints documents/s for the dedup steps run in this
process (as the run's Ray tasks would, one after the other) and MB/s for writing those personas' shards.
Usage: python bench/dedup_and_shards.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.config import load_config  # noqa: E402
from pipeline.dedup import dedup_documents  # noqa: E402
from pipeline.generate import generate_persona  # noqa: E402
from pipeline.parts import write_part  # noqa: E402
from pipeline.personas.lexicon import load_lexicon  # noqa: E402
from pipeline.personas.sampler import sample_personas  # noqa: E402
from pipeline.shards import write_shards  # noqa: E402


def main() -> None:
    cfg = load_config(overrides={"personas": 200, "bench_personas": 0})
    personas = sample_personas(cfg, load_lexicon(cfg.lexicon_dir))
    tmp = Path(tempfile.mkdtemp(prefix="pf-dedup-"))
    t = time.perf_counter()
    turns_by_persona = {}
    for p in personas:
        part = generate_persona(p, cfg)
        write_part(tmp, part, "bench")
        turns_by_persona[p.id] = [(f"{s.id}/t{x.index}", x.text) for s in part.sessions for x in s.turns if x.role == "user"]
        if sum(map(len, turns_by_persona.values())) >= 50_000:
            break
    n = sum(map(len, turns_by_persona.values()))
    gen_rate = len(turns_by_persona) / (time.perf_counter() - t)
    print(f"generated {len(turns_by_persona)} personas, {n} user turns in {time.perf_counter() - t:.0f}s")

    for partitions in (1, 8):
        t = time.perf_counter()
        result = dedup_documents({pid: {"turns": docs} for pid, docs in turns_by_persona.items()}, cfg.dedup_threshold,
                                 partitions=partitions)
        dedup_s = time.perf_counter() - t
        print(f"dedup, {partitions} partition(s) (shingling, MinHash with 128 perms, exact + LSH matching): "
              f"{n / dedup_s:,.0f} documents/s on one core")
    print(f"turn duplicates across personas: {result.counts['turns']}")

    t = time.perf_counter()
    shards = write_shards(tmp, list(turns_by_persona), cfg.shard_size_mb)
    write_s = time.perf_counter() - t
    mb = sum(s["bytes"] for s in shards) / 2**20
    print(f"shard writing: {mb:.1f} MB in {write_s:.1f}s = {mb / write_s:.1f} MB/s, "
          f"{len(turns_by_persona) / write_s:.0f} personas/s on one core (generation: {gen_rate:.1f} personas/s per core)")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
