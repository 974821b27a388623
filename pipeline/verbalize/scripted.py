"""The embedded text backend: deterministic templates with paraphrase variety and trait-driven style.

Formulaic prose, right facts: every template that conveys a fact writes the fact's terms, and every
relative date comes from the clock (`world.clock`). Style knobs from the persona's traits pick the
openers, hedges and punctuation, so a reader can infer the personality from the text.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from pipeline.grammar import indefinite
from pipeline.records import Event, Fact, Session, TimeRef, Turn, fmt_time, parse_time
from pipeline.rng import pick, rng_for
from pipeline.world.clock import WEEKDAYS, clock_time, resolve, when_phrases
from pipeline.world.plan import Act, SessionPlan, object_phrase
from pipeline.world.simulate import World, number_word

NEWS_OPENERS = {
    "high": ("Hey!", "Guess what!", "Okay so", "Oh wow,", "Hi hi!", "You won't believe this:", "Ahh,", "So!"),
    "mid": ("Hi,", "Hey,", "Hello,", "So,", "Quick update:", "Right,", "By the way,", "Morning!"),
    "low": ("Hi.", "So.", "Quick one.", "Hm.", "Update:", "Note:", "FYI,", "Well."),
}
OPENERS = {
    "high": ("Hey!", "Hiii,", "Okay,", "So!", "Heyyy,", "Ooh,"),
    "mid": ("Hi,", "Hey,", "So,", "Hmm,", "Hello,", "Okay,"),
    "low": ("Hi.", "Hm.", "Question.", "So.", "Right.", "Okay."),
}
# Situations that frame a request; {name} is someone from the persona's life.
CONTEXT = ("With {name} coming over later, ", "Quick question before I head out: ", "I'm trying to plan ahead, so: ",
           "Random thought: ", "Honest answer please: ", "Okay, help me decide. ", "I'm stuck. ", "Before I forget: ")
EVENING_CONTEXT = ("After the day I had, ",)  # only said from the late afternoon on
# Sentences a persona adds to its news, one set per trait pole: (low, high), each used when the trait's style
# knob is beyond its threshold. Every string is distinct, so a reader can tell a pole from the text
# (Persona-MME's alignment gold reads them, and its certificate swaps them for the other pole's).
TRAIT_TAILS = {
    "extraversion": ((" I kept it low-key.", " A quiet one, which suits me.", " Nice to have some time to myself."),
                     (" I've already told all my friends!", " Next time I'm bringing the whole crew!",
                      " I couldn't stop talking about it!")),
    "agreeableness": ((" Anyway.", " That's it.", " Whatever.", " Moving on."),
                      (" Thanks for always listening!", " Hope your day is going well too!", " You're the best.", " :)")),
    "conscientiousness": ((" Didn't plan any of it, just went with it.", " No list, no schedule, and that's fine.",
                           " I'll sort out the details as I go."),
                          (" I'd put it on my list in advance.", " All planned out, down to the minute.",
                           " Ticked it off my list right after.")),
    "neuroticism": ((" All good though.", " No complaints.", " Pretty relaxed about it."),
                    (" Not sure how I feel about it.", " I keep overthinking it.", " Hope that was the right call.",
                     " It's been on my mind a lot.", " I'm a bit anxious about it, honestly.", " Still a little on edge.")),
    "openness": ((" Nothing fancy, just the usual.", " Simple is good.", " Same as always, really."),
                 (" It made me curious to try something totally new.", " I love discovering stuff like that.",
                  " Now I want to explore more of it.")),
}
# What the assistant adds for a user whose earlier words showed a trait's pole, (low, high): the Response
# stage's adaptation, in words that are none of the user's trait sentences.
ADAPTED = {
    "extraversion": ((" Take all the quiet time you need.", " A calm one on your own sounds just right for you."),
                     (" You should get a few people together for the next one!", " Tell me everyone's reactions!")),
    "agreeableness": ((" Good on you for doing it your way.", " No need to run it past anyone else."),
                      (" It's lovely how much you care about the people around you.", " Maybe share it with someone close?")),
    "conscientiousness": ((" No need to plan it out, just enjoy it.", " Keep it loose, that works for you."),
                          (" Want me to jot down a next step so it's on your list?", " We could set a date for the next round.")),
    "neuroticism": ((" You seem to take these things in stride.", " Sounds like you're steady about it."),
                    (" For what it's worth, you handled it well; no need to second-guess it.",
                     " Take it one step at a time, there's no rush.")),
    "openness": ((" Sticking with what you like is a fine choice.", " A reliable favourite is worth keeping."),
                 (" Maybe try a new twist on it next time?", " There's a whole world of related things to explore.")),
}
ADAPT_RATE = 0.4  # per observed trait and reply, at most two a reply


def trait_counts(text: str) -> dict[str, tuple[int, int]]:
    """How many of each trait's (low, high) sentences a text holds."""
    return {trait: (sum(text.count(m.strip()) for m in low), sum(text.count(m.strip()) for m in high))
            for trait, (low, high) in TRAIT_TAILS.items()}


