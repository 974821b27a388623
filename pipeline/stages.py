"""The driver's stages after generation, as one list run by one loop.

Each stage is a plain function of the run's state that returns a small JSON output (what later
stages need) and the files it wrote. The run records each finished stage in `<run>/stages.json`
under a key of everything its inputs depend on (the config's content, the parts, the version), with
its files' checksums. A rerun reuses a stage whose key matches and whose files still verify, and
redoes the rest; a finished run reruns without writing a byte. Delete `stages.json` to redo them all.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import __version__
from pipeline.atomic import write_json, write_text
from pipeline.config import RunConfig
from pipeline.fanout import RayMap
from pipeline.parts import SUCCESS, part_dir, part_stats, sha256_file
from pipeline.progress import Progress, Task

RECORD = "stages.json"


@dataclass
class Generated:
    """What this invocation's generation reported, folded row by row as the rows stream in: the driver
    keeps no row per persona."""

    count: int = 0
    cpu_s: dict[str, float] = field(default_factory=dict)  # summed over personas, per generation stage
    nodes: set[str] = field(default_factory=set)
    pending: dict[str, str] = field(default_factory=dict)  # persona -> why it waits for a rerun

    def add(self, row: dict) -> None:
        self.count += 1
        self.nodes.add(row["node_id"])
        if row["pending"]:
            self.pending[row["persona_id"]] = row["pending"]
        for k, v in row.items():
            if k.startswith("s_"):
                self.cpu_s[k[2:]] = self.cpu_s.get(k[2:], 0.0) + v


@dataclass
class RunState:
    """What the stages read: the run, the personas whose parts are complete, and earlier stages' outputs."""

    cfg: RunConfig
    run_dir: Path
    done: list[str]
    bio_stats: dict
    generated: Generated
    wall: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, dict] = field(default_factory=dict)
    reused: list[str] = field(default_factory=list)  # stages whose recorded output still held

    @property
    def kept(self) -> list[str]:
        dropped = set(self.outputs["dedup"]["drop_personas"])
        return [pid for pid in self.done if pid not in dropped]


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[RunState, Task], tuple[dict, list[str]]]  # -> (output, files written, relative to the run)
    unit: str
    total: Callable[[RunState], int | None] = lambda state: None


def _ray_map() -> tuple[RayMap, int]:
    """Ray, started or joined, and a fan-out over its tasks; with the cluster's CPU count."""
    import ray

    from pipeline.run import init_ray

    init_ray()
    return RayMap(), int(ray.cluster_resources().get("CPU", 1))


def dedup(state: RunState, task: Task) -> tuple[dict, list[str]]:
    from pipeline.dedup import run_dedup
    from pipeline.personavlm.protocol import boilerplate, load_templates

    run, cpus = _ray_map()
    result = run_dedup(state.run_dir, state.done, state.cfg.dedup_threshold, run, cpus, task=task,
                       boilerplate=boilerplate(load_templates(state.cfg.agent_prompts)))
    return {**result.to_json(), "nodes": sorted(run.nodes)}, ["dedup.json"]


def mme_audit(state: RunState, task: Task) -> tuple[dict, list[str]]:
    from pipeline.mme.bias import audit_run

    run, _ = _ray_map()  # one task: the leak checks are learnt across all benchmark personas at once
    bench = [pid for pid in state.kept if pid.startswith("bench-")]
    [(audit, drops)] = list(run(audit_run, [(state.run_dir, bench, state.cfg.seed)]))
    for name in audit["failing_tasks"]:
        print(f"warning: Persona-MME task '{name}' is not shipped: " + "; ".join(audit["bias"][name]["failures"]),
              file=sys.stderr)
    return {"audit": audit, "drop_ids": drops, "nodes": sorted(run.nodes)}, ["mme_build.json"]


def shards(state: RunState, task: Task) -> tuple[dict, list[str]]:
    from pipeline.shards import write_shards

    run, _ = _ray_map()
    drop = {**state.outputs["dedup"]["drop_ids"], "persona_mme": state.outputs["mme_audit"]["drop_ids"]}
    files = write_shards(state.run_dir, state.kept, state.cfg.shard_size_mb, drop, task, run)
    return {"files": files, "nodes": sorted(run.nodes)}, [f["path"] for f in files]


def report(state: RunState, task: Task) -> tuple[dict, list[str]]:
    from pipeline.report.build import build_report

    run, _ = _ray_map()
    counts = {**state.outputs["dedup"]["counts"], "bios": state.bio_stats}
    stats = build_report(state.run_dir, extra={"dedup": counts, "totals": part_totals(state.run_dir, state.kept),
                                               "persona_mme_audit": state.outputs["mme_audit"]["audit"]}, task=task,
                         run=run)
    return {"stats": stats, "nodes": sorted(run.nodes)}, sorted(p.relative_to(state.run_dir).as_posix()
                                    for p in (state.run_dir / "report").rglob("*") if p.is_file())


