"""The Ray job: `python pipeline/run.py [options]` locally, or `ray job submit -- python pipeline/run.py`.

Ray only wires the stages: the driver samples personas, Ray Data maps `generate_persona` over them
(one persona per task, each written as an atomic part), and the driver assembles the shards, the
report and the manifest. A rerun of the same command resumes: finished personas are skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline import __version__
from pipeline.atomic import write_json, write_text
from pipeline.config import ConfigError, RunConfig, load_config
from pipeline.personas.lexicon import LexiconError, load_lexicon
from pipeline.personas.sampler import sample_personas

RUN_FORMAT = 1


class RunError(RuntimeError):
    """A run that cannot proceed; the message says why and what to do."""


def build_parser() -> argparse.ArgumentParser:
    fields = RunConfig.model_fields
    ap = argparse.ArgumentParser(
        prog="pipeline/run.py",
        description="Generate a PersonaForge dataset: personas -> simulated months -> conversations with images -> "
                    "Parquet shards, a report and a manifest under <out>/<run-name>/. Rerunning resumes.",
    )
    ap.add_argument("--config", type=Path, metavar="FILE", help="YAML file with any of the keys below (underscored)")

    def opt(flag: str, key: str, type_=str, metavar: str | None = None, **kw) -> None:
        default = fields[key].default
        ap.add_argument(flag, dest=key, type=type_, metavar=metavar, default=None,
                        help=f"{fields[key].description} (default: {default if default is not None else 'auto'})", **kw)

    opt("--out", "out", Path, "DIR")
    opt("--run-name", "run_name", str, "NAME")
    opt("--personas", "personas", int, "N")
    opt("--bench-personas", "bench_personas", int, "N")
    opt("--months", "months", int, "M")
    opt("--seed", "seed", int, "S")
    opt("--text-backend", "text_backend", str, "NAME")
    opt("--llm-base-url", "llm_base_url", str, "URL")
    opt("--llm-model", "llm_model", str, "NAME")
    opt("--llm-temperature", "llm_temperature", float, "T")
    opt("--llm-concurrency", "llm_concurrency", int, "N")
    opt("--llm-repairs", "llm_repairs", int, "N")
    opt("--llm-timeout-s", "llm_timeout_s", float, "S")
    opt("--llm-max-tokens", "llm_max_tokens", int, "N")
    opt("--llm-retry-budget-s", "llm_retry_budget_s", float, "S")
    opt("--llm-max-fallback-share", "llm_max_fallback_share", float, "F")
    opt("--llm-price-prompt", "llm_price_prompt", float, "USD")
    opt("--llm-price-completion", "llm_price_completion", float, "USD")
    opt("--llm-cache-dir", "llm_cache_dir", Path, "DIR")
    opt("--llm-serve-model", "llm_serve_model", str, "MODEL")
    opt("--llm-serve-accelerator", "llm_serve_accelerator", str, "TYPE")
    opt("--llm-serve-replicas", "llm_serve_replicas", int, "N")
    opt("--llm-serve-port", "llm_serve_port", int, "PORT")
    ap.add_argument("--offline-replay", dest="offline_replay", action="store_const", const=True, default=None,
                    help="answer every LLM request from the cache and fail on a miss (no endpoint needed)")
    ap.add_argument("--llm-api-key", dest="llm_api_key", metavar="KEY",
                    help="API key for the endpoint (default: $OPENAI_API_KEY); never written anywhere")
    opt("--image-backend", "image_backend", str, "NAME")
    opt("--image-rate", "image_rate", float, "F")
    opt("--image-model", "image_model", str, "MODEL")
    opt("--image-steps", "image_steps", int, "N")
    opt("--image-guidance", "image_guidance", float, "G")
    opt("--image-gpus", "image_gpus", float, "G")
    opt("--turns-per-session", "turns_per_session", int, "N", nargs=2)
    opt("--start-date", "start_date", str, "YYYY-MM-DD")
    opt("--rl-per-persona", "rl_per_persona", int, "N")
    opt("--dedup-threshold", "dedup_threshold", float, "J")
    opt("--mme-per-setting", "mme_per_setting", int, "N")
    opt("--mme-alignment-pairs", "mme_alignment_pairs", int, "N")
    opt("--mme-tokenizer", "mme_tokenizer", str, "DIR")
    opt("--image-size", "image_size", int, "PX")
    opt("--shard-size-mb", "shard_size_mb", float, "MB")
    opt("--workers", "workers", int, "N")
    opt("--lexicon-dir", "lexicon_dir", Path, "DIR")
    opt("--agent-prompts", "agent_prompts", Path, "PROMPTS_PY")
    opt("--card-license", "card_license", str, "ID")
    ap.add_argument("--publish", metavar="REPO_ID", help="publish the finished run to this Hugging Face dataset repo "
                    "(token from $HF_TOKEN); see `python -m pipeline publish --help` for more options")
    ap.add_argument("--train", action="store_true", help="train SFT then GRPO on the finished run with the tiny embedded "
                    "model (needs the train extra); see `python -m pipeline train --help` for real models")
    ap.add_argument("--llm-retry-quarantined", action="store_true", help="generate the personas an earlier run "
                    "quarantined again, with fresh samples (new seeds, so the cached rejected replies are not reused)")
    ap.add_argument("--plan", action="store_true", help="print the LLM requests, tokens and cost this run will take "
                    "(from the world plan alone; nothing is sent or written) and exit")
    ap.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return ap


def config_from_args(args: argparse.Namespace) -> RunConfig:
    flags = ("config", "no_progress", "publish", "llm_api_key", "train", "plan", "llm_retry_quarantined")
    overrides = {k: v for k, v in vars(args).items() if k not in flags and v is not None}
    if "turns_per_session" in overrides:
        overrides["turns_per_session"] = tuple(overrides["turns_per_session"])
    return load_config(args.config, overrides)


# ------------------------------------------------------------------ run dir


def prepare_run_dir(cfg: RunConfig) -> Path:
    """Create or reopen the run folder; refuse one made with a different config or by another version."""
    run_dir = cfg.run_dir
    marker = run_dir / "run.json"
    if marker.exists():
        try:
            prev = json.loads(marker.read_text())
        except ValueError:
            raise RunError(f"{marker} is corrupted; delete {run_dir} to start this run over") from None
        if prev.get("format") != RUN_FORMAT:
            raise RunError(f"{run_dir} was written by another PersonaForge version (run format {prev.get('format')}, "
                           f"this is {RUN_FORMAT}); use another --run-name or delete it")
        if prev.get("fingerprint") != cfg.fingerprint():
            old, new = prev.get("config", {}), cfg.content_dict()
            diff = ", ".join(f"{k}: {old.get(k)!r} -> {new[k]!r}" for k in new if old.get(k) != new[k])
            raise RunError(f"{run_dir} holds a run with a different configuration ({diff}); "
                           "use another --run-name, or delete the folder to start over")
        return run_dir
    if run_dir.exists() and any(run_dir.iterdir()):
        raise RunError(f"{run_dir} exists and is not a PersonaForge run; choose another --run-name or --out")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_json(marker, {"format": RUN_FORMAT, "fingerprint": cfg.fingerprint(), "config": cfg.content_dict()})
    except OSError as e:
        raise RunError(f"cannot write the run folder {run_dir}: {e.strerror or e}; check --out and its permissions") from None
    return run_dir


# ------------------------------------------------------------------ stages on Ray


def _write_summary(part, run_dir: str, fingerprint: str, timings: dict[str, float]) -> dict:
    """Write one persona's part; the small row the driver collects about it."""
    import ray

    from pipeline.generate import STAGES
    from pipeline.parts import write_part

    t0 = time.perf_counter()
    rows = write_part(Path(run_dir), part, fingerprint)
    timings["write"] = time.perf_counter() - t0
    return {"persona_id": part.persona.id, "node_id": ray.get_runtime_context().get_node_id(), "pending": "",
            "turns": sum(len(s.turns) for s in part.sessions), "sessions": rows["sessions"], "images": rows["images"],
            **{f"s_{k}": timings.get(k, 0.0) for k in (*STAGES, "write")}}


