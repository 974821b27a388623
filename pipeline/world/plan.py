"""Session planning: decide what the user shares, asks and shows in each session, and when.

A plan is still world truth — which facts each user turn conveys, which earlier facts the assistant
may recall, which photo is shown — so the verbalizer only has to put it into words, and every label
can be derived from the plan and then checked against the words.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import numpy as np

from pipeline.config import RunConfig
from pipeline.records import Event, Fact, SceneObject, SceneSpec, parse_time
from pipeline.rng import pick, rng_for
from pipeline.world.simulate import COLOURS, MAX_COUNT, DraftEvent, World, fact, finalize_events, number_word

# What a user may ask for help with, per preference category (the assistant answers with the
# latest preference it has been told, which is how preference shifts reach the replies).
CHAT_TOPICS = {
    "music": ("What should I put on while I work?", "Need a soundtrack for cleaning the flat. Ideas?",
              "Road trip playlist time. What should go on it?", "Too quiet in here. Any music suggestions?"),
    "food": ("Any ideas for dinner tonight?", "What should I cook this weekend?", "Too tired to think. What do I eat?",
             "Friends are coming over. What food should I make?"),
    "drink": ("I need a pick-me-up. What should I get?", "Meeting a friend later, what should I order?",
              "What should I drink while I work this afternoon?", "Cafe stop on the way. What do I get?"),
    "sport": ("I want to do something active this week. Suggestions?", "How should I burn off some energy tonight?",
              "Feeling stiff from sitting all day. What should I do?", "Should I pick up a new sport?"),
    "show": ("What should I watch tonight?", "Need something to binge this weekend.", "Rainy evening. Anything to watch?",
             "What do I put on while I fold laundry?"),
    "reading": ("I need something new to read.", "What should I bring to read on the train?",
                "Long flight coming up. Book suggestions?", "Book club wants ideas from me. Help?"),
    "weekend": ("Any ideas for the weekend?", "Free Saturday coming up. What should I do?",
                "How should I spend Sunday?", "I want a weekend that recharges me. Ideas?"),
    "snack": ("Craving a snack. What should I grab?", "Movie night later: snack ideas?",
              "Packing snacks for a long day. What should I bring?", "Afternoon slump. Snack recommendation?"),
    "podcast": ("Long commute tomorrow. What should I listen to?", "Need something to listen to on my walk.",
                "What should I listen to while cooking?", "Recommend something for my run tomorrow?"),
    "game": ("Bored tonight. What should I play?", "Game night with friends soon, any suggestions?",
             "Want to unwind with a game. What kind?", "Rainy weekend ahead. What should I play?"),
    "dessert": ("Sweet tooth is winning. What dessert should I get?", "Bringing dessert to a dinner. What should it be?",
                "Any dessert ideas for a birthday?", "I deserve a treat. What should I have?"),
    "breakfast": ("What should I make for breakfast tomorrow?", "Brunch plans this Sunday. What should I order?",
                  "Bored of my usual breakfast. Ideas?", "Hosting a late breakfast for two. What do I make?"),
    "film": ("Movie night. What kind of film should I pick?", "Cinema trip this week. What should I see?",
             "Need a film for a long flight. Suggestions?", "What film should I show a friend who's visiting?"),
    "night_out": ("Friends want to go out. Where should we go?", "Planning a night out for a birthday. Ideas?",
                  "Date night coming up. Where should we go?", "Want a fun night out this week. Suggestions?"),
    "holiday": ("I have a week off coming up. What kind of trip?", "Thinking about a holiday. Where should I go?",
                "Need a proper break. What kind of holiday would suit me?", "Any ideas for a trip this summer?"),
    "houseplant": ("My windowsill looks empty. Which plant should I get?", "Want to buy a plant for my desk. Ideas?",
                   "What plant should I give a friend for her new place?", "Thinking of getting a new plant. Which one?"),
    "pasta": ("Pasta night. Which pasta should I buy?", "What pasta should I cook for friends?",
              "Quick dinner idea with pasta?", "Which pasta goes in my shopping basket?"),
    "scent": ("Need a new candle. What scent?", "Which scent should I pick for a gift?",
              "My room needs a nicer smell. Ideas?", "Buying a diffuser oil. What scent should I get?"),
    "cheese": ("Putting together a cheese board. What should go on it?", "Which cheese should I pick up?",
               "Making sandwiches for a picnic. What cheese?", "Wine and cheese night. What cheese do I get?"),
    "fruit": ("What fruit should I grab at the shop?", "Making a fruit bowl for guests. What goes in?",
              "Need a healthy snack. What fruit should I get?", "Which fruit should I pack for the week?"),
}


def chat_topics(category: str, noun: str) -> tuple[str, ...]:
    """The requests of a category; a category a user adds to the lexicon without its own asks by its noun."""
    return CHAT_TOPICS.get(category) or (f"What {noun} should I go for?", f"Any {noun} you'd suggest for me?",
                                         f"I can't decide on a {noun}. Help?", f"Pick a {noun} for me?")


SMALL_TALK = (
    "Long day today.", "Can't sleep again.", "Finally some quiet time.", "Weather's been strange lately.",
    "Just got home.", "Taking a short break from everything.", "Feeling a bit scattered today.",
    "Slow morning over here.", "The week is flying by.", "Procrastinating, as usual.", "My coffee went cold again.",
    "Too many tabs open in my brain today.", "Sitting on the balcony for a bit.", "Waiting for the bus, bored.",
    "Just finished a pile of chores.", "Not much going on, just wanted to chat.",
)
GOAL_KINDS = ("goal_start", "goal_progress", "goal_outcome")
EVERYDAY = ("activity", "habit")  # what is told only as far as a session has room; the rest is news
# words that tie a request or a remark to a part of the day: the hours [from, to) it may be said in
HOUR_WORDS = {"morning": (5, 12), "can't sleep": (21, 29), "long day": (15, 29), "just got home": (12, 29),
              "afternoon": (12, 18), "evening": (16, 29), "tonight": (12, 29)}


def fits_hour(text: str, hour: int) -> bool:
    """Whether a request or remark can be said at this hour ('Slow morning' not at 21:00); hours past 24 are the
    small hours of the next day."""
    low = text.lower()
    return all(lo <= hour < hi or lo <= hour + 24 < hi for word, (lo, hi) in HOUR_WORDS.items() if word in low)


SNAPSHOT_SETTINGS = ("home", "home", "office", "street", "park", "cafe")
RECALLABLE = ("activity", "visual")
PERSONAL = ("preference", "preference_shift", "interest", "habit", "relationship")


@dataclass
class Act:
    """One user turn and the assistant's reply to it."""

    kind: Literal["intro", "tell", "recall", "chat"]
    user_time: datetime
    assistant_time: datetime
    event_id: str | None = None  # the event told (tell/intro) or asked about (recall)
    fact_ids: list[str] = field(default_factory=list)  # facts the user turn conveys
    image_event_id: str | None = None  # event whose photo the user turn shows
    recall_fact_ids: list[str] = field(default_factory=list)  # earlier facts the assistant recalls
    topic: str | None = None  # chat: preference category or None for small talk
    prompt: str | None = None  # chat: what the user asks


