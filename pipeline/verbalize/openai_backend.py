"""The `openai` text backend: an LLM rewrites the scripted draft of each session in natural words.

The scripted verbalizer still decides what every turn must carry (facts, dates, photos); the model is
asked for better prose under those constraints, with JSON-schema structured output, and its reply is
read leniently (code fences, a preamble, extra keys, numbers as strings, a reply cut off mid-way all
give up what they hold). `generate.py` checks every turn; the turns that fail come back here as a
repair request that asks for those turns only and quotes their problems, and a turn that never
comes right ships as its draft.

The model sees the persona's name and how they write, never the whole card: only what the draft
says may appear. Prompts are files in `prompts/`; the stable part is the system message and the
session-specific part comes last, so a server's prefix cache is reused across a persona's requests.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from functools import cache
from pathlib import Path
from string import Template
from typing import ClassVar

import jsonschema

from pipeline.config import REPO_ROOT, RunConfig
from pipeline.llm import LLM, ContextTooLong, LLMStats
from pipeline.personas.lexicon import load_lexicon
from pipeline.records import Event, Fact, Session, parse_time
from pipeline.verbalize.backend import Planned, TaskShape
from pipeline.verbalize.check import Vocabulary
from pipeline.verbalize.voice import find_voice
from pipeline.world.simulate import World

PROMPTS = REPO_ROOT / "prompts"
SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["turns"],
    "properties": {"turns": {"type": "array", "items": {
        "type": "object", "additionalProperties": False, "required": ["index", "text"],
        "properties": {"index": {"type": "integer"}, "text": {"type": "string", "minLength": 1}}}}},
}
_TURN = re.compile(r'\{\s*"index"\s*:\s*"?(\d+)"?\s*,\s*"text"\s*:\s*("(?:[^"\\]|\\.)*")\s*[,}]')


@cache
def _template(name: str) -> Template:
    return Template((PROMPTS / name).read_text())


def approx_tokens(text: str) -> int:
    """Tokens of English prose and JSON for a BPE tokenizer, about one per four characters."""
    return math.ceil(len(text) / 4)


def _draft_entries(draft: Session, events: dict[str, Event], facts: dict[str, Fact], indices: list[int]) -> list[dict]:
    by_index = {t.index: t for t in draft.turns}
    out = []
    for i in indices:
        t = by_index[i]
        keep = [term for f in t.fact_ids if facts[f].modality == "text" for term in facts[f].terms]
        entry = {"index": t.index, "role": t.role, "time": t.time, "draft": t.text, "keep": list(dict.fromkeys(keep))}
        if t.time_refs:
            entry["dates"] = [f"{r.phrase} = {_day(events[r.event_id])}" for r in t.time_refs]
        if t.image_ids:
            entry["photo"] = True
        if t.role == "user" and (voice := [t.text[v.start:v.end] for v in find_voice(t.text)]):
            entry["voice"] = voice  # what shows the user's personality (Persona-MME's alignment gold reads it)
        out.append(entry)
    return out


def _day(event: Event) -> str:
    d = parse_time(event.time)
    return f"{d:%A}, {d:%B} {d.day}"


def session_messages(world: World, draft: Session, events: dict[str, Event], facts: dict[str, Fact]) -> list[dict]:
    p = world.persona
    system = _template("verbalize_system.txt").substitute(name=p.name, first=p.name.split()[0], style=p.style.summary)
    entries = _draft_entries(draft, events, facts, [t.index for t in draft.turns])
    user = _template("verbalize_user.txt").substitute(index=draft.index, start=draft.start_time,
                                                      draft=json.dumps(entries, ensure_ascii=False, indent=1))
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def repair_messages(world: World, draft: Session, current: Session, problems: dict[int, list[str]],
                    events: dict[str, Event], facts: dict[str, Fact]) -> list[dict]:
    system = session_messages(world, draft, events, facts)[0]
    by_index = {t.index: t for t in current.turns}
    entries = _draft_entries(draft, events, facts, sorted(problems))
    for e in entries:
        e["your_text"] = by_index[e["index"]].text
        e["problems"] = [p.split(": ", 1)[-1] for p in problems[e["index"]]][:5]
    context = [{"index": t.index, "role": t.role, "text": t.text} for t in current.turns if t.index not in problems]
    user = _template("repair.txt").substitute(
        index=draft.index, context=json.dumps(context, ensure_ascii=False, indent=1),
        turns=json.dumps(entries, ensure_ascii=False, indent=1), indices=", ".join(str(i) for i in sorted(problems)))
    return [system, {"role": "user", "content": user}]


def parse_turns(content: str, expected: list[int]) -> tuple[dict[int, str], list[str]]:
    """The texts a reply gives for the `expected` turn indices, and what was wrong with it. Lenient:
    code fences, text around the JSON, extra keys, indices as strings, a list without the wrapper;
    a reply cut off mid-way keeps the turns that were complete."""
    problems: list[str] = []
    data = _loads(content)
    if isinstance(data, list):
        data = {"turns": data}
    items: list[dict] = []
    if isinstance(data, dict):
        turns = data.get("turns")
        if turns is None:
            turns = next((v for v in data.values() if isinstance(v, list)), [])
        for item in turns if isinstance(turns, list) else []:
            if not isinstance(item, dict):
                continue
            idx, text = item.get("index"), next((item[k] for k in ("text", "content", "message") if k in item), None)
            if isinstance(idx, str) and idx.strip().isdigit():
                idx = int(idx)
            if isinstance(idx, float) and idx.is_integer():
                idx = int(idx)
            items.append({"index": idx, "text": text.strip() if isinstance(text, str) else text})
    else:
        for m in _TURN.finditer(content):  # a truncated or broken reply: keep every complete turn
            try:
                items.append({"index": int(m.group(1)), "text": json.loads(m.group(2)).strip()})
            except ValueError:
                continue
        if not items:
            return {}, ["the reply is not JSON"]
        problems.append("the reply was not complete JSON")
    valid = {}
    for item in items:
        errors = list(jsonschema.Draft202012Validator(SCHEMA["properties"]["turns"]["items"]).iter_errors(item))
        if not errors and item["index"] in expected:
            valid.setdefault(item["index"], item["text"])
    missing = [i for i in expected if i not in valid]
    if missing:
        problems.append(f"no usable text for turns {missing}")
    return valid, problems


def _loads(content: str):
    s = content.strip()
    fence = re.search(r"```(?:json|JSON)?\s*\n?(.*?)```", s, re.DOTALL)
    if fence:
        s = fence.group(1).strip()
    for candidate in (s, s[s.find("{"): s.rfind("}") + 1] if "{" in s else "", s[s.find("["): s.rfind("]") + 1] if "[" in s else ""):
        if candidate:
            try:
                return json.loads(candidate)
            except ValueError:
                continue
    return None


def _endpoint(cfg: RunConfig, base_url: str | None) -> str | None:
    """The endpoint to use: one the run launched (Ray Serve), else --llm-base-url, else OPENAI_BASE_URL."""
    return base_url or cfg.llm_base_url or os.environ.get("OPENAI_BASE_URL")


def _prompt_tokens(messages: list[dict]) -> int:
    return sum(approx_tokens(m["content"]) + 4 for m in messages)


def _expected_reply(draft: Session, indices: list[int] | None = None) -> str:
    """The reply a model would give if it kept the draft's words: the size to expect and to plan for."""
    return json.dumps({"turns": [{"index": t.index, "text": t.text} for t in draft.turns
                                 if indices is None or t.index in indices]})


