"""Whole-or-nothing file writes: write a temporary sibling, then rename it over the target.

The temporary name is unique per process and call, so concurrent writers of the same file (two Ray
workers caching the same LLM request) never interleave; a reader sees the old file or the new one.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path


def write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: Path, data, **dumps) -> None:
    """JSON with the run's house style (indent 2, sorted keys, trailing newline) unless `dumps` says otherwise."""
    options = {"indent": 2, "sort_keys": True, "default": str} | dumps
    write_text(path, json.dumps(data, **options) + ("\n" if options.get("indent") else ""))


def write_jsonl(path: Path, rows) -> None:
    write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
