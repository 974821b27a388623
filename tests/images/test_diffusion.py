"""The diffusers backend with a tiny Stable Diffusion pipeline built from configs (CPU, no downloads):
the same loading (`model_index.json` folder) and rendering code as a real model."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from pipeline.images.diffusion import load_pipeline, render_captions
from pipeline.records import SceneObject, SceneSpec


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory):
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    folder = tmp_path_factory.mktemp("tiny-sd")
    chars = "abcdefghijklmnopqrstuvwxyz0123456789.,!?'-"
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in chars:
        vocab.setdefault(c, len(vocab))
        vocab.setdefault(c + "</w>", len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77)
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(CLIPTextConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=37,
                                                num_attention_heads=4, num_hidden_layers=2, bos_token_id=0,
                                                eos_token_id=1, pad_token_id=1, max_position_embeddings=77))
    unet = UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=1, sample_size=16, in_channels=4,
                                out_channels=4, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=32,
                                attention_head_dim=8)
    vae = AutoencoderKL(block_out_channels=(32, 64), in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                                   scheduler=EulerDiscreteScheduler(), safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    pipe.save_pretrained(folder / "model")
    return str(folder / "model")


def _spec(colour: str) -> SceneSpec:
    return SceneSpec(setting="park", caption=f"A photo of two {colour} kites at Maple Park.",
                     objects=[SceneObject(name="kite", shape="kite", colour=colour, count=2)])


def test_renders_pngs_from_a_model_folder_with_fixed_seeds(tiny_sd):
    specs, keys = [_spec("red"), _spec("blue"), _spec("red")], ["p/e1/image", "p/e2/image", "p/e3/image"]
    pngs = render_captions(specs, keys, tiny_sd, size=32, seed=0, steps=2, guidance=0.0, batch_size=2)
    assert len(pngs) == 3
    assert all(Image.open(io.BytesIO(p)).size == (32, 32) for p in pngs)
    again = render_captions(specs[:1], keys[:1], tiny_sd, size=32, seed=0, steps=2, guidance=0.0)
    assert again[0] == pngs[0], "the same image id and seed give the same picture"
    other = render_captions(specs[:1], ["p/e9/image"], tiny_sd, size=32, seed=0, steps=2, guidance=0.0)
    assert other[0] != pngs[0]
    assert type(load_pipeline(tiny_sd)).__name__ == "StableDiffusionPipeline"


def test_generate_persona_with_the_diffusers_backend(tiny_sd, small_cfg, lex):
    from pipeline.generate import generate_persona
    from pipeline.personas.sampler import sample_personas

    cfg = small_cfg.model_copy(update={"image_backend": "diffusers", "image_model": tiny_sd, "image_size": 32,
                                       "months": 1})
    part = generate_persona(sample_personas(cfg, lex)[-1], cfg)  # a bench persona: no labels, quick
    assert part.images and all(Image.open(io.BytesIO(im.png)).size == (32, 32) for im in part.images)