@dataclass
class SessionPlan:
    index: int
    acts: list[Act]


@dataclass
class _Item:
    event: Event
    fact_ids: list[str]
    not_before: int  # earliest session index it may be told in
    after: str | None = None  # a fact that must have been told in an earlier session first


def plan_sessions(world: World, cfg: RunConfig) -> tuple[World, list[SessionPlan]]:
    """The final world (its events with the photos and snapshots added, and their slots) and one plan per
    session; the world given is left as it was."""
    rng = rng_for(cfg.seed, world.persona.id, "plan")
    events = list(world.events)
    by_id = {e.id: e for e in events}
    facts = {f.id: f for e in events for f in e.facts}
    starts = world.session_starts
    lo, hi = cfg.turns_per_session

    # The queue of things to tell, in the order they happened. Background facts come first, two
    # at a time, so that old preferences are known before they shift.
    background = events[0]
    intro_keys = ("profile/name", "profile/occupation", "profile/location")
    intro = [f.id for f in background.facts if f.key in intro_keys]
    rest = [f.id for f in background.facts if f.key not in intro_keys]
    rest = [rest[int(i)] for i in rng.permutation(len(rest))]
    queue = [_Item(background, rest[i:i + 2], 0) for i in range(0, len(rest), 2)]
    # a goal's news waits for its earlier news, and a goal's start for every earlier goal's end; a habit's end
    # waits for the habit to be told, and a new habit's news for the end of the one it replaces (procedural memory
    # stays within its cap); no delay goes past the last session
    goal_ready: dict[str, int] = {}
    ended_ready = 0
    # habit key -> the fact its news must follow (its first mention: the background, or the start of a later habit)
    waits_for = {f.key: f.id for f in background.facts if f.kind == "habit"}
    ended: dict[str, str] = {}  # habit key -> the fact of its end
    for e in events[1:]:
        if e.kind == "activity" and rng.random() < 0.15:
            continue  # not everything that happens gets told
        session_after = next((k for k, s in enumerate(starts) if s > parse_time(e.time)), None)
        if session_after is None:
            continue
        delay = int(rng.choice([0, 0, 0, 1, 1, 2]))
        not_before = min(session_after + delay, len(starts) - 1)
        if e.kind in GOAL_KINDS:
            goal = e.facts[0].key.split("/", 1)[1]
            not_before = max(not_before, goal_ready.get(goal, 0), ended_ready if e.kind == "goal_start" else 0)
            goal_ready[goal] = not_before
            if e.kind == "goal_outcome":
                ended_ready = max(ended_ready, not_before)
        after = None
        if e.kind in ("habit", "habit_end"):  # after the habit's first mention (its end: else nothing to end)
            after = waits_for.get(e.facts[0].key)
        elif e.kind == "habit_start":  # after the end of the habit it replaces
            after, waits_for[e.facts[0].key] = ended[world.slots[e.id]["replaces"]], e.facts[0].id
        if e.kind == "habit_end":
            ended[e.facts[0].key] = e.facts[0].id
        queue.append(_Item(e, [f.id for f in e.facts], not_before, after))

    plans: list[SessionPlan] = []
    told_before: list[str] = []  # fact ids conveyed in earlier sessions, in order
    for k, start in enumerate(starts):
        n = int(rng.integers(lo, hi + 1))
        acts_spec: list[tuple] = []
        if k == 0:
            acts_spec.append(("intro", _Item(background, intro, 0)))
        n_fill = int(rng.choice([0, 1, 1, 2]))
        # the items that are due, news before everyday activities; all the news is told (a shift or a goal's end
        # is what gets told), the oldest activities as far as the session has room, the rest wait
        said = set(told_before)
        due = [i for i, it in enumerate(queue) if it.not_before <= k and parse_time(it.event.time) < start
               and (it.after is None or it.after in said)]
        due.sort(key=lambda i: (queue[i].event.kind in EVERYDAY, i))
        news = sum(queue[i].event.kind not in (*EVERYDAY, "background") for i in due)
        for i in sorted(due[: max(n - n_fill - len(acts_spec), news, 1)], reverse=True):
            acts_spec.append(("tell", queue.pop(i)))
        acts_spec.sort(key=lambda a: (a[0] != "intro", a[1].event.time))
        while len(acts_spec) < n:
            acts_spec.insert(int(rng.integers(1 if k == 0 else 0, len(acts_spec) + 1)), ("filler", None))

        acts: list[Act] = []
        t = start
        known_now = list(told_before)
        for kind, item in acts_spec:
            user_t = t
            asst_t = user_t + timedelta(minutes=int(rng.integers(0, 2)))
            if kind in ("intro", "tell"):
                act = Act(kind=kind, user_time=user_t, assistant_time=asst_t, event_id=item.event.id, fact_ids=item.fact_ids)
                act.recall_fact_ids = _related_recall(item.event, told_before, by_id, rng)
            else:
                act = _filler(user_t, asst_t, told_before, known_now, facts, world, rng,
                              asked={a.prompt for a in acts if a.prompt})
            acts.append(act)
            known_now += act.fact_ids
            t = asst_t + timedelta(minutes=int(rng.integers(1, 6)))
        plans.append(SessionPlan(index=k, acts=acts))
        told_before = known_now
        # a habit's days still untold once its end is told are left untold (it would be back in memory)
        stopped = {facts[fid].key for a in acts for fid in a.fact_ids if facts[fid].kind == "habit_end"}
        queue = [it for it in queue if not (it.event.kind == "habit" and it.event.facts[0].key in stopped)]

    events, snapshot_slots = _add_images(world, events, plans, cfg, rng)
    return dataclasses.replace(world, events=events, slots={**world.slots, **snapshot_slots}), plans