def shown_pole(low: int, high: int, least: int = 3) -> bool | None:
    """The pole the sentences show (True: high): at least `least` of one pole and none of the other."""
    return high > 0 if min(low, high) == 0 and max(low, high) >= least else None


class Observed:
    """What the assistant has read of the user's personality so far: the trait sentences of the user's turns."""

    def __init__(self) -> None:
        self.counts = {trait: [0, 0] for trait in TRAIT_TAILS}

    def add(self, session: Session) -> None:
        said = trait_counts("\n".join(t.text for t in session.turns if t.role == "user"))
        for trait, (low, high) in said.items():
            self.counts[trait][0] += low
            self.counts[trait][1] += high

    def poles(self) -> dict[str, bool]:
        return {t: pole for t, (low, high) in self.counts.items() if (pole := shown_pole(low, high)) is not None}


def _adapted(observed: dict[str, bool], rng: np.random.Generator) -> str:
    picked = [pick(rng, ADAPTED[t][pole]) for t, pole in sorted(observed.items()) if rng.random() < ADAPT_RATE]
    return "".join(picked[:2])


KNOB = {"extraversion": "exuberance", "agreeableness": "warmth", "conscientiousness": "precision",
        "neuroticism": "worry", "openness": "vividness"}
LOW_KNOB, HIGH_KNOB = 0.35, 0.6
# news a worrier worries about: a change or a decision, not an ordinary day out or a routine
UNSETTLING = frozenset({"preference_shift", "goal_start", "goal_outcome", "relationship_change", "life_event"})
TAIL_RATE = 0.25  # per trait and news turn
VIVID = ("gorgeous", "wild", "dreamy", "chaotic", "electric", "strange", "glorious", "cozy")

