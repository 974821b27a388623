"""Benchmark: SFT and GRPO steps/s and tokens/s of the tiny embedded model on this machine, and the
share of a step spent outside the model (fetching and collating the next batch, logging).

Builds a small run in-process (no Ray), then trains. Usage:

    python bench/train_tiny.py [--personas 12] [--sft-steps 40] [--grpo-steps 8]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from transformers import TrainerCallback  # noqa: E402

from pipeline.config import load_config  # noqa: E402
from pipeline.generate import generate_persona  # noqa: E402
from pipeline.parts import write_part  # noqa: E402
from pipeline.personas.lexicon import load_lexicon  # noqa: E402
from pipeline.personas.sampler import sample_personas  # noqa: E402
from pipeline.shards import write_shards  # noqa: E402
from pipeline.train import trainers  # noqa: E402


class StepClock(TrainerCallback):
    """Time inside steps (on_step_begin -> on_step_end) against the time between them."""

    def __init__(self):
        self.inside = self.between = 0.0
        self._begin = self._end = None

    def on_step_begin(self, args, state, control, **kw):
        now = time.perf_counter()
        if self._end is not None:
            self.between += now - self._end
        self._begin = now

    def on_step_end(self, args, state, control, **kw):
        self._end = time.perf_counter()
        self.inside += self._end - self._begin


def _timed(fn, *args, **kw):
    clock = StepClock()
    t0 = time.perf_counter()
    result = fn(*args, callbacks=[clock], **kw)
    return result, clock, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--personas", type=int, default=12)
    ap.add_argument("--sft-steps", type=int, default=40)
    ap.add_argument("--grpo-steps", type=int, default=8)
    args = ap.parse_args()
    cfg = load_config(overrides={"personas": args.personas, "bench_personas": 0, "months": 2})
    run = Path(tempfile.mkdtemp(prefix="pf-train-")) / "run"
    parts = [generate_persona(p, cfg) for p in sample_personas(cfg, load_lexicon(cfg.lexicon_dir))]
    for part in parts:
        write_part(run, part, "fp")
    write_shards(run, [p.persona.id for p in parts], 64)

    sft_cfg = trainers.TrainConfig(max_steps=args.sft_steps, max_length=512)
    result, clock, wall = _timed(trainers.train_sft, run, run / "train" / "sft", sft_cfg)
    tokens = max(x.get("num_tokens", 0) for x in result["log"])
    print(f"SFT  tiny Qwen2 (2 layers, hidden 64), batch {sft_cfg.batch_size}, max length {sft_cfg.max_length}: "
          f"{args.sft_steps / clock.inside:.2f} steps/s, {tokens / clock.inside:,.0f} tokens/s inside steps; "
          f"outside steps {clock.between / (clock.inside + clock.between):.1%} of step time; wall {wall:.1f} s")

    grpo_cfg = trainers.TrainConfig(max_steps=args.grpo_steps, learning_rate=1e-4)
    result, clock, wall = _timed(trainers.train_grpo, run, run / "train" / "grpo", grpo_cfg,
                                      init=run / "train" / "sft" / "final")
    tokens = max(x.get("num_tokens", 0) for x in result["log"])
    print(f"GRPO group {grpo_cfg.num_generations}, completions up to {grpo_cfg.max_completion_length} tokens: "
          f"{args.grpo_steps / clock.inside:.2f} steps/s, {tokens / clock.inside:,.0f} tokens/s inside steps; "
          f"outside steps {clock.between / (clock.inside + clock.between):.1%} of step time; wall {wall:.1f} s")


if __name__ == "__main__":
    main()
