"""Persona-MME in the layout the release's `eval.py` reads, one case per history.

A case is one history that ends at its questions' time, and the questions asked there: eval.py
replays every exchange of a `user_data.json` into the agent and then asks that folder's questions, so
a history must hold nothing after them. Personality Alignment rides on a multiple-choice item of its
case as `alignment {chosen, rejected}`, as eval.py expects. eval.py reads at most 50 case folders per
`samples/<N>` and two `<N>` per setting (50 and 100 for 32k, 200 and 500 for 128k): 100 cases per
setting. More cases go to further complete trees (`part-2/data/Persona-MME`, …), each run on its own.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pyarrow.dataset as pads

from pipeline.atomic import write_json
from pipeline.mme.evaluate import load_benchmark
from pipeline.mme.history import told_profile

ASPECT_NAMES = {"Memory": "Memory Recall", "Intent": "Intent Inference", "Preference": "Preference Recognition",
                "Behavior": "Behavioral Awareness", "Relationship": "Relationship Understanding",
                "Growth": "Personalized Growth Modeling"}
FOLDERS = {"32k": ("50", "100"), "128k": ("200", "500")}
PER_FOLDER = 50  # eval.py: sorted(os.listdir(dir)[:50])
ROOT = "./data/Persona-MME"


class ExportError(ValueError):
    """The run cannot be written in the release's layout."""


def cases(questions: list[dict]) -> tuple[dict[str, list[dict]], dict[str, int]]:
    """Per setting, the cases in a stable order: {"history", "time", "persona_id", "items"}; items are the
    multiple-choice questions, alignment attached. Also counts of what could not be carried."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for q in questions:
        groups[(q["setting"], q["persona_id"], q["time"], tuple(q["history_sessions"]))].append(q)
    out: dict[str, list[dict]] = defaultdict(list)
    counts = {"alignment_pairs": 0, "alignment_unattached": 0}
    for (setting, pid, time, history), qs in sorted(groups.items()):
        items = [{k: v for k, v in q.items() if k != "alignment"} for q in sorted(qs, key=lambda q: q["id"])
                 if q["task"] != "Personality Alignment"]
        pairs = list(dict.fromkeys((q["alignment"]["chosen"], q["alignment"]["rejected"]) for q in qs
                                   if q["task"] == "Personality Alignment"))
        for item, (chosen, rejected) in zip(items, pairs):
            item["alignment"] = {"chosen": chosen, "rejected": rejected}
        counts["alignment_pairs"] += min(len(items), len(pairs))
        counts["alignment_unattached"] += max(0, len(pairs) - len(items))
        if items:
            out[setting].append({"history": list(history), "time": time, "persona_id": pid, "items": items})
    return out, counts


def export_benchmark(run_dir: Path, out: Path) -> dict:
    """Write the benchmark under `out` (part 1) and `out/part-<k>` (further parts); returns the counts."""
    questions, sessions, images = load_benchmark(run_dir)
    events = pads.dataset(sorted(str(p) for p in (run_dir / "data" / "events").glob("answer_key-*.parquet")),
                          format="parquet").to_table(columns=["persona_id", "facts"]).to_pylist()
    by_persona: dict[str, list[dict]] = defaultdict(list)
    for e in events:
        by_persona[e["persona_id"]].append(e)
    profiles = {s["persona_id"]: told_profile(s, by_persona[s["persona_id"]]) for s in sessions.values() if s["index"] == 0}
    per_setting, counts = cases(questions)
    if not any(it.get("alignment") for cs in per_setting.values() for c in cs for it in c["items"]):
        raise ExportError("no Personality Alignment item could ride on a multiple-choice item, and the release's "
                          "eval.py fails without one: build the benchmark with --mme-alignment-pairs >= 1")
    capacity = {setting: PER_FOLDER * len(names) for setting, names in FOLDERS.items()}
    parts = max(-(-len(cs) // capacity[setting]) for setting, cs in per_setting.items())
    listed: list[list[dict]] = [[] for _ in range(parts)]
    for setting, cs in per_setting.items():
        for k, case in enumerate(cs):
            part, slot = divmod(k, capacity[setting])
            folder_name, index = FOLDERS[setting][slot // PER_FOLDER], slot % PER_FOLDER
            tree = out if part == 0 else out / f"part-{part + 1}"
            folder = tree / "data" / "Persona-MME" / "samples" / folder_name / str(index)
            folder.mkdir(parents=True, exist_ok=True)
            imgs, history = [], []
            for sid in case["history"]:
                turns = sessions[sid]["turns"]
                exchanges = []
                for user, assistant in zip(turns[::2], turns[1::2]):
                    if len(user["image_ids"]) > 1:
                        raise ExportError(f"{sid} turn {user['index']} shows {len(user['image_ids'])} photos; "
                                          "eval.py reads one photo per user message")
                    for image_id in user["image_ids"]:
                        name = f"{image_id.replace('/', '_')}.png"
                        (folder / name).write_bytes(images[image_id])
                        imgs.append(name)
                    marks = "<img>" * len(user["image_ids"])
                    exchanges.append({"time": user["time"], "user": marks + user["text"], "assistant": assistant["text"]})
                history.append(exchanges)
            write_json(folder / "user_data.json", {"profile": profiles[case["persona_id"]], "imgs": imgs, "sessions": history},
                       ensure_ascii=False, indent=1, sort_keys=False)
            data_path = f"{ROOT}/samples/{folder_name}/{index}/user_data.json"
            for q in case["items"]:
                item = {"data_path": data_path, "type": ASPECT_NAMES[q["aspect"]], "question_type": q["task"],
                        "time": q["time"], "query": q["query"], "choices": {c["key"]: c["text"] for c in q["choices"]},
                        "answer": q["answer"], "id": q["id"]}
                if "alignment" in q:
                    item["alignment"] = q["alignment"]
                listed[part].append(item)
    for part, items in enumerate(listed):
        tree = out if part == 0 else out / f"part-{part + 1}"
        for name in (n for names in FOLDERS.values() for n in names):  # eval.py lists each, and fails on a missing one
            (tree / "data" / "Persona-MME" / "samples" / name).mkdir(parents=True, exist_ok=True)
        write_json(tree / "data" / "Persona-MME" / "Persona-MME.json", items, ensure_ascii=False, indent=1, sort_keys=False)
    return {"cases": {s: len(cs) for s, cs in per_setting.items()}, "parts": parts,
            "questions": sum(len(i) for i in listed), **counts}
