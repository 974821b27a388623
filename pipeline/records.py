"""The records every stage reads and writes.

Times are local wall-clock strings "YYYY-MM-DD HH:MM" (PersonaVLM's format): one clock per persona,
sortable as text, identical in Parquet, JSON and prompts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

TIME_FORMAT = "%Y-%m-%d %H:%M"
Time = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")]
Score = Annotated[float, Field(ge=1.0, le=5.0)]
Split = Literal["train", "bench"]
TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")


def fmt_time(t: datetime) -> str:
    return t.strftime(TIME_FORMAT)


def parse_time(s: str) -> datetime:
    return datetime.strptime(s, TIME_FORMAT)


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BigFive(Record):
    openness: Score
    conscientiousness: Score
    extraversion: Score
    agreeableness: Score
    neuroticism: Score

    def as_tuple(self) -> tuple[float, ...]:
        return tuple(getattr(self, t) for t in TRAITS)


class Style(Record):
    """How a persona writes; each knob in [0, 1] follows from one trait (see personas.sampler)."""

    exuberance: float = Field(ge=0, le=1, description="extraversion: exclamations, greetings, sharing")
    warmth: float = Field(ge=0, le=1, description="agreeableness: thanks and kind words vs bluntness")
    precision: float = Field(ge=0, le=1, description="conscientiousness: exact times and plans")
    worry: float = Field(ge=0, le=1, description="neuroticism: hedges and worries")
    vividness: float = Field(ge=0, le=1, description="openness: colourful wording, curiosity")
    summary: str


class Rhythm(Record):
    """When a persona tends to talk to the assistant."""

    sessions_per_week: float = Field(gt=0)
    peak_hour: float = Field(ge=0, lt=24)
    hour_spread: float = Field(gt=0)
    weekend_factor: float = Field(gt=0)


class Person(Record):
    name: str
    role: str
    closeness: int = Field(ge=1, le=5, description="closeness at the start of the timeline")


class Goal(Record):
    id: str
    text: str
    key: str


class Habit(Record):
    id: str
    activity: str
    key: str
    weekday: int = Field(ge=0, le=6)
    part: Literal["morning", "afternoon", "evening"]


class Preference(Record):
    category: str
    noun: str
    item: str


class Persona(Record):
    id: str
    split: Split
    name: str
    age: int = Field(ge=18, le=90)
    occupation: str
    location: str
    bio: str
    big_five: BigFive
    style: Style
    rhythm: Rhythm
    interests: list[str]
    relationships: list[Person]
    goals: list[Goal]
    habits: list[Habit]
    preferences: list[Preference]


FactKind = Literal[
    "profile", "interest", "preference", "relationship", "habit", "goal", "goal_progress",
    "goal_outcome", "preference_shift", "shift_reason", "relationship_change", "life_event",
    "activity", "visual",
]


class Fact(Record):
    """One atomic, checkable statement about the persona's world.

    `key`/`value` give it a slot in memory (a later fact with the same key supersedes it);
    `terms` must appear in any text that claims to convey it. Visual facts are conveyed by an image.
    """

    id: str
    kind: FactKind
    key: str
    value: str
    text: str
    terms: list[str]
    modality: Literal["text", "image"] = "text"


class SceneObject(Record):
    name: str
    shape: str
    colour: str
    count: int = Field(ge=1, le=6)


class SceneSpec(Record):
    setting: str
    objects: list[SceneObject] = Field(min_length=1)
    caption: str


EventKind = Literal[
    "background", "activity", "habit", "preference_shift", "goal_start", "goal_progress",
    "goal_outcome", "relationship_change", "life_event", "snapshot",
]


class TraitDelta(Record):
    trait: Literal["openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism"]
    delta: float


class Event(Record):
    id: str
    persona_id: str
    split: Split
    time: Time
    kind: EventKind
    participants: list[str]
    place: str | None
    facts: list[Fact]
    image_spec: SceneSpec | None = None
    trait_effect: list[TraitDelta] = Field(default_factory=list, description="how a strong event moves the true personality")


class TimeRef(Record):
    """A relative date phrase in a turn and the event it points at (auditable against the clock)."""

    event_id: str
    phrase: str


class Turn(Record):
    index: int = Field(ge=0)
    role: Literal["user", "assistant"]
    time: Time
    text: str
    image_ids: list[str]
    fact_ids: list[str] = Field(description="user: facts this turn conveys; assistant: earlier facts it recalls")
    time_refs: list[TimeRef]


class Session(Record):
    id: str
    persona_id: str
    split: Split
    index: int = Field(ge=0)
    start_time: Time
    end_time: Time
    turns: list[Turn] = Field(min_length=2)
    planned_fact_ids: list[str]
    true_personality: BigFive


class Image(Record):
    model_config = ConfigDict(extra="forbid", ser_json_bytes="base64", val_json_bytes="base64")

    id: str
    persona_id: str
    split: Split
    session_id: str
    turn_index: int
    event_id: str
    spec: SceneSpec
    caption: str
    png: bytes = Field(repr=False)


class PersonaPart(Record):
    """Everything one persona produces: the unit of parallel work and of resume."""

    persona: Persona
    events: list[Event]
    sessions: list[Session]
    images: list[Image]
