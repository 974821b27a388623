"""`python -m pipeline mme eval`: score a model on a run's Persona-MME (`export personavlm` writes the release layout)."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from pipeline.cli import parser, subparsers


def _eval(args: argparse.Namespace) -> int:
    from pipeline.llm import LLM
    from pipeline.mme.evaluate import evaluate, format_table, load_benchmark, summarize, write_results

    base_url = args.base_url or os.environ.get("OPENAI_BASE_URL")
    if not base_url:
        print("error: --base-url (or OPENAI_BASE_URL) is required, e.g. http://localhost:8000/v1", file=sys.stderr)
        return 2
    questions, sessions, images = load_benchmark(args.data)
    questions = [q for q in questions if args.setting in ("all", q["setting"])]
    questions = sorted(questions, key=lambda q: q["id"])[: args.limit]
    if not questions:
        print(f"error: {args.data} has no Persona-MME questions for setting {args.setting}", file=sys.stderr)
        return 2
    slug = re.sub(r"[^\w.-]+", "_", args.model)
    out = args.out or args.data / "mme_eval" / f"{slug}-{args.setting}-{args.mode}"
    llm = LLM(model=args.model, base_url=base_url, api_key=args.api_key or os.environ.get("OPENAI_API_KEY"),
              cache_dir=args.cache_dir or out / "cache", concurrency=args.concurrency, temperature=args.temperature,
              max_tokens=args.max_tokens, timeout_s=args.timeout_s)
    results = evaluate(questions, sessions, images, llm, args.mode, args.top_k, not args.no_images, not args.no_progress)
    summary = summarize(results)
    meta = {"model": args.model, "setting": args.setting, "mode": args.mode, "top_k": args.top_k,
            "images": not args.no_images, "requests": llm.stats.requests, "cache_hits": llm.stats.cache_hits}
    write_results(out, results, summary, meta)
    print(format_table(summary, f"Persona-MME  model={args.model}  setting={args.setting}  mode={args.mode}"))
    print(f"\nper-question results: {out / 'results.jsonl'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from pipeline.mme.evaluate import BenchmarkError

    ap = parser("python -m pipeline mme", __doc__)
    sub = subparsers(ap, "command", "eval")
    ev = sub.add_parser("eval", help="score an OpenAI-compatible model and print the paper-style table")
    ev.add_argument("--data", type=Path, required=True, metavar="RUN_DIR", help="a finished run, e.g. outputs/p500-b200-m3-s0")
    ev.add_argument("--base-url", help="OpenAI-compatible endpoint (default: $OPENAI_BASE_URL)")
    ev.add_argument("--model", required=True, help="model name sent to the endpoint")
    ev.add_argument("--api-key", help="API key (default: $OPENAI_API_KEY); never logged or stored")
    ev.add_argument("--setting", choices=("32k", "128k", "all"), default="all")
    ev.add_argument("--mode", choices=("full", "rag"), default="full", help="full history, or BM25-retrieved sessions")
    ev.add_argument("--top-k", type=int, default=3, help="sessions retrieved per question in rag mode")
    ev.add_argument("--no-images", action="store_true", help="leave the photos out (text-only models)")
    ev.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    ev.add_argument("--temperature", type=float, default=0.0)
    ev.add_argument("--max-tokens", type=int, default=512)
    ev.add_argument("--timeout-s", type=float, default=300.0)
    ev.add_argument("--limit", type=int, default=None, help="only the first N questions (by id)")
    ev.add_argument("--out", type=Path, default=None, help="results folder (default: RUN_DIR/mme_eval/<model>-<setting>-<mode>)")
    ev.add_argument("--cache-dir", type=Path, default=None, help="request cache (default: <out>/cache)")
    ev.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    try:
        return _eval(args)
    except BenchmarkError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