def _planned(messages: list[dict], draft: Session) -> Planned:
    """One request per session, of this prompt, with a reply about the draft's size."""
    return Planned(requests=1, prompt_tokens=_prompt_tokens(messages), completion_tokens=approx_tokens(_expected_reply(draft)))


def _merge(stats: dict[str, float], s: LLMStats) -> None:
    for k, v in s.as_dict().items():
        stats[k] = stats.get(k, 0) + v


class LLMBackend:
    """Rewrites sessions through an OpenAI-compatible endpoint (see pipeline.llm for the transport)."""

    name: ClassVar[str] = "openai"
    source: ClassVar[str] = "llm"

    def __init__(self, llm: LLM, seed: int, repairs: int = 2, vocabulary: Vocabulary = Vocabulary(),
                 max_tokens: int | None = None, retry_rounds: dict[str, int] | None = None):
        self.llm, self.seed, self.repairs, self.vocabulary, self.max_tokens = llm, seed, repairs, vocabulary, max_tokens
        self.retry_rounds = retry_rounds or {}

    @classmethod
    def from_config(cls, cfg: RunConfig, run_dir: Path, base_url: str | None, context_tokens: int | None,
                    retry_rounds: dict[str, int] | None = None) -> LLMBackend:
        llm = LLM(model=cfg.llm_model, base_url=_endpoint(cfg, base_url),
                  api_key=os.environ.get("OPENAI_API_KEY"), cache_dir=cfg.llm_cache_dir or Path(run_dir) / "llm_cache",
                  concurrency=cfg.llm_concurrency, temperature=cfg.llm_temperature, timeout_s=cfg.llm_timeout_s,
                  retry_budget_s=cfg.llm_retry_budget_s, context_tokens=context_tokens, offline=cfg.offline_replay,
                  max_tokens=cfg.llm_max_tokens or 2048)
        return cls(llm, cfg.seed, cfg.llm_repairs, lexicon_vocabulary(cfg.lexicon_dir), cfg.llm_max_tokens, retry_rounds)

    @classmethod
    def shape(cls, cfg: RunConfig, personas: int, workers: int) -> TaskShape:
        # I/O bound: many personas per task, awaiting the endpoint together on one event loop
        return TaskShape(num_cpus=0.5, personas_per_task=max(1, min(cfg.llm_concurrency, -(-personas // workers))))

    @classmethod
    def probe(cls, cfg: RunConfig, base_url: str | None) -> int | None:
        if cfg.offline_replay:
            return None
        from pipeline.llm import probe

        info = probe(_endpoint(cfg, base_url), os.environ.get("OPENAI_API_KEY"), cfg.llm_model,
                     timeout_s=min(cfg.llm_timeout_s, 60))
        return info.context_tokens

    def _seed(self, session_id: str, round_: int) -> int:
        """A seed per (run, session, attempt, retry of a quarantined persona): a retry after a failed check
        asks for a new sample, never the cached reply that failed."""
        retry = self.retry_rounds.get(session_id.split("/", 1)[0], 0)
        key = f"{self.seed}:{session_id}" + (f":retry{retry}" if retry else "")
        base = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)
        return (base + round_) % 2**31

    def _budget(self, messages: list[dict], expected_reply: str) -> int:
        if self.max_tokens:
            return self.max_tokens
        prompt = _prompt_tokens(messages)
        want = max(256, 2 * approx_tokens(expected_reply) + 128)
        return max(64, min(want, self.llm.room(prompt)))

    async def _ask(self, messages: list[dict], expected: list[int], draft: Session, round_: int,
                   stats: dict[str, float]) -> dict[int, str]:
        reply = _expected_reply(draft, expected)
        if len(expected) > 1 and self.llm.room(_prompt_tokens(messages)) < approx_tokens(reply) + 64:
            raise ContextTooLong("the context leaves no room for the reply")  # asked in parts, each with room
        s = LLMStats()
        try:
            completion = await self.llm.complete(messages, SCHEMA, "session_turns", s, seed=self._seed(draft.id, round_),
                                                 max_tokens=self._budget(messages, reply))
        finally:
            _merge(stats, s)
        texts, _ = parse_turns(completion.content, expected)
        return texts

    async def rewrite(self, world: World, draft: Session, events: dict[str, Event], facts: dict[str, Fact],
                      stats: dict[str, float]) -> dict[int, str]:
        indices = [t.index for t in draft.turns]
        messages = session_messages(world, draft, events, facts)
        for k, v in _planned(messages, draft).__dict__.items():
            stats[f"llm_planned_{k}"] = stats.get(f"llm_planned_{k}", 0) + v
        try:
            return await self._ask(messages, indices, draft, 0, stats)
        except ContextTooLong:
            stats["llm_context_splits"] = stats.get("llm_context_splits", 0) + 1
            return await self._in_parts(world, draft, events, facts, indices, stats)

    async def _in_parts(self, world, draft, events, facts, indices: list[int], stats) -> dict[int, str]:
        """A session over the model's context, asked half by half (a single turn that does not fit stays a draft)."""
        if len(indices) <= 1:
            return {}
        out: dict[int, str] = {}
        for part in (indices[: len(indices) // 2], indices[len(indices) // 2:]):
            sub = draft.model_copy(update={"turns": [t for t in draft.turns if t.index in part]})
            try:
                out.update(await self._ask(session_messages(world, sub, events, facts), part, sub, 0, stats))
            except ContextTooLong:
                out.update(await self._in_parts(world, sub, events, facts, part, stats))
        return out

    async def repair(self, world: World, draft: Session, current: Session, problems: dict[int, list[str]],
                     events: dict[str, Event], facts: dict[str, Fact], round_: int, stats: dict[str, float]) -> dict[int, str]:
        try:
            return await self._ask(repair_messages(world, draft, current, problems, events, facts), sorted(problems), draft,
                                   round_ + 1, stats)
        except ContextTooLong:
            return {}

    def plan(self, world: World, draft: Session, events: dict[str, Event], facts: dict[str, Fact]) -> Planned:
        return _planned(session_messages(world, draft, events, facts), draft)

    async def aclose(self) -> None:
        await self.llm.aclose()


@cache
def lexicon_vocabulary(lexicon_dir: Path) -> Vocabulary:
    """The lexicons' names (first names, place words, cities) and their ordinary lower-case words."""
    lex = load_lexicon(lexicon_dir)
    names = set(lex.first_names) | {w for p in lex.places.prefixes for w in p.split()} | set(lex.places.venues)
    names |= {w for loc in lex.locations for w in re.findall(r"[A-Z][a-z]+", loc)}
    words = {w for f in sorted(Path(lexicon_dir).iterdir()) if f.is_file() and not f.name.startswith(".")
             for w in re.findall(r"\b[a-z]{2,}\b", f.read_text(errors="replace"))}
    return Vocabulary(names=frozenset(names), words=frozenset(words))
