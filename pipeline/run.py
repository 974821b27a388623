"""The Ray job: `python pipeline/run.py [options]` locally, or `ray job submit -- python pipeline/run.py`.

Ray only wires the stages: the driver samples personas, Ray Data maps `generate_persona` over them
(personas batched per task, each written as an atomic part), and the driver assembles the shards, the
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
from pipeline.atomic import write_json
from pipeline.config import ConfigError, RunConfig, load_config
from pipeline.personas.lexicon import LexiconError, load_lexicon
from pipeline.personas.sampler import sample_as_json
from pipeline.progress import Progress, Task
from pipeline.stages import Generated

RUN_FORMAT = 1


class RunError(RuntimeError):
    """A run that cannot proceed; the message says why and what to do."""


def build_parser() -> argparse.ArgumentParser:
    from pipeline.cli import add_model_options, parser
    from pipeline.config import REPO_ROOT

    ap = parser("pipeline/run.py", "Generate a PersonaForge dataset: personas -> simulated months -> conversations with "
                "images -> Parquet shards, a report and a manifest under <out>/<run-name>/. Rerunning resumes; a finished "
                "run is verified and left as it is.")
    job = ap.add_argument_group("flags only")
    job.add_argument("--config", type=Path, metavar="FILE", help="YAML file with any of the run options below "
                     "(same names, '_' or '-'); flags given here override it")
    job.add_argument("--plan", action="store_true", help="print the LLM requests, tokens and cost this run will take "
                     "(from the world plan alone; nothing is sent or written) and exit")
    job.add_argument("--llm-api-key", dest="llm_api_key", metavar="KEY",
                     help="API key for the endpoint (default: $OPENAI_API_KEY); never written anywhere")
    add_model_options(ap.add_argument_group("run options (also YAML keys)"), RunConfig, root=REPO_ROOT)
    return ap


def config_from_args(args: argparse.Namespace) -> RunConfig:
    overrides = {k: v for k, v in vars(args).items() if k in RunConfig.model_fields and v is not None}
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

    from pipeline.generate import agenerate_persona, fewer_collections, run_sync
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

    with fewer_collections():
        rows = run_sync(all_of_them())
    return {k: [r[k] for r in rows] for k in rows[0]}


def init_ray() -> None:
    """Attach to the cluster when there is one (RAY_ADDRESS, or inside `ray job submit`), else start Ray here.
    Ray's own logging stays off the console (set RAY_DATA_LOG_LEVEL=INFO to see Ray Data's again)."""
    os.environ.setdefault("RAY_DATA_LOG_LEVEL", "ERROR")
    import ray

    if not ray.is_initialized():
        ray.init(logging_level="ERROR", log_to_driver=False, include_dashboard=False, configure_logging=True)


def generate_parts(cfg: RunConfig, run_dir: Path, todo: list[tuple[str, str]], task: Task, base_url: str | None = None,
                   context_tokens: int | None = None, retry_rounds: dict[str, int] | None = None) -> Generated:
    """Generate the personas `todo` ((id, persona JSON) pairs) on Ray; their rows folded as they arrive."""
    import ray

    from pipeline.verbalize.backend import backend_class

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False  # one display: the job's own (pipeline/progress.py)
    ctx.print_on_execution_start = False
    workers = cfg.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    shape = backend_class(cfg).shape(cfg, len(todo), workers)
    items = [{"persona_id": pid, "persona": persona} for pid, persona in todo]
    kwargs = {"cfg_json": cfg.model_dump_json(), "run_dir": str(run_dir.resolve()), "fingerprint": cfg.fingerprint(),
              "base_url": base_url, "context_tokens": context_tokens,
              "retry_rounds": retry_rounds or {}}
    per_task = shape.personas_per_task
    blocks = max(1, -(-len(items) // per_task))
    ds = ray.data.from_items(items, override_num_blocks=blocks).map_batches(
        _generate_batch, batch_size=per_task, fn_kwargs=kwargs, num_cpus=shape.num_cpus, num_gpus=cfg.image_gpus or None,
        compute=ray.data.TaskPoolStrategy(size=min(workers, blocks)))
    del items
    generated = Generated()
    for row in ds.iter_rows():
        generated.add(row)
        task.advance()
    return generated


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


def run(cfg: RunConfig) -> dict:
    """Generate what is missing, then run or reuse the driver stages; returns the manifest."""
    from pipeline.parts import clean_partial, is_complete, remove_part
    from pipeline.stages import STAGES, RunState, run_stages

    progress = Progress(cfg.progress)
    t = time.perf_counter()
    if cfg.mme_tokenizer:  # fail before any work, not in a worker
        from pipeline.mme.context import TokenCounter

        TokenCounter(cfg.mme_tokenizer, cfg.image_size)
    bio_stats: dict = {}
    sampled = sample_as_json(cfg, load_lexicon(cfg.lexicon_dir), bio_stats)
    run_dir = prepare_run_dir(cfg)
    clean_partial(run_dir)
    fingerprint = cfg.fingerprint()
    done_before = {pid for pid, _ in sampled if is_complete(run_dir, pid, fingerprint)}
    again = _retry_quarantined(run_dir, done_before) if cfg.llm_retry_quarantined else []
    todo = [(pid, persona) for pid, persona in sampled if pid not in done_before or pid in again]
    ids = [pid for pid, _ in sampled]
    del sampled
    wall = {"sample": time.perf_counter() - t}
    progress.say(f"{run_dir}: {len(ids)} personas ({cfg.personas} train + {cfg.bench_personas} bench); "
                 f"{len(ids) - len(todo)} already done, generating {len(todo)}"
                 + (f" ({len(again)} quarantined, tried again)" if again else ""))

    generated = Generated()
    if todo:
        for pid, _ in todo:
            remove_part(run_dir, pid)
        t = _enter_stage(run_dir, "generate")
        generated = _generate(cfg, run_dir, todo, progress)
        wall["generate"] = time.perf_counter() - t
    del todo
    if pending := generated.pending:
        progress.say(f"WARNING: {len(pending)} persona(s) not generated because the endpoint failed "
                     f"({next(iter(pending.values()))}); the rest is written. Rerun the same command to generate them.")
    state = RunState(cfg, run_dir, [pid for pid in ids if pid not in pending], bio_stats, generated, wall)
    run_stages(state, progress, lambda name: _enter_stage(run_dir, name))
    finished = len(state.reused) == len(STAGES)
    if not finished:
        _enter_stage(run_dir, "done")
    _say_outcome(progress, state, finished)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    manifest["timings"]["reused_stages"] = state.reused  # this invocation's, not the one that wrote the file
    return manifest


def _generate(cfg: RunConfig, run_dir: Path, todo: list[tuple[str, str]], progress: Progress) -> Generated:
    with progress.stage("generate", len(todo)) as task:
        task.note("checking the text backend")
        context_tokens = probe_backend(cfg) if not cfg.llm_serve_model else None
        task.note("starting Ray")
        init_ray()
        task.note("")
        if not cfg.llm_serve_model:
            return generate_parts(cfg, run_dir, todo, task, context_tokens=context_tokens,
                                  retry_rounds=_retry_rounds(run_dir))
        from pipeline.serve import served_llm

        task.note(f"launching {cfg.llm_serve_model} with Ray Serve LLM, waiting for the model to load")
        with served_llm(cfg) as base_url:
            task.note("")
            return generate_parts(cfg, run_dir, todo, task, base_url, probe_backend(cfg, base_url), _retry_rounds(run_dir))


def _say_outcome(progress: Progress, state, finished: bool) -> None:
    run_dir, seconds = state.run_dir, time.monotonic() - progress.t0
    verified = f"every stage verified ({len(state.outputs['shards']['files'])} shards checksummed)"
    if finished and state.generated.count:
        progress.say(f"the {state.generated.count} regenerated persona(s) came out as recorded: {verified} and kept")
    elif finished:
        progress.say(f"already finished with this configuration: {verified} in {seconds:.1f}s, nothing written")
    else:
        mme = state.outputs["mme_audit"]["audit"]
        progress.say("dedup: " + ", ".join(f"{k} {v['removed']}/{v['seen']} removed"
                                           for k, v in state.outputs["dedup"]["counts"].items()))
        progress.say(f"persona_mme: {mme['questions']} questions ({mme['certified_share']:.0%} certified by an evidence "
                     f"flip, {mme['needs_image_share_multiple_choice']:.0%} of multiple-choice need a photo, "
                     f"{mme['gold_check']['wrong_or_not_unique']} wrong or non-unique golds left out); "
                     f"{mme['balanced_away']} dropped to balance answers"
                     + (f"; NOT SHIPPED (bias checks failed): {', '.join(mme['failing_tasks'])}"
                        if mme["failing_tasks"] else ""))
        stats = state.outputs["report"]["stats"]
        progress.say(f"done in {seconds:.0f}s: {stats['sessions']} sessions, {stats['turns']} turns, "
                     f"{stats.get('images', 0)} images" + (f"; {len(state.generated.pending)} persona(s) wait for a rerun"
                                                           if state.generated.pending else ""))
    progress.say(f"dataset: {run_dir / 'data'}  report: {run_dir / 'report' / 'index.html'}")


def make_manifest(cfg: RunConfig, shards: list[dict], stats: dict, generated: Generated, wall: dict) -> dict:
    counts: dict[str, dict[str, int]] = {}
    for s in shards:
        counts.setdefault(s["table"], {}).setdefault(s["split"], 0)
        counts[s["table"]][s["split"]] += s["rows"]
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
                    "generated_this_run": generated.count,
                    "persona_cpu_s": {k: round(v, 3) for k, v in generated.cpu_s.items()},
                    "nodes": sorted(generated.nodes)},
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from pipeline.publish import PublishError, check_repo_id, publish

    try:
        cfg = config_from_args(args)
        load_lexicon(cfg.lexicon_dir)
        if args.llm_api_key:  # to the environment Ray workers inherit; never into the config or the manifest
            os.environ["OPENAI_API_KEY"] = args.llm_api_key
        token = os.environ.get("HF_TOKEN")
        if cfg.publish:  # fail before hours of work, not after
            check_repo_id(cfg.publish)
            if not token:
                raise PublishError("--publish needs a Hugging Face token in HF_TOKEN")
        if cfg.train:  # fail before hours of work, not after
            try:
                import trl  # noqa: F401
            except ImportError:
                raise RunError('--train needs the train extra: pip install -e ".[train]"') from None
            if cfg.train_config and not cfg.train_config.is_file():
                raise RunError(f"--train-config {cfg.train_config}: no such file (a YAML of training options)")
        if args.plan:
            from pipeline.plan import plan_run, render_plan

            print(render_plan(plan_run(cfg, progress=cfg.progress), cfg))
            return 0
        manifest = run(cfg)
        if cfg.train:
            from pipeline.stages import STAGES
            from pipeline.train.cli import main as train_main

            final = cfg.run_dir / "train" / "grpo" / "final"
            options = ["--config", str(cfg.train_config)] if cfg.train_config else []
            if final.exists() and len(manifest["timings"]["reused_stages"]) == len(STAGES):
                print(f"train: already trained on this data ({final}); delete {cfg.run_dir / 'train'} to train again",
                      file=sys.stderr)
            elif train_main(["sft", "--data", str(cfg.run_dir), *options]) or train_main(
                    ["grpo", "--data", str(cfg.run_dir), "--init", str(cfg.run_dir / "train" / "sft" / "final"), *options]):
                return 2
        if cfg.publish:
            publish(cfg.run_dir, cfg.publish, token)
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
