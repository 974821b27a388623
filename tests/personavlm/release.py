"""The rules PersonaVLM's released code applies to what it reads, written from the reference's facts
(../shared/reference/personavlm-release.md), strict: where the release would silently fall back (all 3s,
an empty memory, a whole-text topic), these raise, so a test fails instead."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime

TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
ASPECTS = {"Memory Recall", "Intent Inference", "Preference Recognition", "Behavioral Awareness",
           "Relationship Understanding", "Personalized Growth Modeling"}
EVAL_DIRS = {"32k": ("./data/Persona-MME/samples/50", "./data/Persona-MME/samples/100"),
             "128k": ("./data/Persona-MME/samples/200", "./data/Persona-MME/samples/500")}


# ---------------------------------------------------------------- a release-shaped prompts.py

def write_prompts(path, placeholders: dict[str, tuple[str, ...]]) -> None:
    """A prompts.py laid out as the release's (module constants, triple-quoted and .strip()ped), each template
    short: its name, its placeholders, and for START the two sections the RL plugin cuts the query between."""
    body = []
    for name, needed in placeholders.items():
        text = f"RELEASE {name} " + " ".join(needed)
        if name.endswith("START"):
            text += "\n\nUser Input:\n{UserQuery}\n\n# Core Instructions\nthink, then answer or retrieve"
        body.append(f"{name} = '''\n{text}\n'''.strip()\n")
    path.write_text("\n".join(body))


# ---------------------------------------------------------------- eval.py

def check_result(answer: str, response: str) -> bool:
    """The letter before the first ')', else the reply's last character."""
    return bool(response) and answer[1].lower() == response.split(")")[0].lower()[-1]


def eval_users(root: str, setting: str) -> list[str]:
    """The case folders eval.py visits (at most 50 per <N> folder, in its order)."""
    out = []
    for d in EVAL_DIRS[setting]:
        full = os.path.join(root, d)
        out += [os.path.join(d, u) for u in sorted(os.listdir(full)[:50])]
    return out


def replay(root: str, user_path: str) -> tuple[dict, list[dict]]:
    """What eval.py feeds the agent from one folder: each exchange with its photo's path (which must exist)."""
    data = json.load(open(os.path.join(root, user_path, "user_data.json")))
    img, fed = 0, []
    for session in data["sessions"]:
        for ex in session:
            path = ""
            if "<img>" in ex["user"]:
                path = os.path.join(root, user_path, os.path.basename(data["imgs"][img]))
                img += 1
                if not os.path.exists(path):
                    raise ValueError("Image path does not exist")
            fed.append({"time": ex["time"], "query": ex["user"].replace("<img>", ""), "imgs": path,
                        "assistant": ex["assistant"]})
    return data, fed


# ---------------------------------------------------------------- qwen-vl-finetune data_qwen.py

