"""The `diffusers` image backend: a text-to-image pipeline renders each scene's caption.

`--image-backend diffusers --image-model stabilityai/sdxl-turbo` (a Hub id, or a local folder with
`model_index.json`). Loaded once per worker process, on the GPU in fp16 when there is one; each image
gets a fixed seed from (run seed, image id), so reruns give the same pictures. The scene spec stays
the truth of what the picture should show; unlike the procedural renderer, a diffusion model is not
guaranteed to draw it exactly, so benchmark questions about visual details should keep using the
spec-checked procedural images unless the images are verified separately.
"""

from __future__ import annotations

import io
from functools import lru_cache

from pipeline.records import SceneSpec
from pipeline.rng import rng_for


@lru_cache(maxsize=2)
def load_pipeline(model: str, device: str | None = None):
    import torch
    from diffusers import AutoPipelineForText2Image

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.float16 if device.startswith("cuda") else torch.float32
    pipe = AutoPipelineForText2Image.from_pretrained(model, torch_dtype=dtype)
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def render_captions(specs: list[SceneSpec], keys: list[str], model: str, size: int, seed: int, steps: int,
                    guidance: float, batch_size: int = 8) -> list[bytes]:
    """PNG bytes for each spec's caption, in batches, each image with its own fixed seed."""
    import torch

    pipe = load_pipeline(model)
    out: list[bytes] = []
    for lo in range(0, len(specs), batch_size):
        chunk_specs, chunk_keys = specs[lo:lo + batch_size], keys[lo:lo + batch_size]
        generators = [torch.Generator(device="cpu").manual_seed(int(rng_for(seed, k, "diffusion").integers(2**31)))
                      for k in chunk_keys]
        result = pipe(prompt=[s.caption for s in chunk_specs], num_inference_steps=steps, guidance_scale=guidance,
                      height=size, width=size, generator=generators, output_type="pil")
        for image in result.images:
            buf = io.BytesIO()
            image.save(buf, format="PNG")
            out.append(buf.getvalue())
    return out
