"""`python -m pipeline train sft|grpo --data outputs/<run>`: train on a run's shards as they are."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import yaml


def main(argv: list[str] | None = None) -> int:
    from pydantic import ValidationError

    from pipeline.train.data import TrainDataError
    from pipeline.train.trainers import TrainConfig, train_grpo, train_sft

    ap = argparse.ArgumentParser(prog="python -m pipeline train", description=__doc__)
    ap.add_argument("stage", choices=("sft", "grpo"))
    ap.add_argument("--data", type=Path, required=True, metavar="RUN_DIR", help="a finished run, e.g. outputs/p500-b200-m3-s0")
    ap.add_argument("--model", help="Hub id or local folder (default: the tiny embedded model, built from the run)")
    ap.add_argument("--init", type=Path, help="start from this checkpoint (e.g. RUN_DIR/train/sft/final for GRPO)")
    ap.add_argument("--out", type=Path, help="output folder (default: RUN_DIR/train/<stage>)")
    ap.add_argument("--max-steps", type=int)
    ap.add_argument("--config", type=Path, metavar="FILE", help="YAML with any TrainConfig key (flags override it)")
    args = ap.parse_args(argv)
    try:
        data = yaml.safe_load(args.config.read_text()) if args.config else {}
        data.update({k: v for k, v in (("model", args.model), ("max_steps", args.max_steps)) if v is not None})
        cfg = TrainConfig(**(data or {}))
        out = args.out or args.data / "train" / args.stage
        result = (train_sft if args.stage == "sft" else train_grpo)(args.data, out, cfg, args.init)
    except (OSError, yaml.YAMLError, ValidationError, TrainDataError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if int(os.environ.get("RANK", "0")) == 0:  # once, also under `accelerate launch` with many processes
        refresh_report(args.data)
        print(f"{args.stage}: {result['steps']} steps; model in {result['final']}; metrics in {out / 'metrics.jsonl'}")
    return 0


def refresh_report(run_dir: Path) -> None:
    """Rebuild the run's report so that it shows the training curves next to the data."""
    import json

    from pipeline.report.build import build_report

    manifest = run_dir / "manifest.json"
    if manifest.exists():
        stats = json.loads(manifest.read_text()).get("stats", {})
        build_report(run_dir, extra={k: stats[k] for k in ("dedup", "totals", "persona_mme_audit") if k in stats})
