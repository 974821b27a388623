"""The run's `sft` and `rl` tables as `datasets` the TRL trainers read directly (no conversion step).

The text path flattens each message's content parts to a string, an image part becoming PersonaVLM's
`<image>` marker, so a text-only model trains on the same samples.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.dataset as pads


class TrainDataError(ValueError):
    """The run directory does not hold the table a training stage needs."""


def _read(run_dir: Path, table: str, columns: list[str]) -> list[dict]:
    files = sorted(str(p) for p in (run_dir / "data" / table).glob("train-*.parquet"))
    if not files:
        raise TrainDataError(f"{run_dir / 'data' / table} has no train shards: {run_dir} is not a finished run with "
                             f"training personas (run `python pipeline/run.py` first, with --personas > 0)")
    return pads.dataset(files, format="parquet").to_table(columns=columns).to_pylist()


def flatten(messages: list[dict]) -> list[dict]:
    return [{"role": m["role"], "content": "".join("<image>" if p["type"] == "image" else p["text"] or ""
                                                   for p in m["content"])} for m in messages]


def sft_records(run_dir: Path) -> list[dict]:
    return [{"messages": flatten(r["messages"]), "task": r["task"]} for r in _read(run_dir, "sft", ["messages", "task"])]


def rl_records(run_dir: Path) -> list[dict]:
    rows = _read(run_dir, "rl", ["id", "kind", "prompt", "choices", "reference", "reference_text", "evidence"])
    return [{"prompt": flatten(r["prompt"]), "sample_id": r["id"], "kind": r["kind"], "choices": r["choices"],
             "reference": r["reference"], "reference_text": r["reference_text"]} for r in rows]
