"""The 14 Persona-MME tasks: each turns what a history tells into one question with a known answer.

A task returns a `Draft` or None when the history holds nothing it can ask about. Distractors come
from the same persona wherever the world has them (earlier preferences, other people, other goals,
the other colours in the same photo) and from the lexicons of the same kind otherwise. Two things
keep the options from giving the answer away, and the build report measures both: the correct
option's length rank among the options is drawn at random (so it is the uniquely longest about as
often as chance), and where options are made of parts (a direction and a reason), every part appears
in exactly two options, so "the option most like the others" carries no signal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from pipeline.dedup import normalize as norm
from pipeline.mme.history import Told, Window
from pipeline.personas.lexicon import Lexicon
from pipeline.records import TRAITS, Evidence, parse_time
from pipeline.rng import pick
from pipeline.world.clock import WEEKDAYS, when_phrases
from pipeline.world.plan import CHAT_TOPICS, _plural
from pipeline.world.simulate import COLOURS, MAX_COUNT, NUMBER_WORDS

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
_FUNCTION_WORDS = frozenset("a an the i my me to of in on at for and or with".split())
OPENERS = ("", "Hey, ", "Quick question: ", "Remind me, ", "Random thought, ")


@dataclass
class Draft:
    query: str
    correct: str
    distractors: list[str]  # best first; `choose_options` picks among them
    evidence: list[Evidence]
    stated: str | None = None  # must appear in the first evidence turn's text
    needs_image: bool = False
    fixed: bool = False  # the distractors are exactly the other options (no length balancing)
    extra: dict = field(default_factory=dict)


def choose_options(d: Draft, rng: np.random.Generator, n: int = 4) -> tuple[list[str], int] | None:
    """n options with the correct one at a uniform position and a uniform length rank; None if the
    distractors cannot give both (too few, or none longer when the draw asks for longer ones)."""
    seen, pool = {norm(d.correct)}, []
    for x in d.distractors:
        if norm(x) not in seen:
            seen.add(norm(x))
            pool.append(x)
    if len(pool) < n - 1:
        return None
    if d.fixed:
        picked = pool[: n - 1]
    else:  # the number of longer distractors is uniform in 0..n-1; a draw the pool cannot meet drops the question
        top = pool[: 4 * n]
        longer = [x for x in top if len(x) > len(d.correct)]
        shorter = [x for x in top if len(x) < len(d.correct)] + [x for x in top if len(x) == len(d.correct)]
        k = int(rng.integers(n))
        if len(longer) < k or len(shorter) < n - 1 - k:
            return None
        picked = longer[:k] + shorter[: n - 1 - k]
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


def _because(text: str) -> str:
    """The reason in a fact text written as '... because <reason>[; ...|.]'."""
    return re.split(r";|\.$", text.split(" because ", 1)[1])[0].strip()


# ---------------------------------------------------------------- Memory


def visual_detail_recall(w: Window, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    shown = w.image_turns
    names = [o.name for _, _, im in shown for o in im.spec.objects]
    unique = [(s, t, im, o) for s, t, im in shown for o in im.spec.objects if names.count(o.name) == 1]
    if not unique:
        return None
    s, t, im, o = unique[int(rng.integers(len(unique)))]
    told = next(x for x in w.told if x.turn is t and x.event.id == im.event_id and x.fact.key.endswith("/" + o.name))
    when = _when(w, told.time, rng)
    thing = o.name if o.count == 1 else _plural(o.name)
    if rng.random() < 0.5:
        pronoun = "was it" if o.count == 1 else "were they"
        query = f"{_opener(rng)}that photo I sent you {when}, the one with the {thing}: what colour {pronoun}?"
        # uniform over the palette: the other colours of the same photo would be more plausible, but a colour
        # offered more often than it is right becomes a prior a model can learn without looking
        return Draft(query=query, correct=o.colour, distractors=_shuffled(rng, list(COLOURS)), evidence=[_ev(told, im.id)],
                     needs_image=True, fixed=True, extra={"object": o.name, "colour": o.colour})
    query = f"{_opener(rng)}in the photo I sent you {when}, how many {_plural(o.name)} were there?"
    counts = [NUMBER_WORDS[k] for k in range(1, MAX_COUNT + 1)]
    return Draft(query=query, correct=NUMBER_WORDS[o.count], distractors=_shuffled(rng, counts), evidence=[_ev(told, im.id)],
                 needs_image=True, fixed=True, extra={"object": o.name, "count": o.count})


def _activity(x: Told) -> str:
    return x.fact.value.split(f" at {x.event.place}")[0]


def semantic_information_recall(w: Window, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    acts = w.of_kind("activity")
    if not acts:
        return None
    x = acts[int(rng.integers(len(acts)))]
    day = x.event.time[:10]
    if any(y.event.place == x.event.place and y.event.time[:10] == day and y.event.id != x.event.id for y in acts):
        return None
    when = _when_day(w, x, rng)
    others = list(dict.fromkeys(_activity(y) for y in acts if _activity(y) != _activity(x)))
    lexical = [a for v in lex.places.venues.values() for a in v.activities]
    if len(x.event.participants) == 1 and rng.random() < 0.5:
        who = x.event.participants[0]
        query = f"{_opener(rng)}who was I with at {x.event.place} {when}?"
        people = [p.name for p in w.persona.relationships if p.name != who]
        return Draft(query=query, correct=who, distractors=_shuffled(rng, people), evidence=[_ev(x)], stated=who)
    query = f"{_opener(rng)}what was I doing at {x.event.place} {when}?"
    # first what one does at the same kind of place, so no option is favoured by sharing a word with the place
    venue = lex.places.venues[x.event.place.split()[-1]].activities
    return Draft(query=query, correct=_activity(x), distractors=_shuffled(rng, venue) + _shuffled(rng, others + lexical),
                 evidence=[_ev(x)], stated=_activity(x))


def _when_day(w: Window, x: Told, rng: np.random.Generator) -> str:
    """A phrase that pins down the event's own day (not the day it was told)."""
    phrases = when_phrases(parse_time(x.event.time), w.now)
    days = [{"today": "earlier today"}.get(p, p) for p in phrases if p in ("today", "yesterday") or p.startswith(("on ", "this past"))]
    return pick(rng, days)


