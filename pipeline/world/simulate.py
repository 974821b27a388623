"""The world simulator: a persona's months of life as ground truth, before any text exists.

It lays out when the persona talks to the assistant (the session calendar), what happens to them
(events made of atomic facts), and how their personality truly drifts. Everything later — dialogue,
labels, benchmark answers — is derived from this and checked against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import numpy as np

from pipeline.config import RunConfig
from pipeline.grammar import indefinite
from pipeline.personas.lexicon import Lexicon
from pipeline.records import TRAITS, Event, EventKind, Fact, Habit, Persona, SceneObject, TraitDelta, fmt_time
from pipeline.rng import pick, rng_for
from pipeline.world.clock import MONTHS, WEEKDAYS

COLOURS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white", "gray", "teal")
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six")
MAX_COUNT = 4  # objects in a scene come in ones to fours
SILENCE = timedelta(minutes=60)  # a new session starts after this much silence (PersonaVLM)
MAX_EXCHANGE = timedelta(minutes=7)  # upper bound of one user-assistant exchange's duration


@dataclass
class DraftEvent:
    time: datetime
    kind: EventKind
    facts: list[dict]
    participants: list[str] = field(default_factory=list)
    place: str | None = None
    objects: list[SceneObject] = field(default_factory=list)
    trait_effect: dict[str, float] = field(default_factory=dict)
    # what the verbalizer needs to tell it (phrases, names); never shipped as truth on its own
    slots: dict = field(default_factory=dict)


@dataclass
class World:
    persona: Persona
    start: datetime
    end: datetime
    events: list[Event]
    slots: dict[str, dict]  # event id -> verbalization slots
    object_shapes: dict[str, str]  # what can appear in a photo, and how it is drawn
    scenes: dict[str, list[str]]  # setting -> the objects a photo there may show
    session_starts: list[datetime]
    trajectory: np.ndarray  # (days, 5): the true Big Five on each day
    proper_nouns: set[str] = field(default_factory=set)  # first words that keep their capital letter

    def personality_at(self, t: datetime) -> dict[str, float]:
        d = min(max((t - self.start).days, 0), len(self.trajectory) - 1)
        return {k: round(float(v), 2) for k, v in zip(TRAITS, self.trajectory[d])}


def add_months(d: datetime, months: int) -> datetime:
    y, m = divmod(d.month - 1 + months, 12)
    return d.replace(year=d.year + y, month=m + 1, day=min(d.day, 28))


def fact(kind: str, key: str, value: str, text: str, terms: list[str], modality: str = "text") -> dict:
    return {"kind": kind, "key": key, "value": value, "text": text, "terms": terms, "modality": modality}


# ---------------------------------------------------------------- calendar


def session_calendar(persona: Persona, start: datetime, end: datetime, max_exchanges: int,
                     rng: np.random.Generator) -> list[datetime]:
    """Session start times following the persona's weekly and daily rhythm.

    Consecutive starts are at least one maximal session plus the silence gap apart, so sessions never
    merge; the first day always has a session (the introduction).
    """
    r = persona.rhythm
    per_weekday = r.sessions_per_week / (5 + 2 * r.weekend_factor)
    min_gap = max_exchanges * MAX_EXCHANGE + SILENCE + timedelta(minutes=1)
    starts: list[datetime] = []
    day = start
    while day < end:
        weekend = day.weekday() >= 5
        rate = per_weekday * (r.weekend_factor if weekend else 1.0)  # expected sessions that day
        p = min(0.95, rate)
        n = int(rng.random() < p or day == start) + int(rng.random() < 0.1 * p)
        if rate > p:  # a frequent user: the rest of the day's rate as further sessions
            n += int(rng.poisson(rate - p))
        for _ in range(n):
            hour = _waking_hour(rng, r.peak_hour, r.hour_spread)
            t = day + timedelta(minutes=int(hour * 60))
            if t < end and (not starts or t >= starts[-1] + min_gap):
                starts.append(t)
        day += timedelta(days=1)
    return starts


def _waking_hour(rng: np.random.Generator, peak: float, spread: float) -> float:
    """A normal draw around the peak hour, truncated to waking hours by redrawing (no pile-up at the edges)."""
    for _ in range(16):
        hour = rng.normal(peak, spread)
        if 6.5 <= hour <= 23.8:
            return float(hour)
    return float(np.clip(peak, 6.5, 23.8))


# ---------------------------------------------------------------- personality


def personality_trajectory(persona: Persona, days: int, shocks: list[tuple[int, dict[str, float]]],
                           rng: np.random.Generator) -> np.ndarray:
    """Slow mean-reverting drift around the baseline, plus shifts after strong events.

    Half of a shock persists; the other half fades with a ~20-day time constant.
    """
    base = np.array(persona.big_five.as_tuple())
    drift = np.zeros((days, 5))
    for d in range(1, days):
        drift[d] = drift[d - 1] * 0.95 + rng.normal(0, 0.035, 5)
    shock = np.zeros((days, 5))
    ds = np.arange(days)
    for day, effect in shocks:
        delta = np.array([effect.get(t, 0.0) for t in TRAITS])
        after = ds >= day
        shock[after] += delta * (0.5 + 0.5 * np.exp(-(ds[after] - day) / 20.0))[:, None]
    return np.round(np.clip(base + drift + shock, 1.0, 5.0), 2)


# ---------------------------------------------------------------- events


def _at(rng: np.random.Generator, start: datetime, span: timedelta, lo: float, hi: float,
        hours: tuple[int, int] = (8, 21)) -> datetime:
    day = start + timedelta(days=int(span.days * rng.uniform(lo, hi)))
    return datetime.combine(day.date(), time(int(rng.integers(*hours)), int(rng.integers(0, 12)) * 5))


def _background(p: Persona, start: datetime) -> DraftEvent:
    first = p.name.split()[0]
    city = p.location.split(",")[0]
    facts = [
        fact("profile", "profile/name", p.name, f"The user's name is {p.name}.", [first]),
        fact("profile", "profile/occupation", p.occupation, f"{first} works as {indefinite(p.occupation)}.", [p.occupation]),
        fact("profile", "profile/location", p.location, f"{first} lives in {p.location}.", [city]),
        fact("profile", "profile/age", str(p.age), f"{first} is {p.age} years old.", [str(p.age)]),
    ]
    facts += [fact("interest", f"interest/{i}", i, f"{first} is into {i}.", [i]) for i in p.interests]
    facts += [fact("preference", f"preference/{q.category}", q.item, f"{first}'s favourite {q.noun} is {q.item}.", [q.item])
              for q in p.preferences]
    facts += [fact("relationship", f"relationship/{x.name}", f"{x.role}; closeness {x.closeness}/5",
                   f"{x.name} is {first}'s {x.role} (closeness {x.closeness}/5).", [x.name, x.role]) for x in p.relationships]
    facts += [_habit_fact(h, first) for h in p.habits]
    return DraftEvent(time=start, kind="background", facts=facts)


@dataclass(frozen=True)
class Timeline:
    """What every generator of a persona's events draws from: the persona, the lexicon, the span of time and
    one seeded generator (the generators run in a fixed order, so the world is the same for the same seed)."""

    persona: Persona
    lex: Lexicon
    start: datetime
    end: datetime
    months: int
    rng: np.random.Generator

    @property
    def first(self) -> str:
        return self.persona.name.split()[0]

    def at(self, lo: float, hi: float) -> datetime:
        return _at(self.rng, self.start, self.end - self.start, lo, hi)


GOAL_LANES = 3  # goals pursued at once: with two habits at a time they fill procedural memory's five entries


def goal_events(tl: Timeline) -> tuple[list[dict], list[DraftEvent]]:
    """The persona's goals in `GOAL_LANES` lanes, one after another within a lane: the first goal of the first
    lane is already under way (its fact joins the background). A goal ends completed or abandoned before the
    next of its lane starts; the last of a lane may stay open (then the truthful answer to "did I ever finish
    it?" is "unknown"). Milestones come in their order. Returns (background facts, events)."""
    rng, first = tl.rng, tl.first
    goal_lex = {g.key: g for g in tl.lex.goals}
    goals = tl.persona.goals
    background, drafts = [], []
    for lane in range(GOAL_LANES):
        mine = goals[lane::GOAL_LANES]
        span = 1 / len(mine)
        for k, g in enumerate(mine):
            entry, last = goal_lex[g.key], k == len(mine) - 1
            lo = k * span
            t0 = tl.start if lane == 0 and k == 0 else tl.at(lo + 0.01, lo + 0.05 * span + 0.01)
            goal_fact = fact("goal", f"goal/{g.id}", f"working towards: {g.text}", f"{first} wants to {g.text}.", [g.key])
            if t0 == tl.start:
                background.append(goal_fact)
            else:
                drafts.append(DraftEvent(time=t0, kind="goal_start", facts=[goal_fact], slots={"goal": g.text, "key": g.key}))
            outcome = str(rng.choice(["completed", "abandoned", "open"], p=[0.3, 0.2, 0.5] if last else [0.55, 0.45, 0.0]))
            t_end = tl.end if outcome == "open" else tl.at(lo + 0.8 * span, lo + 0.95 * span if not last else 0.97)
            steps = entry.steps[: int(rng.integers(1, len(entry.steps) + 1))]
            # the milestones in their order (the later one implies the earlier), inside the goal's own span
            shares = sorted(float(x) for x in rng.uniform(0.15, 0.85, len(steps)))
            hours = [int(rng.integers(8, 21)) for _ in steps]
            times = sorted(min(max((t0 + (t_end - t0) * share).replace(hour=h, minute=0), t0 + timedelta(hours=1)),
                               t_end - timedelta(hours=1)) for share, h in zip(shares, hours))
            for step, tp in zip(steps, times):
                drafts.append(DraftEvent(time=tp, kind="goal_progress", slots={"goal": g.text, "key": g.key, "step": step},
                                         facts=[fact("goal_progress", f"goal_progress/{g.id}", step,
                                                     f"Progress on '{g.text}': {first} {step}.", [g.key])]))
            if outcome == "completed":
                drafts.append(DraftEvent(time=t_end, kind="goal_outcome",
                                         slots={"goal": g.text, "key": g.key, "done": entry.done, "outcome": outcome},
                                         facts=[fact("goal_outcome", f"goal/{g.id}", f"completed: {g.text}",
                                                     f"{first} completed the goal '{g.text}': {entry.done}.", [g.key])]))
            elif outcome == "abandoned":
                why = pick(rng, tl.lex.abandon_reasons)
                drafts.append(DraftEvent(time=t_end, kind="goal_outcome",
                                         slots={"goal": g.text, "key": g.key, "why": why, "outcome": outcome},
                                         facts=[fact("goal_outcome", f"goal/{g.id}", f"abandoned: {g.text}",
                                                     f"{first} gave up on '{g.text}' because {why}.", [g.key])]))
    return background, drafts


def preference_shifts(tl: Timeline) -> list[DraftEvent]:
    """Two to four a month plus two (eight to sixteen in three months), each an UPDATE of one preference key,
    for a reason that names only people the persona has."""
    rng, persona, lex, first = tl.rng, tl.persona, tl.lex, tl.first
    n_shifts = int(rng.integers(2 * tl.months + 2, 4 * tl.months + 5))
    current = {q.category: q.item for q in persona.preferences}
    nouns = {q.category: q.noun for q in persona.preferences}
    cats = [q.category for q in persona.preferences]
    order = [cats[int(i)] for i in rng.permutation(len(cats))]
    times = sorted(tl.at(0.15, 0.9) for _ in range(n_shifts))
    reasons = possible_reasons(persona, lex)
    drafts = []
    for k, t in enumerate(times):
        cat = order[k % len(order)]
        old = current[cat]
        new = pick(rng, [x for x in lex.preferences[cat].items if x != old])
        reason = pick(rng, reasons)
        why = reason.text.format(old=old, new=new)
        current[cat] = new
        drafts.append(DraftEvent(
            time=t, kind="preference_shift",
            slots={"old": old, "new": new, "why": why, "noun": nouns[cat]},
            facts=[fact("preference_shift", f"preference/{cat}", new,
                        f"{first} used to love {old} but now prefers {new} ({nouns[cat]}).", [old, new]),
                   fact("shift_reason", f"preference_reason/{cat}", why,
                        f"{first} went off {old} because {why}.", [reason.key])]))
    return drafts


def relationship_changes(tl: Timeline) -> list[DraftEvent]:
    """Closeness moves after something happens between two people (eight to sixteen times)."""
    rng, lex, first = tl.rng, tl.lex, tl.first
    people = {x.name: x for x in tl.persona.relationships}
    closeness = {x.name: x.closeness for x in tl.persona.relationships}
    drafts = []
    for _ in range(int(rng.integers(8, 17))):
        name = pick(rng, list(people))
        up = bool(rng.random() < 0.55)
        cause = pick(rng, lex.relationships.closer if up else lex.relationships.further)
        delta = int(rng.integers(1, 3)) * (1 if up else -1)
        closeness[name] = int(np.clip(closeness[name] + delta, 1, 5))
        why = cause.text.format(name=name)
        role = people[name].role
        drafts.append(DraftEvent(
            time=tl.at(0.1, 0.92), kind="relationship_change", participants=[name],
            slots={"name": name, "role": role, "why": why, "closer": up},
            facts=[fact("relationship_change", f"relationship/{name}", f"{role}; closeness {closeness[name]}/5",
                        f"{first} {'grew closer to' if up else 'drifted from'} {name} ({role}) because {why}; "
                        f"closeness now {closeness[name]}/5.", [name, cause.key])]))
    return drafts


def life_events(tl: Timeline) -> tuple[list[DraftEvent], list[tuple[int, dict[str, float]]]]:
    """Strong life events, and the shocks (day, trait effects) they give the true personality."""
    drafts, shocks = [], []
    for ev in pick(tl.rng, tl.lex.life_events, int(tl.rng.choice([0, 1, 1, 2]))):
        t = tl.at(0.1, 0.85)
        shocks.append(((t - tl.start).days, dict(ev.effect)))
        drafts.append(DraftEvent(time=t, kind="life_event", trait_effect=dict(ev.effect), slots={"text": ev.text},
                                 facts=[fact("life_event", f"life_event/{ev.key}", ev.text, f"{tl.first} {ev.text}.", [ev.key])]))
    return drafts, shocks


HABIT_CHANGE = 0.75  # chance that a habit is dropped some weeks in, and a new one taken up on a free weekday
HOUR_OF_PART = {"morning": 9, "afternoon": 15, "evening": 19}


def habit_events(tl: Timeline) -> list[DraftEvent]:
    """Habits recur on their weekday at their part of the day, and some occurrences come up in conversation. Most
    are dropped some weeks in and a new one is taken up a few days later, on a weekday no habit has had (so a slot
    names one habit for good); at most as many run at once as the persona started with (procedural memory's cap)."""
    rng, persona, first = tl.rng, tl.persona, tl.first
    taken = {h.weekday for h in persona.habits}
    own = {h.activity for h in persona.habits}
    spans: list[tuple[Habit, datetime, datetime]] = []
    drafts = []
    for k, h in enumerate(persona.habits):
        if rng.random() >= HABIT_CHANGE:
            spans.append((h, tl.start, tl.end))
            continue
        stop = tl.at(0.3, 0.65)
        entry = pick(rng, [x for x in tl.lex.habits if x.activity not in own])
        day = pick(rng, sorted(set(range(7)) - taken))
        new = Habit(id=f"{persona.id}/habit{len(persona.habits) + k}", activity=entry.activity, key=entry.key,
                    weekday=day, part=entry.part)  # type: ignore[arg-type]
        taken.add(day)
        own.add(new.activity)
        begin = stop + timedelta(days=int(rng.integers(2, 10)))
        spans += [(h, tl.start, stop), (new, begin, tl.end)]
        weekday = WEEKDAYS[h.weekday]
        drafts.append(DraftEvent(
            time=stop, kind="habit_end", slots={"activity": h.activity, "weekday": weekday, "part": h.part, "key": h.key},
            facts=[fact("habit_end", f"habit/{h.id}", f"stopped: {h.activity} every {weekday} {h.part}",
                        f"{first} stopped doing this every {weekday} {h.part}: {h.activity}.", [h.key, weekday])]))
        drafts.append(DraftEvent(
            time=begin, kind="habit_start",
            slots={"activity": new.activity, "weekday": WEEKDAYS[day], "part": new.part, "key": new.key,
                   "replaces": f"habit/{h.id}"},
            facts=[_habit_fact(new, first)]))
    for h, begin, until in spans:
        day_one = begin if begin == tl.start else datetime.combine(begin.date() + timedelta(days=1), time(0, 0))
        d = day_one + timedelta(days=(h.weekday - day_one.weekday()) % 7, hours=HOUR_OF_PART[h.part])
        while d < until:
            if rng.random() < 0.3:
                drafts.append(DraftEvent(time=d, kind="habit",
                                         slots={"activity": h.activity, "weekday": WEEKDAYS[h.weekday], "key": h.key},
                                         facts=[_habit_fact(h, first)]))
            d += timedelta(days=7)
    return drafts


def _habit_fact(h: Habit, first: str) -> dict:
    weekday = WEEKDAYS[h.weekday]
    return fact("habit", f"habit/{h.id}", f"{h.activity} every {weekday} {h.part}",
                f"{first} does this every {weekday} {h.part}: {h.activity}.", [h.key, weekday])


def everyday_activities(tl: Timeline) -> tuple[list[DraftEvent], list[str]]:
    """Activities at the persona's regular places, at an hour that fits them, sometimes with people, with objects
    in view; and those places."""
    rng, lex = tl.rng, tl.lex
    people = [x.name for x in tl.persona.relationships]
    venues = sorted(lex.places.venues)
    places = sorted({f"{p} {v}" for p, v in zip(pick(rng, lex.places.prefixes, 8), pick(rng, venues, 8, replace=True))})
    drafts = []
    day = tl.start
    while day < tl.end:
        if rng.random() < 0.45:
            place = pick(rng, places)
            venue = lex.places.venues[place.split()[-1]]
            activity = pick(rng, venue.activities)
            who = pick(rng, people, int(rng.choice([0, 1, 1, 2])))
            objs = [SceneObject(name=n, shape=lex.objects[n], colour=c, count=int(rng.integers(1, MAX_COUNT + 1)))
                    for n, c in zip(pick(rng, lex.scenes[venue.setting], int(rng.integers(1, 4))), pick(rng, COLOURS, 3))]
            with_ = f" with {' and '.join(who)}" if who else ""
            lo, hi = activity_hours(activity)
            t = datetime.combine(day.date(), time(int(rng.integers(lo, hi)), int(rng.integers(0, 12)) * 5))
            drafts.append(DraftEvent(
                time=t, kind="activity", participants=who, place=place, objects=objs,
                slots={"activity": activity, "setting": venue.setting},
                facts=[fact("activity", "activity/{event}", f"{activity} at {place}{with_}",
                            f"{tl.first} {activity} at {place}{with_}.", [place, *who])]))
        day += timedelta(days=1)
    return drafts, places


def simulate_world(persona: Persona, cfg: RunConfig, lex: Lexicon) -> World:
    """The persona's months: the background, then each generator in turn over one seeded timeline."""
    seed, pid = cfg.seed, persona.id
    start = datetime.combine(cfg.start_date, time(0, 0))
    end = add_months(start, cfg.months)
    tl = Timeline(persona, lex, start, end, cfg.months, rng_for(seed, pid, "events"))
    background = _background(persona, start)
    goal_facts, goals = goal_events(tl)
    background.facts += goal_facts
    shifts, changes = preference_shifts(tl), relationship_changes(tl)
    shaping, shocks = life_events(tl)
    habits = habit_events(tl)
    activities, places = everyday_activities(tl)
    drafts = sorted([background, *goals, *shifts, *changes, *shaping, *habits, *activities], key=lambda e: (e.time, e.kind))
    events, slots = finalize_events(persona, drafts, 0)
    return World(
        persona=persona, start=start, end=end, events=events, slots=slots, object_shapes=dict(lex.objects),
        scenes={k: list(v) for k, v in lex.scenes.items()},
        session_starts=session_calendar(persona, start, end, cfg.turns_per_session[1], rng_for(seed, pid, "calendar")),
        trajectory=personality_trajectory(persona, (end - start).days, shocks, rng_for(seed, pid, "personality")),
        proper_nouns={tl.first, *(x.name for x in persona.relationships), *(p.split()[0] for p in places), *WEEKDAYS, *MONTHS},
    )


# the hours (start, end) an activity that names a time of day happens in; the others happen from 8:00 to 20:55
MEAL_HOURS = {"breakfast": (7, 10), "brunch": (10, 13), "lunch": (11, 15), "dinner": (18, 22), "supper": (18, 22),
              "night": (19, 23), "evening": (17, 22), "wine": (17, 22), "late lunch": (13, 16)}


def activity_hours(activity: str) -> tuple[int, int]:
    words = activity.lower()
    named = [k for k in MEAL_HOURS if k in words]
    return MEAL_HOURS[max(named, key=len)] if named else (8, 21)


def roles_named(text: str, lex: Lexicon) -> set[str]:
    """The roles a reason's text speaks of ('my new roommate' names a roommate): the persona must have them."""
    low = text.lower()
    return {r for r in lex.relationships.roles if f"my {r}" in low or f"my new {r}" in low}


def possible_reasons(persona: Persona, lex: Lexicon) -> list:
    """The preference-shift reasons this persona's world can give: one that names a roommate needs a roommate."""
    roles = {x.role for x in persona.relationships}
    return [r for r in lex.reasons if roles_named(r.text, lex) <= roles]


def finalize_events(persona: Persona, drafts: list[DraftEvent], first_index: int) -> tuple[list[Event], dict[str, dict]]:
    """Give drafts their ids (event e0000…, fact f00000…) and freeze them into records."""
    events, slots = [], {}
    for k, d in enumerate(drafts, start=first_index):
        eid = f"{persona.id}/e{k:04d}"
        facts = []
        for j, f in enumerate(d.facts):
            facts.append(Fact(id=f"{eid}/f{j:02d}", **{**f, "key": f["key"].replace("{event}", f"e{k:04d}")}))
        events.append(Event(id=eid, persona_id=persona.id, split=persona.split, time=fmt_time(d.time), kind=d.kind,
                            participants=d.participants, place=d.place, facts=facts,
                            trait_effect=[TraitDelta(trait=t, delta=v) for t, v in d.trait_effect.items()]))
        slots[eid] = {**d.slots, "objects": d.objects}
    return events, slots


def number_word(n: int) -> str:
    return NUMBER_WORDS[n] if n < len(NUMBER_WORDS) else str(n)
