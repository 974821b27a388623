"""The embedded text backend: deterministic templates with paraphrase variety and trait-driven style.

Formulaic prose, right facts: every template that conveys a fact writes the fact's terms, and every
relative date comes from the clock (`world.clock`). Style knobs from the session's true traits pick the
openers, hedges and punctuation, so a reader can infer the personality from the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from pipeline.grammar import indefinite
from pipeline.personas.sampler import style_from_traits
from pipeline.records import BigFive, Event, Fact, Session, Style, TimeRef, Turn, fmt_time, parse_time
from pipeline.rng import pick, rng_for
from pipeline.verbalize import phrases as ph
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
           "Random thought: ", "Honest answer please: ", "Okay, help me decide. ", "I'm stuck. ", "Before I forget: ")
EVENING_CONTEXT = ("After the day I had, ",)  # only said from the late afternoon on
# Sentences a persona adds to its news, one set per trait pole: (low, high), each used with a chance that grows
# with how far the session's true trait is from the middle. Every string is distinct, so a reader can tell a pole
# from the text (Persona-MME's alignment gold reads them, and its certificate swaps each for the other pole's
# sentence of the same rank). A worrier's sentences about news follow only unsettling news.
NEWS_TAILS = {
    "extraversion": ((" I kept it low-key.", " A quiet one, which suits me.", " Nice to have some time to myself.",
                      " I didn't tell many people about it.", " I slipped away before it got too busy.",
                      " Small and quiet is how I like it.", " I mostly kept to myself.", " One-on-one is more my speed.",
                      " I'll keep this one between us.", " Crowds wear me out, so that was plenty."),
                     (" I've already told all my friends!", " Next time I'm bringing the whole crew!",
                      " I couldn't stop talking about it!", " I ended up chatting with half the room!",
                      " I'm already planning a group outing around it!", " Everyone I know is going to hear about this!",
                      " I love being around people like that!", " I made two new friends out of it!",
                      " The more people the better, honestly!", " I texted the group chat straight away!")),
    "agreeableness": ((" Anyway.", " That's it.", " Whatever.", " Moving on.", " Not that anyone asked.",
                       " People can think what they like.", " I don't much care what others make of it.",
                       " Take it or leave it.", " Don't try to talk me out of it.", " I did it my way."),
                      (" Thanks for always listening!", " Hope your day is going well too!", " You're the best.", " :)",
                       " Thanks for being so patient with me.", " I hope everyone around me is doing okay too.",
                       " It means a lot that I can tell you this.", " I'm grateful for the people who helped.",
                       " Sorry for rambling, and thank you.", " Sending good vibes your way.")),
    "conscientiousness": ((" Didn't plan any of it, just went with it.", " No list, no schedule, and that's fine.",
                           " I'll sort out the details as I go.", " I totally forgot to prepare, but it worked out.",
                           " I'm winging it, as usual.", " I lost track of the time, oops.", " Plans are overrated anyway.",
                           " I'll deal with the rest later.", " I nearly forgot about it altogether.",
                           " The details were fuzzy, but whatever."),
                          (" I'd put it on my list in advance.", " All planned out, down to the minute.",
                           " Ticked it off my list right after.", " I'd checked everything twice beforehand.",
                           " I already booked the next one.", " I wrote up notes as soon as I got home.",
                           " I set a reminder so I don't lose momentum.", " Everything went exactly to schedule.",
                           " I'd packed everything well ahead of time.", " I keep a spreadsheet for this sort of thing.")),
    "neuroticism": ((" All good though.", " No complaints.", " Pretty relaxed about it.", " I'm not stressing about it.",
                     " Whatever happens, happens.", " I slept like a baby after.", " Honestly, nothing rattles me much.",
                     " It'll all work out.", " Easy come, easy go.", " Not worried in the slightest."),
                    (" Not sure how I feel about it.", " I keep overthinking it.", " Hope that was the right call.",
                     " It's been on my mind a lot.", " I'm a bit anxious about it, honestly.", " Still a little on edge.",
                     " What if I got it all wrong?", " My stomach's been in knots over it.",
                     " I couldn't stop thinking about it for hours.", " I've replayed it in my head a dozen times.")),
    "openness": ((" Nothing fancy.", " Simple is good.", " I like what I like.", " Keep it simple, that's my motto.",
                  " I'm not one for experiments.", " Tried and tested works for me.", " No need to reinvent anything.",
                  " I'll stick with what works.", " Practical over exotic, always.", " I don't need much more than that."),
                 (" It made me curious to try something totally new.", " I love discovering stuff like that.",
                  " Now I want to explore more of it.", " I want to learn everything about it now.",
                  " It sparked about ten new ideas.", " I'd never seen anything like it.",
                  " I'm hooked on trying new things lately.", " It opened up a whole new world for me.",
                  " I keep wondering what else is out there.", " Next time I'll try something even stranger.")),
}
# The same, for a turn that tells no news (a request, a remark, a question): nothing in them points back at news.
CHAT_VOICE = {
    "extraversion": ((" I'm staying in and keeping things quiet.", " I could use some time on my own.",
                      " Not really in the mood for company.", " I'd rather keep it to just me.",
                      " Too much socialising lately, I need a breather.", " I've had my fill of people for a bit.",
                      " My ideal plan involves nobody else.", " A quiet corner is all I'm after.",
                      " I'm happiest with my own company right now.", " I turned down two invitations already."),
                     (" I'd love to get some people together!", " I've been chatting to everyone all day!",
                      " I'm craving a bit of company!", " I want something I can share with friends!",
                      " I already have three people in mind to invite!", " Bonus points if it's something social!",
                      " I've got so much energy to burn!", " I can't wait to tell everyone about it!",
                      " I've been on the phone with friends for ages!", " The more people involved, the happier I am!")),
    "agreeableness": ((" Just give it to me straight.", " No need to be polite about it.", " Skip the pleasantries.",
                       " Don't sugar-coat it.", " I don't need a pep talk.", " Spare me the small talk.",
                       " I'll ignore it if I don't like it.", " Be blunt, I can take it.", " Short answer is fine.",
                       " I'm not asking for anyone's approval."),
                      (" Thank you, you're always so helpful!", " Hope you're having a nice day too!",
                       " Sorry to bother you again, and thanks.", " I really appreciate you, you know.",
                       " No pressure at all, whatever you think.", " Thanks in advance, truly.",
                       " You always make this easier, thank you.", " I hope I'm not asking too much.",
                       " Grateful for you, as always.", " Thanks for putting up with my questions.")),
    "conscientiousness": ((" I haven't planned a thing, as usual.", " I'll figure out the details whenever.",
                           " My schedule is a mess, honestly.", " I never remember to think ahead.",
                           " I'll probably decide at the last second.", " Don't ask me for a plan, I don't have one.",
                           " My to-do list got lost somewhere.", " I tend to go with whatever happens.",
                           " Organising things is not my strong suit.", " I'm making it up as I go."),
                          (" I like to have a plan sorted well ahead.", " I've blocked out time for it in my calendar.",
                           " I'm making a list as we speak.", " I want to get it organised properly.",
                           " I've already narrowed it down a bit.", " I'd like to lock it in early.",
                           " I'm keeping track of all my options.", " I have a budget and a timetable for it.",
                           " I hate leaving things to the last minute.", " I'll put whatever you say straight on my list.")),
    "neuroticism": ((" No stress either way.", " I'm pretty easygoing about it.", " Whatever you pick is fine, really.",
                     " I'm in a calm place these days.", " Nothing's bothering me much.", " I'm feeling steady.",
                     " Low stakes, no worries.", " I'm relaxed about the whole thing.", " I'm in a good headspace.",
                     " Honestly, I'm pretty chill."),
                    (" I've been a bit on edge lately, to be honest.", " I keep worrying I'm forgetting something.",
                     " Everything feels like a big decision right now.", " My mind keeps racing.",
                     " I get nervous about making the wrong choice.", " I've been stressed about little things all day.",
                     " I can't shake this uneasy feeling.", " I second-guess everything at the moment.",
                     " My nerves are a bit frayed.", " I always fear I'll regret it.")),
    "openness": ((" Nothing too out there, please.", " I prefer the familiar stuff.", " Don't make it complicated.",
                  " I'm a creature of habit.", " Nothing experimental, thanks.", " I like things I already know.",
                  " The classics are classics for a reason.", " Don't push anything weird on me.",
                  " Same old is fine by me.", " I don't care for novelty."),
                 (" I'm in the mood for something a bit different.", " I love trying things I've never heard of.",
                  " Surprise me with something new.", " The stranger the better.", " I'm curious about everything lately.",
                  " I want to broaden my horizons.", " Something unusual would make my day.",
                  " I'd love to discover something unexpected.", " I'm craving a bit of adventure.",
                  " Show me something I'd never think of.")),
}
TRAIT_TAILS = {t: (NEWS_TAILS[t][0] + CHAT_VOICE[t][0], NEWS_TAILS[t][1] + CHAT_VOICE[t][1]) for t in NEWS_TAILS}
# What the assistant adds for a user whose earlier words showed a trait's pole, (low, high): the Response
# stage's adaptation, in words that are none of the user's trait sentences.
ADAPTED = {
    "extraversion": ((" Take all the quiet time you need.", " A calm one on your own sounds just right for you.",
                      " You don't have to fill your calendar to have a good week.", " A solo version of it could be lovely.",
                      " Protect your quiet evenings; they seem to recharge you.", " One good conversation beats a crowd for you."),
                     (" You should get a few people together for the next one!", " Tell me everyone's reactions!",
                      " You could turn it into a get-together.", " Your friends would probably love to join you.",
                      " Bring the whole gang next time.", " Share it around; you clearly love company.")),
    "agreeableness": ((" Good on you for doing it your way.", " No need to run it past anyone else.",
                       " Your call entirely; you know what you want.", " You don't owe anyone an explanation.",
                       " Straight to the point, as ever: I like it.", " Trust your own read on it."),
                      (" It's lovely how much you care about the people around you.", " Maybe share it with someone close?",
                       " Your kindness really shows in how you tell it.", " The people around you are lucky.",
                       " Don't forget to look after yourself as well as everyone else.", " A thank-you note would make their day.")),
    "conscientiousness": ((" No need to plan it out, just enjoy it.", " Keep it loose, that works for you.",
                           " Spontaneity suits you.", " Don't let a schedule spoil it.", " Go with the flow on this one.",
                           " You can always figure out the details later."),
                          (" Want me to jot down a next step so it's on your list?", " We could set a date for the next round.",
                           " A quick checklist might suit you here.", " Put it in your planner and it'll happen.",
                           " Your organising really pays off.", " Breaking it into dated steps would be very you.")),
    "neuroticism": ((" You seem to take these things in stride.", " Sounds like you're steady about it.",
                     " Your calm is a real strength.", " Not much seems to shake you.", " That easy attitude serves you well.",
                     " You handle surprises better than most."),
                    (" For what it's worth, you handled it well; no need to second-guess it.",
                     " Take it one step at a time, there's no rush.", " Try to go easy on yourself.",
                     " A few slow breaths can help when it feels like a lot.", " It's okay not to have it all figured out.",
                     " Worrying means you care, but you're doing fine.")),
    "openness": ((" Sticking with what you like is a fine choice.", " A reliable favourite is worth keeping.",
                  " No need to change what works.", " Familiar comforts are underrated.", " Keep it simple; it suits you.",
                  " There's wisdom in knowing what you like."),
                 (" Maybe try a new twist on it next time?", " There's a whole world of related things to explore.",
                  " Your curiosity will find you something great.", " You could look into the history behind it.",
                  " Why not try a more unusual version?", " I love how open you are to new things.")),
}
ADAPT_RATE = 0.8  # per observed trait and reply, at most two a reply


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


def _closing(rng: np.random.Generator) -> str:
    """A sign-off, on some replies."""
    return f" {pick(rng, ph.CLOSING)}" if rng.random() < 0.6 else ""


def _adapted(observed: dict[str, bool], rng: np.random.Generator) -> str:
    picked = [pick(rng, ADAPTED[t][pole]) for t, pole in sorted(observed.items()) if rng.random() < ADAPT_RATE]
    return "".join(picked[:2])


KNOB = {"extraversion": "exuberance", "agreeableness": "warmth", "conscientiousness": "precision",
        "neuroticism": "worry", "openness": "vividness"}
LOW_KNOB, HIGH_KNOB = 0.35, 0.6
# news a worrier worries about: a change or a decision, not an ordinary day out or a routine
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


def _valence(kind: str, event: Event) -> int:
    if kind == "life_event":
        return -1 if any(d.trait == "neuroticism" and d.delta >= 0.3 for d in event.trait_effect) else 1
    return VALENCE.get(kind, 0)


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
            body = pick(rng, INTRO).format(first=p.name.split()[0], occupation=p.occupation, a_occupation=indefinite(p.occupation),
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
            body = pick(rng, RECALL_ASK[fact.kind]).format(when=when, with_=with_, name=name)
        else:
            body = act.prompt or ""
            if rng.random() < 0.5 and p.relationships:
                frames = CONTEXT + (EVENING_CONTEXT if act.user_time.hour >= 16 else ())
                body = pick(rng, frames).format(name=pick(rng, p.relationships).name) + _uncapped(body, world.proper_nouns)
        if act.image_event_id:
            shown = events[act.image_event_id]
            body += " " + pick(rng, PHOTO["snapshot" if shown.kind == "snapshot" else "activity"]).format(place=shown.place)
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
                more.append(pick(rng, ph.SCENE_USER).format(thing=thing, Thing=_cap(thing), did=did))
            if said.felt:
                more.append(pick(rng, ph.FEELING[said.valence]))
            return more
        if act.kind == "chat" and rng.random() < 0.8:
            return [pick(rng, ph.REQUEST_SITUATION if act.topic else ph.REMARK_MORE)]
        if act.kind == "recall" and rng.random() < 0.6:
            return [pick(rng, ph.RECALL_WHY)]
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
        template = pick(rng, templates)
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
        return template.format(**s), said

    def _style(self, body: str, style: Style, proper: set[str], news: bool, kind: str, valence: int,
               rng: np.random.Generator) -> str:
        """Openers, exclamations and trait sentences, each trait's sentences the more often the further the session's
        personality is from the middle: news gets the sentences about news, anything else the context-free ones."""
        level = "high" if style.exuberance > HIGH_KNOB else "low" if style.exuberance < LOW_KNOB else "mid"
        text = body
        if rng.random() < 0.55:
            openers = BAD_NEWS_OPENERS if news and valence < 0 else (NEWS_OPENERS if news else OPENERS)[level]
            opener = pick(rng, openers)
            text = f"{opener} {_uncapped(body, proper) if opener[-1] not in '.!?' else body}"
        if level == "high" and text.endswith(".") and valence >= 0 and rng.random() < 0.6:
            text = text[:-1] + "!"
        tails = []
        for trait in rng.permutation(list(KNOB)):
            value = getattr(style, KNOB[trait])
            high = value > 0.5
            if rng.random() >= tail_rate(value):
                continue
            if news and high and (trait == "neuroticism" and kind not in UNSETTLING
                                  or trait in ("extraversion", "openness") and valence < 0):
                continue  # no worry without cause, no cheering a setback
            tails.append(pick(rng, (NEWS_TAILS if news else CHAT_VOICE)[trait][high]))
        return text + "".join(tails[:MAX_TAILS])

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
            return pick(rng, ACK["intro"]).format(first=first, A_occupation=_cap(indefinite(p.occupation)),
                                                  city=p.location.split(",")[0]) + " " + pick(rng, ph.CLOSING), refs
        if act.kind == "recall":
            answer = self._recall_answer(facts[act.recall_fact_ids[0]], events, act.assistant_time, rng, refs)
            return (f"{answer} {pick(rng, ph.RECALL_CONTEXT)} {pick(rng, ph.RECALL_MORE)}" + _adapted(observed, adapt_rng)
                    + f" {pick(rng, ph.RECALL_ASK_BACK)}" + _closing(rng)), refs
        if act.kind == "chat":
            photo = [pick(rng, ACK["snapshot"]), pick(rng, ph.PHOTO_TALK)] if act.image_event_id else []
            return " ".join(photo + self._chat_reply(act, world, facts, rng)) + _adapted(observed, adapt_rng) + _closing(rng), refs
        event = events[act.event_id]
        if event.kind == "background":
            kinds = sorted({facts[f].kind for f in act.fact_ids} & set(ph.BACKGROUND_TALK))
            talk = [pick(rng, ph.BACKGROUND_TALK[k]) for k in kinds[:2]]
            return (" ".join([pick(rng, ACK["background"]), *talk, pick(rng, ph.BACKGROUND_MORE)]) + _adapted(observed, adapt_rng)
                    + f" {pick(rng, ph.BACKGROUND_ASK)}"), refs
        parts = [pick(rng, ph.REACT[said.valence])]
        if said.scene is not None and rng.random() < 0.9:
            thing, did = said.scene
            parts.append(pick(rng, ph.SCENE_ECHO).format(thing=thing, Thing=_cap(thing), did=did))
        if said.felt:
            parts.append(pick(rng, ph.MIRROR[said.valence]))
        if act.image_event_id and rng.random() < 0.5:
            parts.append(pick(rng, ACK["snapshot"]))
        parts.append(pick(rng, ph.KIND_TALK[said.kind]))
        if said.setting in ph.SETTING_TALK:
            parts.append(pick(rng, ph.SETTING_TALK[said.setting]))
        if said.setting not in ph.SETTING_TALK or rng.random() < 0.5:
            parts.append(pick(rng, ph.ENCOURAGE))
        for fid in act.recall_fact_ids:
            f = facts[fid]
            earlier = events[fid.rsplit("/", 1)[0]]
            when = self._when(earlier, act.assistant_time, rng, refs)
            parts.append(f"That reminds me: {when} you {f.value}.")
        setting = said.setting in ph.SETTING_ASK and rng.random() < 0.5
        parts.append(pick(rng, ph.SETTING_SUGGEST[said.setting] if setting else ph.KIND_SUGGEST[said.kind]))
        asks = ph.SETTING_ASK[said.setting] if setting else ph.KIND_ASK[said.kind]
        return " ".join(parts) + _adapted(observed, adapt_rng) + " " + pick(rng, asks) + _closing(rng), refs

    def _chat_reply(self, act: Act, world: World, facts: dict[str, Fact], rng: np.random.Generator) -> list[str]:
        if act.topic is None:
            return [pick(rng, ACK["small_talk"]), pick(rng, ph.SMALL_TALK_REPLY), pick(rng, ph.SMALL_TALK_IDEA),
                    pick(rng, ph.ENCOURAGE),
                    pick(rng, ACK["small_talk_followup"] + ph.SMALL_TALK_ASK)]
        if not act.recall_fact_ids:
            return [pick(rng, ACK["generic_advice"]), pick(rng, ph.UNKNOWN_TASTE)]
        f = facts[act.recall_fact_ids[0]]
        if f.kind == "preference_shift":
            s = world.slots[f.id.rsplit("/", 1)[0]]
            choice = pick(rng, (f"You've moved on from {s['old']} to {s['new']}, so how about {s['new']}?",
                               f"Since {s['new']} replaced {s['old']} for you, go with {s['new']}."))
        else:
            noun = next(q.noun for q in world.persona.preferences if f.key == f"preference/{q.category}")
            choice = pick(rng, (f"How about {f.value}? It's your favourite {noun}, after all.",
                               f"You told me your favourite {noun} is {f.value}, so that's my pick.",
                               f"Easy: {f.value}. You love it.", f"Go with {f.value}; you never get tired of it.",
                               f"Knowing you, {f.value}.",
                               *(r.format(item=f.value, Item=_cap(f.value)) + f" It's your favourite {noun}." for r in ph.RECOMMEND)))
        return [choice, pick(rng, ph.RECOMMEND_WHY), pick(rng, ph.RECOMMEND_MORE), pick(rng, ph.RECOMMEND_TIP),
                pick(rng, ph.PREFERENCE_ASK)]

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