def _pending(persona_id: str, reason: str) -> dict:
    """The row of a persona that wrote nothing because the endpoint failed: a rerun generates it."""
    import ray

    from pipeline.generate import STAGES

    return {"persona_id": persona_id, "node_id": ray.get_runtime_context().get_node_id(), "pending": reason,
            "turns": 0, "sessions": 0, "images": 0, **{f"s_{k}": 0.0 for k in (*STAGES, "write")}}


def _generate_batch(batch: dict, cfg_json: str, run_dir: str, fingerprint: str, base_url: str | None,
                    context_tokens: int | None, retry_rounds: dict[str, int]) -> dict:
    """Ray task body, the same for every text backend: a batch of personas in flight on one event loop."""
    import asyncio

    from pipeline.generate import agenerate_persona
    from pipeline.llm import EndpointUnavailable, OfflineCacheMiss
    from pipeline.records import Persona
    from pipeline.verbalize.backend import make_backend

    cfg = RunConfig.model_validate_json(cfg_json)

    async def one(backend, persona_json: str) -> dict:
        persona = Persona.model_validate_json(persona_json)
        timings: dict[str, float] = {}
        try:
            part = await agenerate_persona(persona, cfg, backend, timings)
        except (EndpointUnavailable, OfflineCacheMiss) as e:
            return _pending(persona.id, str(e))
        return _write_summary(part, run_dir, fingerprint, timings)

    async def all_of_them() -> list[dict]:
        backend = make_backend(cfg, Path(run_dir), base_url, context_tokens, retry_rounds)
        try:
            return await asyncio.gather(*(one(backend, j) for j in batch["persona"]))
        finally:
            await backend.aclose()

    rows = asyncio.run(all_of_them())
    return {k: [r[k] for r in rows] for k in rows[0]}