def supervised(sample: dict) -> list[str]:
    """The gpt values the loader trains on: it masks the last round of every sample."""
    conv = sample["conversations"]
    if conv[0]["from"] != "human":
        conv = conv[1:]
    labels = [1] * (len(conv) // 2)
    labels[-1] = 0
    out = []
    for m in conv:
        if m["from"] == "gpt":
            if labels.pop(0):
                out.append(m["value"])
    return out


def images_of(sample: dict, data_path: str) -> list[str]:
    """The files the loader opens; it fails on an empty list, on a missing file, and when the markers and files
    do not pair up."""
    if "image" not in sample:
        assert not any("<image>" in m["value"] for m in sample["conversations"]), "a marker without an image"
        return []
    files = sample["image"] if isinstance(sample["image"], list) else [sample["image"]]
    assert files, "an empty 'image' list fails the loader (IndexError)"
    markers = sum(m["value"].count("<image>") for m in sample["conversations"] if m["from"] == "human")
    assert markers == len(files), (markers, len(files))
    paths = [os.path.join(data_path, f) for f in files]
    assert all(os.path.exists(p) for p in paths)
    return paths


# ---------------------------------------------------------------- agent parsers (utils.py)

def valid_time(s: str | None) -> str | None:
    try:
        return s if s and datetime.strptime(s, "%Y-%m-%d %H:%M") else None
    except ValueError:
        return None


def parse_reasoning(output: str) -> dict:
    think = output.split("<think>")[1].split("</think>")[0].strip()
    if "<retrieve>" in output and "</retrieve>" in output:
        keywords = output.split('"keywords":')[1].split('"start_time":')[0].strip().strip('"')
        start = output.split('"start_time":')[1].split('"end_time"')[0].strip().strip('"')
        end = output.split('"end_time":')[1].split("</retrieve>")[0].strip().strip('"')
        return {"think": think, "action": "retrieve", "keywords": keywords, "start_time": valid_time(start),
                "end_time": valid_time(end), "raw_times": (start, end)}
    return {"think": think, "action": "answer", "response": output.split("<answer>")[1].split("</answer>")[0].strip()}


def parse_personality(text: str) -> dict[str, int]:
    out = {}
    for k, t in enumerate(TRAITS):
        nxt = f'"{TRAITS[k + 1]}"' if k + 1 < len(TRAITS) else None
        chunk = text.split(f'"{t}":')[1]
        out[t] = int((chunk.split(nxt)[0] if nxt else chunk).strip().strip('"'))
    assert all(v in (1, 2, 3, 4, 5) for v in out.values()), out
    return out


def parse_semantic(text: str) -> dict:
    for f in ("reason", "decision", "content", "keywords"):
        assert f'"{f}":' in text, f
    decision = "true" in text.split('"decision":')[1].split('"content"')[0].lower()
    content = text.split('"content":')[1].split('"keywords"')[0].strip().strip('"') if decision else ""
    keywords = text.split('"keywords":')[1].strip().strip('"') if decision else ""
    return {"reason": text.split('"reason":')[1].split('"decision"')[0].strip().strip('"'), "decision": decision,
            "content": content, "keywords": keywords}


def parse_topics(text: str, n: int) -> list[dict]:
    out = []
    for chunk in text.split('"topic_summary":')[1:]:
        summary = chunk.split('"keywords"')[0].strip().strip('"')
        keywords = chunk.split('"keywords":')[1].split('"source_dialog_indices"')[0].strip().strip('"').strip("[]").strip()
        raw = chunk.split('"source_dialog_indices":')[1].strip().strip(",").strip('"').strip("[").strip("]").strip()
        indices = [int(i) for i in raw.replace(", ", ",").replace(" ", ",").split(",")]
        assert all(0 <= i < n for i in indices), (indices, n)
        out.append({"topic_summary": summary, "keywords": keywords, "source_dialog_indices": indices})
    assert out
    return out


def parse_profile(text: str, name: str) -> dict[str, str]:
    out = {}
    for line in text.split("\n"):
        if ":" in line:
            key, value = line.split(":")[0].strip().strip('"'), line.split(":")[1].strip().strip(",").strip('"')
            if key and value and key not in out:
                out[key] = value
    out["name"] = name
    return out


def parse_procedural(text: str) -> dict[str, str]:
    return {line.split('":')[0].strip().strip('"'): line.split(":")[1].strip().strip('"')
            for line in text.split("\n") if '":' in line}


# ---------------------------------------------------------------- ms-swift GRPO plugin

FORMAT = re.compile(r"^<think>.*?</think><answer>.*?</answer>$", re.DOTALL | re.MULTILINE)


def rl_query(row: dict) -> tuple[str, str]:
    """(time, query) as the plugin and its rollout scheduler cut them out of the user turn."""
    content = row["messages"][0]["content"].strip().split("\n\nUser Input:\n")[1].split("\n\n# Core Instructions\n")[0].strip()
    time = content.split("'time': '")[1].split("(")[0].strip()
    return time, content.split("'query': ")[1].strip().strip("}").strip('"').strip("'").strip()


def reward(completion: str, row: dict, consistency: float = 1.0) -> float:
    """f_acc · f_cons + 0.5 · f_format, a judge scoring the reasoning `consistency` and an open answer by its
    match with the reference (10 for the same content)."""
    if "</answer>" not in completion:
        return 0.0
    fmt = 1.0 if FORMAT.match(completion) else 0.0
    pred = completion.split("<answer>")[-1].split("</answer>")[0].strip()
    gold = row["messages"][-1]["content"].strip()
    rl_query(row)  # raises where the plugin's own parse would
    if gold.lower() in ("(a)", "(b)", "(c)", "(d)"):
        acc = 1.0 if pred.lower()[:3] == gold.lower() else 0.0
    else:
        acc = 1.0 if pred.strip().lower() == gold.lower() else 0.0
    return acc * consistency + 0.5 * fmt
