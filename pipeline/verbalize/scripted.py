"""The embedded text backend: deterministic variant templates (`vary`) and the session's personality (`voice`).

Right facts in varied words: every template that conveys a fact writes the fact's terms, and every relative date
comes from the clock (`world.clock`); the discourse around them (`phrases`) says no fact of its own. The
session's true traits pick the openers, the punctuation and the trait sentences, so a reader can infer the
personality, and its drift, from the text.
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np

from pipeline.grammar import indefinite, second_person
from pipeline.personas.sampler import style_from_traits
from pipeline.records import BigFive, Event, Fact, Session, Style, TimeRef, Turn, fmt_time, parse_time
from pipeline.rng import pick, rng_for
from pipeline.verbalize import echo
from pipeline.verbalize import phrases as ph
from pipeline.verbalize.vary import say, vary
from pipeline.verbalize.voice import ADAPTED, CHAT_VOICE, NEWS_TAILS
from pipeline.world.clock import WEEKDAYS, clock_time, resolve, when_phrases
from pipeline.world.plan import Act, SessionPlan, object_phrase
from pipeline.world.simulate import World, number_word

NEWS_OPENERS = {
    "high": ("Hey!", "Guess what!", "Okay so", "Oh wow,", "Hi hi!", "You won't believe this:", "Ahh,", "So!"),
    "mid": ("Hi,", "Hey,", "Hello,", "So,", "Quick update:", "Right,", "By the way,", "Hello!"),
    "low": ("Hi.", "So.", "Quick one.", "Hm.", "Update:", "Note:", "FYI,", "Well."),
}
BAD_NEWS_OPENERS = ("Hi.", "Hey,", "So,", "Okay, so", "Ugh,", "Well,", "Hi,", "Right,")  # whatever the teller's energy
OPENERS = {
    "high": ("Hey!", "Hiii,", "Okay,", "So!", "Heyyy,", "Ooh,"),
    "mid": ("Hi,", "Hey,", "So,", "Hmm,", "Hello,", "Okay,"),
    "low": ("Hi.", "Hm.", "Question.", "So.", "Right.", "Okay."),
}
# Situations that frame a request; {name} is someone from the persona's life.
CONTEXT = ("With {name} coming over later, ", "Quick question before I head out: ", "I'm trying to plan ahead, so: ",
           "Random thought: ", "Honest answer please: ", "Okay, help me decide. ", "I'm stuck. ", "Before I forget: ",
           "[Quick|Small|Random] question[ for you|]: ", "[Advice|Help] needed: ",
           "[Okay|Right|So], [I need|I could use] [your help|a second opinion|some advice]: ")
EVENING_CONTEXT = ("After the day I had, ",)  # only said from the late afternoon on
ADAPT_RATE = 0.8  # per observed trait and reply, at most two a reply


def _closing(rng: np.random.Generator) -> str:
    """A sign-off, on some replies."""
    return f" {say(rng, ph.CLOSING)}" if rng.random() < 0.6 else ""


def _adapted(observed: dict[str, bool], rng: np.random.Generator) -> str:
    """Up to two adaptations, the traits in a random order (in a fixed one, the last seldom gets a turn)."""
    traits = [str(t) for t in rng.permutation(sorted(observed))]
    picked = [say(rng, ADAPTED[t][observed[t]]) for t in traits if rng.random() < ADAPT_RATE]
    return "".join(f" {x}" for x in picked[:2])


KNOB = {"extraversion": "exuberance", "agreeableness": "warmth", "conscientiousness": "precision",
        "neuroticism": "worry", "openness": "vividness"}
LOW_KNOB, HIGH_KNOB = 0.35, 0.6
# news a worrier worries about: a change or a decision, not an ordinary day out or a routine
_TERMS = frozenset({"activity", "key", "step", "done", "goal", "why", "text", "name", "role", "old", "new", "noun"})
UNSETTLING = frozenset({"preference_shift", "goal_start", "goal_outcome", "relationship_change", "life_event"})
MAX_TAILS = 3  # trait sentences in one turn
VIVID = ("gorgeous", "wild", "dreamy", "chaotic", "electric", "strange", "glorious", "cozy")
# how told news feels (a life event by what it does to the teller: one that makes them anxious is bad news)
VALENCE = {"activity": 1, "habit": 0, "habit_start": 1, "habit_end": 0, "goal_start": 1, "goal_progress": 1,
           "goal_completed": 1, "goal_abandoned": -1, "relationship_closer": 1, "relationship_further": -1,
           "preference_shift": 0}


def tail_rate(knob: float) -> float:
    """Chance per trait and turn of a sentence of the knob's pole: none near the middle, most at the extremes."""
    return float(np.clip(2.4 * abs(knob - 0.5) - 0.15, 0.0, 0.85))


