"""Per-persona parts: the atomic unit of output and the resume point.

A part is a folder `parts/<persona id>/` with one Parquet file per table and a `_SUCCESS.json`
holding the config fingerprint and each file's checksum. It is written under a temporary name and
renamed into place, so a part either exists whole or not at all; a rerun skips complete parts.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.records import PersonaPart
from pipeline.tables import TABLES, part_tables

PART_FORMAT = 1
SUCCESS = "_SUCCESS.json"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def part_dir(run_dir: Path, persona_id: str) -> Path:
    return run_dir / "parts" / persona_id


def write_part(run_dir: Path, part: PersonaPart, fingerprint: str) -> dict[str, int]:
    """Write one persona's tables atomically; returns row counts per table."""
    final = part_dir(run_dir, part.persona.id)
    tmp = final.parent / f".tmp-{part.persona.id}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    try:
        files = {}
        for name, table in part_tables(part).items():
            path = tmp / f"{name}.parquet"
            pq.write_table(table, path, compression="zstd")
            files[name] = {"rows": table.num_rows, "sha256": sha256_file(path)}
        success = {"format": PART_FORMAT, "fingerprint": fingerprint, "persona_id": part.persona.id, "files": files,
                   "stats": part.stats}
        (tmp / SUCCESS).write_text(json.dumps(success, indent=1, sort_keys=True))
        try:
            tmp.rename(final)
        except OSError:
            if not is_complete(run_dir, part.persona.id, fingerprint):
                raise
            # another attempt of the same persona finished first; its bytes are the same
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {name: f["rows"] for name, f in files.items()}


def is_complete(run_dir: Path, persona_id: str, fingerprint: str, verify: bool = True) -> bool:
    """A part counts only if its marker matches this config and (verify) every file's checksum holds."""
    folder = part_dir(run_dir, persona_id)
    try:
        success = json.loads((folder / SUCCESS).read_text())
    except (OSError, ValueError):
        return False
    if success.get("format") != PART_FORMAT or success.get("fingerprint") != fingerprint:
        return False
    files = success.get("files", {})
    if set(files) != set(TABLES):
        return False
    for name, meta in files.items():
        path = folder / f"{name}.parquet"
        if not path.exists() or (verify and sha256_file(path) != meta["sha256"]):
            return False
    return True


def part_stats(run_dir: Path, persona_id: str) -> dict[str, float]:
    return json.loads((part_dir(run_dir, persona_id) / SUCCESS).read_text()).get("stats", {})


def read_part(run_dir: Path, persona_id: str, table: str, columns: list[str] | None = None, filters=None) -> pa.Table:
    """One table of a persona's part; only `columns` and the rows `filters` keeps (pyarrow's filter syntax) are read."""
    return pq.read_table(part_dir(run_dir, persona_id) / f"{table}.parquet", columns=columns, filters=filters)


def remove_part(run_dir: Path, persona_id: str) -> None:
    """Drop an incomplete or corrupted part so that it is generated again."""
    shutil.rmtree(part_dir(run_dir, persona_id), ignore_errors=True)


def clean_partial(run_dir: Path) -> None:
    """Remove leftovers of attempts that died mid-write."""
    for p in (run_dir / "parts").glob(".tmp-*"):
        shutil.rmtree(p, ignore_errors=True)
