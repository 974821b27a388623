"""Checks a verbalized session against the world: the text must carry the plan, and nothing else.

Run on every session of every backend (`generate.py`). For the scripted backend a failure is a bug;
an LLM backend uses the per-turn problems to repair exactly the turns that are wrong, and ships the
scripted draft for a turn it cannot get right.

What "carries" means is lenient where language is (`match.py`): a term stated up to inflection,
spelling and number format, a date in any wording the clock resolves to the right day. Text that
rewrites a draft is also checked the other way: it may not add people or places the world has not
named yet, card details the user has not told yet, or blur an activity into something vaguer.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime

from pipeline.records import Event, Fact, Session, parse_time
from pipeline.verbalize.match import mentions, normalize, states_day
from pipeline.world.clock import MONTHS, WEEKDAYS, resolve


@dataclass(frozen=True)
class Vocabulary:
    """Words the world uses: `names` (first names, place words; one in a rewrite that the conversation has
    not mentioned is invented, even at a sentence start) and ordinary lower-case `words` however new."""

    names: frozenset[str] = frozenset()
    words: frozenset[str] = frozenset()


class VerificationError(ValueError):
    """A session whose text does not match its plan; the message lists every problem."""


# Facts that describe the persona rather than something that happened: the card a model must not reveal early.
CARD_KINDS = frozenset({"profile", "interest", "preference", "relationship", "habit", "goal"})
# Capitalized words that are never a name the world has to know.
COMMON_CAPS = frozenset({"I", "I'm", "I've", "I'd", "I'll", "OK", "Ok", "AI", "TV", "PM", "AM", "UK", "US", "USA", "DIY",
                         "BBQ", "Mr", "Mrs", "Ms", "Dr", "Sept", "Tues", "Thurs", *WEEKDAYS, *MONTHS,
                         *(m[:3] for m in MONTHS), *(d[:3] for d in WEEKDAYS)})
# Chat words a dictionary of 1934 does not know; a capitalized word at a sentence start that is none of
# these and no dictionary word is taken for a name.
INTERJECTIONS = frozenset({"okay", "ok", "hmm", "hmmm", "yay", "lol", "congrats", "omg", "btw", "haha", "ugh", "oof", "aww",
                           "awww", "yep", "yup", "nope", "yeah", "hiii", "heyyy", "ooh", "ahh", "fyi", "tbh", "ooh", "whoa",
                           "wow", "um", "uh", "eh", "huh", "ha", "meh", "phew", "gosh", "sooo", "soo", "aha", "alright"})
_CAP = re.compile(r"(?<![\w'’])([A-Z][a-zA-Z]+(?:['’][a-z]+)?)")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"“”(\n]|—|--)\s*$")


def image_holds(fact: Fact, event: Event) -> bool:
    """A visual fact is conveyed by the picture: its object, colour and count must be in the spec."""
    if event.image_spec is None:
        return False
    from pipeline.world.plan import object_phrase

    name = fact.key.rsplit("/", 1)[1]
    return any(o.name == name and object_phrase(o) == fact.value for o in event.image_spec.objects)


def capitalized(text: str) -> list[tuple[str, bool]]:
    """Capitalized words of `text`, each with whether it starts a sentence (where any word is capitalized)."""
    return [(m.group(1).replace("’", "'").split("'")[0], bool(_SENTENCE_START.search(text[:m.start()])))
            for m in _CAP.finditer(text)]


@functools.cache
def _dictionary() -> frozenset[str]:
    """Ordinary English words, lower case: the dictionaries' entries less those only ever capitalized (names)."""
    from english_words import get_english_words_set

    raw = get_english_words_set(["web2", "gcide"], lower=False, alpha=True)
    names = {w.lower() for w in raw if w[:1].isupper()} - {w for w in raw if w.islower()}
    return frozenset(get_english_words_set(["web2", "gcide"], lower=True, alpha=True) - names)