@dataclass(frozen=True)
class Said:
    """What a user turn said beyond its facts, for the reply to take up."""

    kind: str  # the act, or the news it told (goal_completed, relationship_further, ...)
    valence: int = 0  # how the news feels: -1, 0, 1
    setting: str | None = None  # where an activity was
    scene: tuple[str, str] | None = None  # the detail of the place it mentioned (phrases.SCENE)
    felt: bool = False  # whether it said how the news felt
    terms: dict[str, str] = field(default_factory=dict)  # the news's own terms, in the teller's words (echo's slots)

    def to_you(self) -> dict[str, str]:
        """The terms as the assistant says them back ("my band" -> "your band", "we went" -> "you and Lara went")."""
        you = {k: second_person(v) for k, v in self.terms.items()}
        if "why" in you and "name" in you:
            you["why"] = re.sub(r"^we\b", f"you and {you['name']}", you["why"])
        return you


def _by_valence(pool, valence: int):
    """A pool, or its part for the valence where it has one per valence."""
    return pool.get(valence, ()) if isinstance(pool, dict) else pool


@functools.cache
def _slots(template: str) -> frozenset[str]:
    return frozenset(f for _, f, _, _ in string.Formatter().parse(template) if f)


def _fits(template: str, terms: dict[str, str]) -> bool:
    return all(f in terms and (terms[f] or f == "with_") for f in _slots(template))


def _say_of(rng: np.random.Generator, pool, terms: dict[str, str]) -> str | None:
    """One of the pool's templates that the terms can fill, filled; None if none can."""
    fitting = [t for t in pool if _fits(t, terms)]
    return say(rng, fitting).format(**terms) if fitting else None


def _valence(kind: str, event: Event) -> int:
    if kind == "life_event":
        return -1 if any(d.trait == "neuroticism" and d.delta >= 0.3 for d in event.trait_effect) else 1
    return VALENCE.get(kind, 0)


