"""The vocabularies the sampler and the simulator draw from, loaded and validated from `personas/`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.records import TRAITS


class LexiconError(ValueError):
    """A malformed lexicon file: the message names the file, the entry and the problem."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PreferenceCategory(_Entry):
    noun: str
    items: list[str] = Field(min_length=4)


class Venue(_Entry):
    setting: str
    activities: list[str] = Field(min_length=4)  # Persona-MME draws three distractors from the same kind of venue


class Places(_Entry):
    prefixes: list[str] = Field(min_length=10)
    venues: dict[str, Venue] = Field(min_length=3)


class LifeEvent(_Entry):
    text: str
    key: str
    effect: dict[str, float]


class GoalEntry(_Entry):
    text: str
    key: str
    steps: list[str] = Field(min_length=1)
    done: str


class HabitEntry(_Entry):
    activity: str
    key: str
    part: str


class Reason(_Entry):
    text: str
    key: str


class Relationships(_Entry):
    roles: dict[str, tuple[int, int]] = Field(min_length=6)
    closer: list[Reason] = Field(min_length=1)
    further: list[Reason] = Field(min_length=1)


class Lexicon(_Entry):
    first_names: list[str]
    last_names: list[str]
    occupations: list[str]
    locations: list[str]
    interests: list[str]
    abandon_reasons: list[str]
    preferences: dict[str, PreferenceCategory]
    places: Places
    objects: dict[str, str]
    scenes: dict[str, list[str]] = Field(min_length=1)  # setting -> the objects a photo there shows
    life_events: list[LifeEvent]
    goals: list[GoalEntry]
    habits: list[HabitEntry]
    reasons: list[Reason]
    relationships: Relationships

    @field_validator("objects")
    @classmethod
    def _drawable(cls, v: dict[str, str]) -> dict[str, str]:
        from pipeline.images.procedural import SHAPES, drawable

        bad = {name: shape for name, shape in v.items() if not drawable(shape)}
        if bad:
            raise ValueError(f"objects the renderer cannot draw: {bad}; use one of {', '.join(SHAPES)}, or icon:<name> "
                             "with a Font Awesome Free Solid icon name (e.g. icon:laptop)")
        return v

    @model_validator(mode="after")
    def _scenes_fit(self) -> Lexicon:
        unknown = sorted({o for names in self.scenes.values() for o in names} - set(self.objects))
        if unknown:
            raise ValueError(f"scenes name objects that objects.yaml does not list: {unknown}")
        bare = sorted(s for s in {v.setting for v in self.places.venues.values()} if len(self.scenes.get(s, [])) < 3)
        if bare:
            raise ValueError(f"settings of places.yaml venues with fewer than 3 objects in scenes.yaml: {bare}")
        return self


_LISTS = {"first_names": 100, "last_names": 100, "occupations": 50, "locations": 50, "interests": 50,
          "abandon_reasons": 3}
_YAMLS = ("preferences", "places", "objects", "scenes", "life_events", "goals", "habits", "reasons", "relationships")


def _read_list(path: Path, minimum: int) -> list[str]:
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    items = [ln for ln in lines if ln and not ln.startswith("#")]
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item in seen:
            raise LexiconError(f"{path}: '{item}' appears twice (entry {i + 1}); each entry must be unique")
        seen.add(item)
    if len(items) < minimum:
        raise LexiconError(f"{path}: has {len(items)} entries, needs at least {minimum}")
    return items


@lru_cache(maxsize=4)
def load_lexicon(folder: Path) -> Lexicon:
    folder = Path(folder)
    data: dict = {}
    for name, minimum in _LISTS.items():
        path = folder / f"{name}.txt"
        try:
            data[name] = _read_list(path, minimum)
        except OSError as e:
            raise LexiconError(f"cannot read lexicon {path}: {e.strerror or e}") from None
    for name in _YAMLS:
        path = folder / f"{name}.yaml"
        try:
            data[name] = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise LexiconError(f"cannot read lexicon {path}: {e.strerror or e}") from None
        except yaml.YAMLError as e:
            raise LexiconError(f"lexicon {path} is not valid YAML: {e}") from None
    try:
        lex = Lexicon(**data)
    except ValidationError as e:
        first = e.errors()[0]
        loc = list(first["loc"])
        where = f"{folder / (str(loc[0]) + '.yaml')}" + (f", entry {'.'.join(map(str, loc[1:]))}" if loc[1:] else "")
        raise LexiconError(f"malformed lexicon {where}: {first['msg']} ({len(e.errors())} problem(s) in all)") from None
    for ev in lex.life_events:
        unknown = set(ev.effect) - set(TRAITS)
        if unknown:
            raise LexiconError(f"{folder / 'life_events.yaml'}: '{ev.text}' has unknown traits {sorted(unknown)}; use {TRAITS}")
    # Every `key` is what the text must contain to count as stating the entry: it must be in its own text.
    keyed = [("goals", g.text, g.key) for g in lex.goals] + [("habits", h.activity, h.key) for h in lex.habits] \
        + [("life_events", e.text, e.key) for e in lex.life_events] + [("reasons", r.text, r.key) for r in lex.reasons] \
        + [("relationships", r.text, r.key) for r in lex.relationships.closer + lex.relationships.further]
    for file, text, key in keyed:
        if key.lower() not in text.lower():
            raise LexiconError(f"{folder / (file + '.yaml')}: key '{key}' does not occur in '{text}'; "
                               "the key must be a phrase of the text")
    for h in lex.habits:
        if h.part not in ("morning", "afternoon", "evening"):
            raise LexiconError(f"{folder / 'habits.yaml'}: '{h.activity}' has part '{h.part}'; use morning, afternoon or evening")
    return lex
