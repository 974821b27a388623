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

import argparse
import re
import shutil
import sys
import uuid
from collections import Counter
from pathlib import Path

import numpy as np

from pipeline.atomic import write_json, write_jsonl
from pipeline.config import RunConfig
from pipeline.labels.queries import find_queries
from pipeline.labels.rl import LETTERS, answer_and_pool
from pipeline.parts import read_part
from pipeline.personas.lexicon import load_lexicon
from pipeline.personavlm import protocol as P
from pipeline.personavlm.agent import Call, Replay
from pipeline.personavlm.bench import ExportError, export_benchmark
from pipeline.records import Event, Image, MemoryOp, Persona, PersonalityObs, Session
from pipeline.rng import rng_for

# the closing round the release's SFT loader leaves unsupervised (it masks the last round of every sample)
CLOSING_ROUND = ({"from": "human", "value": "Thanks."}, {"from": "gpt", "value": "You're welcome."})
RL_INSTRUCTION = "\nAnswer with the letter of one option: (a), (b), (c) or (d)."
RELEASE_BEHAVIOURS = (
    "eval.py: Persona-MME.json and samples/<N>/<k>/user_data.json, data_path equality, at most 50 folders per <N>, "
    "sessions as lists of exchanges, photos looked up by base name beside user_data.json, one photo per message, "
    "every history before its questions, alignment on a multiple-choice item, the letter before the first ')'",
    "qwen-vl-finetune data_qwen.py: no 'image' key on text-only samples, one file per <image> marker, the last "
    "round unsupervised (a closing round follows every sample)",
    "agent parsers: <retrieve> fields on separate lines with plain keywords; personality, semantic, topic, core and "
    "procedural answers in their line formats",
    "ms-swift GRPO plugin: user START prompt + gold letter rows, the query between 'User Input:' and '# Core "
    "Instructions', the format regex, reward 1.5 for an ideal completion; USER_PATH_DICT from prompt to store",
)
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
_NUMBER = re.compile(r"\b\d+\b")
_ID = re.compile(r"\b(?:train|bench)-\d{5}\b|\b[a-z]+/[\w./-]+|\be\d{4}\b")


def load_persona(run_dir: Path, pid: str):
    """A training persona's records from its part."""
    rows = lambda table: read_part(run_dir, pid, table).to_pylist()  # noqa: E731
    persona = Persona(**rows("personas")[0])
    images = {r["id"]: Image(**{k: v for k, v in r.items() if k != "image"}, png=r["image"]["bytes"]) for r in rows("images")}
    return (persona, [Session(**r) for r in rows("sessions")], [MemoryOp(**r) for r in rows("memory_ops")],
            [PersonalityObs(**r) for r in rows("personality")], {r["id"]: Event(**r) for r in rows("events")}, images)


def training_calls(persona, sessions, ops, track, events, images, templates) -> tuple[list[Call], Replay]:
    facts = {f.id: f for e in events.values() for f in e.facts}
    queries = [q for q in find_queries(persona, sessions, ops, events, facts) if q.supported]
    replay = Replay(persona, sessions, ops, track, events, images, templates)
    return replay.run(queries), replay


MIX = {"reasoning": 0.436, "personality": 0.103, "memory": 0.461}  # PersonaVLM's SFT mix


def mix(calls: list[Call], rng: np.random.Generator) -> list[Call]:
    """Every reasoning call, and personality and memory calls drawn to PersonaVLM's mix around them (the agent
    makes two calls per message, most of them 'nothing new': all would drown the rest). Memory draws from the
    session-end rewrites, every semantic decision to keep, and as many decisions not to."""
    by_task: dict[str, list[Call]] = {}
    for c in calls:
        by_task.setdefault(c.task, []).append(c)
    reasoning = by_task.get("reasoning", [])
    keep = [c for c in by_task.get("semantic", []) if '"decision": true' in c.rounds[0][1]]
    skip = [c for c in by_task.get("semantic", []) if '"decision": true' not in c.rounds[0][1]]
    memory = [c for t in ("episodic", "procedural", "core") for c in by_task.get(t, [])] + keep
    memory += [skip[int(i)] for i in sorted(rng.choice(len(skip), min(len(keep), len(skip)), replace=False))]
    total = len(reasoning) / MIX["reasoning"]

    def draw(items: list[Call], share: float) -> list[Call]:
        n = min(len(items), round(total * share))
        return [items[int(i)] for i in sorted(rng.choice(len(items), n, replace=False))]

    chosen = set(map(id, reasoning + draw(by_task.get("personality", []), MIX["personality"]) + draw(memory, MIX["memory"])))
    return [c for c in calls if id(c) in chosen]