TELL = {
    "activity": (
        "{When} I {activity} at {place}{with_}.",
        "So {when} I ended up at {place}{with_} and {activity}.",
        "{When_cap}{with_comma} {activity} at {place}.",
        "Had {an_adj} time at {place} {when}{with_}: {activity}, basically.",
        "Little update: I {activity} at {place} {when}{with_}.",
        "Spent part of the day at {place}{with_} {when}. We {activity}.",
        "{place} {when}{with_} — I {activity} and it was {adj}.",
        "[So|Okay so|Right, so] {when} I [went|headed] [over|out] to {place}{with_} and {activity}.",
        "[Little|Quick|Small] [update|news]: I {activity} at {place} {when}{with_}.",
        "{When_cap} I [finally|actually|] {activity} at {place}{with_}[, and it was {adj}|].",
        "[Guess where I went|Guess what I did] {when}? I {activity} at {place}{with_}.",
        "[Spent|Had] [a bit of|some] time at {place} {when}{with_}: I {activity}.",
    ),
    "preference_shift": (
        "I used to love {old}, but honestly I can't stand it now: {why}. These days it's all {new} for me.",
        "Funny thing: {old} was my favourite {noun} forever, but {why}. Now I'm into {new}.",
        "Update on me: {new} has replaced {old} as my go-to {noun}. Why? {why_cap}.",
        "Not into {old} anymore. {why_cap}, so {when} I switched to {new}.",
        "Confession: I'm over {old}. {why_cap}. {new_cap} is my thing now.",
        "I've [gone off|gotten tired of|moved on from] {old}: {why}. [Now|These days] I [reach for|go for|pick] {new} [instead|every "
        "time].",
        "[Weird|Funny|Random] [thing|update|one]: my go-to {noun} is now {new}, not {old}. [The reason?|Why?] {why_cap}.",
    ),
    "goal_start": (
        "New goal: I want to {goal}. Starting now!",
        "I've decided I'm going to {goal}. Saying it out loud makes it real.",
        "{When} I made up my mind: I want to {goal}.",
        "Okay, big plan. I want to {goal} this year.",
        "[I've|I have] [set|given] myself a [new|fresh|big] goal: [I want to|I'm going to] {goal}.",
        "[Announcement|News|Heads up]: I'm [going to|determined to] {goal}[ this year| at last|].",
    ),
    "goal_progress": (
        "Progress on the {key} front: {when} I {step}.",
        "Small win for the {key} goal: I {step} {when}.",
        "{When_cap} I {step}. One step closer on the {key} thing.",
        "The {key} project is moving: I {step}.",
        "[Update|News|Progress] on the {key} [goal|front|plan]: I {step} {when}.",
        "{When_cap} I {step}[, so the {key} goal is moving|; the {key} plan is on track|: another step for the {key} goal].",
    ),
    "goal_completed": (
        "I finally did it: {when} I {done}! The {key} goal is done.",
        "It's official. {When_cap} I {done}. {key_cap}: done!",
        "Can't believe it, but the {key} goal is complete. I {done} {when}.",
        "[Done!|Finished!|Made it!] {When_cap} I {done}, [so|and] the {key} [goal|project] is [complete|finished|behind me].",
    ),
    "goal_abandoned": (
        "I'm dropping the {key} goal. Honestly, {why}.",
        "Decided {when} to give up on the {key} plan: {why}.",
        "The {key} thing is off. {why_cap}.",
        "[I've|I have] [decided to|had to] [let go of|give up on|step back from] the {key} [goal|plan]: {why}.",
    ),
    "relationship_closer": (
        "{name} and I have gotten so much closer: {why}.",
        "I feel way closer to {name} lately. {why_cap}.",
        "Something nice {when}: {why}. {name} is really there for me.",
        "[I've|I have] [grown|gotten] [so much|a lot|really] closer to {name} [lately|recently]: {why}.",
    ),
    "relationship_further": (
        "Things with {name} are weird lately. {why_cap}.",
        "I'm kind of drifting from {name}. {why_cap}.",
        "Ugh, {name}. {When_cap} {why}.",
        "[Things are|It's all been] [strained|awkward|off] with {name} [lately|recently]: {why}.",
    ),
    "life_event": (
        "Big news: {when} I {text}.",
        "So... {when} I {text}. Still processing it.",
        "I need to tell someone: I {text} {when}.",
        "Life update: {when} I {text}.",
        "[Guess what|So, news|Okay, big one]: {when} I {text}.",
        "{When_cap} I {text}[, and I'm still taking it in|; it's still sinking in|].",
    ),
    "habit": (
        "{When_cap} I did my usual {weekday} thing: {activity}.",
        "Kept up my {weekday} routine {when}: {activity}, as always.",
        "My {weekday} ritual held up {when}. I did it again: {activity}.",
        "[Another|One more] {weekday}, [same|the usual] [ritual|routine] {when}: {activity}.",
    ),
    "habit_start": (
        "New routine: every {weekday} {part} I {activity} now.",
        "I've picked up a new habit: I {activity} every {weekday} {part}.",
        "Trying something new: from now on, {weekday} {part}s are when I {activity}.",
        "[New|Fresh] [habit|routine] [alert|unlocked]: I {activity} every {weekday} {part} now.",
    ),
    "habit_end": (
        "I've dropped my {weekday} routine. I don't {activity} anymore.",
        "Small change: I stopped my {weekday} {part} habit of the last weeks, when I'd {activity}.",
        "That {weekday} {part} thing where I {activity}? I've quit it.",
        "[No more|I'm done with] my {weekday} {part} [routine|habit]; I [don't|won't] {activity} [anymore|these days].",
    ),
}
BACKGROUND = {
    "profile/age": ("I'm {value}, by the way.", "For context, I'm {value} years old.",
                    "[I'm|I am] {value}[, for the record|, if that helps|]."),
    "interest": ("I'm really into {value}.", "One thing about me: I love {value}.", "{value_cap} is my happy place.",
                 "Lately I spend a lot of time on {value}.",
                 "[I'm|I am] [a big|a huge|a real] fan of {value}[, honestly|, for what it's worth|].",
                 "[My favourite pastime|My go-to hobby|One thing I love doing] [is|has to be] {value}."),
    "preference": ("My favourite {noun}? {value_cap}, no contest.", "I could have {value} every day. Easily my favourite {noun}.",
                   "If you ever wonder, my favourite {noun} is {value}.", "Nothing beats {value} for me, honestly.",
                   "[Ask me|If you ask me] [about|for] [my favourite {noun}|the best {noun}] and I'll say {value}[ every time|]."),
    "relationship": ("{name} is my {role}; {closeness_words}.", "You'll hear about {name} a lot: my {role}, {closeness_words}.",
                     "[There's|I have] {name}, my {role}; {closeness_words}."),
    "habit": ("Every {weekday} {part} I {activity}. It's my thing.", "I have a ritual: {activity}, every {weekday} {part}.",
              "Every {weekday} {part} I {activity}[, without fail|, like clockwork|]."),
    "goal": ("I'm working on a goal: I want to {goal}.", "Something I'm chasing: I want to {goal}.",
             "[My|One] [big|main|current] goal[ right now|]? [I want to|To] {goal}."),
}
CLOSENESS = {1: "we're not close at all", 2: "we're not that close", 3: "we get along fine",
             4: "we're close", 5: "one of my favourite people in the world"}