TELL = {
    "activity": (
        "{When} I {activity} at {place}{with_}.",
        "So {when} I ended up at {place}{with_} and {activity}.",
        "{When_cap}{with_comma} {activity} at {place}.",
        "Had a {adj} time at {place} {when}{with_}: {activity}, basically.",
        "Little update: I {activity} at {place} {when}{with_}.",
        "Spent part of the day at {place}{with_} {when}. We {activity}.",
        "{place} {when}{with_} — I {activity} and it was {adj}.",
    ),
    "preference_shift": (
        "I used to love {old}, but honestly I can't stand it now: {why}. These days it's all {new} for me.",
        "Funny thing: {old} was my favourite {noun} forever, but {why}. Now I'm into {new}.",
        "Update on me: {new} has replaced {old} as my go-to {noun}. Why? {why_cap}.",
        "Not into {old} anymore. {why_cap}, so {when} I switched to {new}.",
        "Confession: I'm over {old}. {why_cap}. {new_cap} is my thing now.",
    ),
    "goal_start": (
        "New goal: I want to {goal}. Starting now!",
        "I've decided I'm going to {goal}. Saying it out loud makes it real.",
        "{When} I made up my mind: I want to {goal}.",
        "Okay, big plan. I want to {goal} this year.",
    ),
    "goal_progress": (
        "Progress on the {key} front: {when} I {step}.",
        "Small win for the {key} goal: I {step} {when}.",
        "{When_cap} I {step}. One step closer on the {key} thing.",
        "The {key} project is moving: I {step}.",
    ),
    "goal_completed": (
        "I finally did it: {when} I {done}! The {key} goal is done.",
        "It's official. {When_cap} I {done}. {key_cap}: done!",
        "Can't believe it, but the {key} goal is complete. I {done} {when}.",
    ),
    "goal_abandoned": (
        "I'm dropping the {key} goal. Honestly, {why}.",
        "Decided {when} to give up on the {key} plan: {why}.",
        "The {key} thing is off. {why_cap}.",
    ),
    "relationship_closer": (
        "{name} and I have gotten so much closer: {why}.",
        "I feel way closer to {name} lately. {why_cap}.",
        "Something nice {when}: {why}. {name} is really there for me.",
    ),
    "relationship_further": (
        "Things with {name} are weird lately. {why_cap}.",
        "I'm kind of drifting from {name}. {why_cap}.",
        "Ugh, {name}. {When_cap} {why}.",
    ),
    "life_event": (
        "Big news: {when} I {text}.",
        "So... {when} I {text}. Still processing it.",
        "I need to tell someone: I {text} {when}.",
        "Life update: {when} I {text}.",
    ),
    "habit": (
        "{When_cap} I did my usual {weekday} thing: {activity}.",
        "Kept up my {weekday} routine {when}: {activity}, as always.",
        "My {weekday} ritual held up {when}. I did it again: {activity}.",
    ),
    "habit_start": (
        "New routine: every {weekday} {part} I {activity} now.",
        "I've picked up a new habit: I {activity} every {weekday} {part}.",
        "Trying something new: from now on, {weekday} {part}s are when I {activity}.",
    ),
    "habit_end": (
        "I've dropped my {weekday} routine. I don't {activity} anymore.",
        "Small change: I stopped my {weekday} {part} habit of the last weeks, when I'd {activity}.",
        "That {weekday} {part} thing where I {activity}? I've quit it.",
    ),
}
BACKGROUND = {
    "profile/age": ("I'm {value}, by the way.", "For context, I'm {value} years old."),
    "interest": ("I'm really into {value}.", "One thing about me: I love {value}.", "{value_cap} is my happy place.",
                 "Lately I spend a lot of time on {value}."),
    "preference": ("My favourite {noun}? {value_cap}, no contest.", "I could have {value} every day. Easily my favourite {noun}.",
                   "If you ever wonder, my favourite {noun} is {value}.", "Nothing beats {value} for me, honestly."),
    "relationship": ("{name} is my {role}; {closeness_words}.", "You'll hear about {name} a lot: my {role}, {closeness_words}."),
    "habit": ("Every {weekday} {part} I {activity}. It's my thing.", "I have a ritual: {activity}, every {weekday} {part}."),
    "goal": ("I'm working on a goal: I want to {goal}.", "Something I'm chasing: I want to {goal}."),
}
CLOSENESS = {1: "we're not close at all", 2: "we're not that close", 3: "we get along fine",
             4: "we're close", 5: "one of my favourite people in the world"}
INTRO = ("Hi! I'm {first}. I work as {a_occupation} in {city}.", "Hello, {first} here: {occupation}, based in {city}.",
         "Hey, I'm {first}, {a_occupation} from {city}.", "Nice to meet you. My name is {first}; I'm {a_occupation} in {city}.")