def sft_sample(call: Call, sample_id: str, image_path) -> dict:
    conversations = []
    for prompt, target in call.rounds:
        conversations += [{"from": "human", "value": prompt}, {"from": "gpt", "value": target}]
    sample = {"id": sample_id, "conversations": conversations + [dict(m) for m in CLOSING_ROUND]}
    if call.images:
        sample["image"] = [image_path(i) for i in call.images]
    return sample


def rl_row(call: Call, events: list[Event], lex, rng: np.random.Generator, image_path) -> tuple[dict | None, str]:
    """A multiple-choice GRPO row from a reasoning call that needs a retrieval, or why there is none."""
    q = call.meta["query"]
    correct, pool = answer_and_pool(q, events, lex, rng)
    pool = [p for p in pool if p.lower() != correct.lower()]
    if len(pool) < 3:
        return None, "rl_too_few_options"
    start = call.meta["start"]
    if correct.lower() in start.lower():
        return None, "rl_answer_in_prompt"
    options = pool[:3]
    pos = int(rng.integers(4))
    options.insert(pos, correct)
    text = q.turn.text + "\nOptions:\n" + "\n".join(f"{k}. {o}" for k, o in zip(LETTERS, options)) + RL_INSTRUCTION
    prompt = start.replace(P.query(q.turn.time, q.turn.text, len(q.turn.image_ids)),
                           P.query(q.turn.time, text, len(q.turn.image_ids)))
    row = {"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": LETTERS[pos]}],
           "choices": dict(zip(LETTERS, options)), "solution": LETTERS[pos]}
    if call.meta["start_images"]:
        row["images"] = [image_path(i) for i in call.meta["start_images"]]
    return row, "rl_rows"


def unsupported(call: Call) -> list[str]:
    """Ids, clock times and numbers in a target that its input does not show (the protocol's own numbers excepted:
    personality scores, round numbers the input numbers, a search window's bounds)."""
    seen = "\n".join(p for p, _ in call.rounds)
    out = []
    for _, target in call.rounds:
        if call.task == "personality":
            continue
        target = re.sub(r'"(start_time|end_time)": .*', "", target)
        if call.task == "episodic":
            out += [f"round {k}" for k in re.findall(r"\d+", " ".join(re.findall(r'"source_dialog_indices": \[(.*)\]', target)))
                    if f"Round {k} of dialogues" not in seen]
            target = re.sub(r'"source_dialog_indices": .*', "", target)
        out += [t for t in _ID.findall(target) if t not in seen]
        out += [t for t in _TIME.findall(target) if t not in seen]
        out += [n for n in _NUMBER.findall(_TIME.sub("", target)) if not re.search(rf"\b{n}\b", seen)]
    return out


def photo_missing(call: Call) -> bool:
    """A sample about a photo that does not carry it."""
    q = call.meta.get("query")
    return bool(q and q.fact.kind == "visual" and f"{q.event.id}/image" not in call.images)


def matchable(row: dict) -> bool:
    """Solvable by string matching: the correct option is the only option written in the prompt."""
    prompt = row["messages"][0]["content"].lower()
    shown_as_option = prompt.split("\\noptions:\\n")[0]
    present = [k for k, o in row["choices"].items() if o.lower() in shown_as_option]
    return present == [row["solution"]]


