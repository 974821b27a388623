"""The paper's recipes as config files: they load into TrainConfig and hold PersonaVLM's numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from pipeline.train.trainers import TrainConfig

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "train"
GPUS = 8


def _load(name: str) -> TrainConfig:
    return TrainConfig(**yaml.safe_load((CONFIGS / name).read_text()))


def test_sft_recipe():
    cfg = _load("sft_qwen2.5-vl-7b.yaml")
    assert cfg.model == "Qwen/Qwen2.5-VL-7B-Instruct" and cfg.multimodal and cfg.freeze_vision
    assert cfg.batch_size * cfg.grad_accum * GPUS == 64
    assert (cfg.learning_rate, cfg.lr_scheduler, cfg.max_steps, cfg.warmup_ratio) == (2e-5, "cosine", 1200, 0.03)
    assert (cfg.max_length, cfg.max_pixels) == (16384, 230400)
    assert (CONFIGS.parents[1] / cfg.deepspeed).is_file()


def test_grpo_recipe():
    cfg = _load("grpo_qwen2.5-vl-7b.yaml")
    assert cfg.batch_size * cfg.grad_accum * GPUS == 72
    assert (cfg.learning_rate, cfg.lr_scheduler, cfg.max_steps, cfg.warmup_ratio) == (2e-6, "cosine", 400, 0.05)
    assert (cfg.num_generations, cfg.num_iterations, cfg.repetition_penalty, cfg.beta, cfg.temperature) == (6, 1, 1.05, 0.01, 1.0)
    cfg.check_group(processes=GPUS)
    with pytest.raises(ValueError, match="must divide the generation batch"):
        cfg.check_group(processes=1)  # 9 completions on one GPU cannot hold whole groups of 6


def test_zero3():
    ds = json.loads((CONFIGS / "zero3.json").read_text())
    assert ds["zero_optimization"]["stage"] == 3
    assert ds["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"], "the final folder must hold whole weights"
