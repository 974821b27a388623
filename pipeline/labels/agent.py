"""Replay a training persona through the PersonaVLM agent's calls, with our labels as its answers.

The agent, per user turn, infers the personality and decides on a semantic memory; at the end of a
session (60 silent minutes) it writes the session's topics (episodic), then rewrites procedural and
core memory; and it answers with <think> and <answer> or <retrieve>. `replay` makes one call per such
step, in the agent's own order, each with the prompt the agent would send (our templates or the
release's) and the target derived from the native labels (`memory_ops`, `personality`). It also
builds the agent's store (`user_data.json`), which the release's RL rollouts retrieve from.

Every target says only what its input shows: values as the user told them, third-person sentences,
round numbers the input numbers, no ids, no clock times or numbers the input lacks.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from pipeline.labels.memory import apply_op, empty_memory
from pipeline.labels.queries import Query
from pipeline.labels.retrieve import TOP_K
from pipeline.personavlm import protocol as P
from pipeline.records import TRAITS, EventIndex, Fact, MemoryOp, Persona, PersonalityObs, Session, fmt_time, parse_time
from pipeline.verbalize.match import mentions

# what a fact's text says that its turn need not: the closeness number, the goal's full wording before a step
_UNSTATED = re.compile(r"\s*\(closeness \d/5\)|;? closeness now \d/5|^Progress on '[^']*': ")
_QUOTED = re.compile(r"(?:the goal |(?<= ))'[^']+'(?=[ .,;:]|$)")
_NUMBER = re.compile(r"\d+")
_FIRST_PERSON = {"i": "they", "i'm": "they're", "i've": "they've", "my": "their", "me": "them", "mine": "theirs",
                 "myself": "themselves", "am": "are", "we": "they", "we're": "they're", "our": "their", "us": "them"}


@dataclass
class Call:
    """One agent call as an SFT sample: rounds of (prompt, target), and the images its prompts show in order."""

    task: str
    session_id: str
    rounds: list[tuple[str, str]]
    images: list[str]  # image ids
    meta: dict = field(default_factory=dict)


def decay(m: int) -> float:
    """The release's smoothing weight after m interactions: 0.5 at the start, 0.9 from 50 on."""
    return 0.9 - 0.4 * (1 + math.cos(math.pi * min(m, 50) / 50)) / 2