def init_ray() -> None:
    """Attach to the cluster when there is one (RAY_ADDRESS, or inside `ray job submit`), else start Ray here."""
    import ray

    if not ray.is_initialized():
        ray.init(logging_level="ERROR", log_to_driver=False, include_dashboard=False, configure_logging=True)


def generate_parts(cfg: RunConfig, run_dir: Path, todo: list, progress: bool, base_url: str | None = None,
                   context_tokens: int | None = None, retry_rounds: dict[str, int] | None = None) -> list[dict]:
    import ray

    from pipeline.verbalize.backend import backend_class

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = progress
    ctx.print_on_execution_start = False
    workers = cfg.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    shape = backend_class(cfg).shape(cfg, len(todo), workers)
    items = [{"persona_id": p.id, "persona": p.model_dump_json()} for p in todo]
    kwargs = {"cfg_json": cfg.model_dump_json(), "run_dir": str(run_dir.resolve()), "fingerprint": cfg.fingerprint(),
              "base_url": base_url, "context_tokens": context_tokens,
              "retry_rounds": retry_rounds or {}}
    per_task = shape.personas_per_task
    blocks = max(1, -(-len(items) // per_task))
    ds = ray.data.from_items(items, override_num_blocks=blocks).map_batches(
        _generate_batch, batch_size=per_task, fn_kwargs=kwargs, num_cpus=shape.num_cpus, num_gpus=cfg.image_gpus or None,
        compute=ray.data.TaskPoolStrategy(size=min(workers, blocks)))
    return list(ds.iter_rows())


def probe_backend(cfg: RunConfig, base_url: str | None = None) -> int | None:
    """Before any work: the text backend can run (an endpoint answers, takes the key, serves the model)."""
    from pipeline.llm import EndpointUnavailable
    from pipeline.verbalize.backend import backend_class

    try:
        return backend_class(cfg).probe(cfg, base_url)
    except EndpointUnavailable as e:
        raise RunError(f"the text backend cannot run: {e}") from None


# ------------------------------------------------------------------ the job


def _retry_rounds(run_dir: Path) -> dict[str, int]:
    """How often each persona was tried again after a quarantine (its requests' seeds depend on it)."""
    path = run_dir / "llm_retries.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _retry_quarantined(run_dir: Path, done: set[str]) -> list[str]:
    """Mark the quarantined personas for another try with fresh samples: their retry round goes up, so
    every request of theirs has a new seed and the cache (which holds the rejected replies) is not reused."""
    from pipeline.parts import part_stats

    rounds = _retry_rounds(run_dir)
    again = sorted(pid for pid in done if part_stats(run_dir, pid).get("quarantined"))
    write_json(run_dir / "llm_retries.json", {**rounds, **{pid: rounds.get(pid, 0) + 1 for pid in again}})
    return again


def run(cfg: RunConfig, progress: bool = True, retry_quarantined: bool = False) -> dict:
    from pipeline.card import build_card
    from pipeline.dedup import run_dedup
    from pipeline.mme.bias import audit_run
    from pipeline.parts import clean_partial, is_complete, remove_part, sha256_file
    from pipeline.personavlm.protocol import boilerplate, load_templates
    from pipeline.report.build import build_report
    from pipeline.shards import write_shards

    wall: dict[str, float] = {}
    t = time.perf_counter()
    lex = load_lexicon(cfg.lexicon_dir)
    bio_stats: dict = {}
    if cfg.mme_tokenizer:  # fail before any work, not in a worker
        from pipeline.mme.context import TokenCounter

        TokenCounter(cfg.mme_tokenizer, cfg.image_size)
    personas = sample_personas(cfg, lex, bio_stats)
    run_dir = prepare_run_dir(cfg)
    clean_partial(run_dir)
    fingerprint = cfg.fingerprint()
    done_before = {p.id for p in personas if is_complete(run_dir, p.id, fingerprint)}
    again = _retry_quarantined(run_dir, done_before) if retry_quarantined else []
    todo = [p for p in personas if p.id not in done_before or p.id in again]
    for p in todo:
        remove_part(run_dir, p.id)
    wall["sample"] = time.perf_counter() - t
    _say(progress, f"{run_dir}: {len(personas)} personas ({cfg.personas} train + {cfg.bench_personas} bench); "
                   f"{len(personas) - len(todo)} already done, generating {len(todo)}"
                   + (f" ({len(again)} quarantined, tried again)" if again else ""))

    t = _enter_stage(run_dir, "generate")
    context_tokens = probe_backend(cfg) if todo and not cfg.llm_serve_model else None
    init_ray()
    if todo and cfg.llm_serve_model:
        from pipeline.serve import served_llm

        _say(progress, f"launching {cfg.llm_serve_model} on the cluster with Ray Serve LLM (waits for the model to load)")
        with served_llm(cfg) as base_url:
            summaries = generate_parts(cfg, run_dir, todo, progress, base_url, probe_backend(cfg, base_url),
                                       _retry_rounds(run_dir))
    else:
        summaries = generate_parts(cfg, run_dir, todo, progress, context_tokens=context_tokens,
                                   retry_rounds=_retry_rounds(run_dir)) if todo else []
    wall["generate"] = time.perf_counter() - t
    pending = {r["persona_id"]: r["pending"] for r in summaries if r["pending"]}
    if pending:
        _say(progress, f"WARNING: {len(pending)} persona(s) not generated because the endpoint failed "
                       f"({next(iter(pending.values()))}); the rest is written. Rerun the same command to generate them.")
    done = [p.id for p in personas if p.id not in pending]

    t = _enter_stage(run_dir, "dedup")
    dedup = run_dedup(run_dir, done, cfg.dedup_threshold, boilerplate=boilerplate(load_templates(cfg.agent_prompts)))
    dedup.counts["bios"] = bio_stats
    kept = [pid for pid in done if pid not in set(dedup.drop_personas)]
    wall["dedup"] = time.perf_counter() - t
    _say(progress, "dedup: " + ", ".join(f"{k} {v.get('removed', v.get('regenerated', 0))}/{v['seen']} removed"
                                         for k, v in dedup.counts.items()))

    t = _enter_stage(run_dir, "mme_audit")
    mme, mme_drops = audit_run(run_dir, [pid for pid in kept if pid.startswith("bench-")], cfg.seed)
    wall["mme_audit"] = time.perf_counter() - t
    _say(progress, f"persona_mme: {mme['questions']} questions ({mme['certified_share']:.0%} certified by an evidence flip, "
                   f"{mme['needs_image_share_multiple_choice']:.0%} of multiple-choice need a photo); "
                   f"{mme['balanced_away']} dropped to balance answers"
                   + (f"; NOT SHIPPED (bias checks failed): {', '.join(mme['failing_tasks'])}" if mme["failing_tasks"] else ""))

    t = _enter_stage(run_dir, "shards")
    shards = write_shards(run_dir, kept, cfg.shard_size_mb, progress, {**dedup.drop_ids, "persona_mme": mme_drops})
    wall["shards"] = time.perf_counter() - t

    t = _enter_stage(run_dir, "report")
    stats = build_report(run_dir, extra={
        "dedup": dedup.counts, "totals": part_totals(run_dir, kept), "persona_mme_audit": mme})
    wall["report"] = time.perf_counter() - t

    manifest = make_manifest(cfg, shards, stats, summaries, wall)
    manifest["pending"] = {"personas": sorted(pending), "reasons": sorted(set(pending.values()))[:5]}
    card = run_dir / "README.md"
    write_text(card, build_card(run_dir, manifest, cfg.card_license))
    manifest["card_sha256"] = sha256_file(card)
    write_json(run_dir / "manifest.json", manifest)
    _enter_stage(run_dir, "done")
    _say(progress, f"done: {sum(s['rows'] for s in shards if s['table'] == 'sessions')} sessions, "
                   f"{stats['turns']} turns, {stats.get('images', 0)} images in {sum(wall.values()):.0f}s -> {run_dir}"
                   + (f"; {len(pending)} persona(s) wait for a rerun" if pending else ""))
    return manifest


def part_totals(run_dir: Path, persona_ids: list[str]) -> dict:
    """What only the parts know (samples dropped as unsupported, LLM usage, quarantines), summed over
    personas; errors (`*_mae`) are averaged over the personas that have them."""
    from pipeline.parts import part_stats

    total: dict[str, float] = {}
    n: dict[str, int] = {}
    for pid in persona_ids:
        for k, v in part_stats(run_dir, pid).items():
            total[k] = total.get(k, 0) + v
            n[k] = n.get(k, 0) + 1
    return {k: round(v / n[k], 4) if k.endswith("_mae") else round(v, 3) for k, v in sorted(total.items())}


def make_manifest(cfg: RunConfig, shards: list[dict], stats: dict, summaries: list[dict], wall: dict) -> dict:
    counts: dict[str, dict[str, int]] = {}
    for s in shards:
        counts.setdefault(s["table"], {}).setdefault(s["split"], 0)
        counts[s["table"]][s["split"]] += s["rows"]
    stage_cpu = {k[2:]: round(sum(r[k] for r in summaries), 3) for k in (summaries[0] if summaries else {}) if k.startswith("s_")}
    versions = {name: _version(name) for name in ("ray", "pyarrow", "pydantic", "numpy", "pillow", "datasets")}
    totals = stats.get("totals", {})
    turns = sum(v for k, v in totals.items() if k.startswith("text_"))
    text = {"turns_by_source": {k[5:].replace("_", "-"): v for k, v in totals.items() if k.startswith("text_")},
            "share_by_source": {k[5:].replace("_", "-"): round(v / turns, 4) for k, v in totals.items()
                                if k.startswith("text_") and turns}}
    if cfg.text_backend != "scripted":
        text["llm"] = {"planned": {k: totals.get(f"llm_planned_{k}", 0) for k in ("requests", "prompt_tokens", "completion_tokens")},
                       "actual": {k: totals.get(f"llm_{k}", 0) for k in ("requests", "prompt_tokens", "completion_tokens")},
                       "sessions": {k: totals.get(f"sessions_{k}", 0) for k in ("first_try", "repaired", "fallback")},
                       "cache_hits": totals.get("llm_cache_hits", 0), "retries": totals.get("llm_retries", 0)}
    return {
        "format": RUN_FORMAT, "personaforge": __version__, "run_name": cfg.name, "text": text,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": json.loads(cfg.model_dump_json()), "fingerprint": cfg.fingerprint(), "seed": cfg.seed,
        "versions": {"python": platform.python_version(), **versions},
        "counts": counts, "stats": stats, "files": shards,
        "timings": {"wall_s": {k: round(v, 3) for k, v in wall.items()},
                    "generated_this_run": len(summaries), "persona_cpu_s": stage_cpu,
                    "nodes": sorted({r["node_id"] for r in summaries})},
    }


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _enter_stage(run_dir: Path, name: str) -> float:
    """Record the stage the run enters (`<run>/status.json`, for a person or a script watching a long run); returns its start time."""
    write_json(run_dir / "status.json", {"stage": name, "since": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                         "pid": os.getpid()})
    return time.perf_counter()


def _say(enabled: bool, msg: str) -> None:
    if enabled:
        print(f"[personaforge] {msg}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from pipeline.publish import PublishError, check_repo_id, publish

    try:
        cfg = config_from_args(args)
        load_lexicon(cfg.lexicon_dir)
        if args.llm_api_key:  # to the environment Ray workers inherit; never into the config or the manifest
            os.environ["OPENAI_API_KEY"] = args.llm_api_key
        token = os.environ.get("HF_TOKEN")
        if args.publish:  # fail before hours of work, not after
            check_repo_id(args.publish)
            if not token:
                raise PublishError("--publish needs a Hugging Face token in HF_TOKEN")
        if args.train:  # fail before hours of work, not after
            try:
                import trl  # noqa: F401
            except ImportError:
                raise RunError('--train needs the train extra: pip install -e ".[train]"') from None
        if args.plan:
            from pipeline.plan import plan_run, render_plan

            print(render_plan(plan_run(cfg, progress=not args.no_progress), cfg))
            return 0
        run(cfg, progress=not args.no_progress, retry_quarantined=args.llm_retry_quarantined)
        if args.train:
            from pipeline.train.cli import main as train_main

            if train_main(["sft", "--data", str(cfg.run_dir)]) or train_main(
                    ["grpo", "--data", str(cfg.run_dir), "--init", str(cfg.run_dir / "train" / "sft" / "final")]):
                return 2
        if args.publish:
            publish(cfg.run_dir, args.publish, token)
    except (ConfigError, LexiconError, RunError, PublishError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a full disk, an unwritable output (also when raised in a Ray worker)
        where = f"{e.filename}: " if e.filename else ""
        print(f"error: {where}{e.strerror or e}. Free space or fix the output's permissions (or choose another --out), "
              "then rerun the same command: what was finished is kept and the run resumes.", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
