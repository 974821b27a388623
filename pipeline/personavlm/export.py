"""`python -m pipeline export personavlm RUN [--out DIR] [--prompts PATH]`: a folder that drops into a
PersonaVLM checkout.

    DIR/data/Persona-MME/Persona-MME.json, samples/<N>/<k>/user_data.json (+ photos)   eval.py
    DIR/data/training/sft/personaforge_sft.json, imgs/                                  qwen-vl-finetune
    DIR/data/training/rl/rl.jsonl, USER_PATH_DICT.json, samples/<persona>/, imgs/       ms-swift GRPO plugin
    DIR/export_report.json                                                             counts and the audit

Paths inside are relative to the checkout's root (`./data/...`), where the release's scripts run.
The folder is built aside and swapped in whole, so a failed export leaves the previous one as it was.
"""

from __future__ import annotations

import json
import shutil
import sys
import uuid
from collections import Counter
from pathlib import Path

from pipeline.atomic import write_json, write_jsonl
from pipeline.cli import parser, subparsers
from pipeline.config import RunConfig
from pipeline.labels.build import build_labels
from pipeline.parts import read_part
from pipeline.personavlm import protocol as P
from pipeline.personavlm.bench import ExportError, export_benchmark
from pipeline.progress import Progress
from pipeline.records import Event, EventIndex, Image, Persona, RlSample, Session, SftSample
from pipeline.train.data import flatten

# the closing round the release's SFT loader leaves unsupervised (it masks the last round of every sample)
CLOSING_ROUND = ({"from": "human", "value": "Thanks."}, {"from": "gpt", "value": "You're welcome."})
RELEASE_BEHAVIOURS = (
    "eval.py: Persona-MME.json and samples/<N>/<k>/user_data.json, data_path equality, at most 50 folders per <N>, "
    "every <N> folder present, sessions as lists of exchanges, photos looked up by base name beside user_data.json, "
    "one photo per message, every history before its questions, alignment on a multiple-choice item, the letter "
    "before the first ')' or else the last character",
    "qwen-vl-finetune data_qwen.py: no 'image' key on text-only samples, one file per <image> marker, the last "
    "round unsupervised (a closing round follows every sample)",
    "agent parsers: <retrieve> fields on separate lines with plain keywords; personality, semantic, topic, core and "
    "procedural answers in their line formats",
    "ms-swift GRPO plugin: user START prompt + gold rows, the query between 'User Input:' and '# Core Instructions', "
    "the format regex, reward 1.5 for an ideal completion; USER_PATH_DICT from prompt to store",
)


def run_config(run_dir: Path) -> RunConfig:
    """The run's own config (its seed draws the samples, its --agent-prompts renders them), from the manifest;
    the defaults for a folder without one (a run assembled by hand)."""
    try:
        return RunConfig(**json.loads((run_dir / "manifest.json").read_text())["config"])
    except (OSError, KeyError, ValueError):
        return RunConfig()


def load_persona(run_dir: Path, pid: str):
    """A training persona's records from its part; None for a quarantined persona (its part ships nothing else)."""
    rows = lambda table: read_part(run_dir, pid, table).to_pylist()  # noqa: E731
    personas = rows("personas")
    if not personas:
        return None
    images = [Image(**{k: v for k, v in r.items() if k != "image"}, png=r["image"]["bytes"]) for r in rows("images")]
    return Persona(**personas[0]), [Session(**r) for r in rows("sessions")], [Event(**r) for r in rows("events")], images


def release_sft(sample: SftSample, image_path) -> dict:
    conversations = [{"from": "human" if m["role"] == "user" else "gpt", "value": m["content"]}
                     for m in flatten([m.model_dump() for m in sample.messages])]
    row = {"id": sample.id, "conversations": conversations + [dict(m) for m in CLOSING_ROUND]}
    if sample.image_ids:
        row["image"] = [image_path(i) for i in sample.image_ids]
    return row


def release_rl(sample: RlSample, image_path) -> dict:
    """The START prompt and the gold (the option key, or the short answer a judge scores); the release's rollout
    searches the user's store itself."""
    start = flatten([sample.prompt[0].model_dump()])[0]["content"]
    row = {"messages": [{"role": "user", "content": start}, {"role": "assistant", "content": sample.reference}],
           "id": sample.id, "kind": sample.kind, "choices": {c.key: c.text for c in sample.choices}}
    if start.count(P.IMAGE):
        row["images"] = [image_path(i) for i in sample.image_ids[: start.count(P.IMAGE)]]
    return row


