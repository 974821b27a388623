"""The run's `sft` and `rl` tables as `datasets` the TRL trainers read directly (no conversion step).

The text path flattens each message's content parts to a string, an image part becoming PersonaVLM's
`<image>` marker, so a text-only model trains on the same samples. The multimodal path keeps the parts
and decodes the sample's images (in the order of its image parts), downscaled to at most `max_pixels`.
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


def parts(messages: list[dict]) -> list[dict]:
    return [{"role": m["role"], "content": [{"type": "image"} if p["type"] == "image" else {"type": "text", "text": p["text"] or ""}
                                            for p in m["content"]]} for m in messages]


def decode_image(image: dict, max_pixels: int | None):
    """A shard's image cell as an RGB picture no larger than `max_pixels` (aspect ratio kept)."""
    import io

    from PIL import Image

    picture = Image.open(io.BytesIO(image["bytes"])).convert("RGB")
    w, h = picture.size
    if max_pixels and w * h > max_pixels:
        scale = (max_pixels / (w * h)) ** 0.5
        picture = picture.resize((max(1, int(w * scale)), max(1, int(h * scale))), Image.Resampling.BICUBIC)
    return picture


def sft_records(run_dir: Path, multimodal: bool = False, max_pixels: int | None = None) -> list[dict]:
    if not multimodal:
        return [{"messages": flatten(r["messages"]), "task": r["task"]} for r in _read(run_dir, "sft", ["messages", "task"])]
    return [{"messages": parts(r["messages"]), "images": [decode_image(im, max_pixels) for im in r["images"]], "task": r["task"]}
            for r in _read(run_dir, "sft", ["messages", "images", "task"])]


def rl_records(run_dir: Path, multimodal: bool = False, max_pixels: int | None = None) -> list[dict]:
    columns = ["id", "kind", "prompt", "choices", "reference", "reference_text"] + (["images"] if multimodal else [])
    return [{"prompt": parts(r["prompt"]) if multimodal else flatten(r["prompt"]), "sample_id": r["id"], "kind": r["kind"],
             "choices": r["choices"], "reference": r["reference"], "reference_text": r["reference_text"],
             **({"images": [decode_image(im, max_pixels) for im in r["images"]]} if multimodal else {})}
            for r in _read(run_dir, "rl", columns)]
