"""`python -m pipeline train sft|grpo --data outputs/<run>`: train on a run's shards as they are."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import yaml

from pipeline.cli import parser, subparsers

TRAIN_EXTRA = 'training needs the train extra (torch, transformers, TRL): pip install -e ".[train]"'
STAGE_HELP = {"sft": "supervised fine-tuning on the run's sft table (the agent's memory and answer turns)",
              "grpo": "GRPO on the run's rl table, rewarded by the label rewards (start it from the SFT checkpoint)"}


def build_parser():
    ap = parser("python -m pipeline train", __doc__)
    sub = subparsers(ap, "stage", "sft,grpo")
    for stage, text in STAGE_HELP.items():
        p = sub.add_parser(stage, help=text)
        p.add_argument("--data", type=Path, required=True, metavar="RUN_DIR", help="a finished run, e.g. outputs/p500-b200-m3-s0")
        p.add_argument("--model", help="Hub id or local folder (default: the tiny embedded model, built from the run)")
        p.add_argument("--init", type=Path, metavar="CHECKPOINT",
                       help="start from this checkpoint" + (" (e.g. RUN_DIR/train/sft/final)" if stage == "grpo" else ""))
        p.add_argument("--out", type=Path, metavar="DIR", help=f"output folder (default: RUN_DIR/train/{stage})")
        p.add_argument("--max-steps", type=int, metavar="N", help="stop after N optimizer steps (default: the config's)")
        p.add_argument("--config", type=Path, metavar="FILE", help="YAML with any TrainConfig key (flags override it)")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        import trl  # noqa: F401
    except ImportError:
        print(f"error: {TRAIN_EXTRA}", file=sys.stderr)
        return 2
    from pydantic import ValidationError

    from pipeline.train.data import TrainDataError
    from pipeline.train.trainers import TrainConfig, train_grpo, train_sft

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
    from pipeline.stages import rerecord_report

    manifest = run_dir / "manifest.json"
    if manifest.exists():
        stats = json.loads(manifest.read_text()).get("stats", {})
        build_report(run_dir, extra={k: stats[k] for k in ("dedup", "totals", "persona_mme_audit") if k in stats})
        rerecord_report(run_dir)
