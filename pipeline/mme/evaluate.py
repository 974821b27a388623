"""Score any OpenAI-compatible model on a run's Persona-MME.

`full` gives the model the whole history of the question (every turn, with its photos); `rag` gives
it only the past sessions that BM25 ranks highest for the question (rank-bm25 over the sessions'
text). The option letter is read as PersonaVLM's evaluation reads it: the character before the first
")". Requests go through the pipeline's LLM client, so they run concurrently, are retried, and are
cached on disk (a rerun re-asks nothing).
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections import defaultdict
from pathlib import Path

import pyarrow.dataset as pads
from rank_bm25 import BM25Okapi
from tqdm import tqdm

from pipeline.atomic import write_json, write_jsonl
from pipeline.labels.reward import option_letter
from pipeline.llm import LLM
from pipeline.mme.context import question_text, turn_text
from pipeline.mme.tasks import ASPECTS
from pipeline.records import Turn

SYSTEM = ("You are a personal assistant with a long-term memory of your conversations with this user. The earlier "
          "conversation follows, each message with its time. Answer the user's last message.")
_TOKEN = re.compile(r"\w+")


class BenchmarkError(ValueError):
    """The run directory does not hold what the evaluator needs."""


def load_benchmark(run_dir: Path) -> tuple[list[dict], dict[str, dict], dict[str, bytes]]:
    """(questions, sessions by id, PNG bytes by image id) of the run's test split."""
    data = run_dir / "data"
    for table in ("persona_mme", "sessions", "images"):
        if not list((data / table).glob("test-*.parquet")):
            raise BenchmarkError(f"{data / table} has no test shards: {run_dir} is not a finished run with benchmark "
                                 "personas (run pipeline/run.py with --bench-personas > 0 first)")

    def read(table: str, columns: list[str] | None = None) -> list[dict]:
        files = sorted(str(p) for p in (data / table).glob("test-*.parquet"))
        return pads.dataset(files, format="parquet").to_table(columns=columns).to_pylist()

    questions = read("persona_mme")
    sessions = {s["id"]: s for s in read("sessions", ["id", "persona_id", "index", "start_time", "turns"])}
    images = {r["id"]: r["image"]["bytes"] for r in read("images", ["id", "image"])}
    return questions, sessions, images


def _history(q: dict, sessions: dict[str, dict], mode: str, top_k: int) -> list[dict]:
    history = [sessions[sid] for sid in q["history_sessions"]]
    if mode == "rag" and len(history) > top_k:
        docs = [[w.lower() for t in s["turns"] for w in _TOKEN.findall(t["text"])] or ["_"] for s in history]
        scores = BM25Okapi(docs).get_scores([w.lower() for w in _TOKEN.findall(q["query"])])
        best = sorted(range(len(history)), key=lambda i: (-scores[i], i))[:top_k]
        history = [history[i] for i in sorted(best)]
    return history


def build_messages(q: dict, sessions: dict[str, dict], images: dict[str, bytes], mode: str = "full", top_k: int = 3,
                   with_images: bool = True) -> list[dict]:
    """The chat request for one question: system, the history as user/assistant turns, then the question."""
    messages: list[dict] = [{"role": "system", "content": SYSTEM}]
    for s in _history(q, sessions, mode, top_k):
        for t in s["turns"]:
            text = turn_text(Turn.model_validate(t))
            if t["role"] == "user" and with_images and t["image_ids"]:
                parts = [{"type": "text", "text": text}] + [
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(images[i]).decode()}}
                    for i in t["image_ids"]]
                messages.append({"role": "user", "content": parts})
            else:
                messages.append({"role": t["role"], "content": text})
    choices = [(c["key"], c["text"]) for c in q["choices"]]
    messages.append({"role": "user", "content": question_text(q["time"], q["query"], choices)})
    return messages


async def _ask_all(llm: LLM, questions: list[dict], build, progress: bool) -> list[str]:
    """Requests are built only when their turn comes (a 128k request with its photos is megabytes), so
    memory holds `llm.concurrency` of them, not the whole benchmark."""
    bar = tqdm(total=len(questions), desc="persona-mme", unit="q", disable=not progress)
    slots = asyncio.Semaphore(llm.concurrency)

    async def one(q: dict) -> str:
        async with slots:
            reply = (await llm.complete(build(q))).content
        bar.update()
        return reply

    try:
        return await asyncio.gather(*(one(q) for q in questions))
    finally:
        bar.close()
        await llm.aclose()


def evaluate(questions: list[dict], sessions: dict[str, dict], images: dict[str, bytes], llm: LLM, mode: str = "full",
             top_k: int = 3, with_images: bool = True, progress: bool = True) -> list[dict]:
    replies = asyncio.run(_ask_all(llm, questions, lambda q: build_messages(q, sessions, images, mode, top_k, with_images),
                                   progress))
    return [{"id": q["id"], "persona_id": q["persona_id"], "setting": q["setting"], "aspect": q["aspect"], "task": q["task"],
             "answer": q["answer"], "predicted": option_letter(r), "correct": option_letter(r) == q["answer"], "reply": r,
             "context_tokens": q["context_tokens"]} for q, r in zip(questions, replies)]


def summarize(results: list[dict]) -> dict:
    """Accuracy (plain mean over items) and counts per task, per aspect and overall; Alignment apart, as in the paper."""
    by_task: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        by_task[r["task"]].append(r["correct"])

    def cell(xs: list[bool]) -> dict:
        return {"n": len(xs), "accuracy": round(sum(xs) / len(xs), 4) if xs else None}

    aspects = {a: cell([x for t in tasks for x in by_task.get(t, [])]) for a, tasks in ASPECTS.items()}
    understanding = [r["correct"] for r in results if r["aspect"] != "Alignment"]
    return {"tasks": {t: cell(by_task[t]) for tasks in ASPECTS.values() for t in tasks if t in by_task},
            "aspects": aspects, "overall": cell(understanding), "all_items": cell([r["correct"] for r in results])}


def format_table(summary: dict, title: str) -> str:
    def pct(c: dict) -> str:
        return "   -  " if c["accuracy"] is None else f"{100 * c['accuracy']:6.2f}"

    lines = [title, f"{'aspect':<13}{'task':<38}{'n':>6}{'acc %':>8}"]
    for aspect, tasks in ASPECTS.items():
        for t in tasks:
            if t in summary["tasks"]:
                lines.append(f"{aspect:<13}{t:<38}{summary['tasks'][t]['n']:>6}{pct(summary['tasks'][t]):>8}")
    lines.append("")
    names = [a for a in ASPECTS if a != "Alignment"]
    lines.append("  ".join(f"{a:>12}" for a in names) + f"{'Overall':>12}{'Alignment':>12}")
    lines.append("  ".join(f"{pct(summary['aspects'][a]):>12}" for a in names)
                 + f"{pct(summary['overall']):>12}{pct(summary['aspects']['Alignment']):>12}")
    lines.append("  ".join(f"{'n=' + str(summary['aspects'][a]['n']):>12}" for a in names)
                 + f"{'n=' + str(summary['overall']['n']):>12}{'n=' + str(summary['aspects']['Alignment']['n']):>12}")
    return "\n".join(lines)


def write_results(out: Path, results: list[dict], summary: dict, meta: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl(out / "results.jsonl", results)
    write_json(out / "summary.json", {**meta, **summary}, indent=1, sort_keys=False)