def export_training(run_dir: Path, out: Path, templates: dict[str, str], seed: int = 0) -> dict:
    pids = sorted(p.name for p in (run_dir / "parts").glob("train-*") if p.is_dir())
    lex = load_lexicon(RunConfig().lexicon_dir)
    sft_dir, rl_dir = out / "data" / "training" / "sft", out / "data" / "training" / "rl"
    (sft_dir / "imgs").mkdir(parents=True, exist_ok=True)
    (rl_dir / "imgs").mkdir(parents=True, exist_ok=True)
    sft, rl, user_paths = [], [], {}
    counts: Counter = Counter()
    audit = {"targets": 0, "targets_with_unsupported": 0, "unsupported_examples": [], "photo_samples": 0,
             "photo_samples_without_photo": 0}
    for pid in pids:
        persona, sessions, ops, track, events, images = load_persona(run_dir, pid)
        if not sessions:  # quarantined
            counts["personas_quarantined"] += 1
            continue
        calls, replay = training_calls(persona, sessions, ops, track, events, images, templates)
        rng = rng_for(seed, pid, "personavlm")
        counts["agent_calls"] += len(calls)
        calls = mix(calls, rng)
        file = lambda i: i.replace("/", "_") + ".png"  # noqa: E731
        for i in {i for c in calls for i in c.images}:
            (sft_dir / "imgs" / file(i)).write_bytes(images[i].png)
        for k, call in enumerate(calls):
            sft.append(sft_sample(call, f"{call.session_id}/{call.task}/{k:04d}", lambda i: f"imgs/{file(i)}"))
            counts[f"sft_{call.task}"] += 1
            bad = unsupported(call)
            audit["targets"] += 1
            audit["targets_with_unsupported"] += bool(bad)
            if bad and len(audit["unsupported_examples"]) < 10:
                audit["unsupported_examples"].append({"sample": sft[-1]["id"], "tokens": bad})
            if call.meta.get("query") is not None and call.meta["query"].fact.kind == "visual":
                audit["photo_samples"] += 1
                audit["photo_samples_without_photo"] += photo_missing(call)
        store = rl_dir / "samples" / pid
        (store / "media" / "imgs").mkdir(parents=True, exist_ok=True)
        store_path = lambda i: f"./data/training/rl/samples/{pid}/media/imgs/{file(i)}"  # noqa: E731
        for i in replay.image_names:
            (store / "media" / "imgs" / file(i)).write_bytes(images[i].png)
        agent_store = replay.store(store_path)
        write_json(store / "user_data.json", agent_store, ensure_ascii=False, indent=1, sort_keys=False)
        # the release's rollout scheduler also reads a numbered raw file with per-interaction personality
        raw = {**agent_store, "sessions": [{**s, "big_five_personality": [[{t: {"score": v} for t, v in obs.items()}, {}]
                                                                          for obs in per_turn]}
                                           for s, per_turn in zip(agent_store["sessions"], replay.turn_scores)]}
        write_json(store / "0.json", raw, ensure_ascii=False, indent=1, sort_keys=False)
        for call in calls:
            if call.task != "reasoning" or call.meta.get("source") == "core":
                continue
            row, why = rl_row(call, list(events.values()), lex, rng, lambda i: f"./data/training/rl/imgs/{file(i)}")
            counts[why] += 1
            if row is None:
                continue
            for i in call.meta["start_images"]:
                (rl_dir / "imgs" / file(i)).write_bytes(images[i].png)
            rl.append(row)
            user_paths[row["messages"][0]["content"]] = f"./data/training/rl/samples/{pid}"
    write_json(sft_dir / "personaforge_sft.json", sft, ensure_ascii=False, indent=1, sort_keys=False)
    write_jsonl(rl_dir / "rl.jsonl", rl)
    write_json(rl_dir / "USER_PATH_DICT.json", user_paths, ensure_ascii=False, indent=1, sort_keys=False)
    audit["rl_rows"] = len(rl)
    audit["rl_matchable"] = sum(matchable(r) for r in rl)
    return {"training_personas": len(pids), "sft_samples": len(sft), "rl_rows": len(rl), **dict(sorted(counts.items())),
            "audit": audit}


def export_personavlm(run_dir: Path, out: Path, prompts: Path | None = None) -> dict:
    if not (run_dir / "parts").is_dir():
        raise ExportError(f"{run_dir} is not a run directory (no parts/): pass outputs/<run> of a finished run")
    templates = P.load_templates(prompts)
    staging = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        report = {"run": str(run_dir), "prompts": str(prompts) if prompts else "personaforge (prompts/personavlm)",
                  "release_behaviours_tested": list(RELEASE_BEHAVIOURS)}
        has_bench = any((run_dir / "data" / "persona_mme").glob("test-*.parquet"))
        report["benchmark"] = export_benchmark(run_dir, staging) if has_bench else None
        report["training"] = export_training(run_dir, staging, templates)
        write_json(staging / "export_report.json", report, indent=1, sort_keys=False)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipeline export", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="format", required=True)
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
        print(f"benchmark: {bench['questions']} questions in {bench['cases']} cases, {bench['parts']} part(s); "
              f"{bench['alignment_pairs']} alignment pairs ({bench['alignment_unattached']} without a carrier item)")
    a = train["audit"]
    print(f"training: {train['sft_samples']} SFT samples, {train['rl_rows']} RL rows from {train['training_personas']} "
          f"personas; targets with an unsupported id/time/number: {a['targets_with_unsupported']}/{a['targets']}; "
          f"RL rows solvable by string matching: {a['rl_matchable']}/{a['rl_rows']}")
    print(f"written to {args.out or args.run_dir / 'export' / 'personavlm'}")
    return 0