INTRO = ("Hi! I'm {first}. I work as {a_occupation} in {city}.", "Hello, {first} here: {occupation}, based in {city}.",
         "Hey, I'm {first}, {a_occupation} from {city}.", "Nice to meet you. My name is {first}; I'm {a_occupation} in {city}.")
PHOTO = {
    "activity": ("Here's a photo from {place}.", "Sending you a picture from {place}.", "Look, I took this at {place}.",
                 "[Here's|Sending you|Attaching] [a photo|a picture|a snap] [from|I took at] {place}."),
    "snapshot": ("Look at this.", "Here's what I'm looking at right now.", "Sending you a quick pic.", "Check this out.",
                 "[Here's|Sending] [a quick|a little] [snap|pic|photo] [of where I am|of my surroundings|of the view]."),
}
RECALL_ASK = {
    "activity": ("Remind me, where was I {when}{with_}?", "What did I get up to {when}{with_}? I forget.",
                 "Quick memory test: what did I do {when}{with_}?", "Where did I go {when}{with_}? It's slipping my mind.",
                 "Help me remember: what was I doing {when}{with_}?",
                 "[Can you remind me|Do you remember|Any idea] what I [did|got up to] {when}{with_}?",
                 "[I've forgotten|I can't remember|I don't recall] where I went {when}{with_}. [Do you know|Any idea|Can you help]?"),
    "visual": ("What colour was the {name} in the photo from {when}?", "In that picture from {when}, what colour was the {name} again?",
               "Do you remember the {name} in my photo from {when}? What colour was it?"),
}
ACK = {
    "intro": ("Nice to meet you, {first}! {A_occupation} in {city}: I'd love to hear more.",
              "Hi {first}! Great to meet you. How's life in {city}?",
              "Welcome, {first}. Tell me anything you like; I'll remember it."),
    "background": ("Good to know!", "Noted, thanks for sharing that.", "I'll keep that in mind.", "Love that."),
    "snapshot": ("Thanks for the picture!", "Nice shot.", "Love seeing what's around you."),
    "small_talk": ("I'm here.", "That happens.", "Fair enough.", "Sounds like you could use a breather.", "Oof.",
                   "I hear you.", "Totally understandable.", "Ah, one of those.", "That sounds tiring.", "Noted."),
    "small_talk_followup": ("Want to talk about it?", "What would help right now?", "Anything on your mind?",
                            "How are you feeling overall?", "Did anything good happen today?", "Want a distraction?",
                            "Maybe a short walk would help?", "What's the first thing you'd change about today?"),
    "generic_advice": ("Maybe try something new today?", "Go with whatever sounds fun right now.",
                       "Tell me more about what you're in the mood for.", "What did you enjoy last time?",
                       "I don't know your taste there yet. What do you usually like?",
                       "Hard to say without knowing your taste. Tell me what you love?"),
}
# the assistant's pick when a request meets a known favourite
TELL, BACKGROUND, PHOTO, RECALL_ASK, ACK, CONTEXT = map(ph.reworded, (TELL, BACKGROUND, PHOTO, RECALL_ASK, ACK, CONTEXT))
# the assistant's pick when a request meets a known favourite (ph.RECOMMEND is reworded already)
FAVOURITE_PICK = (*ph.reworded(("How about {item}? It's your favourite {noun}, after all.",
                                "You told me your favourite {noun} is {item}, so that's my pick.", "Easy: {item}. You love it.",
                                "Go with {item}; you never get tired of it.", "Knowing you, {item}.")),
                  *(r + " It's your favourite {noun}." for r in ph.RECOMMEND))


