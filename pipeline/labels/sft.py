"""SFT samples for both stages, in TRL's conversational format (messages + images).

- reasoning (Response stage): the query with its time, the core memory in the system prompt; when
  the answer lives in episodic/semantic memory, a <think>…<retrieve>…</retrieve> step, the retrieved
  memories, then <think>…</think><answer>…</answer>. Only supported answers are kept.
- personality (Update stage): a session's user turns and the previous estimate -> integer p′.
- core / semantic / episodic / procedural (Update stage): the memory before and the session ->
  the operations, as JSON.

The mix follows PersonaVLM (43.6% reasoning, 10.3% personality, 46.1% memory), balanced per persona.
`to_conversations` exports a sample to PersonaVLM's {"conversations": [...], "image": [...]} layout.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict

import numpy as np

from pipeline.labels.memory import apply_op, empty_memory
from pipeline.labels.queries import Query
from pipeline.labels.retrieve import render_retrieved
from pipeline.records import (
    MEMORIES,
    TRAITS,
    ContentPart,
    Image,
    MemoryOp,
    Message,
    Persona,
    PersonalityObs,
    Session,
    SftSample,
    parse_time,
)

MIX = {"reasoning": 0.436, "personality": 0.103, "memory": 0.461}
RESPONSE_SYSTEM = (
    "You are a personal assistant with a long-term memory of the user. Reply in this protocol: first "
    "<think>your reasoning</think>, then exactly one of <answer>your reply to the user</answer> or "
    '<retrieve>"keywords": [...], "start_time": "YYYY-MM-DD HH:MM" or "null", "end_time": ...</retrieve> '
    "to search procedural, semantic and episodic memory; retrieved memories come back in the next message. "
    "At most 4 reasoning steps.\n\nCore memory (user profile):\n{core}"
)
UPDATE_SYSTEM = {
    "core": "You maintain the CORE memory: the user's profile and current preferences as key-value pairs.",
    "semantic": "You maintain the SEMANTIC memory: people, interests, reasons for changes and visual concepts.",
    "episodic": "You maintain the EPISODIC memory: one time-stamped summary per event the user shared (append-only).",
    "procedural": "You maintain the PROCEDURAL memory: goals and recurring habits, at most 5 live entries.",
}
UPDATE_TASK = ("Read the session and return the operations that bring this memory up to date, as JSON "
               '{"operations": [{"op": "ADD|UPDATE|DELETE|NOOP", "key": ..., "before": ..., "after": ..., "evidence": [turn indices]}]}.')
PERSONALITY_SYSTEM = ("You track the user's Big Five personality. Score each trait 1-5 from how the user writes and "
                      "what they share in this session, as JSON with keys " + ", ".join(TRAITS) + ".")


def weekday_time(t: str) -> str:
    return f"{t} ({parse_time(t):%A})"


def query_text(time: str, text: str) -> str:
    return str({"time": weekday_time(time), "query": text})


def _text(s: str) -> ContentPart:
    return ContentPart(type="text", text=s)


def transcript(session: Session, images: dict[str, Image], roles: tuple[str, ...] = ("user", "assistant")
               ) -> tuple[list[ContentPart], list[str]]:
    """A session as content parts, an image part wherever a turn showed one."""
    parts, ids = [], []
    for t in session.turns:
        if t.role not in roles:
            continue
        parts.append(_text(f"[{t.index}] {weekday_time(t.time)} {t.role}: {t.text}"))
        for i in t.image_ids:
            parts.append(ContentPart(type="image"))
            ids.append(i)
    return parts, ids


def _merge(parts: list[ContentPart]) -> list[ContentPart]:
    out: list[ContentPart] = []
    for p in parts:
        if out and p.type == "text" and out[-1].type == "text":
            out[-1] = _text(out[-1].text + "\n" + p.text)
        else:
            out.append(p)
    return out


def _sample(persona: Persona, task: str, session_id: str, sid: str, messages: list[Message], image_ids: list[str],
            images: dict[str, Image]) -> SftSample:
    for m in messages:
        m.content = _merge(m.content)
    return SftSample(id=sid, persona_id=persona.id, split=persona.split, task=task, session_id=session_id,
                     messages=messages, image_ids=image_ids, images=[images[i].png for i in image_ids])


def reasoning_sample(persona: Persona, q: Query, images: dict[str, Image], sid: str) -> SftSample:
    core = json.dumps(q.memory["core"], ensure_ascii=False, indent=0)
    user_parts = [_text(query_text(q.turn.time, q.turn.text))] + [ContentPart(type="image") for _ in q.turn.image_ids]
    messages = [Message(role="system", content=[_text(RESPONSE_SYSTEM.format(core=core))]),
                Message(role="user", content=user_parts)]
    f = q.fact
    if q.source == "core":
        noun = f.key.split("/", 1)[1]
        think = f"The user wants a suggestion; core memory says their current {noun} preference is {f.value}."
    else:
        phrase = q.turn.time_refs[0].phrase
        start, end = (t.strftime("%Y-%m-%d %H:%M") for t in q.window)
        what = "what they did" if f.kind == "activity" else f"the {f.key.rsplit('/', 1)[1]} in a photo"
        retrieve = f'"keywords": {json.dumps(q.keywords)}, "start_time": "{start}", "end_time": "{end}"'
        days = start[:10] if start[:10] == end[:10] else f"between {start[:10]} and {end[:10]}"
        messages += [
            Message(role="assistant", content=[_text(
                f"<think>The user asks about {what} {phrase}, which is {days}. That is not in core memory, "
                f"so I search {q.source} memory.</think><retrieve>{retrieve}</retrieve>")]),
            Message(role="user", content=[_text(render_retrieved(q.retrieved))]),
        ]
        hit = next(v for k, v in q.retrieved[q.source] if k in (f.key, f"episode/{q.event.id.rsplit('/', 1)[1]}"))
        think = f"The retrieved {q.source} memory says: {hit}"
    messages.append(Message(role="assistant", content=[_text(f"<think>{think}</think><answer>{q.reply.text}</answer>")]))
    return _sample(persona, "reasoning", q.session.id, sid, messages, list(q.turn.image_ids), images)


def personality_sample(persona: Persona, session: Session, obs: PersonalityObs, previous: dict[str, float],
                       images: dict[str, Image], sid: str) -> SftSample:
    parts, ids = transcript(session, images, roles=("user",))
    head = _text(f"Previous estimate: {json.dumps({t: round(v, 2) for t, v in previous.items()})}\nSession:")
    target = json.dumps(obs.observed.model_dump())
    messages = [Message(role="system", content=[_text(PERSONALITY_SYSTEM)]), Message(role="user", content=[head, *parts]),
                Message(role="assistant", content=[_text(target)])]
    return _sample(persona, "personality", session.id, sid, messages, ids, images)


def memory_view(memory: str, state: dict[str, str], ops: list[MemoryOp], keep_recent: int = 8) -> dict[str, str]:
    """What the model is shown of a memory: all of core/procedural; for the long semantic and episodic
    memories, the entries this session touches plus the most recent others."""
    if memory in ("core", "procedural"):
        return dict(state)
    touched = {o.key for o in ops if o.key}
    keys = [k for k in state if k in touched] + [k for k in list(state)[-keep_recent:] if k not in touched]
    return {k: state[k] for k in keys}


def memory_sample(persona: Persona, session: Session, memory: str, before: dict[str, str], ops: list[MemoryOp],
                  images: dict[str, Image], sid: str) -> SftSample:
    parts, ids = transcript(session, images)
    shown = json.dumps(memory_view(memory, before, ops), ensure_ascii=False, indent=0)
    target = {"operations": [{"op": o.op, "key": o.key, "before": o.before, "after": o.after, "evidence": o.evidence}
                             for o in ops if o.key is not None]}
    messages = [Message(role="system", content=[_text(f"{UPDATE_SYSTEM[memory]} {UPDATE_TASK}")]),
                Message(role="user", content=[_text(f"Current {memory} memory:\n{shown}\n\nSession {session.id}:"), *parts]),
                Message(role="assistant", content=[_text(json.dumps(target, ensure_ascii=False))])]
    return _sample(persona, memory, session.id, sid, messages, ids, images)


def build_sft(persona: Persona, sessions: list[Session], ops: list[MemoryOp], track: list[PersonalityObs],
              queries: list[Query], images: dict[str, Image], rng: np.random.Generator) -> tuple[list[SftSample], dict]:
    """All candidate samples, then a per-persona draw in PersonaVLM's mix. Returns samples and counts."""
    by_session: dict[str, list[MemoryOp]] = defaultdict(list)
    for o in ops:
        by_session[o.session_id].append(o)
    state = empty_memory()
    memory_candidates = []
    for s in sessions:
        for memory in MEMORIES:
            mine = [o for o in by_session[s.id] if o.memory == memory]
            if any(o.op != "NOOP" for o in mine) or rng.random() < 0.05:
                memory_candidates.append((s, memory, dict(state[memory]), mine))
        for o in by_session[s.id]:
            apply_op(state, o)
    supported = [q for q in queries if q.supported]
    counts = {"reasoning_unsupported_dropped": len(queries) - len(supported)}
    total = min(len(supported) / MIX["reasoning"], len(sessions) / MIX["personality"], len(memory_candidates) / MIX["memory"])
    want = {task: math.floor(total * share) for task, share in MIX.items()}

    def draw(items: list, n: int) -> list:
        return [items[int(i)] for i in sorted(rng.choice(len(items), size=n, replace=False))] if n else []

    # questions that need a retrieval step first, then the ones core memory answers
    retrieval = [q for q in supported if q.source != "core"]
    from_core = [q for q in supported if q.source == "core"]
    n_retrieval = min(len(retrieval), want["reasoning"])
    reasoning = draw(retrieval, n_retrieval) + draw(from_core, want["reasoning"] - n_retrieval)
    samples = [reasoning_sample(persona, q, images, f"{q.session.id}/t{q.turn.index}/reasoning") for q in reasoning]
    previous = {t: 3.0 for t in TRAITS}
    chosen = {s.id for s in draw(sessions, want["personality"])}
    for s, obs in zip(sessions, track):
        if s.id in chosen:
            samples.append(personality_sample(persona, s, obs, previous, images, f"{s.id}/personality"))
        previous = obs.estimate.model_dump()
    for s, memory, before, mine in draw(memory_candidates, want["memory"]):
        samples.append(memory_sample(persona, s, memory, before, mine, images, f"{s.id}/{memory}"))
    counts.update({f"candidates_{k}": n for k, n in
                   (("reasoning", len(supported)), ("personality", len(sessions)), ("memory", len(memory_candidates)))})
    return samples, counts


def to_conversations(sample: SftSample) -> dict:
    """PersonaVLM's layout: system text folded into the first human turn, <image> markers in place."""
    conv, pending = [], ""
    for m in sample.messages:
        text = "".join("<image>\n" if p.type == "image" else p.text for p in m.content)
        if m.role == "system":
            pending = text + "\n\n"
        elif m.role == "user":
            conv.append({"from": "human", "value": pending + text})
            pending = ""
        else:
            conv.append({"from": "gpt", "value": text})
    return {"id": sample.id, "conversations": conv, "image": [f"{i.replace('/', '_')}.png" for i in sample.image_ids]}
