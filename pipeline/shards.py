"""Assemble the parts into Hugging Face–layout Parquet shards.

`data/<table>/<split>-NNNNN-of-MMMMM.parquet`, split `train` for training personas and `test` for
benchmark personas, except the benchmark personas' cards and worlds (`personas`, `events`), which are
the benchmark's answer key and go to split `answer_key`. Parts are streamed in persona-id order (one persona in memory at a time), so
the shards are byte-identical whatever the number of workers, and memory does not grow with the
run. Shards roll over at a target compressed size; the whole `data/` folder is swapped in at the end.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

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
                 drop_ids: dict[str, list[str]] | None = None, task: Task | None = None) -> list[dict]:
    """Write every table's shards, leaving out the rows dedup removed (`drop_ids`: table -> ids);
    returns one entry per shard (relative path, rows, bytes, sha256)."""
    ids = sorted(persona_ids)
    drop = {t: pa.array(sorted(v), pa.string()) for t, v in (drop_ids or {}).items() if v}
    staging = run_dir / "data.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        shards = _stage_shards(run_dir, staging, ids, drop, target_mb, task)
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
    return shards


def _stage_shards(run_dir: Path, staging: Path, ids: list[str], drop: dict, target_mb: float, task: Task | None) -> list[dict]:
    shards = []
    task = task or silent()
    task.phase("reading parts", len(ids) * len(TABLES))
    for table in TABLES:
        folder = staging / table
        folder.mkdir(parents=True)
        schema = hf_schema(table)
        writers = {s: _ShardWriter(folder, hf, schema, int(target_mb * (1 << 20))) for s, hf in HF_SPLIT.items()}
        task.note(table)
        for pid in ids:
            rows = read_part(run_dir, pid, table)
            if table in drop:
                rows = rows.filter(pc.invert(pc.is_in(rows["id"], drop[table])))
            writers[split_of(table, pid)].write(rows)
            task.advance()
        for w in writers.values():
            for path, rows in w.finish():
                shards.append({"table": table, "split": w.split, "path": str(path.relative_to(staging.parent)).replace(
                    "data.tmp", "data", 1), "rows": rows, "bytes": path.stat().st_size, "sha256": sha256_file(path)})
    return shards
