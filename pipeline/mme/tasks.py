"""The 14 Persona-MME tasks: each turns what a history tells into one question with a known answer.

A task returns a `Draft` or None when the history holds nothing it can ask about. Three rules keep a
question from being answerable without the history:

- every option is equally possible under what a model could know without it: distractors come from
  the same class as the answer (what one does at the same kind of venue, habits of the same part of
  the day, goals the user never mentioned, the other states of a goal), and a query never names what
  only the answer has;
- the gold is computed from what was told (`Draft.gold` re-derives it over any history, and returns
  None when the history does not make it unique);
- `Draft.flip` builds the world where the evidence says one of the distractors instead, so the build
  can certify that the gold follows the evidence.

`Draft.topics` names the facts an item uses or shows (a goal, a preference, a person, a habit); the
build gives each topic to one item of a persona, so no item answers another.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from pipeline.dedup import normalize as norm
from pipeline.mme.history import Told, Window
from pipeline.personas.lexicon import Lexicon
from pipeline.records import TRAITS, Evidence, Fact, SceneObject, parse_time
from pipeline.rng import pick
from pipeline.verbalize.match import mentions
from pipeline.world.clock import WEEKDAYS, when_phrases
from pipeline.world.plan import _plural, chat_topics
from pipeline.world.simulate import COLOURS, MAX_COUNT, NUMBER_WORDS, possible_reasons

ASPECTS = {
    "Memory": ("Visual Detail Recall", "Semantic Information Recall"),
    "Intent": ("Explicit Intent Inference", "Implicit Intent Recognition"),
    "Preference": ("Latest Preference Recognition", "Interest Evolution Analysis", "Implicit Preference Recommendation"),
    "Behavior": ("Behavioral Pattern Recognition", "Long-term Goal Tracking"),
    "Relationship": ("Relationship Recognition", "Relationship Dynamics Comprehension"),
    "Growth": ("Tiered Explanation Delivery", "Generalizing to New Scenarios"),
    "Alignment": ("Personality Alignment",),
}
ASPECT_OF = {task: aspect for aspect, tasks in ASPECTS.items() for task in tasks}
ALIGN_CHOICES = ("Yes, it aligns well.", "No, it misaligns.")
OPENERS = ("", "Hey, ", "Quick question: ", "Remind me, ", "Random thought, ")

Gold = Callable[[Window, list[str]], "str | None"]
Flip = Callable[[Window, list[str]], "tuple[Window, str] | None"]


@dataclass
class Draft:
    query: str
    correct: str
    distractors: list[str]  # of the answer's class, in a random order (hard negatives first); the first three are shown
    evidence: list[Evidence]
    gold: Gold  # the answer over any history, among given options (None: the history does not make it unique)
    flip: Flip  # a world where the evidence says one of the given options instead, and that option
    topics: frozenset[str]
    stated: tuple[str, ...] = ()  # must appear in the first evidence turn's text
    needs_image: bool = False
    extra: dict = field(default_factory=dict)  # Personality Alignment: the aligned and the misaligned reply


def choose_options(d: Draft, rng: np.random.Generator, n: int = 4) -> tuple[list[str], int] | None:
    """n options: the correct one at a uniform position and the first n-1 distinct distractors.

    Pools are drawn from the answer's own class in a random order, so every option text is shown as often
    as it is right and no property of the text (its length, its words) says which option is the answer. None
    when the pool is too small."""
    seen, pool = {norm(d.correct)}, []
    for x in d.distractors:
        if norm(x) not in seen:
            seen.add(norm(x))
            pool.append(x)
    if len(pool) < n - 1:
        return None
    picked = pool[: n - 1]
    picked = [picked[int(i)] for i in rng.permutation(len(picked))]
    pos = int(rng.integers(n))
    return picked[:pos] + [d.correct] + picked[pos:], pos


def _ev(x: Told, image_id: str | None = None) -> Evidence:
    return Evidence(session_id=x.session.id, turn_index=x.turn.index, fact_id=x.fact.id, image_id=image_id)


def _when(w: Window, t, rng: np.random.Generator) -> str:
    """A truthful relative phrase for `t` seen from the question's time, relative where possible."""
    phrases = when_phrases(t, w.now)
    relative = phrases[1:]
    return pick(rng, relative) if relative and rng.random() < 0.7 else phrases[0]


def _opener(rng: np.random.Generator) -> str:
    return pick(rng, OPENERS)


def sentence_case(s: str) -> str:
    return s[:1].upper() + s[1:]


def _shuffled(rng: np.random.Generator, xs: list[str]) -> list[str]:
    return [xs[int(i)] for i in rng.permutation(len(xs))]


def _unique(xs) -> str | None:
    xs = set(xs)
    return next(iter(xs)) if len(xs) == 1 else None


def _because(text: str) -> str:
    """The reason in a fact text written as '... because <reason>[; ...|.]'."""
    return re.split(r";|\.$", text.split(" because ", 1)[1])[0].strip()


def _other(options: list[str], correct: str) -> list[str]:
    return [o for o in options if o != correct]


# ---------------------------------------------------------------- Memory

VISUAL_KINDS = ("colour", "count", "object", "which")


def _object_phrase(o: SceneObject) -> str:
    return o.name if o.count == 1 else _plural(o.name)


def _unsaid(text: str) -> Callable[[list[str]], list[str]]:
    """Distractors the photo's own turn does not mention: an answer it mentions is rejected (the photo would
    not be needed), so the same must hold for the distractors, or a mentioned word would mean "not the answer"."""
    return lambda xs: [x for x in xs if not mentions(text, x)]