class Replay:
    """The agent's state while a persona's sessions are replayed, and the calls it makes."""

    def __init__(self, persona: Persona, sessions: list[Session], ops: list[MemoryOp], track: list[PersonalityObs],
                 index: EventIndex, templates: dict[str, str]):
        self.persona, self.sessions, self.events, self.facts, self.t = persona, sessions, index.event, index.fact, templates
        self.first = persona.name.split()[0]
        self.ops: dict[str, list[MemoryOp]] = defaultdict(list)
        for o in ops:
            self.ops[o.session_id].append(o)
        self.writes: dict[str, list[tuple[int, MemoryOp]]] = defaultdict(list)  # key -> (session position, op), in order
        for pos, s in enumerate(sessions):
            for o in self.ops[s.id]:
                self.writes[o.key].append((pos, o))
        self.observed = {o.session_id: o.observed.model_dump() for o in track}
        self.turn_text = {(s.id, t.index): t.text for s in sessions for t in s.turns}
        self.telling: dict[str, list] = defaultdict(list)  # event id -> (session, user turn, reply) that tell it, in order
        for s in sessions:
            for u, a in zip(s.turns[::2], s.turns[1::2]):
                for eid in dict.fromkeys(fid.rsplit("/", 1)[0] for fid in u.fact_ids):
                    self.telling[eid].append((s, u, a))
        self.calls: list[Call] = []
        # the agent's state
        self.profile: dict[str, str] = {"name": self.first}
        self.procedural: dict[str, str] = {}
        self.memory = empty_memory()  # our native memory, replayed from the ops
        self.estimate = dict.fromkeys(TRAITS, 3.0)
        self.interactions = 0
        self.store_sessions: list[dict] = []
        self.image_names: list[str] = []  # the store's imgs, in the order they were shown

    # ------------------------------------------------------------------ rendering

    def profile_text(self) -> str:
        return str(self.profile)

    def user_turn(self, turn) -> str:
        return P.user_text(turn.text, len(turn.image_ids))

    def exchanges(self, session: Session, upto: int, since: str | None = None, numbered: bool = False) -> tuple[str, list[str]]:
        """The session's exchanges before turn `upto` (those within the last hour of `since`, if given)."""
        lines, ids = [], []
        for k, (u, a) in enumerate(zip(session.turns[::2], session.turns[1::2])):
            if u.index >= upto:
                break
            if since and (parse_time(since) - parse_time(u.time)).total_seconds() > P.SESSION_GAP_MIN * 60:
                continue
            lines.append(P.exchange(u.time, self.user_turn(u), a.text, k if numbered else None))
            ids += u.image_ids
        return "\n".join(lines), ids

    def told(self, value: str, terms: list[str], session_id: str, evidence: list[int], strict: bool = True) -> str:
        """A value as the user told it: the value if its turn states it (or, not strict, if the turn states
        every number in it), else its key terms."""
        said = " ".join(self.turn_text.get((session_id, i), "") for i in evidence)
        if mentions(said, value) or (not strict and all(n in said for n in _NUMBER.findall(value))):
            return value
        return ", ".join(terms)

    def sentence(self, fact: Fact) -> str:
        """A fact in the third person, without what no turn states."""
        text = _UNSTATED.sub("", fact.text).strip()
        if fact.kind.startswith("goal"):  # the goal's full wording ('run a 30-day ...') is the world's, not the turn's
            text = _QUOTED.sub(f"their {fact.terms[0]} goal", text)
        return third_person(text if text.endswith(".") else text + ".")

    # ------------------------------------------------------------------ the calls

    def run(self, queries: list[Query]) -> list[Call]:
        by_turn = {(q.session.id, q.turn.index): q for q in queries}
        for s in self.sessions:
            self.store_sessions.append({"profile": dict(self.profile), "ProceduralMemory": dict(self.procedural),
                                        "semantic_memory": [], "interactions": []})
            for user, reply in zip(s.turns[::2], s.turns[1::2]):
                q = by_turn.get((s.id, user.index))
                if q is not None:
                    self.reasoning(s, q)
                self.personality(s, user)
                self.semantic(s, user)
                names = []
                for image_id in user.image_ids:
                    self.image_names.append(image_id)
                    names.append(image_id)
                self.store_sessions[-1]["interactions"].append(
                    [{"time": user.time, "query": self.user_turn(user).replace(P.IMAGE, "<img_fill>")},
                     {"response": reply.text}, [], names])
                self.interactions += 1
            self.end_session(s)
        return self.calls

    def personality(self, s: Session, user) -> None:
        history, ids = self.exchanges(s, user.index)
        prompt = P.fill(self.t["MLLM_INFERENCE_PERSONALITY_PROMPT"], UserProfile=self.profile_text(), DialogHistory=history,
                        UserQuery=P.query(user.time, user.text, len(user.image_ids)))
        scores = self.observed[s.id]  # the session's evidence, which every message of it shows
        self.calls.append(Call("personality", s.id, [(prompt, P.personality_lines(scores))], ids + list(user.image_ids)))
        lam = decay(self.interactions)
        for trait in TRAITS:
            if scores[trait] != 3:
                self.estimate[trait] = lam * self.estimate[trait] + (1 - lam) * scores[trait]

    def _turn_ops(self, s: Session, user) -> list[MemoryOp]:
        return [o for o in self.ops[s.id] if o.evidence and o.evidence[0] == user.index and o.memory != "episodic"]

    def semantic(self, s: Session, user) -> None:
        history, ids = self.exchanges(s, user.index)
        prompt = P.fill(self.t["MLLM_SEMANTIC_MEMORY_PROMPT"], UserProfile=self.profile_text(), DialogHistory=history,
                        UserQuery=P.query(user.time, user.text, len(user.image_ids)))
        ops = self._turn_ops(s, user)
        new = [o for o in ops if o.op != "NOOP"]
        if new:
            facts = [self.facts[fid] for o in new for fid in o.fact_ids]
            content = " ".join(self._content(f) for f in facts)
            keywords = list(dict.fromkeys(t for f in facts for t in f.terms))
            reason = _reason(new, self.first)
            entry = {"reason": reason, "decision": True, "content": P.clean(content), "keywords": ", ".join(keywords)}
        else:
            reason = (f"{self.first} repeats what memory already holds." if ops else
                      f"Nothing new and lasting about {self.first} in this message.")
            content, keywords = None, []
            entry = {"reason": reason, "decision": False, "content": "", "keywords": ""}
        self.calls.append(Call("semantic", s.id, [(prompt, P.semantic_lines(reason, content, keywords))],
                               ids + list(user.image_ids), meta={"decision": bool(new)}))
        self.store_sessions[-1]["semantic_memory"].append(entry)
        for o in ops:
            apply_op(self.memory, o)

    def _content(self, f: Fact) -> str:
        if f.modality == "image":
            name = f.key.rsplit("/", 1)[1]
            return f"{self.first}'s {f.value} (Image Object: {name})."
        return self.sentence(f)

    def end_session(self, s: Session) -> None:
        """Episodic topics, then the procedural and the core rewrite, as the agent does when the next session starts."""
        numbered, ids = self.exchanges(s, len(s.turns), numbered=True)
        plain, _ = self.exchanges(s, len(s.turns))
        ops = self.ops[s.id]
        topics = self.topics(s, ops)
        prompt = P.fill(self.t["MLLM_EPISODIC_MEMORY_PROMPT"], UserProfile=self.profile_text(), DialogHistory=numbered)
        self.calls.append(Call("episodic", s.id, [(prompt, P.topic_lines(topics))], ids))
        self.store_sessions[-1]["EpisodicMemory"] = [{"topic_summary": P.clean(t), "keywords": ", ".join(k),
                                                     "source_dialog_indices": r} for t, k, r in topics]
        for o in ops:  # the semantic pass applied the turn-level ops of other memories; the rest land now
            if o.memory == "episodic" or not o.evidence:
                apply_op(self.memory, o)
        procedural = self.procedural_entries(s)
        prompt = P.fill(self.t["MLLM_PROCEDURAL_MEMORY_PROMPT"], UserProfile=self.profile_text(),
                        CurrentProceduralMemory=str(self.procedural), DialogHistory=plain)
        if procedural or self.procedural:  # with no goal or habit before or after, there is nothing to write
            self.calls.append(Call("procedural", s.id, [(prompt, P.key_value_lines(procedural))], ids))
        profile = self.core_entries(s)
        prompt = P.fill(self.t["MLLM_CORE_MEMORY_UPDATE_PROMPT"], UserProfile=self.profile_text(), DialogHistory=plain)
        self.calls.append(Call("core", s.id, [(prompt, P.key_value_lines(profile))], ids))
        # the agent stamps the rewrite an hour after the session's last message
        last = [t.time for t in s.turns if t.role == "user"][-1]
        self.procedural, self.profile = procedural, {**profile, "update time": _plus_hour(last)}

    def topics(self, s: Session, ops: list[MemoryOp]) -> list[tuple[str, list[str], list[int]]]:
        out, covered = [], set()
        for o in ops:
            if o.memory != "episodic" or o.op != "ADD":
                continue
            facts = [self.facts[fid] for fid in o.fact_ids]
            text = [self.sentence(f) for f in facts if f.modality == "text"]
            event = self.events[o.fact_ids[0].rsplit("/", 1)[0]]
            if not text:
                what = event.image_spec.caption.removeprefix("A photo of ").rstrip(".")
                text = [f"{self.first} shared a photo of {what}."]
            elif event.image_spec is not None:
                text.append(f"{self.first} shared a photo of it.")
            rounds = sorted({i // 2 for i in o.evidence})
            covered.update(rounds)
            out.append((" ".join(text), list(o.keywords), rounds))
        rest = [k for k in range(len(s.turns) // 2) if k not in covered]
        if rest:
            out.append((f"{self.first} asked the assistant questions and made small talk.", ["questions", "small talk"], rest))
        return out

    def setter(self, s: Session, key: str, op_kinds: tuple[str, ...] = ("ADD", "UPDATE")) -> MemoryOp:
        """The latest op up to session `s` that wrote `key`."""
        return next(o for pos, o in reversed(self.writes[key]) if pos <= s.index and o.op in op_kinds)

    def told_op(self, o: MemoryOp, strict: bool = True) -> str:
        f = self.facts[o.fact_ids[0]]
        value = f.value.removeprefix("working towards: ").partition("; latest step: ")[0]
        return self.told(value, f.terms, o.session_id, o.evidence, strict)

    def procedural_entries(self, s: Session) -> dict[str, str]:
        out = {}
        for key in self.memory["procedural"]:
            o = self.setter(s, key)
            first = self.facts[o.fact_ids[0]]
            if key.startswith("habit/"):
                out[f"habit {first.terms[0]}"] = f"{self.first}'s habit is to {self.told_op(o, strict=False)}."
                continue
            added = self.setter(s, key, ("ADD",))
            sentence = f"{self.first}'s goal is to {self.told_op(added, strict=False)}"
            if first.kind == "goal_progress":
                sentence += f"; lately {self.first} {third_person(self.told_op(o, strict=False))}"
            out[f"goal {self.facts[added.fact_ids[0]].terms[0]}"] = sentence + "."
        return out

    def core_entries(self, s: Session) -> dict[str, str]:
        out = {"name": self.first}
        for key in self.memory["core"]:
            kind, _, what = key.partition("/")
            if key != "profile/name":
                out[what if kind == "profile" else f"favourite {what}"] = self.told_op(self.setter(s, key))
        return out

    # ------------------------------------------------------------------ reasoning

    def reasoning(self, s: Session, q: Query) -> None:
        user = q.turn
        recent, ids = self.exchanges(s, user.index, since=user.time)
        start = P.fill(self.t["MLLM_REASONING_PROMPT_START"], UserProfile=self.profile_text(), DialogHistory=recent,
                       UserQuery=P.query(user.time, user.text, len(user.image_ids)), **P.big_five(self.estimate))
        ids = ids + list(user.image_ids)
        f = q.fact
        if q.source == "core":
            noun = f.key.split("/", 1)[1]
            if not (mentions(self.profile_text(), f.value) or mentions(recent, f.value)):
                return  # the answer is in memory the agent has not written down yet
            think = f"{self.first} wants a suggestion, and the profile and recent conversation say the favourite {noun} is {f.value}."
            self.calls.append(Call("reasoning", s.id, [(start, P.answer_block(think, q.reply.text))], ids,
                                   {"query": q, "source": "core"}))
            return
        retrieved, retrieved_ids, told_at = self.retrieved(q)
        if retrieved is None:
            return
        phrase = user.time_refs[0].phrase
        what = "what they did" if f.kind == "activity" else f"the {f.key.rsplit('/', 1)[1]} in a photo"
        lo, hi = (t.strftime("%Y-%m-%d %H:%M") for t in q.window)
        if max(told_at) > hi:  # told after the day it happened: the agent's window bounds when things were said
            hi = None
        step1 = P.retrieve_block(f"{self.first} asks about {what} {phrase}. That is not in the recent conversation, so I "
                                 "search my memory of that time.", q.keywords, lo, hi)
        think = (f"The retrieved conversation shows {what} {phrase}." if f.kind == "activity" else
                 f"The retrieved conversation holds the photo; I read the {f.key.rsplit('/', 1)[1]} in it.")
        self.calls.append(Call("reasoning", s.id, [(start, step1), (retrieved, P.answer_block(think, q.reply.text))],
                               ids + retrieved_ids, {"query": q, "source": q.source, "start": start, "start_images": ids}))

    def _exchanges_before(self, q: Query):
        """Every exchange the agent's retriever may return for the question: from before its session."""
        return [(u, a) for s in self.sessions if s.id != q.session.id and s.start_time < q.turn.time
                for u, a in zip(s.turns[::2], s.turns[1::2])]

    def _mid(self, q: Query, told: list) -> tuple[str, list[str]]:
        """The MID prompt: procedural entries and semantic memories (from before the question's session) that
        share a keyword, and the retrieved exchanges with their photos."""
        words = [k.lower() for k in q.keywords]
        procedural = [f"{k}: {v}" for k, v in self.procedural.items() if any(w in f"{k} {v}".lower() for w in words)]
        semantic = [f"Time: {P.stamp(i[0]['time'])}\nMemory: {entry['content']}" for sess in self.store_sessions
                    for i, entry in zip(sess["interactions"], sess["semantic_memory"])
                    if entry["decision"] and i[0]["time"] < q.session.start_time
                    and any(w in (entry["content"] + entry["keywords"]).lower() for w in words)]
        dialog = [P.exchange(u.time, self.user_turn(u), a.text) for u, a in told]
        prompt = P.fill(self.t["MLLM_REASONING_PROMPT_MID"], ProceduralMemory="\n".join(procedural[: TOP_K["procedural"]]),
                        SemanticMemory="\n".join(semantic[-TOP_K["semantic"]:]), DialogHistory="\n".join(dialog))
        return prompt, [i for u, _ in told for i in u.image_ids]

    def _telling_before(self, q: Query) -> list:
        """The exchanges from before the question's session that tell its event, in order."""
        return [(u, a) for s, u, a in self.telling.get(q.event.id, ()) if s.id != q.session.id and s.start_time < q.turn.time]

    def retrieved(self, q: Query) -> tuple[str | None, list[str], list[str]]:
        """What the search within the question's window brings back: the exchanges that told the event."""
        told = self._telling_before(q)[: TOP_K["episodic"]]
        if not told:
            return None, [], []
        prompt, ids = self._mid(q, told)
        return prompt, ids, [u.time for u, _ in told]

    def search(self, q: Query) -> tuple[str, list[str], list[str]] | None:
        """A search by the question's keywords alone (no window): the asked exchange and the latest other ones
        about the same people (or the same object in another photo), and those others' answers, which the
        question's time phrase must tell apart. None when nothing else comes back for an activity."""
        asked = self._telling_before(q)[:1]
        if not asked:
            return None
        name = q.fact.key.rsplit("/", 1)[1] if q.fact.kind == "visual" else None
        words = {k.lower() for k in q.keywords}
        others, decoys = [], []
        for u, a in reversed(self._exchanges_before(q)):
            for eid in dict.fromkeys(fid.rsplit("/", 1)[0] for fid in u.fact_ids):
                e = self.events[eid]
                if eid == q.event.id or e.kind != q.event.kind or len(others) >= TOP_K["episodic"]:
                    continue
                if name is None and words & {p.lower() for p in e.participants}:
                    decoys.append(e.facts[0].value.split(" with ")[0])
                elif name and e.image_spec and any(o.name == name for o in e.image_spec.objects):
                    decoys.append(next(o.colour for o in e.image_spec.objects if o.name == name))
                else:
                    continue
                others.append((u, a))
        if name is None and not others:
            return None
        told = sorted(asked + others, key=lambda x: x[0].time)
        prompt, ids = self._mid(q, told)
        return prompt, ids, decoys

    # ------------------------------------------------------------------ the store

    def store(self, image_path) -> dict:
        """`user_data.json` in the agent's own shape; `image_path(image_id)` names each photo's file."""
        sessions = []
        for sess in self.store_sessions:
            sessions.append({**sess, "interactions": [[q, r, chain, [image_path(i) for i in names]]
                                                      for q, r, chain, names in sess["interactions"]]})
        return {"init_profile": {"name": self.first}, "imgs": [image_path(i) for i in self.image_names],
                "big_five_personality": {t: round(v, 4) for t, v in self.estimate.items()},
                "current_interactions": self.interactions, "sessions": sessions}


def _plus_hour(t: str) -> str:
    return fmt_time(parse_time(t) + timedelta(minutes=P.SESSION_GAP_MIN))


_REASONS = {"core": "a fact about who {name} is or what {name} likes", "semantic": "something about {name}'s life",
            "procedural": "a goal or habit of {name}"}


def _reason(ops: list[MemoryOp], name: str) -> str:
    kinds = list(dict.fromkeys(o.memory for o in ops))
    verb = "changes" if any(o.op in ("UPDATE", "DELETE") for o in ops) else "tells"
    return f"The message {verb} " + " and ".join(_REASONS[k].format(name=name) for k in kinds) + "."


def third_person(text: str) -> str:
    """A step the user told ("asked my manager") as said of them ("asked their manager")."""
    return re.sub(r"\b(I'm|I've|I|my|me|mine|myself|am|we're|we|our|us)\b", lambda m: _FIRST_PERSON[m.group(1).lower()],
                  text, flags=re.IGNORECASE)
