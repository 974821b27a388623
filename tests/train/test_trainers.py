"""SFT and GRPO on a small run's shards, on CPU, with the tiny embedded model (no download)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.generate import generate_persona
from pipeline.personas.sampler import sample_personas
from pipeline.personavlm.protocol import PLACEHOLDERS
from tests.conftest import write_run
from tests.personavlm.release import write_prompts

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run_dir(lex, tmp_path_factory) -> Path:
    """A small run whose agent calls use short templates (a release-shaped prompts.py): the tiny model's
    context is short, and the samples' targets must fit in it."""
    root = tmp_path_factory.mktemp("train")
    prompts = root / "prompts.py"
    write_prompts(prompts, PLACEHOLDERS)
    cfg = load_config(overrides={"personas": 6, "bench_personas": 0, "months": 2, "seed": 7, "agent_prompts": str(prompts)})
    return write_run([generate_persona(p, cfg) for p in sample_personas(cfg, lex)], root / "run")


@pytest.fixture(scope="module")
def sft(run_dir) -> dict:
    from pipeline.train.trainers import TrainConfig, train_sft

    return train_sft(run_dir, run_dir / "train" / "sft", TrainConfig(max_steps=30, max_length=384))


def test_only_assistant_tokens_carry_loss(run_dir, sft):
    from transformers import AutoTokenizer

    from pipeline.train.data import sft_records

    tok = AutoTokenizer.from_pretrained(run_dir / "train" / "tiny-model-h64-l2")
    sample = next(r for r in sft_records(run_dir) if r["task"] == "reasoning")
    enc = tok.apply_chat_template(sample["messages"], tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    kept = tok.decode([i for i, m in zip(enc["input_ids"], enc["assistant_masks"]) if m])
    replies = "".join(m["content"] + "<|im_end|>" for m in sample["messages"] if m["role"] == "assistant")
    assert kept == replies, "the mask covers exactly what the assistant writes (and its end token)"
    for tag in ("<think>", "</answer>", "<retrieve>"):
        assert len(tok(tag, add_special_tokens=False)["input_ids"]) == 1


def test_sft_loss_falls_and_the_model_reloads(run_dir, sft):
    from transformers import AutoModelForCausalLM

    losses = [x["loss"] for x in sft["log"] if "loss" in x]
    assert len(losses) == 30 and sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 1.0, losses
    out = run_dir / "train" / "sft"
    assert AutoModelForCausalLM.from_pretrained(out / "final") is not None
    assert len((out / "metrics.jsonl").read_text().splitlines()) >= 30 and (out / "metrics.png").stat().st_size > 1000


def test_grpo_from_the_sft_checkpoint(run_dir):
    """A tiny model SFT-trained on the reasoning samples writes the protocol now and then: enough for
    groups with different rewards, and a format reward above the untrained model's."""
    from pipeline.train.data import rl_records
    from pipeline.train.trainers import TrainConfig, format_rate, train_grpo, train_sft

    size = {"tiny_hidden": 128, "tiny_layers": 4}
    sft = train_sft(run_dir, run_dir / "train" / "sft-reasoning",
                    TrainConfig(max_steps=150, max_length=1536, sft_tasks=["reasoning"], **size))
    out = run_dir / "train" / "grpo"
    result = train_grpo(run_dir, out, TrainConfig(max_steps=8, batch_size=6, learning_rate=1e-5, max_completion_length=96,
                                                  **size), init=Path(sft["final"]))
    steps = [x for x in result["log"] if "reward" in x]
    assert len(steps) == 8
    for x in steps:
        for term in ("personavlm_reward", "accuracy_term", "consistency_term", "format_term"):
            assert f"rewards/{term}/mean" in x and f"rewards/{term}/std" in x
        assert x["reward"] == pytest.approx(x["rewards/personavlm_reward/mean"])
    assert min(x["frac_reward_zero_std"] for x in steps) < 1, "some group's completions were rewarded differently"
    assert json.loads((out / "metrics.jsonl").read_text().splitlines()[0])["step"] == 1
    # the shortest prompts: a tiny model's few layers follow the protocol best when the history is short
    prompts = sorted((r["prompt"] for r in rl_records(run_dir)), key=lambda p: len(str(p)))[:6]
    untrained = format_rate(run_dir / "train" / "tiny-model-h128-l4", prompts)
    assert format_rate(sft["final"], prompts) > untrained == 0.0


def test_clear_errors(tmp_path, run_dir, capsys):
    from pipeline.train.cli import main

    assert main(["sft", "--data", str(tmp_path / "empty")]) == 2
    assert "no train shards" in capsys.readouterr().err
    assert main(["sft", "--data", str(run_dir), "--model", str(tmp_path / "not-a-model"), "--max-steps", "1"]) == 2
    assert "cannot load a model" in capsys.readouterr().err
    bad = tmp_path / "grpo.yaml"
    bad.write_text("batch_size: 4\nnum_generations: 6\n")
    assert main(["grpo", "--data", str(run_dir), "--config", str(bad)]) == 2
    assert "must divide the generation batch" in capsys.readouterr().err


def test_multimodal_sft_steps_on_samples_with_images(run_dir):
    """The images of the shards go through the VL model's processor; the vision tower stays fixed."""
    import torch
    from PIL import Image
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from pipeline.train.data import sft_records, to_dataset
    from pipeline.train.trainers import TrainConfig, train_sft

    records = sft_records(run_dir, multimodal=True)
    assert all(sum(p["type"] == "image" for m in r["messages"] for p in m["content"]) == len(r["images"]) for r in records)
    assert all(isinstance(im, bytes) for r in records for im in r["images"]), "images stay encoded until a row is read"
    rows = to_dataset([r for r in records if r["images"]][:20], max_pixels=64 * 64)
    with_images = [rows[i] for i in range(len(rows))]
    assert with_images and all(isinstance(im, Image.Image) and im.size[0] * im.size[1] <= 64 * 64
                               for r in with_images for im in r["images"])

    out = run_dir / "train" / "sft-vl"
    cfg = TrainConfig(multimodal=True, max_pixels=64 * 64, max_steps=3, batch_size=2, max_length=4096, sft_tasks=["episodic"])
    result = train_sft(run_dir, out, cfg)
    assert result["steps"] == 3 and all(x["loss"] > 0 for x in result["log"] if "loss" in x)

    base = AutoModelForImageTextToText.from_pretrained(run_dir / "train" / "tiny-vl-h64-l2")
    tuned = AutoModelForImageTextToText.from_pretrained(out / "final")
    changed = {n for n, p in tuned.state_dict().items() if not torch.equal(p, base.state_dict()[n])}
    assert changed and not any("vision_tower" in n for n in changed), "only the projector and language model train"
    assert any("multi_modal_projector" in n for n in changed)

    processor = AutoProcessor.from_pretrained(out / "final")
    sample = with_images[0]
    prompt = sample["messages"][:next(i for i, m in enumerate(sample["messages"]) if m["role"] == "assistant")]
    text = processor.apply_chat_template(prompt, add_generation_prompt=True)
    enc = processor(text=[text], images=[sample["images"][: text.count("<image>")]], return_tensors="pt")
    generated = tuned.generate(**enc, max_new_tokens=5, do_sample=False)
    assert generated.shape[1] > enc["input_ids"].shape[1]

    # GRPO on the rl table's prompts and images, from that checkpoint: groups are generated and rewarded
    from pipeline.train.trainers import train_grpo

    grpo = train_grpo(run_dir, run_dir / "train" / "grpo-vl", TrainConfig(
        multimodal=True, max_pixels=64 * 64, max_steps=1, batch_size=6, max_completion_length=8, max_prompt_length=4096),
        init=out / "final")
    assert grpo["steps"] == 1 and "rewards/format_term/mean" in grpo["log"][0]
