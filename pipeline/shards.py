"""Assemble the parts into Hugging Face–layout Parquet shards.

`data/<table>/<split>-NNNNN-of-MMMMM.parquet`, split `train` for training personas and `test` for
benchmark personas, except the benchmark personas' cards and worlds (`personas`, `events`), which are
the benchmark's answer key and go to split `answer_key`. Each table's split is one stream, written by one
task (a Ray task in a run) from its personas' parts in id order, one persona in memory at a time: the
shards are byte-identical whatever the number of workers or nodes, and memory does not grow with the
run. Shards roll over at a target compressed size; the whole `data/` folder is swapped in at the end.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.fanout import Map, in_process
from pipeline.parts import read_part, sha256_file
from pipeline.progress import Task, silent
from pipeline.tables import TABLES, hf_schema

HF_SPLIT = {"train": "train", "bench": "test", "answer_key": "answer_key"}
# the benchmark personas' cards and worlds: kept for audit, in a split no one gives a model as input
ANSWER_KEY_TABLES = ("personas", "events")


def split_of(table: str, persona_id: str) -> str:
    split = persona_id.split("-", 1)[0]
    return "answer_key" if split == "bench" and table in ANSWER_KEY_TABLES else split
ROW_GROUP_BYTES = 32 << 20


class _ShardWriter:
    def __init__(self, folder: Path, split: str, schema: pa.Schema, target_bytes: int):
        self.folder, self.split, self.schema, self.target = folder, split, schema, target_bytes
        self.paths: list[Path] = []
        self.rows: list[int] = []
        self.sink = self.writer = None
        self.pending: list[pa.Table] = []
        self.pending_bytes = 0
        self.row_group_bytes = min(ROW_GROUP_BYTES, max(target_bytes // 8, 1))

    def _open(self) -> None:
        path = self.folder / f".{self.split}-{len(self.paths):05d}.parquet"
        self.paths.append(path)
        self.rows.append(0)
        self.sink = pa.OSFile(str(path), "wb")
        self.writer = pq.ParquetWriter(self.sink, self.schema, compression="zstd")

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self.pending.append(table.cast(self.schema))
        self.pending_bytes += table.nbytes
        if self.pending_bytes >= self.row_group_bytes:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        if self.writer is None:
            self._open()
        table = pa.concat_tables(self.pending)
        self.writer.write_table(table, row_group_size=max(table.num_rows, 1))
        self.rows[-1] += table.num_rows
        self.pending, self.pending_bytes = [], 0
        if self.sink.tell() >= self.target:
            self._close()

    def _close(self) -> None:
        self.writer.close()
        self.sink.close()
        self.writer = self.sink = None

    def finish(self) -> list[tuple[Path, int]]:
        self.flush()
        if self.writer is not None:
            self._close()
        n = len(self.paths)
        out = []
        for k, (path, rows) in enumerate(zip(self.paths, self.rows)):
            final = self.folder / f"{self.split}-{k:05d}-of-{n:05d}.parquet"
            path.rename(final)
            out.append((final, rows))
        return out


def write_shards(run_dir: Path, persona_ids: Iterable[str], target_mb: float,
                 drop_ids: dict[str, list[str]] | None = None, task: Task | None = None,
                 run: Map = in_process) -> list[dict]:
    """Write every table's shards, leaving out the rows dedup removed (`drop_ids`: table -> ids), one stream
    (a table's split) per call of `run`; returns one entry per shard (relative path, rows, bytes, sha256)."""
    ids = sorted(persona_ids)
    staging = run_dir / "data.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    calls = [(str(staging), table, split, pids, sorted((drop_ids or {}).get(table, [])), target_mb)
             for table in TABLES for split in HF_SPLIT
             if (pids := [pid for pid in ids if split_of(table, pid) == split])]
    task = task or silent()
    task.phase("reading parts", len(ids) * len(TABLES))
    written: dict[tuple[str, str], list[dict]] = {}
    try:
        for table in TABLES:
            (staging / table).mkdir(parents=True)
        for table, split, n_parts, shards in run(write_stream, calls):
            written[table, split] = shards
            task.advance(n_parts)
    except BaseException:  # e.g. a full disk: leave the previous data/ as it was and nothing half-written
        shutil.rmtree(staging, ignore_errors=True)
        raise
    # swap in: at every moment either the old data/ or the new one is complete on disk
    final, old = run_dir / "data", run_dir / "data.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    staging.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return [shard for c in calls for shard in written[c[1], c[2]]]


def write_stream(staging: str, table: str, split: str, persona_ids: list[str], drop_ids: list[str],
                 target_mb: float) -> tuple[str, str, int, list[dict]]:
    """One table's shards of one split, from its personas' parts in id order (a task: the streams are
    independent, and each stream alone decides its shard boundaries, so the bytes do not depend on who
    writes them). Returns the stream, how many parts it read, and one entry per shard."""
    staging_dir = Path(staging)
    run_dir, folder = staging_dir.parent, staging_dir / table
    drop = set(drop_ids)  # one lookup per row: an is_in against every dropped id per part grows as N x drops
    writer = _ShardWriter(folder, HF_SPLIT[split], hf_schema(table), int(target_mb * (1 << 20)))
    for pid in persona_ids:
        rows = read_part(run_dir, pid, table)
        if drop:
            rows = rows.filter(pa.array([i not in drop for i in rows["id"].to_pylist()], pa.bool_()))
        writer.write(rows)
    return table, split, len(persona_ids), [
        {"table": table, "split": writer.split, "path": f"data/{table}/{path.name}", "rows": rows,
         "bytes": path.stat().st_size, "sha256": sha256_file(path)} for path, rows in writer.finish()]
