"""SFT then GRPO on a run's fresh shards, with TRL.

SFT reads the `sft` table and puts the loss on the assistant's tokens only. GRPO reads the `rl` table
and rewards each completion with PersonaVLM's r = f_acc·f_cons + 0.5·f_format; the three terms are
also registered as zero-weight reward functions so TRL logs each of them on its own. Both write
checkpoints, a final model folder that reloads with `from_pretrained`, `metrics.jsonl` (one line per
logging step) and `metrics.png`.
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline.atomic import write_jsonl
from pipeline.labels.reward import f_format, reward
from pipeline.records import Choice, RlSample


class TrainConfig(BaseModel):
    """Defaults run the tiny embedded model on CPU; configs/train/*.yaml hold the paper's recipes."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(None, description="a Hub id or local folder; None builds the tiny embedded model")
    tiny_hidden: int = Field(64, ge=16, description="hidden size of the tiny embedded model")
    tiny_layers: int = Field(2, ge=1, description="layers of the tiny embedded model")
    max_steps: int = Field(40, ge=1)
    batch_size: int = Field(6, ge=1, description="per-device batch size")
    grad_accum: int = Field(1, ge=1)
    learning_rate: float = Field(3e-3, gt=0)
    lr_scheduler: str = "cosine"
    warmup_ratio: float = Field(0.03, ge=0, lt=1)
    max_length: int = Field(1024, ge=16, description="tokens per SFT sample (a longer text sample is left out: cut, it loses its answer)")
    sft_tasks: list[str] | None = Field(None, description="train SFT on these tasks only (e.g. [reasoning]); None: all")
    seed: int = 0
    logging_steps: int = Field(1, ge=1)
    save_steps: int = Field(20, ge=1)
    bf16: bool = False
    activation_checkpointing: bool = False
    deepspeed: str | None = Field(None, description="DeepSpeed config file (e.g. configs/train/zero3.json) for multi-GPU")
    # GRPO
    num_generations: int = Field(6, ge=2, description="completions per prompt (the group)")
    num_iterations: int = Field(1, ge=1)
    beta: float = Field(0.01, ge=0)
    temperature: float = Field(1.0, gt=0)
    repetition_penalty: float = Field(1.05, gt=0)
    max_prompt_length: int = Field(768, ge=16)
    max_completion_length: int = Field(48, ge=4)
    use_vllm: bool = Field(False, description="generate GRPO completions with vLLM (GPU)")
    vllm_mode: Literal["colocate", "server"] = Field(
        "colocate", description="vLLM inside the training processes, or a `trl vllm-serve` server")
    # the multimodal path
    multimodal: bool = Field(False, description="train on the samples' images too (a vision-language model; the tiny "
                                                "default becomes the tiny VL model)")
    max_pixels: int | None = Field(None, ge=28 * 28, description="downscale each image to at most this many pixels")
    freeze_vision: bool = Field(True, description="keep the vision tower's weights fixed (multimodal)")

    def check_group(self, processes: int | None = None) -> None:
        """GRPO compares completions within a group, so a generation batch (over all processes) must hold
        whole groups."""
        processes = processes or int(os.environ.get("WORLD_SIZE", "1"))
        batch = self.batch_size * self.grad_accum * processes
        if batch % self.num_generations:
            raise ValueError(f"num_generations ({self.num_generations}) must divide the generation batch "
                             f"(batch_size x grad_accum x processes = {self.batch_size} x {self.grad_accum} x {processes} "
                             f"= {batch}); e.g. batch_size {self.num_generations * max(1, self.batch_size // self.num_generations)}")


Stage = Literal["sft", "grpo"]


def prepare_model(cfg: TrainConfig, run_dir: Path, init: Path | None, texts_for_tokenizer) -> str:
    """The model to train: --init, --model, or the tiny embedded one (built once per run, next to it)."""
    if init is not None:
        return str(init)
    if cfg.model:
        return cfg.model
    kind = "vl" if cfg.multimodal else "model"
    folder = run_dir / "train" / f"tiny-{kind}-h{cfg.tiny_hidden}-l{cfg.tiny_layers}"
    if not (folder / "config.json").exists():
        from pipeline.train.tiny import tiny_qwen2, tiny_vl, train_tokenizer

        tok = train_tokenizer(texts_for_tokenizer(), folder)
        (tiny_vl if cfg.multimodal else tiny_qwen2)(tok, folder, hidden=cfg.tiny_hidden, layers=cfg.tiny_layers, seed=cfg.seed)
    return str(folder)


def load(model_path: str, multimodal: bool = False):
    """(model, tokenizer), or (model, processor) for a vision-language model on the multimodal path."""
    from transformers import AutoModelForCausalLM, AutoModelForImageTextToText, AutoProcessor, AutoTokenizer

    try:
        if multimodal:
            return AutoModelForImageTextToText.from_pretrained(model_path), AutoProcessor.from_pretrained(model_path)
        return AutoModelForCausalLM.from_pretrained(model_path), AutoTokenizer.from_pretrained(model_path)
    except Exception as e:  # noqa: BLE001 - transformers raises many kinds; all mean "cannot load this model"
        kind = "vision-language model (multimodal: true)" if multimodal else "causal language model"
        raise ValueError(f"cannot load a model from {model_path} as a {kind} ({type(e).__name__}: {e}); give a local folder with "
                         "config.json, weights and tokenizer files, or a Hub id reachable from this machine") from None


def freeze_vision_tower(model) -> int:
    """Fix the vision encoder's weights (the projector into the language model still trains); returns how many."""
    frozen = 0
    for name, param in model.named_parameters():
        if any(k in name for k in ("vision_tower.", "visual.")) and "merger" not in name:
            param.requires_grad_(False)
            frozen += param.numel()
    if not frozen:
        raise ValueError(f"freeze_vision: {type(model).__name__} has no vision tower (vision_tower or visual) to freeze")
    return frozen


def format_rate(model_path: str | Path, prompts: list[list[dict]], samples: int = 3, max_new_tokens: int = 96,
                seed: int = 0) -> float:
    """Share of sampled completions (temperature 1) in PersonaVLM's exact <think>…</think><answer>…</answer> form."""
    import torch

    model, tok = load(str(model_path))
    torch.manual_seed(seed)
    hits = total = 0
    for prompt in prompts:
        enc = tok.apply_chat_template(prompt, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        out = model.generate(**enc, do_sample=True, temperature=1.0, max_new_tokens=max_new_tokens,
                             num_return_sequences=samples, pad_token_id=tok.pad_token_id)
        for row in out[:, enc["input_ids"].shape[1]:]:
            hits += f_format(tok.decode(row, skip_special_tokens=True))
            total += 1
    return hits / total


def _common(cfg: TrainConfig, out: Path) -> dict:
    import torch

    return dict(output_dir=str(out), max_steps=cfg.max_steps, per_device_train_batch_size=cfg.batch_size,
                gradient_accumulation_steps=cfg.grad_accum, learning_rate=cfg.learning_rate,
                lr_scheduler_type=cfg.lr_scheduler, warmup_steps=cfg.warmup_ratio, logging_steps=cfg.logging_steps,
                save_steps=cfg.save_steps, save_total_limit=2, seed=cfg.seed, bf16=cfg.bf16, report_to=[],
                activation_checkpointing=cfg.activation_checkpointing, deepspeed=cfg.deepspeed, dataloader_num_workers=0,
                dataloader_pin_memory=torch.cuda.is_available(), disable_tqdm=False)


def train_sft(run_dir: Path, out: Path, cfg: TrainConfig, init: Path | None = None, callbacks: list | None = None) -> dict:
    from trl import SFTConfig, SFTTrainer

    from pipeline.train.data import sft_records, to_dataset

    records = [r for r in sft_records(run_dir, cfg.multimodal) if cfg.sft_tasks is None or r["task"] in cfg.sft_tasks]
    if not records:
        raise ValueError(f"no SFT samples of the tasks {cfg.sft_tasks} in {run_dir}")
    model_path = prepare_model(cfg, run_dir, init, lambda: (_plain(m["content"]) for r in records for m in r["messages"]))
    model, processing = load(model_path, cfg.multimodal)
    if cfg.multimodal and cfg.freeze_vision:
        freeze_vision_tower(model)
    if not cfg.multimodal:  # a sample cut at max_length loses its answer (the end), so it would teach nothing
        fits = [r for r in records if len(processing.apply_chat_template(r["messages"], tokenize=True, return_dict=True)
                                          ["input_ids"]) <= cfg.max_length]
        if not fits:
            raise ValueError(f"every SFT sample is longer than max_length ({cfg.max_length} tokens): raise max_length")
        print(f"sft: {len(records) - len(fits)} of {len(records)} samples longer than max_length ({cfg.max_length}) "
              "left out", flush=True)
        records = fits
    args = SFTConfig(**_common(cfg, out), assistant_only_loss=True, max_length=cfg.max_length)
    columns = ("messages", "images") if cfg.multimodal else ("messages",)
    trainer = SFTTrainer(model=model, processing_class=processing, args=args, callbacks=callbacks,
                         train_dataset=to_dataset([{k: r[k] for k in columns} for r in records], cfg.max_pixels))
    try:
        trainer.train()
    except ValueError as e:
        if "image` token count" in str(e):  # the processor's words for an image cut by truncation
            raise ValueError(f"a sample with images is longer than max_length ({cfg.max_length} tokens) and an image "
                             "cannot be cut: raise max_length or lower max_pixels") from None
        raise
    return _finish(trainer, processing, out, "sft", run_dir)


def _plain(content) -> str:
    return content if isinstance(content, str) else "".join(p.get("text") or "" for p in content)


@functools.lru_cache(maxsize=8192)
def _scored(text: str, sample_id: str, kind: str, choices: tuple, reference: str, reference_text: str):
    """One completion's reward and its terms, computed once: three of TRL's four reward functions ask for it."""
    sample = RlSample(id=sample_id, persona_id="", split="train", kind=kind, session_id="", prompt=[], image_ids=[],
                      images=[], choices=[Choice(key=k, text=t) for k, t in choices], reference=reference,
                      reference_text=reference_text, evidence=[])
    return reward(text, sample)


def _text(completion) -> str:
    return completion[-1]["content"] if isinstance(completion, list) else completion


def _rewards(completions, kw: dict) -> list:
    return [_scored(_text(c), kw["sample_id"][i], kw["kind"][i], tuple((x["key"], x["text"]) for x in kw["choices"][i]),
                    kw["reference"][i], kw["reference_text"][i]) for i, c in enumerate(completions)]


def personavlm_reward(prompts, completions, **kw) -> list[float]:
    return [r.total for r in _rewards(completions, kw)]


def accuracy_term(prompts, completions, **kw) -> list[float]:
    return [r.acc for r in _rewards(completions, kw)]


def consistency_term(prompts, completions, **kw) -> list[float]:
    return [r.cons for r in _rewards(completions, kw)]


def format_term(prompts, completions, **kw) -> list[float]:
    return [f_format(_text(c)) for c in completions]


def train_grpo(run_dir: Path, out: Path, cfg: TrainConfig, init: Path | None = None, callbacks: list | None = None) -> dict:
    from trl import GRPOConfig, GRPOTrainer

    from pipeline.train.data import rl_records, to_dataset

    cfg.check_group()
    records = rl_records(run_dir, cfg.multimodal)
    model_path = prepare_model(cfg, run_dir, init, lambda: (_plain(m["content"]) for r in records for m in r["prompt"]))
    model, tok = load(model_path, cfg.multimodal)
    if cfg.multimodal and cfg.freeze_vision:
        freeze_vision_tower(model)
    args = GRPOConfig(**_common(cfg, out), num_generations=cfg.num_generations, num_iterations=cfg.num_iterations,
                      beta=cfg.beta, temperature=cfg.temperature, repetition_penalty=cfg.repetition_penalty,
                      max_completion_length=cfg.max_completion_length, use_vllm=cfg.use_vllm, vllm_mode=cfg.vllm_mode,
                      reward_weights=[1.0, 0.0, 0.0, 0.0], log_completions=False)
    trainer = GRPOTrainer(model=model, processing_class=tok, args=args, train_dataset=to_dataset(records, cfg.max_pixels),
                          callbacks=callbacks, reward_funcs=[personavlm_reward, accuracy_term, consistency_term, format_term])
    trainer.train()
    return _finish(trainer, tok, out, "grpo", run_dir)


def _finish(trainer, tok, out: Path, stage: Stage, run_dir: Path) -> dict:
    final = out / "final"
    trainer.save_model(str(final))  # every process: under ZeRO-3 the weights are gathered from all of them
    logs = [x for x in trainer.state.log_history if "step" in x]
    if trainer.is_world_process_zero():
        tok.save_pretrained(final)
        write_jsonl(out / "metrics.jsonl", logs)
        _plot(logs, out / "metrics.png", stage)
        if (run_dir / "report").is_dir():  # the run's report shows the curves (see train.cli.refresh_report)
            shutil.copyfile(out / "metrics.png", run_dir / "report" / f"train_{stage}.png")
    return {"stage": stage, "final": str(final), "steps": trainer.state.global_step, "log": logs}


def _plot(logs: list[dict], path: Path, stage: Stage) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = ["loss"] if stage == "sft" else ["reward", "rewards/accuracy_term/mean", "rewards/consistency_term/mean",
                                            "rewards/format_term/mean"]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for k in keys:
        pts = [(x["step"], x[k]) for x in logs if k in x]
        if pts:
            ax.plot(*zip(*pts), label=k.replace("rewards/", "").replace("/mean", ""))
    ax.set_xlabel("step")
    ax.set_title(f"{stage.upper()} training")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