# ---------------------------------------------------------------- Intent


def explicit_intent_inference(w: Window, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    options = []
    for x in w.of_kind("shift_reason"):
        shift = next((y for y in w.told if y.event is x.event and y.fact.kind == "preference_shift"), None)
        if shift is None:
            continue
        old, new = shift.fact.terms
        true = next(r for r in lex.reasons if r.key == x.fact.terms[-1])
        others = [_unnamed(r) for r in lex.reasons if r.key != true.key]
        options.append((f"why did I switch from {old} to {new}?", _unnamed(true), _shuffled(rng, others), x, true.key))
    for x in w.of_kind("goal_outcome"):
        if x.fact.value.startswith("abandoned: "):
            why = _because(x.fact.text)
            goal = x.fact.value.removeprefix("abandoned: ")
            others = [r for r in lex.abandon_reasons if r != why]
            options.append((f"what made me give up on my plan to {goal}?", why, _shuffled(rng, others), x, why))
    for x in w.of_kind("relationship_change"):
        name = x.event.participants[0]
        closer = "grew closer to" in x.fact.text
        pool = lex.relationships.closer if closer else lex.relationships.further
        true = _cause(x, lex)
        others = [_they(r) for r in pool if r.key != true.key]
        verb = "get closer to" if closer else "drift apart from"
        options.append((f"why did I {verb} {name}?", _they(true), _shuffled(rng, others), x, true.key))
    if not options:
        return None
    q, why, others, x, stated = options[int(rng.integers(len(options)))]
    return Draft(query=_opener(rng) + q, correct=why, distractors=others, evidence=[_ev(x)], stated=stated)


def _unnamed(reason) -> str:
    """A preference-shift reason without the items, so options do not echo the items named in the question."""
    return reason.text.format(old="the old one", new="the new one")


def _cause(x: Told, lex: Lexicon):
    """The lexicon reason a relationship change was told with (its key is one of the fact's terms)."""
    return next(r for r in (*lex.relationships.closer, *lex.relationships.further) if r.key == x.fact.terms[-1])


def _they(reason) -> str:
    """A relationship reason without the person's name, so options do not echo the name in the question."""
    text = reason.text.format(name="they")
    return text[:1].upper() + text[1:]


def _goal_status(w: Window) -> dict[str, dict]:
    """goal id -> {goal, start, steps, outcome}: what the history tells of each goal it mentions (start may be
    before the history; an outcome names its goal, so it is answerable on its own)."""
    out: dict[str, dict] = {}
    for g in w.persona.goals:
        told = w.with_key(f"goal/{g.id}")
        steps = w.with_key(f"goal_progress/{g.id}")
        if not told and not steps:
            continue
        start = next((x for x in told if x.fact.value.startswith("working towards")), None)
        outcome = next((x for x in told if x.fact.kind == "goal_outcome"), None)
        out[g.id] = {"goal": g, "start": start, "steps": steps, "outcome": outcome}
    return out


def _last(v: dict):
    return v["outcome"] or (v["steps"][-1] if v["steps"] else v["start"])


def implicit_intent_recognition(w: Window, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    status = [v for v in _goal_status(w).values() if v["outcome"] is None and v["start"] is not None]
    if not status:
        return None
    v = status[int(rng.integers(len(status)))]
    g = v["goal"]
    entry = next(e for e in lex.goals if e.key == g.key)
    hints = _hints(entry)
    if not hints:
        return None
    hint = pick(rng, hints)
    lead = pick(rng, ("Guess what, I just", "So today I", "Big day: I finally", "Small win: I"))
    ask = pick(rng, ("Can you tell what I'm working towards?", "Any idea what that's for?", "Guess what it's for?"))
    # distractors come from the goals that can be asked about this way, as the answers do (no frequency prior)
    askable = {e.key for e in lex.goals if _hints(e)}
    others = [x.text for x in w.persona.goals if x.id != g.id and x.key in askable]
    others += _shuffled(rng, [e.text for e in lex.goals if e.key != g.key and e.key in askable])
    return Draft(query=f"{lead} {hint}! {ask}", correct=g.text, distractors=others, evidence=[_ev(v["start"])], stated=g.key)


def _hints(entry) -> list[str]:
    """Progress steps that hint at the goal without naming it or sharing a word with it."""
    goal_words = set(norm(entry.text).split())
    return [h for h in (_without_key(s, entry.key) for s in entry.steps)
            if h and len(h.split()) >= 3 and not (set(norm(h).split()) & goal_words - _FUNCTION_WORDS)]


def _without_key(step: str, key: str) -> str | None:
    """The step with its goal's key phrase removed ('booked the flights for the trip to Japan' -> 'booked the flights')."""
    if key.lower() not in step.lower():
        return step
    m = re.search(rf"\s+(?:for|of|on|in|from|at) (?:the |my |a )?{re.escape(key)}$", step, flags=re.IGNORECASE)
    if not m:
        return None
    rest = step[: m.start()].strip()
    return rest if key.lower() not in rest.lower() and len(rest.split()) >= 2 else None


# ---------------------------------------------------------------- Preference


def _preference_histories(w: Window) -> dict[str, list[Told]]:
    out: dict[str, list[Told]] = {}
    for q in w.persona.preferences:
        told = w.with_key(f"preference/{q.category}")
        if told:
            out[q.category] = told
    return out


def _preference_pick(w: Window, rng: np.random.Generator) -> tuple[str, list[Told]] | None:
    hist = _preference_histories(w)
    if not hist:
        return None
    shifted = [c for c, xs in hist.items() if len(xs) > 1]
    cats = shifted if shifted and rng.random() < 0.8 else list(hist)
    cat = pick(rng, sorted(cats))
    return cat, hist[cat]


def _earlier_items(told: list[Told]) -> list[str]:
    latest = told[-1].fact.value
    items = [t for x in told for t in ([x.fact.value] if x.fact.kind == "preference" else x.fact.terms)]
    return list(dict.fromkeys(i for i in reversed(items) if i != latest))


def latest_preference_recognition(w: Window, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    got = _preference_pick(w, rng)
    if got is None:
        return None
    cat, told = got
    noun = lex.preferences[cat].noun
    latest = told[-1]
    ask = pick(rng, ("what is my favourite", "which is my go-to", "what would you say is my favourite"))
    query = f"{_opener(rng)}{ask} {noun} these days?"
    pool = _earlier_items(told) + _shuffled(rng, [i for i in lex.preferences[cat].items if i != latest.fact.value])
    return Draft(query=query, correct=latest.fact.value, distractors=pool, evidence=[_ev(latest)], stated=latest.fact.value)


def implicit_preference_recommendation(w: Window, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    got = _preference_pick(w, rng)
    if got is None:
        return None
    cat, told = got
    latest = told[-1]
    pool = _earlier_items(told) + _shuffled(rng, [i for i in lex.preferences[cat].items if i != latest.fact.value])
    return Draft(query=pick(rng, CHAT_TOPICS[cat]), correct=latest.fact.value, distractors=pool,
                 evidence=[_ev(latest)], stated=latest.fact.value)


def interest_evolution_analysis(w: Window, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    shifts = w.of_kind("preference_shift")
    pairs = [(x, next((y for y in w.told if y.event is x.event and y.fact.kind == "shift_reason"), None)) for x in shifts]
    pairs = [(x, r) for x, r in pairs if r is not None]
    if not pairs:
        return None
    x, r = pairs[int(rng.integers(len(pairs)))]
    old, new = x.fact.terms
    cat = x.fact.key.split("/", 1)[1]
    true_reason = next(t for t in lex.reasons if t.text.format(old=old, new=new) == r.fact.value)
    other = pick(rng, [t for t in lex.reasons if t.key != true_reason.key])

    def option(a: str, b: str, reason) -> str:
        return f"From {a} to {b}: {reason.text.format(old=a, new=b)}."

    correct = option(old, new, true_reason)
    # a 2x2 design over direction and reason: every part is in exactly two options
    distractors = [option(new, old, true_reason), option(old, new, other), option(new, old, other)]
    query = f"{_opener(rng)}how has my favourite {lex.preferences[cat].noun} changed, and why?"
    return Draft(query=query, correct=correct, distractors=distractors, evidence=[_ev(x), _ev(r)], fixed=True, stated=new)


# ---------------------------------------------------------------- Behavior

PARTS = ("morning", "afternoon", "evening")


def behavioral_pattern_recognition(w: Window, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    told = w.of_kind("habit")
    if not told:
        return None
    x = told[int(rng.integers(len(told)))]
    h = next(h for h in w.persona.habits if x.fact.key == f"habit/{h.id}")
    if rng.random() < 0.5:
        query = f"{_opener(rng)}what do I usually do on {WEEKDAYS[h.weekday]} {h.part}s?"
        others = [y.activity for y in w.persona.habits if y.id != h.id] + _shuffled(rng, [y.activity for y in lex.habits
                                                                                          if y.key != h.key])
        return Draft(query=query, correct=h.activity, distractors=others, evidence=[_ev(x)], stated=WEEKDAYS[h.weekday])
    slots = [f"Every {d} {p}" for d in WEEKDAYS for p in PARTS if (d, p) != (WEEKDAYS[h.weekday], h.part)]
    near = [s for s in slots if s.startswith(f"Every {WEEKDAYS[h.weekday]} ") or s.endswith(f" {h.part}")]
    query = f"{_opener(rng)}when do I usually {h.activity}?"
    return Draft(query=query, correct=f"Every {WEEKDAYS[h.weekday]} {h.part}",
                 distractors=_shuffled(rng, near) + _shuffled(rng, slots), evidence=[_ev(x)], stated=WEEKDAYS[h.weekday])


GOAL_STATES = {
    "completed": "You told me you'd achieved it.",
    "abandoned": "You told me you'd given up on it.",
    "progress": "You're still working on it, as far as I know.",
    "unknown": "You haven't told me anything about it since you first mentioned it.",
}


def _goal_state(v: dict) -> str:
    if v["outcome"] is not None:
        return "completed" if v["outcome"].fact.value.startswith("completed") else "abandoned"
    if v["steps"]:
        return "progress"
    return "unknown" if v["start"] is not None else "none"


def long_term_goal_tracking(w: Window, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    return _goal_question(list(_goal_status(w).values()), GOAL_STATES, _goal_state,
                          "whatever happened with my plan to {goal}?", rng)


def _goal_question(goals: list[dict], answers: dict[str, str], state_of, ask: str, rng: np.random.Generator) -> Draft | None:
    """A question whose options are every state in `answers`. The state is drawn first, over all of them,
    so that no state becomes a prior; None when no goal is in the drawn state."""
    if not goals:
        return None
    state = pick(rng, list(answers))
    matching = [v for v in goals if state_of(v) == state]
    if not matching:
        return None
    v = pick(rng, matching)
    return Draft(query=_opener(rng) + ask.format(goal=v["goal"].text), correct=answers[state],
                 distractors=[t for k, t in answers.items() if k != state], evidence=[_ev(_last(v))], fixed=True,
                 stated=v["goal"].key)


# ---------------------------------------------------------------- Relationship


def relationship_recognition(w: Window, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    told = [x for x in w.of_kind("relationship")]
    if not told:
        return None
    x = told[int(rng.integers(len(told)))]
    name = x.fact.key.split("/", 1)[1]
    person = next(p for p in w.persona.relationships if p.name == name)
    roles = [p.role for p in w.persona.relationships]
    if roles.count(person.role) == 1 and rng.random() < 0.5:
        query = f"{_opener(rng)}what's the name of my {person.role} again?"
        others = [p.name for p in w.persona.relationships if p.name != name]
        others = _shuffled(rng, others) + _shuffled(rng, [n for n in lex.first_names if n not in others and n != name])[:8]
        return Draft(query=query, correct=name, distractors=others, evidence=[_ev(x)], stated=name)
    query = f"{_opener(rng)}who is {name} to me, again?"
    others = [f"My {r}" for r in roles if r != person.role] + [f"My {r}" for r in _shuffled(rng, sorted(lex.relationships.roles))]
    return Draft(query=query, correct=f"My {person.role}", distractors=others, evidence=[_ev(x)], stated=person.role)


def relationship_dynamics_comprehension(w: Window, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    told = w.of_kind("relationship_change")
    if not told:
        return None
    x = told[int(rng.integers(len(told)))]
    name = x.event.participants[0]
    closer = "grew closer to" in x.fact.text
    true = _cause(x, lex)
    same = [r for r in (lex.relationships.closer if closer else lex.relationships.further) if r.key != true.key]
    opposite = lex.relationships.further if closer else lex.relationships.closer

    def option(up: bool, reason) -> str:
        return f"{'We got closer' if up else 'We grew apart'}: {_they(reason)}."  # equal lengths on purpose

    correct = option(closer, true)
    distractors = [option(closer, pick(rng, same))] + [option(not closer, r) for r in pick(rng, opposite, 2)]
    query = f"{_opener(rng)}where do {name} and I stand these days, and why?"
    return Draft(query=query, correct=correct, distractors=distractors, evidence=[_ev(x)], fixed=True,
                 stated=x.fact.terms[-1])


# ---------------------------------------------------------------- Growth

TIERS = {
    "basics": "Start from the basics: you've only just set out to do it.",
    "next": "Build on your first milestone and take the next step.",
    "advanced": "Go into advanced detail: you're past most of the milestones.",
    "beyond": "Discuss what comes after: you've already achieved it.",
}


def tiered_explanation_delivery(w: Window, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    goals = [v for v in _goal_status(w).values() if _goal_state(v) != "abandoned"]

    def tier(v: dict) -> str:
        """Where the latest thing told puts the user: the later milestone implies the earlier one."""
        if v["outcome"] is not None:
            return "beyond"
        if v["steps"]:
            steps = next(e.steps for e in lex.goals if e.key == v["goal"].key)
            return "next" if max(steps.index(x.fact.value) for x in v["steps"]) == 0 else "advanced"
        return "basics" if v["start"] is not None else "none"

    return _goal_question(goals, TIERS, tier, "I'd like your advice on my plan to {goal}. At what level should you "
                          "pitch it for me right now?", rng)


def generalizing_to_new_scenarios(w: Window, lex: Lexicon, rng: np.random.Generator) -> Draft | None:
    told = w.of_kind("interest")
    if not told:
        return None
    x = told[int(rng.integers(len(told)))]
    mine = set(w.persona.interests)
    city = pick(rng, [loc for loc in lex.locations if loc != w.persona.location]).split(",")[0]
    scenario = pick(rng, (f"I'm spending a long weekend in {city} soon. What should I look up there?",
                          f"Work is sending me to {city} for a week. What would make the evenings fun for me?",
                          f"I have a free day in {city} next month. Plan it around something I'd enjoy?"))
    others = _shuffled(rng, [i for i in lex.interests if i not in mine])
    return Draft(query=scenario, correct=f"Something to do with {x.fact.value}",
                 distractors=[f"Something to do with {i}" for i in others], evidence=[_ev(x)], stated=x.fact.value)


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
    """A reply styled for a pronounced trait of the user at the time (chosen) and for its opposite pole (rejected)."""
    got = _preference_pick(w, rng)
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
    return Draft(query=pick(rng, CHAT_TOPICS[cat]), correct=ALIGN_CHOICES[0], distractors=[ALIGN_CHOICES[1]],
                 evidence=[_ev(told[-1])], fixed=True, stated=item, extra={"chosen": chosen, "rejected": rejected,
                                                                           "trait": trait, "high": high})


TaskFn = Callable[[Window, Lexicon, np.random.Generator], Draft | None]
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