PHOTO = {
    "activity": ("Here's a photo from {place}.", "Sending you a picture from {place}.", "Look, I took this at {place}."),
    "snapshot": ("Look at this.", "Here's what I'm looking at right now.", "Sending you a quick pic.", "Check this out."),
}
RECALL_ASK = {
    "activity": ("Remind me, where was I {when}{with_}?", "What did I get up to {when}{with_}? I forget.",
                 "Quick memory test: what did I do {when}{with_}?", "Where did I go {when}{with_}? It's slipping my mind.",
                 "Help me remember: what was I doing {when}{with_}?"),
    "visual": ("What colour was the {name} in the photo from {when}?", "In that picture from {when}, what colour was the {name} again?",
               "Do you remember the {name} in my photo from {when}? What colour was it?"),
}
ACK = {
    "intro": ("Nice to meet you, {first}! {A_occupation} in {city}: I'd love to hear more.",
              "Hi {first}! Great to meet you. How's life in {city}?",
              "Welcome, {first}. Tell me anything you like; I'll remember it."),
    "background": ("Good to know!", "Noted, thanks for sharing that.", "I'll keep that in mind.", "Love that."),
    "activity": ("That sounds lovely.", "Sounds like a good day.", "Nice, how did it feel?", "I love that you did that."),
    "preference_shift": ("Tastes change, and that's a good reason.", "Makes sense. I'll remember that.", "Interesting switch!"),
    "goal_start": ("That's a great goal. I'm rooting for you.", "Exciting! Want to break it into steps?"),
    "goal_progress": ("That's real progress!", "Nice step forward.", "Keep it up!"),
    "goal_outcome": ("Thanks for telling me how it ended.", "That's a big moment either way.", "Proud of you for deciding."),
    "relationship_change": ("Relationships shift. How do you feel about it?", "Thanks for telling me about that."),
    "life_event": ("That's a lot. I'm here if you want to talk about it.", "Wow, that's big news.", "How are you holding up?"),
    "habit": ("Good to keep the routine going.", "Consistency!", "Sounds like a nice ritual."),
    "habit_start": ("A new routine! Tell me how the first weeks go.", "Nice, that sounds like a good fit for your week."),
    "habit_end": ("Routines change. Was it getting hard to keep up?", "Fair enough. That frees up a slot in your week."),
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
        turns: list[Turn] = []
        for act in plan.acts:
            text, refs = self._user(act, world, events, facts, rng)
            turns.append(Turn(index=len(turns), role="user", time=fmt_time(act.user_time), text=text,
                              image_ids=[f"{act.image_event_id}/image"] if act.image_event_id else [],
                              fact_ids=act.fact_ids, time_refs=refs))
            text, refs = self._assistant(act, world, events, facts, rng)
            if act.kind == "chat" or (act.kind == "tell" and events[act.event_id].kind != "background"):
                text += _adapted(observed, rng)
            turns.append(Turn(index=len(turns), role="assistant", time=fmt_time(act.assistant_time), text=text,
                              image_ids=[], fact_ids=act.recall_fact_ids, time_refs=refs))
        start = plan.acts[0].user_time
        return Session(
            id=f"{p.id}/s{plan.index:04d}", persona_id=p.id, split=p.split, index=plan.index,
            start_time=fmt_time(start), end_time=turns[-1].time, turns=turns,
            planned_fact_ids=[f for a in plan.acts for f in a.fact_ids],
            true_personality=world.personality_at(start),
        )

    # ------------------------------------------------------------------ user

    def _when(self, event: Event, now: datetime, rng: np.random.Generator, refs: list[TimeRef]) -> str:
        phrase = pick(rng, when_phrases(parse_time(event.time), now))
        refs.append(TimeRef(event_id=event.id, phrase=phrase))
        return phrase

    def _user(self, act: Act, world: World, events: dict[str, Event], facts: dict[str, Fact],
              rng: np.random.Generator) -> tuple[str, list[TimeRef]]:
        p, style = world.persona, world.persona.style
        refs: list[TimeRef] = []
        if act.kind == "intro":
            body = pick(rng, INTRO).format(first=p.name.split()[0], occupation=p.occupation, a_occupation=indefinite(p.occupation),
                                           city=p.location.split(",")[0])
        elif act.kind == "tell":
            event = events[act.event_id]
            text_facts = [facts[f] for f in act.fact_ids if facts[f].modality == "text"]
            if event.kind == "background":
                body = " ".join(self._background_sentence(f, world, rng) for f in text_facts)
            else:
                body = self._tell(event, world, act.user_time, rng, refs)
        elif act.kind == "recall":
            fact = facts[act.recall_fact_ids[0]]
            event = events[act.event_id]
            name = fact.key.rsplit("/", 1)[1]
            with_ = f" with {_join_names(event.participants)}" if event.participants and fact.kind == "activity" else ""
            when = pick(rng, self._unambiguous(event, act.user_time, _confusers(fact, event, events)))
            refs.append(TimeRef(event_id=event.id, phrase=when))
            body = pick(rng, RECALL_ASK[fact.kind]).format(when=when, with_=with_, name=name)
        else:
            body = act.prompt or ""
            if rng.random() < 0.5 and p.relationships:
                frames = CONTEXT + (EVENING_CONTEXT if act.user_time.hour >= 16 else ())
                body = pick(rng, frames).format(name=pick(rng, p.relationships).name) + _uncapped(body, world.proper_nouns)
        if act.image_event_id:
            shown = events[act.image_event_id]
            body += " " + pick(rng, PHOTO["snapshot" if shown.kind == "snapshot" else "activity"]).format(place=shown.place)
        kind = events[act.event_id].kind if act.kind == "tell" else act.kind
        return self._style(body, style, world.proper_nouns, act.kind in ("intro", "tell"), kind, rng), refs

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
            return pick(rng, BACKGROUND["profile/age"]).format(value=f.value)
        if f.kind == "relationship":
            name = f.key.split("/", 1)[1]
            person = next(x for x in p.relationships if x.name == name)
            return pick(rng, BACKGROUND["relationship"]).format(name=name, role=person.role,
                                                                closeness_words=CLOSENESS[person.closeness])
        if f.kind == "habit":
            h = next(h for h in p.habits if f.key == f"habit/{h.id}")
            return pick(rng, BACKGROUND["habit"]).format(weekday=WEEKDAYS[h.weekday], part=h.part, activity=h.activity)
        if f.kind == "goal":
            g = next(g for g in p.goals if f.key == f"goal/{g.id}")
            return pick(rng, BACKGROUND["goal"]).format(goal=g.text)
        if f.kind == "preference":
            noun = next(q.noun for q in p.preferences if f.key == f"preference/{q.category}")
            return pick(rng, BACKGROUND["preference"]).format(value=f.value, value_cap=_cap(f.value), noun=noun)
        return pick(rng, BACKGROUND[f.kind]).format(value=f.value, value_cap=_cap(f.value))

    def _tell(self, event: Event, world: World, now: datetime, rng: np.random.Generator, refs: list[TimeRef]) -> str:
        s = dict(world.slots[event.id])
        kind = event.kind
        if kind == "goal_outcome":
            kind = f"goal_{s['outcome']}"
        elif kind == "relationship_change":
            kind = "relationship_closer" if s["closer"] else "relationship_further"
        names = event.participants
        templates = TELL[kind]
        if kind == "activity" and not names:
            templates = tuple(t for t in templates if "{with_comma}" not in t and "We " not in t)
        template = pick(rng, templates)
        style = world.persona.style
        when = pick(rng, when_phrases(parse_time(event.time), now))
        if style.precision > 0.6 and kind == "activity" and when in ("today", "yesterday"):
            when = f"{when} at {clock_time(parse_time(event.time))}"
        if "{when" in template.lower():
            refs.append(TimeRef(event_id=event.id, phrase=when))
        s.update(when=when, When=_cap(when), When_cap=_cap(when), place=event.place,
                 adj=pick(rng, VIVID) if style.vividness > 0.5 else "good",
                 key_cap=_cap(s.get("key", "")), new_cap=_cap(s.get("new", "")), why_cap=_cap(s.get("why", "")),
                 with_=f" with {_join_names(names)}" if names else "",
                 with_comma=f", {_join_names(names)} and I" if names else "")
        return template.format(**s)

    def _style(self, body: str, style, proper: set[str], news: bool, kind: str, rng: np.random.Generator) -> str:
        """Openers, exclamations and a sentence for each pronounced trait, in proportion to the persona's traits."""
        level = "high" if style.exuberance > HIGH_KNOB else "low" if style.exuberance < LOW_KNOB else "mid"
        text = body
        if rng.random() < 0.55:
            opener = pick(rng, (NEWS_OPENERS if news else OPENERS)[level])
            text = f"{opener} {_uncapped(body, proper) if opener[-1] not in '.!?' else body}"
        if level == "high" and text.endswith(".") and rng.random() < 0.6:
            text = text[:-1] + "!"
        for trait, knob in KNOB.items():
            if news and rng.random() < TAIL_RATE:
                value = getattr(style, knob)
                worry_without_cause = trait == "neuroticism" and value > HIGH_KNOB and kind not in UNSETTLING
                if (value > HIGH_KNOB or value < LOW_KNOB) and not worry_without_cause:
                    text += pick(rng, TRAIT_TAILS[trait][value > HIGH_KNOB])
        return text

    # ------------------------------------------------------------- assistant

    def _assistant(self, act: Act, world: World, events: dict[str, Event], facts: dict[str, Fact],
                   rng: np.random.Generator) -> tuple[str, list[TimeRef]]:
        p = world.persona
        first = p.name.split()[0]
        refs: list[TimeRef] = []
        if act.kind == "intro":
            return pick(rng, ACK["intro"]).format(first=first, A_occupation=_cap(indefinite(p.occupation)),
                                                  city=p.location.split(",")[0]), refs
        if act.kind == "recall":
            return self._recall_answer(facts[act.recall_fact_ids[0]], events, act.assistant_time, rng, refs), refs
        if act.kind == "chat":
            if not act.recall_fact_ids:
                if act.topic is None:
                    return f"{pick(rng, ACK['small_talk'])} {pick(rng, ACK['small_talk_followup'])}", refs
                return pick(rng, ACK["generic_advice"]), refs
            f = facts[act.recall_fact_ids[0]]
            if f.kind == "preference_shift":
                s = world.slots[f.id.rsplit("/", 1)[0]]
                return pick(rng, (f"You've moved on from {s['old']} to {s['new']}, so how about {s['new']}?",
                                  f"Since {s['new']} replaced {s['old']} for you, go with {s['new']}.")), refs
            noun = next(q.noun for q in p.preferences if f.key == f"preference/{q.category}")
            return pick(rng, (f"How about {f.value}? It's your favourite {noun}, after all.",
                              f"You told me your favourite {noun} is {f.value}, so that's my pick.",
                              f"Easy: {f.value}. You love it.", f"Go with {f.value}; you never get tired of it.",
                              f"Knowing you, {f.value}.")), refs
        event = events[act.event_id]
        kind = "background" if event.kind == "background" else event.kind
        text = pick(rng, ACK[kind])
        if act.image_event_id and rng.random() < 0.5:
            text += " " + pick(rng, ACK["snapshot"])
        for fid in act.recall_fact_ids:
            f = facts[fid]
            earlier = events[fid.rsplit("/", 1)[0]]
            when = self._when(earlier, act.assistant_time, rng, refs)
            text += f" That reminds me: {when} you {f.value}."
        return text, refs

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
