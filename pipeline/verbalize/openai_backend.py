"""The `openai` text backend: an LLM rewrites the scripted draft of each session in natural words.

The scripted verbalizer still decides what every turn must carry (facts, date phrases, photos); the
model is asked for better prose under those constraints, with JSON-schema structured output. Each
reply is parsed, validated, and run through the same `check_session` as the scripted text. A reply
that fails gets a repair request quoting the problems; after `repairs` failed repairs, or when the
endpoint keeps failing past the client's retries, the session — and so its persona, whose later
sessions depend on it — is quarantined with the reason.

Prompts are files in `prompts/`; the stable part (rules, persona card) is the system message and the
session-specific part comes last, so a server's prefix cache is reused across a persona's requests.
"""

from __future__ import annotations

import json
from string import Template

import jsonschema

from pipeline.config import REPO_ROOT
from pipeline.llm import LLM, LLMStats, transient
from pipeline.records import Event, Fact, Session
from pipeline.verbalize.check import check_session
from pipeline.verbalize.scripted import ScriptedVerbalizer
from pipeline.world.plan import SessionPlan
from pipeline.world.simulate import World

PROMPTS = REPO_ROOT / "prompts"
SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["turns"],
    "properties": {"turns": {"type": "array", "items": {
        "type": "object", "additionalProperties": False, "required": ["index", "text"],
        "properties": {"index": {"type": "integer"}, "text": {"type": "string", "minLength": 1}}}}},
}


class Quarantined(RuntimeError):
    """A session the backend could not produce correctly; `reason` says why."""

    def __init__(self, session_id: str, reason: str, attempts: int):
        super().__init__(f"{session_id}: {reason}")
        self.session_id, self.reason, self.attempts = session_id, reason, attempts


def _template(name: str) -> Template:
    return Template((PROMPTS / name).read_text())


def draft_messages(world: World, draft: Session, facts: dict[str, Fact]) -> list[dict]:
    p = world.persona
    system = _template("verbalize_system.txt").substitute(
        name=p.name, first=p.name.split()[0], age=p.age, occupation=p.occupation, location=p.location,
        style=p.style.summary, bio=p.bio)
    turns = []
    for t in draft.turns:
        must = [term for f in t.fact_ids if facts[f].modality == "text" for term in facts[f].terms]
        must += [r.phrase for r in t.time_refs]
        turns.append({"index": t.index, "role": t.role, "time": t.time, "draft": t.text,
                      "must_include": list(dict.fromkeys(must)), "photo": bool(t.image_ids)})
    user = _template("verbalize_user.txt").substitute(index=draft.index, start=draft.start_time,
                                                      draft=json.dumps(turns, ensure_ascii=False, indent=1))
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def parse_reply(content: str, draft: Session) -> tuple[Session | None, list[str]]:
    """The draft with the model's texts, or the problems with the reply."""
    try:
        data = json.loads(content)
    except ValueError as e:
        return None, [f"the reply is not valid JSON ({e})"]
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data), key=str)
    if errors:
        return None, [f"the reply does not match the schema: {errors[0].message}"]
    texts = {t["index"]: t["text"].strip() for t in data["turns"]}
    if sorted(texts) != [t.index for t in draft.turns]:
        return None, [f"expected exactly the indices {[t.index for t in draft.turns]}, got {sorted(texts)}"]
    turns = [t.model_copy(update={"text": texts[t.index]}) for t in draft.turns]
    return draft.model_copy(update={"turns": turns}), []


class LLMVerbalizer:
    def __init__(self, llm: LLM, seed: int, repairs: int = 2):
        self.llm, self.draft, self.repairs = llm, ScriptedVerbalizer(seed), repairs

    async def session(self, world: World, events: dict[str, Event], facts: dict[str, Fact], plan: SessionPlan,
                      known_before: set[str], stats: LLMStats | None = None) -> Session:
        draft = self.draft.session(world, events, facts, plan)
        messages = draft_messages(world, draft, facts)
        problems: list[str] = []
        for attempt in range(1 + self.repairs):
            try:
                content = await self.llm.complete(messages, SCHEMA, "session_turns", stats)
            except Exception as e:
                if not transient(e):
                    raise  # a wrong key, model name or URL fails the run, not every persona
                raise Quarantined(draft.id, f"the endpoint still failed after {self.llm.attempts} tries ({type(e).__name__})",
                                  self.llm.attempts) from e
            session, problems = parse_reply(content, draft)
            if session is not None:
                problems = check_session(session, events, facts, known_before)
                if not problems:
                    return session
            repair = _template("repair.txt").substitute(problems="\n".join(f"- {p}" for p in problems[:10]))
            messages = messages + [{"role": "assistant", "content": content}, {"role": "user", "content": repair}]
        raise Quarantined(draft.id, "; ".join(problems[:3]), 1 + self.repairs)
