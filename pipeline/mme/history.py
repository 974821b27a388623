"""The history a benchmark question is asked over, and what that history tells.

Gold answers are defined by what the user said inside the history given to the model (a preference
shift told only after the question's time, or before the history starts, does not exist for it), so
every answer can be checked against the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pipeline.records import Event, Fact, Image, Persona, Session, Turn, parse_time


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


@dataclass
class Window:
    persona: Persona
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
        return sum(len(s.turns) for s in self.sessions)

    @property
    def image_turns(self) -> list[tuple[Session, Turn, Image]]:
        return [(s, t, self.images[i]) for s in self.sessions for t in s.turns for i in t.image_ids]
