"""Export a run's SFT table to PersonaVLM's training layout.

`python -m pipeline export-sft outputs/<run> [--out DIR]` writes DIR/sft_conversations.json
([{"id", "conversations": [{"from": "human"|"gpt", "value"}], "image": [paths]}], `<image>` markers in
place) and the images under DIR/images/ (default DIR: outputs/<run>/export/personavlm).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pyarrow.dataset as pads

from pipeline.atomic import write_text
from pipeline.labels.sft import to_conversations
from pipeline.records import SftSample


def export_sft(run_dir: Path, out: Path) -> int:
    files = sorted((run_dir / "data" / "sft").glob("train-*.parquet"))
    if not files:
        raise FileNotFoundError(f"{run_dir} has no sft shards (data/sft/train-*.parquet); run pipeline/run.py first")
    (out / "images").mkdir(parents=True, exist_ok=True)
    rows = []
    for batch in pads.dataset(files, format="parquet").to_batches(batch_size=512):
        for r in batch.to_pylist():
            sample = SftSample(**{**r, "images": [im["bytes"] for im in r["images"]]})
            conv = to_conversations(sample)
            for name, png in zip(conv["image"], sample.images):
                (out / "images" / name).write_bytes(png)
            conv["image"] = [f"images/{name}" for name in conv["image"]]
            rows.append(conv)
    write_text(out / "sft_conversations.json", json.dumps(rows, ensure_ascii=False))
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipeline export-sft", description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    try:
        n = export_sft(args.run_dir, args.out or args.run_dir / "export" / "personavlm")
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"exported {n} samples")
    return 0
