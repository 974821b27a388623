"""The history a benchmark question is asked over, what that history tells, and worlds that differ in one fact.

Gold answers are defined by what the user said inside the history given to the model (a preference
shift told only after the question's time, or before the history starts, does not exist for it), so
every answer can be checked against the text. The edits (`flipped`, `without`, `telling`,
`with_objects`, `restyled`) build the same history in a world where one piece of evidence is different; the
evidence-flip certificate re-derives a question's gold over such a history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pipeline.records import Event, Fact, Image, Persona, SceneObject, Session, Turn, fmt_time, parse_time
from pipeline.verbalize.voice import restyle, shown_pole, trait_counts


@dataclass(frozen=True)
class Told:
    """A fact the user conveyed in a turn of the history."""

    fact: Fact
    event: Event
    session: Session
    turn: Turn

    @property
    def time(self) -> datetime:
        return parse_time(self.turn.time)


def substitute(text: str, subs: dict[str, str]) -> str:
    """All replacements at once (so a swap old<->new works), whole words, case-insensitive, keeping the capital
    of a sentence start (not one the replaced text has of its own: "I kept dreading it" -> "the money ran out")."""
    if not subs:
        return text
    lower = {k.lower(): (k, v) for k, v in subs.items()}
    pattern = re.compile(r"\b(" + "|".join(re.escape(k) for k in sorted(subs, key=len, reverse=True)) + r")\b", re.IGNORECASE)

    def one(m: re.Match) -> str:
        old, new = lower[m.group(0).lower()]
        capital = m.group(0)[:1].isupper() and not old[:1].isupper()
        return new[:1].upper() + new[1:] if capital else new

    return pattern.sub(one, text)


@dataclass
class Window:
    persona: Persona  # for the distractor pools only: golds come from what was told
    sessions: list[Session]  # the history, oldest first
    now: datetime  # when the question is asked: after the last session of the history
    events: dict[str, Event]
    images: dict[str, Image]
    told: list[Told] = field(default_factory=list)

    def __post_init__(self) -> None:
        facts = {f.id: (f, e) for e in self.events.values() for f in e.facts}
        for s in self.sessions:
            for t in s.turns:
                if t.role == "user":
                    self.told += [Told(*facts[fid], s, t) for fid in t.fact_ids]

    def of_kind(self, *kinds: str) -> list[Told]:
        return [x for x in self.told if x.fact.kind in kinds]

    def with_key(self, key: str) -> list[Told]:
        return [x for x in self.told if x.fact.key == key]

    def latest(self, key: str) -> Told | None:
        hits = self.with_key(key)
        return hits[-1] if hits else None

    @property
    def turns(self) -> int:
        """User-assistant exchanges, as PersonaVLM counts a history's turns."""
        return sum(len(s.turns) for s in self.sessions) // 2

    @property
    def image_turns(self) -> list[tuple[Session, Turn, Image]]:
        return [(s, t, self.images[i]) for s in self.sessions for t in s.turns for i in t.image_ids]

    def user_text(self) -> str:
        return "\n".join(t.text for s in self.sessions for t in s.turns if t.role == "user")

    # ------------------------------------------------------------ other worlds

    def _rebuilt(self, events: dict[str, Event], turn_edit, extra_turn: Turn | None = None) -> Window:
        sessions = [s.model_copy(update={"turns": [turn_edit(t) for t in s.turns]}) for s in self.sessions]
        if extra_turn is not None:
            sessions[-1] = sessions[-1].model_copy(update={"turns": [*sessions[-1].turns, extra_turn]})
        return Window(self.persona, sessions, self.now, events, dict(self.images))

    def flipped(self, fact_ids: list[str], subs: dict[str, str], **update) -> Window:
        """The world where these facts (and every turn that tells them) say `subs` instead; `update` sets
        fact fields outright (e.g. a new value)."""
        ids = set(fact_ids)
        events = dict(self.events)
        for eid, e in self.events.items():
            if any(f.id in ids for f in e.facts):
                facts = [f.model_copy(update={"key": substitute(f.key, subs), "value": substitute(f.value, subs),
                                              "text": substitute(f.text, subs),
                                              "terms": [substitute(x, subs) for x in f.terms], **update})
                         if f.id in ids else f for f in e.facts]
                events[eid] = e.model_copy(update={"facts": facts, "place": e.place and substitute(e.place, subs),
                                                   "participants": [substitute(p, subs) for p in e.participants]})
        return self._rebuilt(events, lambda t: t.model_copy(update={"text": substitute(t.text, subs)})
                             if ids & set(t.fact_ids) else t)

    def without(self, fact_ids: set[str]) -> Window:
        """The world where the user never told these facts (the turns that told them say nothing of them)."""
        return self._rebuilt(dict(self.events), lambda t: t.model_copy(update={
            "fact_ids": [f for f in t.fact_ids if f not in fact_ids], "text": "..."}) if fact_ids & set(t.fact_ids) else t)

    def telling(self, fact: Fact, event: Event) -> Window:
        """The world where, at the end of the history, the user also told `fact` (in the fact's own words)."""
        last = self.sessions[-1].turns[-1]
        turn = Turn(index=last.index + 1, role="user", time=fmt_time(parse_time(last.time) + timedelta(minutes=1)),
                    text=fact.text, image_ids=[], fact_ids=[fact.id], time_refs=[])
        events = {**self.events, event.id: event.model_copy(update={"facts": [*event.facts, fact]})}
        return self._rebuilt(events, lambda t: t, turn)

    def style_pole(self, trait: str, least: int = 3) -> bool | None:
        """The pole of a trait the user's words show (True: high), from the sentences the persona writes for
        it (`voice.TRAIT_TAILS`): at least `least` of one pole and none of the other; None when the text does not say."""
        return shown_pole(*trait_counts(self.user_text())[trait], least=least)

    def restyled(self, trait: str) -> Window:
        """The world where the user's words show the other pole of the trait: each of its sentences in the
        user's turns becomes the other pole's sentence of the same rank."""
        return self._rebuilt(dict(self.events), lambda t: t.model_copy(update={"text": restyle(t.text, trait)})
                             if t.role == "user" else t)

    def with_objects(self, image_id: str, objects: list[SceneObject]) -> Window:
        """The world where the photo showed these objects instead."""
        image = self.images[image_id]
        images = {**self.images, image_id: image.model_copy(update={"spec": image.spec.model_copy(update={"objects": objects})})}
        return Window(self.persona, self.sessions, self.now, dict(self.events), images)


def told_profile(first_session: dict, events: list[dict]) -> dict[str, str]:
    """The profile as the user gave it in their first session (the words they used: a first name, a city),
    nothing the history does not say."""
    facts = {f["id"]: f for e in events for f in e["facts"] if f["kind"] == "profile"}
    said = [facts[fid] for t in first_session["turns"] if t["role"] == "user" for fid in t["fact_ids"] if fid in facts]
    return {f["key"].split("/", 1)[1]: f["terms"][0] for f in said}