def _related_recall(event: Event, told_before: list[str], by_id: dict[str, Event], rng: np.random.Generator) -> list[str]:
    """An earlier activity with the same place or person, for the assistant to connect to (if any)."""
    if event.kind != "activity" or rng.random() < 0.5:
        return []
    for fid in reversed(told_before):
        other = by_id[fid.rsplit("/", 1)[0]]
        if other.kind == "activity" and other.id != event.id and (
                other.place == event.place or set(other.participants) & set(event.participants)):
            return [fid]
    return []


def _latest(told: list[str], facts: dict[str, Fact]) -> dict[str, str]:
    """key -> id of the latest told fact with that key."""
    return {facts[fid].key: fid for fid in told}


def _filler(user_t: datetime, asst_t: datetime, told_before: list[str], known_now: list[str], facts: dict[str, Fact],
            world: World, rng: np.random.Generator, asked: set[str]) -> Act:
    """A recall question about an earlier session, a request the assistant personalizes, or small talk; never a
    request or a remark the session has already made (`asked`)."""
    roll = rng.random()
    recallable = [fid for fid in told_before if facts[fid].kind in RECALLABLE]
    if recallable and roll < 0.35:
        fid = pick(rng, recallable[-40:])
        return Act(kind="recall", user_time=user_t, assistant_time=asst_t, event_id=fid.rsplit("/", 1)[0],
                   recall_fact_ids=[fid])
    latest = _latest(known_now, facts)
    if roll < 0.8:
        preference = pick(rng, world.persona.preferences)
        cat = preference.category
        fid = latest.get(f"preference/{cat}")
        fresh = [x for x in chat_topics(cat, preference.noun) if x not in asked and fits_hour(x, user_t.hour)]
        if fresh:
            return Act(kind="chat", user_time=user_t, assistant_time=asst_t, topic=cat, prompt=pick(rng, fresh),
                       recall_fact_ids=[fid] if fid else [])
    remarks = [x for x in SMALL_TALK if fits_hour(x, user_t.hour)]
    return Act(kind="chat", user_time=user_t, assistant_time=asst_t,
               prompt=pick(rng, [x for x in remarks if x not in asked] or remarks))


