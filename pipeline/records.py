"""The records every stage reads and writes.

Times are local wall-clock strings "YYYY-MM-DD HH:MM" (PersonaVLM's format): one clock per persona,
sortable as text, identical in Parquet, JSON and prompts.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
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


@functools.lru_cache(maxsize=1 << 16)
def parse_time(s: str) -> datetime:
    """Cached: a persona's few thousand distinct times are parsed over and over by the labels."""
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
    habits: list[Habit] = Field(description="the habits at the start; those taken up later are events")
    preferences: list[Preference]


FactKind = Literal[
    "profile", "interest", "preference", "relationship", "habit", "goal", "goal_progress",
    "goal_outcome", "preference_shift", "shift_reason", "relationship_change", "life_event",
    "activity", "visual", "habit_end",
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
    "goal_outcome", "relationship_change", "life_event", "snapshot", "habit_start", "habit_end",
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


TextSource = Literal["scripted", "llm", "llm-repaired", "scripted-fallback"]
TEXT_SOURCES: tuple[str, ...] = TextSource.__args__


@dataclass(frozen=True)
class EventIndex:
    """A persona's events, and its events and facts by id: built once per persona, read by every stage after."""

    events: tuple[Event, ...]
    event: dict[str, Event]
    fact: dict[str, Fact]

    @classmethod
    def of(cls, events: Iterable[Event]) -> EventIndex:
        events = tuple(events)
        return cls(events, {e.id: e for e in events}, {f.id: f for e in events for f in e.facts})


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
    source: TextSource = Field("scripted", description="who wrote the text: the scripted backend, the LLM (first try or "
                                                       "after a repair request), or the scripted draft after the LLM failed")


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




# ---------------------------------------------------------------- training labels (train split)

Memory = Literal["core", "semantic", "episodic", "procedural"]
MEMORIES: tuple[str, ...] = ("core", "semantic", "episodic", "procedural")


class MemoryOp(Record):
    """One operation of the Update stage; replaying a persona's ops in order rebuilds its memory."""

    session_id: str
    persona_id: str
    split: Split
    index: int = Field(ge=0, description="order within the session")
    memory: Memory
    op: Literal["ADD", "UPDATE", "DELETE", "NOOP"]
    key: str | None = Field(description="entry key; None for a session-level NOOP (nothing changed in this memory)")
    before: str | None
    after: str | None
    keywords: list[str]
    evidence: list[int] = Field(description="indices of the turns that state it")
    fact_ids: list[str]
    time: Time


class Scores(Record):
    openness: int = Field(ge=1, le=5)
    conscientiousness: int = Field(ge=1, le=5)
    extraversion: int = Field(ge=1, le=5)
    agreeableness: int = Field(ge=1, le=5)
    neuroticism: int = Field(ge=1, le=5)


class PersonalityObs(Record):
    session_id: str
    persona_id: str
    split: Split
    m: int = Field(ge=1, description="1-based session count")
    lam: float = Field(description="λ_m = 0.7 − 0.2·cos(π·min(m, 50)/50)")
    observed: Scores
    estimate: BigFive
    true: BigFive


class ContentPart(Record):
    type: Literal["text", "image"]
    text: str | None = None


class Message(Record):
    role: Literal["system", "user", "assistant"]
    content: list[ContentPart]


class SftSample(Record):
    model_config = ConfigDict(extra="forbid", ser_json_bytes="base64", val_json_bytes="base64")

    id: str
    persona_id: str
    split: Split
    task: Literal["reasoning", "personality", "core", "semantic", "episodic", "procedural"]
    session_id: str
    messages: list[Message]
    image_ids: list[str]
    images: list[bytes] = Field(repr=False, description="PNG bytes, one per image part, in order")


class Choice(Record):
    key: str
    text: str


class RlSample(Record):
    model_config = ConfigDict(extra="forbid", ser_json_bytes="base64", val_json_bytes="base64")

    id: str
    persona_id: str
    split: Split
    kind: Literal["multiple-choice", "two-choice", "open"]
    session_id: str
    prompt: list[Message]
    image_ids: list[str]
    images: list[bytes] = Field(repr=False)
    choices: list[Choice]
    reference: str = Field(description="the option key such as '(b)', or the short open answer")
    reference_text: str
    evidence: list[str] = Field(description="fact ids that support the reference")
    group_size: int = Field(6, ge=2)


class Evidence(Record):
    """Where a benchmark answer is stated: a turn of the history, and the fact or image it carries."""

    session_id: str
    turn_index: int
    fact_id: str | None = None
    image_id: str | None = None


class Alignment(Record):
    chosen: str
    rejected: str


class MmeQuestion(Record):
    """One Persona-MME item: a question asked in the conversation at `time`, over the real history
    `history_sessions` (all of the persona's sessions from the first listed up to `time`)."""

    id: str
    persona_id: str
    split: Split
    setting: Literal["32k", "128k"]
    aspect: str
    task: str
    time: Time
    query: str
    choices: list[Choice]
    answer: str = Field(description="the correct option key, e.g. '(c)'")
    answer_text: str
    evidence: list[Evidence]
    history_sessions: list[str]
    needs_image: bool
    context_turns: int = Field(description="user-assistant exchanges in the history (PersonaVLM's turns)")
    context_images: int
    context_tokens: int = Field(description="tokens of the history, counted as `token_counter` says")
    token_counter: str
    alignment: Alignment | None = Field(None, description="Personality Alignment: the aligned and the misaligned reply")
    certified: bool = Field(False, description="evidence-flip certificate: in the world where the evidence says one of "
                                               "the distractors, the gold re-derived over the edited history is that "
                                               "distractor (Personality Alignment has no single-fact flip: false)")


class Quarantine(Record):
    """A persona the text backend could not produce correctly; shipped instead of its data."""

    persona_id: str
    split: Split
    session_id: str
    reason: str
    attempts: int


class PersonaPart(Record):
    """Everything one persona produces: the unit of parallel work and of resume."""

    persona: Persona
    events: list[Event]
    sessions: list[Session]
    images: list[Image]
    memory_ops: list[MemoryOp] = Field(default_factory=list)
    personality: list[PersonalityObs] = Field(default_factory=list)
    sft: list[SftSample] = Field(default_factory=list)
    rl: list[RlSample] = Field(default_factory=list)
    quarantine: list[Quarantine] = Field(default_factory=list)
    mme: list[MmeQuestion] = Field(default_factory=list)
    stats: dict[str, float] = Field(default_factory=dict, description="counts the tables cannot show (e.g. dropped samples)")