def export_training(run_dir: Path, out: Path, cfg: RunConfig, templates: Path | None) -> dict:
    try:  # what the run's near-duplicate removal left out of its shards stays out of the export
        dedup = json.loads((run_dir / "dedup.json").read_text())
    except OSError:
        dedup = {}
    dropped = set(dedup.get("drop_personas", [])) | {i for ids in dedup.get("drop_ids", {}).values() for i in ids}
    pids = sorted(p.name for p in (run_dir / "parts").glob("train-*") if p.is_dir() and p.name not in dropped)
    sft_dir, rl_dir = out / "data" / "training" / "sft", out / "data" / "training" / "rl"
    (sft_dir / "imgs").mkdir(parents=True, exist_ok=True)
    (rl_dir / "imgs").mkdir(parents=True, exist_ok=True)
    sft, rl, user_paths = [], [], {}
    counts: Counter = Counter()
    file = lambda i: i.replace("/", "_") + ".png"  # noqa: E731
    for pid in Progress(len(pids) >= 20).track(pids, "export"):
        records = load_persona(run_dir, pid)
        if records is None:
            counts["personas_quarantined"] += 1
            continue
        persona, sessions, events, images = records
        _, _, samples, prompts, stats, agent = build_labels(persona, sessions, EventIndex.of(events), images, cfg, templates)
        counts.update({k: v for k, v in stats.items() if k.startswith(("audit_", "rl_", "agent_"))})
        by_id = {im.id: im for im in images}
        samples, prompts = [x for x in samples if x.id not in dropped], [x for x in prompts if x.id not in dropped]
        for sample in samples:
            for i in sample.image_ids:
                (sft_dir / "imgs" / file(i)).write_bytes(by_id[i].png)
            sft.append(release_sft(sample, lambda i: f"imgs/{file(i)}"))
            counts[f"sft_{sample.task}"] += 1
        store = rl_dir / "samples" / pid
        (store / "media" / "imgs").mkdir(parents=True, exist_ok=True)
        for i in agent.image_names:
            (store / "media" / "imgs" / file(i)).write_bytes(by_id[i].png)
        agent_store = agent.store(lambda i: f"./data/training/rl/samples/{pid}/media/imgs/{file(i)}")  # noqa: B023
        write_json(store / "user_data.json", agent_store, ensure_ascii=False, indent=1, sort_keys=False)
        # the release's rollout scheduler also reads a numbered raw file with each message's personality reading
        reading = lambda sid: {t: {"score": v} for t, v in agent.observed[sid].items()}  # noqa: E731
        raw = {**agent_store, "sessions": [{**st, "big_five_personality": [[reading(s.id), {}]] * len(st["interactions"])}
                                           for s, st in zip(sessions, agent_store["sessions"])]}
        write_json(store / "0.json", raw, ensure_ascii=False, indent=1, sort_keys=False)
        for sample in prompts:
            row = release_rl(sample, lambda i: f"./data/training/rl/imgs/{file(i)}")
            for i in sample.image_ids:
                (rl_dir / "imgs" / file(i)).write_bytes(by_id[i].png)
            rl.append(row)
            user_paths[row["messages"][0]["content"]] = f"./data/training/rl/samples/{pid}"
    write_json(sft_dir / "personaforge_sft.json", sft, ensure_ascii=False, indent=1, sort_keys=False)
    write_jsonl(rl_dir / "rl.jsonl", rl)
    write_json(rl_dir / "USER_PATH_DICT.json", user_paths, ensure_ascii=False, indent=1, sort_keys=False)
    return {"training_personas": len(pids), "sft_samples": len(sft), "rl_rows": len(rl), **dict(sorted(counts.items()))}


def export_personavlm(run_dir: Path, out: Path, prompts: Path | None = None) -> dict:
    if not (run_dir / "parts").is_dir():
        raise ExportError(f"{run_dir} is not a run directory (no parts/): pass outputs/<run> of a finished run")
    cfg = run_config(run_dir)
    templates = prompts or cfg.agent_prompts  # the run's own templates unless the user gives the release's
    P.load_templates(templates)  # a bad prompts file fails before anything is written
    tag = uuid.uuid4().hex[:8]
    staging, previous = out.parent / f".{out.name}.tmp-{tag}", out.parent / f".{out.name}.old-{tag}"
    try:
        report = {"run": str(run_dir), "prompts": str(templates) if templates else "personaforge (prompts/personavlm)",
                  "release_behaviours_tested": list(RELEASE_BEHAVIOURS)}
        has_bench = any((run_dir / "data" / "persona_mme").glob("test-*.parquet"))
        report["benchmark"] = export_benchmark(run_dir, staging) if has_bench else None
        report["training"] = export_training(run_dir, staging, cfg, templates)
        write_json(staging / "export_report.json", report, indent=1, sort_keys=False)
        if out.exists():
            out.rename(previous)
        try:
            staging.rename(out)
        except OSError:
            if previous.exists():
                previous.rename(out)
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(previous, ignore_errors=True)
    return report


def main(argv: list[str] | None = None) -> int:
    ap = parser("python -m pipeline export", __doc__.split("\n\n")[0])
    sub = subparsers(ap, "format", "personavlm")
    pv = sub.add_parser("personavlm", help="the benchmark, SFT and RL data in the layouts PersonaVLM's code reads")
    pv.add_argument("run_dir", type=Path, metavar="RUN", help="a finished run, e.g. outputs/p500-b200-m3-s0")
    pv.add_argument("--out", type=Path, default=None, help="default: RUN/export/personavlm")
    pv.add_argument("--prompts", type=Path, default=None,
                    help="a copy of the release's PersonaVLM/prompts.py: samples use its templates verbatim")
    args = ap.parse_args(argv)
    try:
        report = export_personavlm(args.run_dir, args.out or args.run_dir / "export" / "personavlm", args.prompts)
    except (ExportError, P.TemplateError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    bench, train = report["benchmark"], report["training"]
    if bench:
        cases = ", ".join(f"{n} at {setting}" for setting, n in sorted(bench["cases"].items(), key=lambda kv: int(kv[0][:-1])))
        print(f"benchmark: {bench['questions']} questions in {sum(bench['cases'].values())} cases ({cases}), "
              f"{bench['parts']} part(s); "
              f"{bench['alignment_pairs']} alignment pairs ({bench['alignment_unattached']} without a carrier item)")
    print(f"training: {train['sft_samples']} SFT samples, {train['rl_rows']} RL rows from {train['training_personas']} "
          f"personas; targets with an id, time or number their input lacks: {train.get('audit_targets_unsupported', 0)}"
          f"/{train.get('audit_targets', 0)}; choice prompts solvable by string matching: "
          f"{train.get('audit_rl_matchable', 0)}/{train.get('audit_rl_choice_prompts', 0)}")
    print(f"written to {args.out or args.run_dir / 'export' / 'personavlm'}")
    return 0