def _add_images(world: World, events: list[Event], plans: list[SessionPlan], cfg: RunConfig,
                rng: np.random.Generator) -> tuple[list[Event], dict[str, dict]]:
    """Attach photos to ceil(rate x user turns) user turns (the plans' acts get their photo); returns the events
    and the slots of the new snapshot events.

    A turn that tells an activity shows a photo of it; any other chosen turn shows a snapshot of
    the moment, which becomes a world event of its own. Each object in a photo is a visual fact.
    """
    acts = [a for p in plans for a in p.acts]
    want = math.ceil(cfg.image_rate * len(acts))
    by_id = {e.id: e for e in events}
    activity_acts = [a for a in acts if a.kind == "tell" and by_id[a.event_id].kind == "activity"]
    other_acts = [a for a in acts if a not in activity_acts and a.kind != "intro"]
    order = [activity_acts[int(i)] for i in rng.permutation(len(activity_acts))]
    chosen = order[:want]
    extra = [other_acts[int(i)] for i in rng.permutation(len(other_acts))][: want - len(chosen)]

    persona, slots = world.persona, world.slots
    new_events = {e.id: e for e in events}
    for act in chosen:
        e = by_id[act.event_id]
        objs = slots[e.id]["objects"]
        spec = SceneSpec(setting=slots[e.id]["setting"], objects=objs, caption=_caption(objs, slots[e.id]["setting"], e.place))
        visual = [Fact(id=f"{e.id}/f{len(e.facts) + j:02d}", **_own(visual_fact(o), e.id)) for j, o in enumerate(objs)]
        new_events[e.id] = e.model_copy(update={"image_spec": spec, "facts": e.facts + visual})
        act.image_event_id = e.id
        act.fact_ids = act.fact_ids + [f.id for f in visual]

    drafts = []
    settings = [s for s in SNAPSHOT_SETTINGS if len(world.scenes.get(s, [])) >= 3] or sorted(world.scenes)
    for act in sorted(extra, key=lambda a: a.user_time):
        setting = pick(rng, settings)
        names_pool = world.scenes[setting]
        objs = [SceneObject(name=n, shape=world.object_shapes[n], colour=c, count=int(rng.integers(1, MAX_COUNT + 1)))
                for n, c in zip(pick(rng, names_pool, int(rng.integers(1, 4))), pick(rng, COLOURS, 3))]
        drafts.append((act, DraftEvent(time=act.user_time, kind="snapshot", objects=objs, slots={"setting": setting},
                                       facts=[visual_fact(o) for o in objs])))
    snap_events, snap_slots = finalize_events(persona, [d for _, d in drafts], len(events))
    for (act, draft), e in zip(drafts, snap_events):
        spec = SceneSpec(setting=draft.slots["setting"], objects=draft.objects,
                         caption=_caption(draft.objects, draft.slots["setting"], None))
        e = e.model_copy(update={"image_spec": spec})
        new_events[e.id] = e
        act.image_event_id = e.id
        act.fact_ids = act.fact_ids + [f.id for f in e.facts]
    out = sorted(new_events.values(), key=lambda e: (e.time, e.id))
    return out, snap_slots


def object_phrase(o: SceneObject) -> str:
    """'three red balloons': how a photo's object is named everywhere (facts, captions, answers)."""
    return f"{number_word(o.count)} {o.colour} {o.name if o.count == 1 else _plural(o.name)}"


def visual_fact(o: SceneObject) -> dict:
    return fact("visual", f"visual/{{event}}/{o.name}", object_phrase(o), f"The photo shows {object_phrase(o)}.",
                [o.colour, o.name], modality="image")


def _own(f: dict, eid: str) -> dict:
    return {**f, "key": f["key"].replace("{event}", eid.rsplit("/", 1)[1])}


def _plural(noun: str) -> str:
    head, _, tail = noun.rpartition(" of ")
    if head:  # "slice of cake" -> "slices of cake"
        return f"{_plural(head)} of {tail}"
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def _caption(objs: list[SceneObject], setting: str, place: str | None) -> str:
    parts = [object_phrase(o) for o in objs]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    where = place or {"home": "a home interior", "office": "an office"}.get(setting, f"a {setting}")
    return f"A photo of {listed} at {where}."