def card(state: RunState, task: Task) -> tuple[dict, list[str]]:
    from pipeline.card import build_card
    from pipeline.run import make_manifest

    manifest = make_manifest(state.cfg, state.outputs["shards"]["files"], state.outputs["report"]["stats"],
                             state.generated, state.wall)
    manifest["timings"]["reused_stages"] = list(state.reused)
    manifest["timings"]["stage_nodes"] = {name: out["nodes"] for name, out in state.outputs.items() if "nodes" in out}
    pending = state.generated.pending
    manifest["pending"] = {"personas": sorted(pending), "reasons": sorted(set(pending.values()))[:5]}
    path = state.run_dir / "README.md"
    write_text(path, build_card(state.run_dir, manifest, state.cfg.card_license))
    manifest["card_sha256"] = sha256_file(path)
    write_json(state.run_dir / "manifest.json", manifest)
    return {}, ["README.md", "manifest.json"]


STAGES = (
    Stage("dedup", dedup, "persona", lambda s: len(s.done)),
    Stage("mme_audit", mme_audit, "step"),
    Stage("shards", shards, "file"),
    Stage("report", report, "plot"),
    Stage("card", card, "file"),
)


def part_totals(run_dir: Path, persona_ids: list[str]) -> dict:
    """What only the parts know (samples dropped as unsupported, LLM usage, quarantines), summed over
    personas; errors (`*_mae`) are averaged over the personas that have them."""
    total: dict[str, float] = {}
    n: dict[str, int] = {}
    for pid in persona_ids:
        for k, v in part_stats(run_dir, pid).items():
            total[k] = total.get(k, 0) + v
            n[k] = n.get(k, 0) + 1
    return {k: round(v / n[k], 4) if k.endswith("_mae") else round(v, 3) for k, v in sorted(total.items())}


def stages_key(cfg: RunConfig, run_dir: Path, done: list[str]) -> str:
    """Everything the driver stages' outputs depend on: the content config, the knobs of the shard layout
    and the card, the code version, and each complete part's marker (which holds its files' checksums)."""
    h = hashlib.sha256(json.dumps([__version__, cfg.fingerprint(), cfg.shard_size_mb, cfg.card_license]).encode())
    for pid in sorted(done):
        h.update(pid.encode() + b"\0" + (part_dir(run_dir, pid) / SUCCESS).read_bytes() + b"\0")
    return h.hexdigest()[:16]


def rerecord_report(run_dir: Path) -> None:
    """After something else redrew the report (training adds its curves), record its files again, so a
    rerun does not take the new plots for a damaged report."""
    path = run_dir / RECORD
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    if "report" in record.get("stages", {}):
        record["stages"]["report"]["files"] = {p.relative_to(run_dir).as_posix(): sha256_file(p)
                                               for p in sorted((run_dir / "report").rglob("*")) if p.is_file()}
        write_json(path, record, indent=None)


def _verified(run_dir: Path, entry: dict) -> bool:
    for rel, digest in entry["files"].items():
        path = run_dir / rel
        if not path.is_file() or sha256_file(path) != digest:
            return False
    return True


def run_stages(state: RunState, progress: Progress, enter: Callable[[str], None],
               stages: tuple[Stage, ...] = STAGES) -> None:
    """Run, or reuse, every stage in order (`state.reused` names the reused ones)."""
    path = state.run_dir / RECORD
    key = stages_key(state.cfg, state.run_dir, state.done)
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        record = {}
    recorded = record.get("stages", {}) if record.get("key") == key else {}
    redo = False
    for stage in stages:
        entry = recorded.get(stage.name)
        if not redo and entry is not None and _verified(state.run_dir, entry):
            state.outputs[stage.name], state.wall[stage.name] = entry["output"], entry["wall_s"]
            state.reused.append(stage.name)
            continue
        redo = True  # a stage redone changes what every later stage reads
        enter(stage.name)
        t = time.perf_counter()
        with progress.stage(stage.name, stage.total(state), stage.unit) as task:
            output, files = stage.run(state, task)
        state.outputs[stage.name], state.wall[stage.name] = output, time.perf_counter() - t
        recorded = {**{k: v for k, v in recorded.items() if k in state.outputs}, stage.name: {
            "output": output, "wall_s": round(state.wall[stage.name], 3),
            "files": {rel: sha256_file(state.run_dir / rel) for rel in files}}}
        write_json(path, {"key": key, "stages": recorded}, indent=None)
