"""The audit's own check of every shipped question's gold, from the written tables alone.

The build derives each gold from the history and drops a question whose gold is wrong or not unique;
this re-reads what was written (the question rows, the histories, the world's facts) and checks it
again, independently of the builder's code: the answer key points at exactly one of distinct options
and names the answer text, the evidence lies in the history before the question and conveys its
fact, and where the answer is a state that changes (a favourite, a relationship, a goal) the evidence
is the latest thing the history tells of it; a habit question is in the past tense exactly when the history
says the habit was dropped. A question that fails is counted and not shipped.
"""

from __future__ import annotations

from pipeline.dedup import normalize as norm
from pipeline.records import parse_time

# tasks whose answer is the latest told state of the evidence fact's key (family: facts of one state)
LATEST = {"Latest Preference Recognition": "value", "Implicit Preference Recommendation": "value",
          "Relationship Dynamics Comprehension": "state", "Long-term Goal Tracking": "state",
          "Tiered Explanation Delivery": "state"}


def _family(fact: dict) -> str:
    """What a fact is the state of: a preference, a person's closeness (changes only), a goal."""
    key = fact["key"]
    if fact["kind"] in ("goal", "goal_progress", "goal_outcome"):
        return "goal/" + key.split("/", 1)[1]
    if fact["kind"] == "relationship_change":
        return "change/" + key.split("/", 1)[1]
    return key


def gold_problems(q: dict, sessions: dict[str, dict], facts: dict[str, dict]) -> list[str]:
    """What is wrong with one shipped question's gold (empty: nothing)."""
    problems = []
    texts = [c["text"] for c in q["choices"]]
    keys = [c["key"] for c in q["choices"]]
    if len({norm(t) for t in texts}) != len(texts):
        problems.append("two options are the same text")
    if keys.count(q["answer"]) != 1:
        problems.append(f"the answer key {q['answer']} is not exactly one of the options")
    elif texts[keys.index(q["answer"])] != q["answer_text"]:
        problems.append("the answer key does not point at the answer text")
    now = parse_time(q["time"])
    history = [sessions[sid] for sid in q["history_sessions"] if sid in sessions]
    if len(history) != len(q["history_sessions"]):
        problems.append("a history session is missing from the sessions table")
    told = [(parse_time(t["time"]), fid) for s in history for t in s["turns"] if t["role"] == "user"
            for fid in t["fact_ids"] if fid in facts]
    for ev in q["evidence"]:
        s = sessions.get(ev["session_id"])
        turn = next((t for t in s["turns"] if t["index"] == ev["turn_index"]), None) if s else None
        if ev["session_id"] not in q["history_sessions"] or turn is None:
            problems.append(f"evidence {ev['session_id']}#{ev['turn_index']} is not in the history")
            continue
        if parse_time(turn["time"]) >= now:
            problems.append(f"evidence {ev['session_id']}#{ev['turn_index']} is not before the question")
        if ev.get("fact_id") and ev["fact_id"] not in turn["fact_ids"]:
            problems.append(f"evidence turn {ev['session_id']}#{ev['turn_index']} does not convey {ev['fact_id']}")
        if ev.get("image_id") and ev["image_id"] not in turn["image_ids"]:
            problems.append(f"evidence turn {ev['session_id']}#{ev['turn_index']} does not show {ev['image_id']}")
    if q["task"] in LATEST and q["evidence"] and q["evidence"][0].get("fact_id") in facts:
        fact = facts[q["evidence"][0]["fact_id"]]
        family = [fid for _, fid in sorted(told) if _family(facts[fid]) == _family(fact)]
        outcomes = [fid for fid in family if facts[fid]["kind"] == "goal_outcome"]  # an outcome ends a goal's story
        latest = outcomes[-1] if outcomes else family[-1] if family else None
        if latest is None or (latest != fact["id"] and facts[latest]["value"] != fact["value"]):
            problems.append("the evidence is not the latest state the history tells")
        if LATEST[q["task"]] == "value" and norm(q["answer_text"]) != norm(fact["value"]):
            problems.append("the answer is not the latest value the history tells")
    if q["task"] == "Behavioral Pattern Recognition" and q["evidence"] and q["evidence"][0].get("fact_id") in facts:
        key = facts[q["evidence"][0]["fact_id"]]["key"]
        dropped = any(facts[fid]["kind"] == "habit_end" and facts[fid]["key"] == key for _, fid in told)
        if dropped != ("use to" in q["query"]):
            problems.append("the question's tense does not follow whether the history says the habit was dropped")
    return problems


def recheck(rows: list[dict], sessions: dict[str, dict], facts: dict[str, dict]) -> tuple[dict, list[str]]:
    """The audit's figures (questions checked, wrong or not unique, examples) and the ids that failed."""
    failed, examples = [], []
    for q in rows:
        problems = gold_problems(q, sessions, facts)
        if problems:
            failed.append(q["id"])
            if len(examples) < 5:
                examples.append({"id": q["id"], "task": q["task"], "problems": problems})
    return {"checked": len(rows), "wrong_or_not_unique": len(failed), "examples": examples}, failed