def _photo_told(w: Window, image_id: str) -> Told | None:
    event_id = w.images[image_id].event_id
    return next((x for x in w.told if x.event.id == event_id and x.fact.kind == "visual" and image_id in x.turn.image_ids), None)


def visual_detail_recall(w: Window, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    """About a photo only: its colours, counts, which objects it showed, or which photo showed something.
    Only photos whose contents no text of the history states are asked about (see `build.verify`)."""
    shown = [(s, t, im) for s, t, im in w.image_turns if _photo_told(w, im.id) is not None]
    if not shown:
        return None
    kind = pick(rng, VISUAL_KINDS)
    names = [o.name for _, _, im in shown for o in im.spec.objects]
    if kind == "which":
        return _which_photo(w, shown, lex, rng)
    unique = [(t, im, o) for _, t, im in shown for o in im.spec.objects if names.count(o.name) == 1]
    days = [parse_time(t.time).date() for _, t, _ in shown]
    if kind == "object":  # a photo alone on its day, so "the photo I sent you <day>" is that photo
        lone = [(t, im) for _, t, im in shown if days.count(parse_time(t.time).date()) == 1]
        if not lone:
            return None
        t, im = lone[int(rng.integers(len(lone)))]
        return _object_in_photo(w, t, im, lex, rng)
    if not unique:
        return None
    t, im, o = unique[int(rng.integers(len(unique)))]
    when = _when(w, parse_time(t.time), rng)
    told = _photo_told(w, im.id)
    unsaid = _unsaid(t.text)

    if kind == "colour":
        pronoun = "was it" if o.count == 1 else "were they"
        query = f"{_opener(rng)}that photo I sent you {when} with the {_object_phrase(o)} in it: what colour {pronoun}?"
        # uniform over the palette: colours are drawn uniformly, so no colour is a prior
        return _object_attribute(im, o, told, query, "colour", list(COLOURS), str, str, unsaid, rng)
    query = f"{_opener(rng)}in the photo I sent you {when}, how many {_plural(o.name)} were there?"
    # a count with its noun ("three mugs"), so no other item's "one" or "two weeks ago" reads as naming an option
    counts = {f"{NUMBER_WORDS[n]} {o.name if n == 1 else _plural(o.name)}": n for n in range(1, MAX_COUNT + 1)}
    return _object_attribute(im, o, told, query, "count", list(counts.values()), {n: c for c, n in counts.items()}.get,
                             counts.get, unsaid, rng)


def _object_attribute(im, o: SceneObject, told: Told, query: str, attr: str, values: list, text, value, unsaid,
                      rng: np.random.Generator) -> Draft:
    """A question about one attribute (colour, count) of an object in a photo; `text`/`value` turn an attribute
    into its option text and back."""
    def gold(v: Window, options: list[str]) -> str | None:
        x = next((x for x in v.images[im.id].spec.objects if x.name == o.name), None)
        return text(getattr(x, attr)) if x else None

    def flip(v: Window, options: list[str]):
        target = _other(options, text(getattr(o, attr)))[0]
        objs = [x.model_copy(update={attr: value(target)}) if x.name == o.name else x for x in v.images[im.id].spec.objects]
        return v.with_objects(im.id, objs), target

    return Draft(query=query, correct=text(getattr(o, attr)), distractors=unsaid(_shuffled(rng, [text(x) for x in values])),
                 evidence=[_ev(told, im.id)], gold=gold, flip=flip, topics=frozenset({f"image:{im.id}"}), needs_image=True)


def _object_in_photo(w: Window, t, im, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    when = _when(w, parse_time(t.time), rng)
    inside = [o.name for o in im.spec.objects]
    # the answer and the distractors alike: objects a photo of that setting may show (each drawn uniformly from its
    # scene), none that another photo of the history shows (so no other item about the photos names one); an object
    # common to many scenes is then no likelier to be the answer than an option that is not
    elsewhere = {x.name for _, _, other in w.image_turns if other.id != im.id for x in other.spec.objects}
    asked = [o for o in im.spec.objects if o.name not in elsewhere]
    pool = [n for n in lex.scenes.get(im.spec.setting, []) if n not in inside and n not in elsewhere]
    if not asked or len(pool) < 3:
        return None
    o = asked[int(rng.integers(len(asked)))]
    query = f"{_opener(rng)}which of these was in the photo I sent you {when}?"
    others = _unsaid(t.text)(_shuffled(rng, pool))
    told = _photo_told(w, im.id)

    def gold(v: Window, options: list[str]) -> str | None:
        there = {x.name for x in v.images[im.id].spec.objects}
        return _unique(c for c in options if c in there)

    def flip(v: Window, options: list[str]):
        target = _other(options, o.name)[0]
        objs = [x.model_copy(update={"name": target}) if x.name == o.name else x for x in v.images[im.id].spec.objects]
        return v.with_objects(im.id, objs), target

    return Draft(query=query, correct=o.name, distractors=others, evidence=[_ev(told, im.id)], gold=gold, flip=flip,
                 topics=frozenset({f"image:{im.id}"}), needs_image=True)


def _which_photo(w: Window, shown, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    """'Which photo had the red mug?': the options are photos of the history, named by their day."""
    by_day: dict = {}
    for _, t, im in shown:
        by_day.setdefault(parse_time(t.time).date(), []).append((t, im))
    lone = [v[0] for v in by_day.values() if len(v) == 1]
    if len(lone) < 4:
        return None
    picked = [lone[int(i)] for i in rng.permutation(len(lone))[:4]]
    t, im = picked[0]
    names_elsewhere = {o.name for _, other in picked[1:] for o in other.spec.objects}
    own = [o for o in im.spec.objects if o.name not in names_elsewhere]
    if not own:
        return None
    o = own[int(rng.integers(len(own)))]
    label = {other.id: f"The one from {when_phrases(parse_time(tt.time), w.now)[0].removeprefix('on ')}" for tt, other in picked}
    query = f"{_opener(rng)}which photo had the {o.colour} {_object_phrase(o)} in it?"
    told = _photo_told(w, im.id)

    def gold(v: Window, options: list[str]) -> str | None:
        return _unique(label[other.id] for _, other in picked
                       if any(x.name == o.name and x.colour == o.colour for x in v.images[other.id].spec.objects))

    def flip(v: Window, options: list[str]):
        target = _other(options, label[im.id])[0]
        dest = next(other for _, other in picked if label[other.id] == target)
        other_colour = next(c for c in COLOURS if c != o.colour)  # the photo no longer shows the {colour} {object}
        moved = v.with_objects(im.id, [x.model_copy(update={"colour": other_colour}) if x.name == o.name else x
                                       for x in v.images[im.id].spec.objects])
        return moved.with_objects(dest.id, [*v.images[dest.id].spec.objects, o]), target

    return Draft(query=query, correct=label[im.id], distractors=[label[other.id] for _, other in picked[1:]],
                 evidence=[_ev(told, im.id)], gold=gold, flip=flip,
                 topics=frozenset(f"image:{other.id}" for _, other in picked), needs_image=True)


def _activity(x: Told) -> str:
    return x.fact.value.split(f" at {x.event.place}")[0]


def semantic_information_recall(w: Window, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    acts = w.of_kind("activity")
    if not acts:
        return None
    x = acts[int(rng.integers(len(acts)))]
    place, day = x.event.place, x.event.time[:10]
    when = _when_day(w, x, rng)

    def there(v: Window) -> list[Told]:
        return [y for y in v.of_kind("activity") if y.event.id == x.event.id]

    def swap(v: Window, old: str, new: str) -> Window:
        return v.flipped([y.fact.id for y in there(v)], {old: new})

    if len(x.event.participants) == 1 and rng.random() < 0.5:
        who = x.event.participants[0]
        query = f"{_opener(rng)}who was I with at {place} {when}?"
        # the user's other people: a model without the history cannot tell one of them from another
        people = [p.name for p in w.persona.relationships if p.name != who]

        def gold(v: Window, options: list[str]) -> str | None:
            ys = [y for y in v.of_kind("activity") if y.event.place == place and y.event.time[:10] == day]
            return _unique(p for y in ys for p in y.event.participants) if ys else None

        return Draft(query=query, correct=who, distractors=_shuffled(rng, people), evidence=[_ev(x)], stated=(who,),
                     gold=gold, flip=lambda v, opts: (swap(v, who, _other(opts, who)[0]), _other(opts, who)[0]),
                     topics=frozenset({f"event:{x.event.id}", f"person:{who}"}))
    # only what one does at the same kind of place: the venue names no option more than another
    venue = lex.places.venues[place.split()[-1]].activities  # at least four (the lexicon requires it)
    query = f"{_opener(rng)}what was I doing at {place} {when}?"
    act = _activity(x)

    def gold(v: Window, options: list[str]) -> str | None:
        return _unique(_activity(y) for y in v.of_kind("activity") if y.event.place == place and y.event.time[:10] == day)

    return Draft(query=query, correct=act, distractors=_shuffled(rng, [a for a in venue if a != act]), evidence=[_ev(x)],
                 stated=(act,), gold=gold, flip=lambda v, opts: (swap(v, act, _other(opts, act)[0]), _other(opts, act)[0]),
                 topics=frozenset({f"event:{x.event.id}"}))


def _when_day(w: Window, x: Told, rng: np.random.Generator) -> str:
    """A phrase that pins down the event's own day (not the day it was told)."""
    phrases = when_phrases(parse_time(x.event.time), w.now)
    days = [{"today": "earlier today"}.get(p, p) for p in phrases if p in ("today", "yesterday") or p.startswith(("on ", "this past"))]
    return pick(rng, days)


# ---------------------------------------------------------------- Intent


def _lexicon_reason(x: Told, query: str, render, reasons, topic: str, rng: np.random.Generator) -> Draft:
    """A reason told as a lexicon entry (its key is the fact's last term); the options are the other entries."""
    true = next(r for r in reasons if r.key == x.fact.terms[-1])

    def gold(v: Window, options: list[str]) -> str | None:
        keys = [y.fact.terms[-1] for y in v.told if y.fact.id == x.fact.id]
        return _unique(render(r) for r in reasons if r.key in keys)

    def flip(v: Window, options: list[str]):
        target = _other(options, render(true))[0]
        new = next(r for r in reasons if render(r) == target)
        return v.flipped([x.fact.id], {true.key: new.key}, terms=[*x.fact.terms[:-1], new.key]), target

    others = [render(r) for r in reasons if r.key != true.key]
    return Draft(query=_opener(rng) + query, correct=render(true), distractors=_shuffled(rng, others), evidence=[_ev(x)],
                 stated=(true.key,), gold=gold, flip=flip, topics=frozenset({topic}))


def _abandon_reason(x: Told, lex: Lexicon, rng: np.random.Generator) -> Draft:
    """Why a goal was given up: the reason is free text in the fact ('... because <reason>')."""
    goal, why = x.fact.value.removeprefix("abandoned: "), _because(x.fact.text)

    def gold(v: Window, options: list[str]) -> str | None:
        return _unique(_because(y.fact.text) for y in v.told if y.fact.id == x.fact.id)

    def flip(v: Window, options: list[str]):
        return v.flipped([x.fact.id], {why: _other(options, why)[0]}), _other(options, why)[0]

    others = _shuffled(rng, [r for r in lex.abandon_reasons if r != why])
    return Draft(query=f"{_opener(rng)}what made me give up on my plan to {goal}?", correct=why, distractors=others,
                 evidence=[_ev(x)], stated=(why,), gold=gold, flip=flip,
                 topics=frozenset({f"goal:{x.fact.key.split('/', 1)[1]}"}))


def explicit_intent_inference(w: Window, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    askable: list[Callable[[], Draft]] = []
    # distractors from the reasons this persona's world can give, so that no reason is right less often than shown
    possible = possible_reasons(w.persona, lex)
    for x in w.of_kind("shift_reason"):
        shift = next((y for y in w.told if y.event is x.event and y.fact.kind == "preference_shift"), None)
        if shift is not None:
            old, new = shift.fact.terms
            askable.append(lambda x=x, q=f"why did I switch from {old} to {new}?", topic=f"pref:{x.fact.key.split('/', 1)[1]}":
                           _lexicon_reason(x, q, _unnamed, possible, topic, rng))
    askable += [lambda x=x: _abandon_reason(x, lex, rng) for x in w.of_kind("goal_outcome")
                if x.fact.value.startswith("abandoned: ")]
    changes = w.of_kind("relationship_change")
    for x in changes:
        name, closer = x.event.participants[0], "grew closer to" in x.fact.text
        if sum(y.event.participants == x.event.participants and ("grew closer to" in y.fact.text) == closer
               for y in changes) > 1:  # "why did I get closer to X" must have one answer
            continue
        pool = lex.relationships.closer if closer else lex.relationships.further
        verb = "get closer to" if closer else "drift apart from"
        askable.append(lambda x=x, q=f"why did I {verb} {name}?", pool=pool, topic=f"person:{name}":
                       _lexicon_reason(x, q, _they, pool, topic, rng))
    return askable[int(rng.integers(len(askable)))]() if askable else None


def _unnamed(reason) -> str:
    """A preference-shift reason without the items, so options do not echo the items named in the question."""
    return reason.text.format(old="the old one", new="the new one")


def _they(reason) -> str:
    """A relationship reason without the person's name, so options do not echo the name in the question."""
    text = reason.text.format(name="they").replace("they was ", "they were ")
    return text[:1].upper() + text[1:]


def _goal_status(w: Window) -> dict[str, dict]:
    """goal id -> {goal (text), start, steps, outcome}, from what the history tells (the start may be before the
    history; an outcome names its goal, so it is answerable on its own)."""
    out: dict[str, dict] = {}
    for x in w.told:
        if x.fact.kind in ("goal", "goal_progress", "goal_outcome"):
            gid = x.fact.key.split("/", 1)[1]
            v = out.setdefault(gid, {"goal": None, "start": None, "steps": [], "outcome": None, "key": x.fact.terms[0]})
            if x.fact.kind == "goal":
                v["start"], v["goal"] = x, x.fact.value.removeprefix("working towards: ")
            elif x.fact.kind == "goal_progress":
                v["steps"].append(x)
            else:
                v["outcome"], v["goal"] = x, x.fact.value.split(": ", 1)[1]
    return {gid: v for gid, v in out.items() if v["goal"] is not None}


def _last(v: dict):
    return v["outcome"] or (v["steps"][-1] if v["steps"] else v["start"])


INTENT_GOALS = ("under way", "achieved")  # which of the user's goals Implicit Intent Recognition asks about


def implicit_intent_recognition(w: Window, lex: Lexicon, rng: np.random.Generator, target: str = "under way"
                                ) -> Draft | None:
    """A free moment the user wants to put towards 'the thing I'm working on' (or a treat for 'the thing I finally
    pulled off'): which goal that is can only come from what they told; the other options are goals of the lexicon
    this user never mentioned."""
    achieved = target == "achieved"

    def fits(x: dict) -> bool:
        done = x["outcome"] is not None and x["outcome"].fact.value.startswith("completed: ")
        return done if achieved else (x["outcome"] is None and x["start"] is not None)

    status = _goal_status(w)
    mine = [(gid, v) for gid, v in status.items() if fits(v)]
    if not mine:
        return None
    gid, v = mine[int(rng.integers(len(mine)))]
    evidence = v["outcome"] if achieved else v["start"]
    own = {g.key for g in w.persona.goals}
    others = _shuffled(rng, [e.text for e in lex.goals if e.key not in own])
    if achieved:
        lead = pick(rng, ("I want to treat myself tonight", "I'm booking a nice dinner for myself",
                          "I bought myself a little present", "I'm in the mood to celebrate"))
        ask = pick(rng, ("because I finally pulled off something I'd been working towards. Can you tell what?",
                         "to mark finishing one of my big plans. Which one do you think it was?",
                         "since I actually got one of my goals done. Any idea which goal?"))
    else:
        lead = pick(rng, ("I've got a free afternoon today", "My evening just cleared up", "I have a quiet Saturday ahead",
                          "I finally have a couple of hours to myself"))
        ask = pick(rng, ("and I want to spend it on the thing I've been working towards. Can you tell what I mean?",
                         "and I'd like to put it towards my big plan. Which one do you think that is?",
                         "and I want to use it to get closer to my goal. Any idea which goal?"))

    def gold(u: Window, options: list[str]) -> str | None:
        asked = {x["goal"] for x in _goal_status(u).values() if fits(x)}
        return _unique(c for c in options if c in asked)

    def flip(u: Window, options: list[str]):
        target_goal = _other(options, v["goal"])[0]
        key = next(e.key for e in lex.goals if e.text == target_goal)
        return u.flipped([evidence.fact.id], {v["goal"]: target_goal, v["key"]: key}), target_goal

    return Draft(query=f"{_opener(rng)}{lead}, {ask}", correct=v["goal"], distractors=others, evidence=[_ev(evidence)],
                 stated=(v["key"],), gold=gold, flip=flip, topics=frozenset({f"goal:{gid}"}))


# ---------------------------------------------------------------- Preference


def _preference_histories(w: Window) -> dict[str, list[Told]]:
    out: dict[str, list[Told]] = {}
    for x in w.told:
        if x.fact.key.startswith("preference/"):
            out.setdefault(x.fact.key.split("/", 1)[1], []).append(x)
    return out


def _preference_pick(w: Window, rng: np.random.Generator, shifted: bool = True) -> tuple[str, list[Told]] | None:
    """A category and what was told of it: mostly one whose favourite changed (or, with `shifted` False, one
    whose favourite did not, which leaves the changes to the tasks about them)."""
    hist = _preference_histories(w)
    if not hist:
        return None
    wanted = [c for c, xs in hist.items() if (len(xs) > 1) == shifted]
    cats = wanted if wanted and rng.random() < 0.8 else list(hist)
    cat = pick(rng, sorted(cats))
    return cat, hist[cat]


def _earlier_items(told: list[Told]) -> list[str]:
    latest = told[-1].fact.value
    items = [t for x in told for t in ([x.fact.value] if x.fact.kind == "preference" else x.fact.terms)]
    return list(dict.fromkeys(i for i in reversed(items) if i != latest))


def _latest_preference(w: Window, lex: Lexicon, rng: np.random.Generator, query) -> Draft | None:
    """The favourite told last in a category; `query(category, noun)` asks for it. Distractors: the earlier
    favourites, then the category's other items."""
    got = _preference_pick(w, rng)
    if got is None:
        return None
    cat, told = got
    latest = told[-1].fact.value
    earlier = _earlier_items(told)

    def gold(v: Window, options: list[str]) -> str | None:
        hist = _preference_histories(v).get(cat)
        return hist[-1].fact.value if hist else None

    def flip(v: Window, options: list[str]):
        fresh = [o for o in _other(options, latest) if o not in earlier] or _other(options, latest)
        return v.flipped([told[-1].fact.id], {latest: fresh[0]}), fresh[0]

    pool = earlier + _shuffled(rng, [i for i in lex.preferences[cat].items if i != latest])
    return Draft(query=query(cat, lex.preferences[cat].noun), correct=latest, distractors=pool, evidence=[_ev(told[-1])],
                 stated=(latest,), gold=gold, flip=flip, topics=frozenset({f"pref:{cat}"}))


def latest_preference_recognition(w: Window, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    ask = pick(rng, ("what is my favourite", "which is my go-to", "what would you say is my favourite"))
    return _latest_preference(w, lex, rng, lambda cat, noun: f"{_opener(rng)}{ask} {noun} these days?")


def implicit_preference_recommendation(w: Window, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    return _latest_preference(w, lex, rng, lambda cat, noun: pick(rng, chat_topics(cat, noun)))


def interest_evolution_analysis(w: Window, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    shifts = w.of_kind("preference_shift")
    pairs = [(x, next((y for y in w.told if y.event is x.event and y.fact.kind == "shift_reason"), None)) for x in shifts]
    pairs = [(x, r) for x, r in pairs if r is not None]
    if not pairs:
        return None
    x, r = pairs[int(rng.integers(len(pairs)))]
    old, new = x.fact.terms
    cat = x.fact.key.split("/", 1)[1]
    true_reason = next(t for t in lex.reasons if t.key == r.fact.terms[-1])
    other = pick(rng, [t for t in possible_reasons(w.persona, lex) if t.key != true_reason.key])

    def option(a: str, b: str, reason) -> str:  # the reason without the items: the two directions are equally long
        return f"From {a} to {b}: {_unnamed(reason)}."

    def gold(v: Window, options: list[str]) -> str | None:
        shift = next((y for y in v.of_kind("preference_shift") if y.event.id == x.event.id), None)
        why = next((y for y in v.of_kind("shift_reason") if y.event.id == x.event.id), None)
        if shift is None or why is None:
            return None
        reason = next(t for t in lex.reasons if t.key == why.fact.terms[-1])
        return option(*shift.fact.terms, reason)

    def flip(v: Window, options: list[str]):  # the other direction: the user went from the new one to the old one
        return (v.flipped([x.fact.id, r.fact.id], {old: new, new: old}), option(new, old, true_reason))

    # a 2x2 design over direction and reason: every part is in exactly two options
    distractors = [option(new, old, true_reason), option(old, new, other), option(new, old, other)]
    query = f"{_opener(rng)}how has my favourite {lex.preferences[cat].noun} changed, and why?"
    return Draft(query=query, correct=option(old, new, true_reason), distractors=distractors, evidence=[_ev(x), _ev(r)],
                 stated=(new,), gold=gold, flip=flip, topics=frozenset({f"pref:{cat}"}))


# ---------------------------------------------------------------- Behavior

def _habit_slot(x: Told) -> tuple[str, str, str]:
    """(activity, weekday, part) of a told habit fact ('<activity> every <Weekday> <part>')."""
    return _slot(x.fact.value)


def _slot(value: str) -> tuple[str, str, str]:
    activity, slot = value.rsplit(" every ", 1)
    weekday, part = slot.split()
    return activity, weekday, part


def behavioral_pattern_recognition(w: Window, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    """Every option shares the habit's part of the day, so what separates them is the weekday or the activity,
    which the evidence turn states. A habit the user has told they dropped is asked about in the past tense."""
    told = [x for x in w.of_kind("habit") if _habit_slot(x)[1] in x.turn.text]
    if not told:
        return None
    x = told[int(rng.integers(len(told)))]
    activity, weekday, part = _habit_slot(x)
    hid = x.fact.key.split("/", 1)[1]
    ends = [y for y in w.of_kind("habit_end") if y.fact.key == x.fact.key]
    facts = [y.fact.id for y in [*w.of_kind("habit"), *ends] if y.fact.key == x.fact.key]
    tense = "did I use to" if ends else "do I usually"
    evidence = [_ev(x), *map(_ev, ends)]
    if rng.random() < 0.5:
        query = f"{_opener(rng)}what {tense} do on {weekday} {part}s?"
        # none of the user's habits, told or not, then or later, is a distractor
        own = {_slot(f.value)[0] for e in w.events.values() for f in e.facts if f.kind == "habit"}
        same_part = [h.activity for h in lex.habits if h.part == part and h.activity not in own]

        def gold(v: Window, options: list[str]) -> str | None:
            return _unique(a for a, d, p in map(_habit_slot, v.of_kind("habit")) if (d, p) == (weekday, part))

        return Draft(query=query, correct=activity, distractors=_shuffled(rng, same_part), evidence=evidence,
                     stated=(weekday,), gold=gold,
                     flip=lambda v, opts: (v.flipped(facts, {activity: _other(opts, activity)[0]}), _other(opts, activity)[0]),
                     topics=frozenset({f"habit:{hid}"}))
    query = f"{_opener(rng)}when {tense} {activity}?"
    correct = f"Every {weekday} {part}"
    slots = [f"Every {d} {part}" for d in WEEKDAYS if d != weekday]

    def gold(v: Window, options: list[str]) -> str | None:
        return _unique(f"Every {d} {p}" for a, d, p in map(_habit_slot, v.of_kind("habit")) if a == activity)

    def flip(v: Window, options: list[str]):
        target = _other(options, correct)[0]
        return v.flipped(facts, {weekday: target.split()[1]}), target

    return Draft(query=query, correct=correct, distractors=_shuffled(rng, slots), evidence=evidence, stated=(weekday,),
                 gold=gold, flip=flip, topics=frozenset({f"habit:{hid}"}))


GOAL_STATES = {
    "completed": "You told me you'd achieved it.",
    "abandoned": "You told me you'd given up on it.",
    "progress": "You're still working on it, as far as I know.",
    "unknown": "You haven't told me anything about it since you first mentioned it.",
}


def _goal_state(v: dict, lex: Lexicon) -> str:
    if v["outcome"] is not None:
        return "completed" if v["outcome"].fact.value.startswith("completed") else "abandoned"
    if v["steps"]:
        return "progress"
    return "unknown" if v["start"] is not None else "none"


def _tier(v: dict, lex: Lexicon) -> str:
    """Where the latest thing told puts the user: the later milestone implies the earlier one."""
    if v["outcome"] is not None:
        return "abandoned" if v["outcome"].fact.value.startswith("abandoned") else "beyond"
    if v["steps"]:
        steps = next(e.steps for e in lex.goals if e.key == v["key"])
        return "next" if max(steps.index(x.fact.value) for x in v["steps"]) == 0 else "advanced"
    return "basics" if v["start"] is not None else "none"


def long_term_goal_tracking(w: Window, lex: Lexicon, rng: np.random.Generator, target: str | None = None) -> Draft | None:
    return _goal_question(w, lex, GOAL_STATES, _goal_state, "whatever happened with my plan to {goal}?", rng, target)


def _goal_question(w: Window, lex: Lexicon, answers: dict[str, str], state_of, ask: str,
                   rng: np.random.Generator, target: str | None) -> Draft | None:
    """A question whose options are every state in `answers`, about a goal in state `target` (the build tries
    the states in a random order, and its balancing evens out the states the world produces more often);
    None when no goal is in that state."""
    status = _goal_status(w)
    state = target or pick(rng, list(answers))
    matching = [gid for gid, v in status.items() if state_of(v, lex) == state]
    if not matching:
        return None
    gid = pick(rng, matching)
    v = status[gid]

    def gold(u: Window, options: list[str]) -> str | None:
        x = _goal_status(u).get(gid)
        return answers.get(state_of(x, lex)) if x else None

    def flip(u: Window, options: list[str]):
        """Another state, by the first of these edits that gives one: the outcome told the other way, the
        outcome untold, the steps untold, a first step told."""
        x = _goal_status(u)[gid]
        entry = next(e for e in lex.goals if e.key == x["key"])
        edits = []
        if x["outcome"] is not None:
            other = "abandoned: " if x["outcome"].fact.value.startswith("completed") else "completed: "
            edits += [lambda: u.flipped([x["outcome"].fact.id], {}, value=other + x["goal"]),
                      lambda: u.without({x["outcome"].fact.id})]
        if x["steps"]:
            edits.append(lambda: u.without({y.fact.id for y in x["steps"]}))
        elif x["start"] is not None:
            event = x["start"].event
            step = Fact(id=f"{event.id}/f{len(event.facts):02d}", kind="goal_progress", key=f"goal_progress/{gid}",
                        value=entry.steps[0], text=f"Progress on '{x['goal']}': I {entry.steps[0]}.", terms=[x["key"]])
            edits.append(lambda: u.telling(step, event))
        for edit in edits:
            u2 = edit()
            new = gold(u2, options)
            if new in options and new != answers[state]:
                return u2, new
        return None

    return Draft(query=_opener(rng) + ask.format(goal=v["goal"]), correct=answers[state],
                 distractors=[t for k, t in answers.items() if k != state], evidence=[_ev(_last(v))],
                 stated=(v["key"],), gold=gold, flip=flip, topics=frozenset({f"goal:{gid}"}))


# ---------------------------------------------------------------- Relationship


def _people(v: Window) -> dict[str, str]:
    """name -> role, as told."""
    return {x.fact.key.split("/", 1)[1]: x.fact.value.split(";")[0] for x in v.of_kind("relationship")}


def relationship_recognition(w: Window, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    """Who a person is to the user. The options are roles, not names: the distractors of "what's my sister's
    name?" would be the user's other people, whom the persona's other items name while the answer's topic
    keeps them from naming the answer."""
    told = w.of_kind("relationship")
    if not told:
        return None
    x = told[int(rng.integers(len(told)))]
    name = x.fact.key.split("/", 1)[1]
    role = x.fact.value.split(";")[0]
    query = f"{_opener(rng)}who is {name} to me, again?"
    others = [f"My {r}" for r in _shuffled(rng, sorted(lex.relationships.roles)) if r != role]

    def gold(v: Window, options: list[str]) -> str | None:
        r = _people(v).get(name)
        return f"My {r}" if r else None

    def flip(v: Window, options: list[str]):
        target = _other(options, f"My {role}")[0]
        return v.flipped([x.fact.id], {role: target.removeprefix("My ")}), target

    return Draft(query=query, correct=f"My {role}", distractors=others, evidence=[_ev(x)], stated=(role,), gold=gold, flip=flip,
                 topics=frozenset({f"person:{name}"}))


def relationship_dynamics_comprehension(w: Window, lex: Lexicon, rng: np.random.Generator,
                                        target: str | None = None) -> Draft | None:
    latest = {x.event.participants[0]: x for x in w.of_kind("relationship_change")}  # the latest change told, per person
    # the direction is given by the build (tried in a random order) or drawn, so that neither is a prior
    closer = (target or pick(rng, DIRECTIONS)) == "closer"
    names = sorted(n for n, x in latest.items() if ("grew closer to" in x.fact.text) == closer)
    if not names:
        return None
    name = pick(rng, names)
    x = latest[name]
    reasons = (*lex.relationships.closer, *lex.relationships.further)
    true = next(r for r in reasons if r.key == x.fact.terms[-1])
    same = [r for r in (lex.relationships.closer if closer else lex.relationships.further) if r.key != true.key]
    opposite = lex.relationships.further if closer else lex.relationships.closer

    def option(up: bool, reason) -> str:
        return f"{'We got closer' if up else 'We grew apart'}: {_they(reason)}."  # equal lengths on purpose

    def gold(v: Window, options: list[str]) -> str | None:
        changes = [y for y in v.of_kind("relationship_change") if y.event.participants[0] == name]
        if not changes:
            return None
        y = changes[-1]
        return option("grew closer to" in y.fact.text, next(r for r in reasons if r.key == y.fact.terms[-1]))

    alt = pick(rng, same)
    distractors = [option(closer, alt)] + [option(not closer, r) for r in pick(rng, opposite, 2)]

    def flip(v: Window, options: list[str]):
        return v.flipped([x.fact.id], {true.key: alt.key}, terms=[name, alt.key]), option(closer, alt)

    query = f"{_opener(rng)}where do {name} and I stand these days, and why?"
    return Draft(query=query, correct=option(closer, true), distractors=distractors, evidence=[_ev(x)],
                 stated=(x.fact.terms[-1],), gold=gold, flip=flip, topics=frozenset({f"person:{name}"}))


# ---------------------------------------------------------------- Growth

TIERS = {
    "basics": "Start from the basics: you've only just set out to do it.",
    "next": "Build on your first milestone and take the next step.",
    "advanced": "Go into advanced detail: you're past most of the milestones.",
    "beyond": "Discuss what comes after: you've already achieved it.",
}


def tiered_explanation_delivery(w: Window, lex: Lexicon, rng: np.random.Generator, target: str | None = None) -> Draft | None:
    return _goal_question(w, lex, TIERS, _tier, "I'd like your advice on my plan to {goal}. At what level should you "
                          "pitch it for me right now?", rng, target)


def generalizing_to_new_scenarios(w: Window, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    told = w.of_kind("interest")
    if not told:
        return None
    x = told[int(rng.integers(len(told)))]
    city = pick(rng, [loc for loc in lex.locations if loc != w.persona.location]).split(",")[0]
    scenario = pick(rng, (f"I'm spending a long weekend in {city} soon. What should I look up there?",
                          f"Work is sending me to {city} for a week. What would make the evenings fun for me?",
                          f"I have a free day in {city} next month. Plan it around something I'd enjoy?"))
    # no distractor the user ever backed: not their interests, nothing their own words mention; and, so that
    # an interest the world often brings up is not thereby more often the answer, no answer that the user's
    # words bring up except where they tell it
    said = w.user_text()
    elsewhere = "\n".join(t.text for s in w.sessions for t in s.turns if t.role == "user" and not any(
        y.turn is t and y.fact.value == x.fact.value for y in told))
    if mentions(elsewhere, x.fact.value):
        return None
    mine = set(w.persona.interests)
    others = [i for i in _shuffled(rng, [i for i in lex.interests if i not in mine])[:40] if not mentions(said, i)]

    def gold(v: Window, options: list[str]) -> str | None:
        liked = {f"Something to do with {y.fact.value}" for y in v.of_kind("interest")}
        return _unique(c for c in options if c in liked)

    def flip(v: Window, options: list[str]):
        target = _other(options, f"Something to do with {x.fact.value}")[0]
        return v.flipped([x.fact.id], {x.fact.value: target.removeprefix("Something to do with ")}), target

    return Draft(query=scenario, correct=f"Something to do with {x.fact.value}",
                 distractors=[f"Something to do with {i}" for i in others], evidence=[_ev(x)], stated=(x.fact.value,),
                 gold=gold, flip=flip, topics=frozenset({f"interest:{x.fact.value}"}))


# ---------------------------------------------------------------- Alignment

STYLE = {  # (aligned with a high score, aligned with a low score) replies recommending {item}
    "openness": ("Why not mix it up? Try {item}, and maybe pair it with something you've never done before.",
                 "Stick with what you know works: {item}. No need to experiment."),
    "conscientiousness": ("Here's a plan: {item}. Pick a time, get everything ready in advance, and tick it off.",
                          "Just go with {item} whenever you feel like it. No need to plan anything."),
    "extraversion": ("Ooh, {item}! Even better if you invite a few friends and make a night of it!",
                     "{item} sounds right: a quiet one on your own, at your own pace."),
    "agreeableness": ("{item} could be lovely, and it might be nice to share it with someone you care about.",
                      "{item}. Do it for yourself; don't worry about what anyone else wants."),
    "neuroticism": ("No pressure at all: {item} is a gentle, safe choice, and it's completely fine if plans change.",
                    "{item}. Easy. Nothing to overthink."),
}


def personality_alignment(w: Window, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    """A reply styled for a pronounced trait of the user at the time (chosen) and for its opposite pole (rejected).

    The gold is the pole the user's words show (`Window.style_pole`), and it must agree with the true
    personality at the time; the certificate rewrites the history with the other pole's words, and the
    chosen reply must then be the misaligned one."""
    got = _preference_pick(w, rng, shifted=False)
    if got is None:
        return None
    cat, told = got
    # the trait and its pole are drawn first, so every reply style is the aligned one as often as the
    # misaligned one and the reply's wording alone tells nothing
    trait, high = pick(rng, list(TRAITS)), bool(rng.random() < 0.5)
    now, base = getattr(w.sessions[-1].true_personality, trait) - 3, getattr(w.persona.big_five, trait) - 3
    if not (abs(now) >= 0.9 and now * base > 0 and (now > 0) == high):
        return None
    item = told[-1].fact.value
    chosen = sentence_case(STYLE[trait][0 if high else 1].format(item=item))
    rejected = sentence_case(STYLE[trait][1 if high else 0].format(item=item))

    def gold(v: Window, options: list[str]) -> str | None:
        shown = v.style_pole(trait)
        return None if shown is None else ALIGN_CHOICES[0] if shown == high else ALIGN_CHOICES[1]

    return Draft(query=pick(rng, chat_topics(cat, lex.preferences[cat].noun)), correct=ALIGN_CHOICES[0], distractors=[ALIGN_CHOICES[1]],
                 evidence=[_ev(told[-1])], stated=(item,), gold=gold,
                 flip=lambda v, options: (v.restyled(trait), ALIGN_CHOICES[1]), topics=frozenset({f"pref:{cat}"}),
                 extra={"chosen": chosen, "rejected": rejected})


DIRECTIONS = ("closer", "apart")
# tasks with a fixed set of answer classes: the build tries the classes in a random order (`build.ask`)
ENDED = frozenset({"completed", "abandoned", "beyond"})  # the answer classes of a goal that has ended
# the classes tried after the others: an ended goal's (most goals have ended by the time a question is asked), and
# Intent's goal under way (the goal tasks need the few goals still under way more)
LATER = ENDED | {INTENT_GOALS[0]}
ANSWER_CLASSES = {"Long-term Goal Tracking": tuple(GOAL_STATES), "Tiered Explanation Delivery": tuple(TIERS),
                  "Relationship Dynamics Comprehension": DIRECTIONS, "Implicit Intent Recognition": INTENT_GOALS}
TaskFn = Callable[..., Draft | None]
TASKS: dict[str, TaskFn] = {
    "Visual Detail Recall": visual_detail_recall,
    "Semantic Information Recall": semantic_information_recall,
    "Explicit Intent Inference": explicit_intent_inference,
    "Implicit Intent Recognition": implicit_intent_recognition,
    "Latest Preference Recognition": latest_preference_recognition,
    "Interest Evolution Analysis": interest_evolution_analysis,
    "Implicit Preference Recommendation": implicit_preference_recommendation,
    "Behavioral Pattern Recognition": behavioral_pattern_recognition,
    "Long-term Goal Tracking": long_term_goal_tracking,
    "Relationship Recognition": relationship_recognition,
    "Relationship Dynamics Comprehension": relationship_dynamics_comprehension,
    "Tiered Explanation Delivery": tiered_explanation_delivery,
    "Generalizing to New Scenarios": generalizing_to_new_scenarios,
}