def _confusers(fact: Fact, event: Event, events: dict[str, Event]) -> list[str]:
    """Times of other events a recall question could be mistaken for: same kind of question, other answer."""
    if fact.kind == "activity":
        return [e.time for e in events.values() if e.kind == "activity" and e.id != event.id
                and set(e.participants) == set(event.participants)]
    name = fact.key.rsplit("/", 1)[1]
    return [e.time for e in events.values() if e.image_spec is not None and e.id != event.id
            and any(o.name == name for o in e.image_spec.objects)]


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _uncapped(body: str, proper: set[str]) -> str:
    """A sentence continued after a frame: its first letter lower-cased unless it starts with a name or 'I'."""
    first_word = body.split(" ", 1)[0].strip(",.:;!?'")
    if first_word in proper or first_word == "I" or first_word.startswith("I'"):
        return body
    return body[:1].lower() + body[1:]


def _word(text: str, at: int) -> str:
    return text.split()[at].strip(",.!?:;").lower()


def _join_names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class ScriptedVerbalizer:
    """Turns session plans into turns; one generator per (seed, persona, 'verbalize', session)."""

    def __init__(self, seed: int):
        self.seed = seed

    def session(self, world: World, events: dict[str, Event], facts: dict[str, Fact], plan: SessionPlan,
                observed: dict[str, bool]) -> Session:
        """`observed`: the trait poles the user's earlier sessions showed (`Observed`), which the assistant's
        replies adapt to."""
        p = world.persona
        rng = rng_for(self.seed, p.id, "verbalize", str(plan.index))
        adapt_rng = rng_for(self.seed, p.id, "adapt", str(plan.index))  # its own: what was observed moves no other draw
        start = plan.acts[0].user_time
        truth = BigFive(**world.personality_at(start))
        style = style_from_traits(truth)  # the session's true personality: the text follows its drift
        turns: list[Turn] = []
        for act in plan.acts:
            text, refs, said = self._user(act, world, events, facts, style, rng)
            turns.append(Turn(index=len(turns), role="user", time=fmt_time(act.user_time), text=text,
                              image_ids=[f"{act.image_event_id}/image"] if act.image_event_id else [],
                              fact_ids=act.fact_ids, time_refs=refs))
            text, refs = self._assistant(act, world, events, facts, said, observed, rng, adapt_rng)
            turns.append(Turn(index=len(turns), role="assistant", time=fmt_time(act.assistant_time), text=text,
                              image_ids=[], fact_ids=act.recall_fact_ids, time_refs=refs))
        return Session(
            id=f"{p.id}/s{plan.index:04d}", persona_id=p.id, split=p.split, index=plan.index,
            start_time=fmt_time(start), end_time=turns[-1].time, turns=turns,
            planned_fact_ids=[f for a in plan.acts for f in a.fact_ids],
            true_personality=truth,
        )

    # ------------------------------------------------------------------ user

    def _when(self, event: Event, now: datetime, rng: np.random.Generator, refs: list[TimeRef]) -> str:
        phrase = pick(rng, when_phrases(parse_time(event.time), now))
        refs.append(TimeRef(event_id=event.id, phrase=phrase))
        return phrase

    def _user(self, act: Act, world: World, events: dict[str, Event], facts: dict[str, Fact], style: Style,
              rng: np.random.Generator) -> tuple[str, list[TimeRef], Said]:
        p = world.persona
        refs: list[TimeRef] = []
        said = Said(kind=act.kind)
        if act.kind == "intro":
            body = say(rng, INTRO).format(first=p.name.split()[0], occupation=p.occupation, a_occupation=indefinite(p.occupation),
                                           city=p.location.split(",")[0])
        elif act.kind == "tell":
            event = events[act.event_id]
            text_facts = [facts[f] for f in act.fact_ids if facts[f].modality == "text"]
            if event.kind == "background":
                body = " ".join(self._background_sentence(f, world, rng) for f in text_facts)
                said = Said(kind="background")
            else:
                body, said = self._tell(event, world, style, act.user_time, rng, refs)
        elif act.kind == "recall":
            fact = facts[act.recall_fact_ids[0]]
            event = events[act.event_id]
            name = fact.key.rsplit("/", 1)[1]
            with_ = f" with {_join_names(event.participants)}" if event.participants and fact.kind == "activity" else ""
            when = pick(rng, self._unambiguous(event, act.user_time, _confusers(fact, event, events)))
            refs.append(TimeRef(event_id=event.id, phrase=when))
            body = say(rng, RECALL_ASK[fact.kind]).format(when=when, with_=with_, name=name)
        else:
            body = act.prompt or ""
            if rng.random() < 0.5 and p.relationships:
                frames = CONTEXT + (EVENING_CONTEXT if act.user_time.hour >= 16 else ())
                frame = say(rng, frames).format(name=pick(rng, p.relationships).name)
                body = frame + (body if frame.rstrip()[-1] in ".!?" else _uncapped(body, world.proper_nouns))
        if act.image_event_id:
            shown = events[act.image_event_id]
            body += " " + say(rng, PHOTO["snapshot" if shown.kind == "snapshot" else "activity"]).format(place=shown.place)
        body += "".join(f" {x}" for x in self._more(act, said, rng))
        kind = events[act.event_id].kind if act.kind == "tell" else act.kind
        news = act.kind == "intro" or act.kind == "tell" and said.kind != "background"
        return self._style(body, style, world.proper_nouns, news, kind, said.valence, rng), refs, said

    @staticmethod
    def _more(act: Act, said: Said, rng: np.random.Generator) -> list[str]:
        """What a person adds to the turn's point: a detail of the scene and how it felt, why they ask, or more of a
        remark."""
        if act.kind == "tell" and said.kind != "background":
            more = []
            if said.scene is not None:
                thing, did = said.scene
                more.append(say(rng, ph.SCENE_USER).format(thing=thing, Thing=_cap(thing), did=did))
            if said.felt:
                felt = _say_of(rng, echo.FELT.get(said.kind, ()), said.terms) if rng.random() < 0.5 else None
                more.append(felt or say(rng, ph.FEELING[said.valence]))
            return more
        if act.kind == "chat" and rng.random() < 0.8:
            return [say(rng, ph.REQUEST_SITUATION if act.topic else ph.REMARK_MORE)]
        if act.kind == "recall" and rng.random() < 0.6:
            return [say(rng, ph.RECALL_WHY)]
        return []

    @staticmethod
    def _unambiguous(event: Event, now: datetime, confusers: list[str]) -> list[str]:
        """Date phrases whose range holds this event and none of the confusable ones."""
        phrases = when_phrases(parse_time(event.time), now)
        dates = [parse_time(t).date() for t in confusers]
        ok = [ph for ph in phrases if not any(lo <= d <= hi for d in dates for lo, hi in [resolve(ph, now)])]
        return ok or phrases[:1]

    def _background_sentence(self, f: Fact, world: World, rng: np.random.Generator) -> str:
        p = world.persona
        if f.key == "profile/age":
            return say(rng, BACKGROUND["profile/age"]).format(value=f.value)
        if f.kind == "relationship":
            name = f.key.split("/", 1)[1]
            person = next(x for x in p.relationships if x.name == name)
            return say(rng, BACKGROUND["relationship"]).format(name=name, role=person.role,
                                                                closeness_words=CLOSENESS[person.closeness])
        if f.kind == "habit":
            h = next(h for h in p.habits if f.key == f"habit/{h.id}")
            return say(rng, BACKGROUND["habit"]).format(weekday=WEEKDAYS[h.weekday], part=h.part, activity=h.activity)
        if f.kind == "goal":
            g = next(g for g in p.goals if f.key == f"goal/{g.id}")
            return say(rng, BACKGROUND["goal"]).format(goal=g.text)
        if f.kind == "preference":
            noun = next(q.noun for q in p.preferences if f.key == f"preference/{q.category}")
            return say(rng, BACKGROUND["preference"]).format(value=f.value, value_cap=_cap(f.value), noun=noun)
        return say(rng, BACKGROUND[f.kind]).format(value=f.value, value_cap=_cap(f.value))

    def _tell(self, event: Event, world: World, style: Style, now: datetime, rng: np.random.Generator,
              refs: list[TimeRef]) -> tuple[str, Said]:
        s = dict(world.slots[event.id])
        kind = event.kind
        if kind == "goal_outcome":
            kind = f"goal_{s['outcome']}"
        elif kind == "relationship_change":
            kind = "relationship_closer" if s["closer"] else "relationship_further"
        setting = s.get("setting") if kind == "activity" else None
        said = Said(kind=kind, valence=_valence(kind, event), setting=setting,
                    scene=pick(rng, ph.SCENE[setting]) if setting in ph.SCENE and rng.random() < 0.85 else None,
                    felt=rng.random() < 0.7)
        names = event.participants
        templates = TELL[kind]
        if kind == "activity" and not names:
            templates = tuple(t for t in templates if "{with_comma}" not in t and "We " not in t)
        template = vary(pick(rng, templates), rng)
        when = pick(rng, when_phrases(parse_time(event.time), now))
        if style.precision > 0.6 and kind == "activity" and when in ("today", "yesterday"):
            when = f"{when} at {clock_time(parse_time(event.time))}"
        if "{when" in template.lower():
            refs.append(TimeRef(event_id=event.id, phrase=when))
        adj = pick(rng, VIVID) if style.vividness > 0.5 else "good"
        s.update(when=when, When=_cap(when), When_cap=_cap(when), place=event.place, adj=adj, an_adj=indefinite(adj),
                 key_cap=_cap(s.get("key", "")), new_cap=_cap(s.get("new", "")), why_cap=_cap(s.get("why", "")),
                 with_=f" with {_join_names(names)}" if names else "",
                 with_comma=f", {_join_names(names)} and I" if names else "")
        terms = {k: v for k, v in s.items() if k in _TERMS and isinstance(v, str)}
        if names:
            terms.update(names=_join_names(names), names_were=f"{_join_names(names)} {'was' if len(names) == 1 else 'were'}")
        if kind == "activity":
            terms.update(place=event.place, with_=s["with_"])
        if "new" in terms:
            terms["New_cap"] = _cap(terms["new"])
        return template.format(**s), replace(said, terms=terms)

    def _style(self, body: str, style: Style, proper: set[str], news: bool, kind: str, valence: int,
               rng: np.random.Generator) -> str:
        """Openers, exclamations and trait sentences, each trait's sentences the more often the further the session's
        personality is from the middle: news gets the sentences about news, anything else the context-free ones."""
        level = "high" if style.exuberance > HIGH_KNOB else "low" if style.exuberance < LOW_KNOB else "mid"
        text = body
        if rng.random() < 0.55:
            openers = BAD_NEWS_OPENERS if news and valence < 0 else (NEWS_OPENERS if news else OPENERS)[level]
            opener = pick(rng, openers)
            if _word(opener, -1) == _word(body, 0):  # not "Okay so so ..."
                opener = pick(rng, [o for o in openers if _word(o, -1) != _word(body, 0)])
            text = f"{opener} {_uncapped(body, proper) if opener[-1] not in '.!?' else body}"
        if level == "high" and text.endswith(".") and valence >= 0 and rng.random() < 0.6:
            text = text[:-1] + "!"
        if kind == "recall":  # a memory question is no place for a request's voice
            return text
        tails = []
        for trait in rng.permutation(list(KNOB)):
            value = getattr(style, KNOB[trait])
            high = value > 0.5
            if rng.random() >= tail_rate(value):
                continue
            if news and high and (trait == "neuroticism" and kind not in UNSETTLING
                                  or trait in ("extraversion", "openness") and valence < 0):
                continue  # no worry without cause, no cheering a setback
            tails.append(say(rng, (NEWS_TAILS if news else CHAT_VOICE)[trait][high]))
        return text + "".join(f" {x}" for x in tails[:MAX_TAILS])

    # ------------------------------------------------------------- assistant

    def _assistant(self, act: Act, world: World, events: dict[str, Event], facts: dict[str, Fact], said: Said,
                   observed: dict[str, bool], rng: np.random.Generator,
                   adapt_rng: np.random.Generator) -> tuple[str, list[TimeRef]]:
        """A reply that takes up what the user said (the detail, the feeling), recalls what it was told before,
        suggests, adapts to the personality earlier sessions showed, and asks back."""
        p = world.persona
        first = p.name.split()[0]
        refs: list[TimeRef] = []
        if act.kind == "intro":
            return say(rng, ACK["intro"]).format(first=first, A_occupation=_cap(indefinite(p.occupation)),
                                                  city=p.location.split(",")[0]) + " " + say(rng, ph.CLOSING), refs
        if act.kind == "recall":
            answer = self._recall_answer(facts[act.recall_fact_ids[0]], events, act.assistant_time, rng, refs)
            return (f"{answer} {say(rng, ph.RECALL_CONTEXT)} {say(rng, ph.RECALL_MORE)}" + _adapted(observed, adapt_rng)
                    + f" {say(rng, ph.RECALL_ASK_BACK)}" + _closing(rng)), refs
        if act.kind == "chat":
            photo = [say(rng, ACK["snapshot"]), say(rng, ph.PHOTO_TALK)] if act.image_event_id else []
            return " ".join(photo + self._chat_reply(act, world, facts, rng)) + _adapted(observed, adapt_rng) + _closing(rng), refs
        event = events[act.event_id]
        if event.kind == "background":
            kinds = sorted({facts[f].kind for f in act.fact_ids} & set(ph.BACKGROUND_TALK))
            talk = [say(rng, ph.BACKGROUND_TALK[k]) for k in kinds[:2]]
            return (" ".join([say(rng, ACK["background"]), *talk, say(rng, ph.BACKGROUND_MORE)]) + _adapted(observed, adapt_rng)
                    + f" {say(rng, ph.BACKGROUND_ASK)}"), refs
        you = said.to_you()
        parts = [say(rng, ph.REACT[said.valence])]
        echoed = _say_of(rng, _by_valence(echo.ECHO.get(said.kind, ()), said.valence), you)
        if echoed:
            parts.append(echoed)
        if said.scene is not None and rng.random() < 0.9:
            thing, did = said.scene
            parts.append(say(rng, ph.SCENE_ECHO).format(thing=thing, Thing=_cap(thing), did=did))
        if said.felt:
            parts.append(say(rng, ph.MIRROR[said.valence]))
        if act.image_event_id and rng.random() < 0.5:
            parts.append(say(rng, ACK["snapshot"]))
        parts.append(say(rng, ph.KIND_TALK[said.kind]))
        if said.setting in ph.SETTING_TALK:
            parts.append(say(rng, ph.SETTING_TALK[said.setting]))
        if said.setting not in ph.SETTING_TALK or rng.random() < 0.5:
            parts.append(say(rng, ph.ENCOURAGE))
        for fid in act.recall_fact_ids:
            f = facts[fid]
            earlier = events[fid.rsplit("/", 1)[0]]
            when = self._when(earlier, act.assistant_time, rng, refs)
            parts.append(f"That reminds me: {when} you {f.value}.")
        setting = said.setting in ph.SETTING_ASK and rng.random() < 0.5
        parts.append(say(rng, ph.SETTING_SUGGEST[said.setting] if setting else ph.KIND_SUGGEST[said.kind]))
        asks = ph.SETTING_ASK[said.setting] if setting else ph.KIND_ASK[said.kind]
        asked = _say_of(rng, _by_valence(echo.ASK_ABOUT.get(said.kind, ()), said.valence), you) if rng.random() < 0.5 else None
        return " ".join(parts) + _adapted(observed, adapt_rng) + " " + (asked or say(rng, asks)) + _closing(rng), refs

    def _chat_reply(self, act: Act, world: World, facts: dict[str, Fact], rng: np.random.Generator) -> list[str]:
        if act.topic is None:
            return [say(rng, ACK["small_talk"]), say(rng, ph.SMALL_TALK_REPLY), say(rng, ph.SMALL_TALK_IDEA),
                    say(rng, ph.ENCOURAGE),
                    say(rng, ACK["small_talk_followup"] + ph.SMALL_TALK_ASK)]
        if not act.recall_fact_ids:
            return [say(rng, ACK["generic_advice"]), say(rng, ph.UNKNOWN_TASTE)]
        f = facts[act.recall_fact_ids[0]]
        if f.kind == "preference_shift":
            s = world.slots[f.id.rsplit("/", 1)[0]]
            choice = pick(rng, (f"You've moved on from {s['old']} to {s['new']}, so how about {s['new']}?",
                               f"Since {s['new']} replaced {s['old']} for you, go with {s['new']}."))
        else:
            noun = next(q.noun for q in world.persona.preferences if f.key == f"preference/{q.category}")
            choice = say(rng, FAVOURITE_PICK).format(item=f.value, Item=_cap(f.value), noun=noun)
        return [choice, say(rng, ph.RECOMMEND_WHY), say(rng, ph.RECOMMEND_MORE), say(rng, ph.RECOMMEND_TIP),
                say(rng, ph.PREFERENCE_ASK)]

    def _recall_answer(self, f: Fact, events: dict[str, Event], now: datetime, rng: np.random.Generator,
                       refs: list[TimeRef]) -> str:
        if f.kind == "activity":
            return pick(rng, (f"You {f.value}.", f"If I remember right, you {f.value}.", f"That was the day you {f.value}."))
        event = events[f.id.rsplit("/", 1)[0]]
        name = f.key.rsplit("/", 1)[1]
        obj = next(o for o in event.image_spec.objects if o.name == name)
        return pick(rng, (f"It was {obj.colour}: {object_phrase(obj)}, if I remember the photo right.",
                          f"The {obj.name} was {obj.colour}. There {'was' if obj.count == 1 else 'were'} {number_word(obj.count)}.",
                          f"{_cap(obj.colour)}. I remember {object_phrase(obj)} in that picture."))
