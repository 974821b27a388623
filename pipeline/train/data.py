"""The run's `sft` and `rl` tables as `datasets` the TRL trainers read directly (no conversion step).

The text path flattens each message's content parts to a string, an image part becoming PersonaVLM's
`<image>` marker, so a text-only model trains on the same samples. The multimodal path keeps the parts
and the sample's images (in the order of its image parts) as the shards encode them; `to_dataset`
decodes them, downscaled to at most `max_pixels`, only when a row is read: the default run's `sft`
table alone holds ~79k images, which decoded at once do not fit in memory.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

import pyarrow.dataset as pads
from PIL import Image


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


def parts(messages: list[dict]) -> list[dict]:
    return [{"role": m["role"], "content": [{"type": "image"} if p["type"] == "image" else {"type": "text", "text": p["text"] or ""}
                                            for p in m["content"]]} for m in messages]


def decode_image(data: bytes, max_pixels: int | None) -> Image.Image:
    """An encoded image as an RGB picture no larger than `max_pixels` (aspect ratio kept)."""
    picture = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = picture.size
    if max_pixels and w * h > max_pixels:
        scale = (max_pixels / (w * h)) ** 0.5
        picture = picture.resize((max(1, int(w * scale)), max(1, int(h * scale))), Image.Resampling.BICUBIC)
    return picture


def _decoded(rows: dict, max_pixels: int | None) -> dict:
    rows["images"] = [[decode_image(data, max_pixels) for data in images] for images in rows["images"]]
    return rows


def to_dataset(records: list[dict], max_pixels: int | None = None):
    """The records as a `datasets.Dataset`; encoded images become pictures as each row is read."""
    from datasets import Dataset

    dataset = Dataset.from_list(records)
    if "images" in dataset.column_names:
        dataset = dataset.with_transform(functools.partial(_decoded, max_pixels=max_pixels))
    return dataset


def sft_records(run_dir: Path, multimodal: bool = False) -> list[dict]:
    if not multimodal:
        return [{"messages": flatten(r["messages"]), "task": r["task"]} for r in _read(run_dir, "sft", ["messages", "task"])]
    return [{"messages": parts(r["messages"]), "images": [im["bytes"] for im in r["images"]], "task": r["task"]}
            for r in _read(run_dir, "sft", ["messages", "images", "task"])]


def rl_records(run_dir: Path, multimodal: bool = False) -> list[dict]:
    columns = ["id", "kind", "prompt", "choices", "reference", "reference_text"] + (["images"] if multimodal else [])
    records = []
    for r in _read(run_dir, "rl", columns):
        record = {"prompt": parts(r["prompt"]) if multimodal else flatten(r["prompt"]), "sample_id": r["id"], "kind": r["kind"],
                  "choices": r["choices"], "reference": r["reference"], "reference_text": r["reference_text"]}
        if multimodal:
            record["images"] = [im["bytes"] for im in r["images"]]
        records.append(record)
    return records
