"""Export a run's Persona-MME to the layout of PersonaVLM's benchmark release.

DIR/<setting>/<persona>/user_data.json holds `profile` (what the user told of themselves in their first
session, in their words), `imgs` (paths relative to that folder) and
`sessions` [{time, user, assistant}] — one entry per exchange, `<img>` in the user text taking the
next entry of `imgs` — covering every session any of the persona's questions in that setting sees.
DIR/<setting>/questions.json lists the questions: type (aspect), question_type (task), time, query,
choices {"(a)": …}, answer, alignment {chosen, rejected} for Personality Alignment, the user_data path,
and `history_start`, the first session of the question's history (its end is the question's time).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pyarrow.dataset as pads

from pipeline.atomic import write_json
from pipeline.mme.evaluate import load_benchmark


def told_profile(first_session: dict, events: list[dict]) -> dict[str, str]:
    """The profile as the user gave it in their first session (the words they used: a first name, a city),
    nothing the history does not say."""
    facts = {f["id"]: f for e in events for f in e["facts"] if f["kind"] == "profile"}
    said = [facts[fid] for t in first_session["turns"] if t["role"] == "user" for fid in t["fact_ids"] if fid in facts]
    return {f["key"].split("/", 1)[1]: f["terms"][0] for f in said}


def export_release(run_dir: Path, out: Path) -> dict[str, int]:
    questions, sessions, images = load_benchmark(run_dir)
    events = pads.dataset(sorted(str(p) for p in (run_dir / "data" / "events").glob("answer_key-*.parquet")),
                          format="parquet").to_table(columns=["persona_id", "facts"]).to_pylist()
    by_persona: dict[str, list[dict]] = defaultdict(list)
    for e in events:
        by_persona[e["persona_id"]].append(e)
    profiles = {s["persona_id"]: told_profile(s, by_persona[s["persona_id"]]) for s in sessions.values() if s["index"] == 0}
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for q in questions:
        groups[(q["setting"], q["persona_id"])].append(q)
    listed: dict[str, list[dict]] = defaultdict(list)
    for (setting, pid), qs in sorted(groups.items()):
        folder = out / setting / pid
        ids = sorted({sid for q in qs for sid in q["history_sessions"]}, key=lambda sid: sessions[sid]["start_time"])
        imgs, entries = [], []
        for sid in ids:
            turns = sessions[sid]["turns"]
            for user, assistant in zip(turns[::2], turns[1::2]):
                for image_id in user["image_ids"]:
                    name = f"imgs/{image_id.replace('/', '_')}.png"
                    (folder / "imgs").mkdir(parents=True, exist_ok=True)
                    (folder / name).write_bytes(images[image_id])
                    imgs.append(name)
                marks = " <img>" * len(user["image_ids"])
                entries.append({"time": user["time"], "user": user["text"] + marks, "assistant": assistant["text"],
                                "session": sid})
        folder.mkdir(parents=True, exist_ok=True)
        write_json(folder / "user_data.json", {"profile": profiles[pid], "imgs": imgs, "sessions": entries},
                   ensure_ascii=False, indent=1, sort_keys=False)
        for q in qs:
            item = {"id": q["id"], "user_data": f"{pid}/user_data.json", "type": q["aspect"], "question_type": q["task"],
                    "time": q["time"], "history_start": sessions[q["history_sessions"][0]]["start_time"],
                    "query": q["query"], "choices": {c["key"]: c["text"] for c in q["choices"]}, "answer": q["answer"]}
            if q["alignment"]:
                item["alignment"] = q["alignment"]
            listed[setting].append(item)
    for setting, items in listed.items():
        write_json(out / setting / "questions.json", items, ensure_ascii=False, indent=1, sort_keys=False)
    return {setting: len(items) for setting, items in listed.items()}