def _common(word: str, vocabulary: frozenset[str] = frozenset()) -> bool:
    """Whether a capitalized word is an ordinary word (in any inflection), not a name."""
    common = _dictionary()
    w = word.lower()
    forms = {w}
    for suffix, repl in (("s", ""), ("es", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"), ("ies", "y"),
                         ("ied", "y"), ("er", ""), ("est", ""), ("ly", "")):
        if w.endswith(suffix) and len(w) > len(suffix) + 2:
            stem = w[: -len(suffix)]
            forms |= {stem + repl, stem[:-1] if len(stem) > 2 and stem[-1] == stem[-2] else stem}
    return any(f in common or f in vocabulary or f in INTERJECTIONS for f in forms)


def _activity_word(f: Fact) -> str | None:
    """The head word of an activity ('dinner' in 'had dinner at X'): a vaguer paraphrase drops it."""
    words = [w for w in re.findall(r"[A-Za-z]+", f.value.split(" at ", 1)[0]) if len(w) > 2]
    return words[-1] if words else None


def _date_ok(text: str, phrase: str, day, now: datetime) -> bool:
    if phrase.lower() in text.lower():
        lo, hi = resolve(phrase, now)
        return lo <= day <= hi
    return states_day(text, day, now)


def check_turns(session: Session, events: dict[str, Event], facts: dict[str, Fact], known_before: set[str],
                draft: Session | None = None, vocabulary: Vocabulary = Vocabulary()) -> tuple[dict[int, list[str]], list[str]]:
    """Problems per turn index, and problems of the session as a whole; both empty when it is right.

    `known_before`: facts conveyed in earlier sessions. With `draft` (the scripted session this text
    rewrites) the reverse checks run too, with the world's `vocabulary`."""
    per_turn: dict[int, list[str]] = {}
    known = set(known_before)
    start, end = parse_time(session.start_time), parse_time(session.end_time)
    previous = start
    conveyed = []
    drafts = {t.index: t for t in draft.turns} if draft is not None else {}
    for turn in session.turns:
        problems: list[str] = []
        where = f"turn {turn.index}"
        t = parse_time(turn.time)
        if not (previous <= t <= end):
            problems.append(f"{where}: time {turn.time} out of order")
        previous = t
        for ref in turn.time_refs:
            day = parse_time(events[ref.event_id].time).date()
            if not _date_ok(turn.text, ref.phrase, day, t):
                problems.append(f"{where}: the date is lost or wrong: it must say when it happened, e.g. '{ref.phrase}' "
                                f"({day:%A, %B} {day.day}; any wording that means that day)")
        for fid in turn.fact_ids:
            f = facts.get(fid)
            if f is None:
                problems.append(f"{where}: unknown fact {fid}")
                continue
            event = events[fid.rsplit("/", 1)[0]]
            if parse_time(event.time) > t:
                problems.append(f"{where}: fact {fid} is from the future ({event.time} > {turn.time})")
            if turn.role == "assistant" and fid not in known:
                problems.append(f"{where}: the assistant recalls {fid}, which the user had not told yet")
            if turn.role == "user" and f.modality == "image":
                if f"{event.id}/image" not in turn.image_ids or not image_holds(f, event):
                    problems.append(f"{where}: visual fact {fid} is not shown by the turn's image")
                continue
            missing = [x for x in f.terms if not mentions(turn.text, x)]
            head = _activity_word(f) if f.kind == "activity" else None
            if head and not mentions(turn.text, head):
                missing.append(head)
            if missing:
                problems.append(f"{where}: '{f.text}' is not stated; it must name {missing}")
        if turn.role == "user":
            known.update(turn.fact_ids)
            conveyed.extend(turn.fact_ids)
        if turn.index in drafts and turn.text != drafts[turn.index].text:
            problems += _added(turn.text, drafts, turn.index, known, facts, vocabulary)
        if problems:
            per_turn[turn.index] = problems
    session_problems = []
    if sorted(conveyed) != sorted(session.planned_fact_ids):
        session_problems.append(f"{session.id}: conveyed facts differ from the plan")
    return per_turn, session_problems


def _added(text: str, drafts: dict, index: int, known: set[str], facts: dict[str, Fact], vocabulary: Vocabulary) -> list[str]:
    """What a rewrite says that neither its draft nor the world known at that moment says."""
    draft_text = drafts[index].text
    context = " ".join(drafts[i].text for i in sorted(drafts) if i <= index)
    allowed = set(COMMON_CAPS) | {w for w, _ in capitalized(context)}
    for fid in known:
        f = facts.get(fid)
        if f is not None:
            allowed |= {w for w, _ in capitalized(" ".join([f.value, *f.terms]))}
    problems = []
    invented = sorted({w for w, initial in capitalized(text)
                       if w not in allowed and (not initial or w in vocabulary.names or not _common(w, vocabulary.words))})
    if invented:
        problems.append(f"turn {index}: names {invented}, which the conversation has not mentioned; leave them out")
    known_terms = {normalize(x) for fid in known if fid in facts for x in facts[fid].terms}
    early = []
    for f in facts.values():
        if f.kind not in CARD_KINDS or f.id in known or f.modality != "text":
            continue
        for term in f.terms:
            if (len(term) > 3 and not term.isdigit() and term not in WEEKDAYS and normalize(term) not in known_terms
                    and mentions(text, term) and not mentions(draft_text, term)):
                early.append(term)
    if early:
        problems.append(f"turn {index}: mentions {sorted(set(early))}, which the user has not told yet; leave it out")
    return problems


def check_session(session: Session, events: dict[str, Event], facts: dict[str, Fact], known_before: set[str],
                  draft: Session | None = None, vocabulary: Vocabulary = Vocabulary()) -> list[str]:
    """All problems with one session, flat (empty when it is right)."""
    per_turn, whole = check_turns(session, events, facts, known_before, draft, vocabulary)
    return [f"{session.id} {p}" for i in sorted(per_turn) for p in per_turn[i]] + whole
