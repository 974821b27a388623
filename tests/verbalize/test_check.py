"""The check of a rewrite against its draft and the world: what it must keep, and what it may not add."""

from __future__ import annotations

import pytest

from pipeline.config import RunConfig
from pipeline.verbalize.check import check_turns
from pipeline.verbalize.openai_backend import lexicon_vocabulary

VOCAB = lexicon_vocabulary(RunConfig().lexicon_dir)


@pytest.fixture(scope="module")
def persona(small_parts):
    part = small_parts[0]
    return part, {e.id: e for e in part.events}, {f.id: f for e in part.events for f in e.facts}


def _with(session, index: int, text: str):
    turns = [t.model_copy(update={"text": text}) if t.index == index else t for t in session.turns]
    return session.model_copy(update={"turns": turns})


def _known_before(part, k: int) -> set[str]:
    return {f for s in part.sessions[:k] for f in s.planned_fact_ids}


def _first(part, facts, pred):
    for k, s in enumerate(part.sessions):
        for t in s.turns:
            if pred(s, t):
                return k, s, t
    raise AssertionError("no such turn in the small run")


def test_the_draft_itself_passes_every_check(persona):
    part, events, facts = persona
    for k, s in enumerate(part.sessions):
        assert check_turns(s, events, facts, _known_before(part, k), s, VOCAB) == ({}, [])


def test_invented_people_and_places_are_caught(persona):
    part, events, facts = persona
    s = part.sessions[1]
    for added in (" Bartholomew came along too.", " We ended up at the Zanzibar Grill.", " I told Ottoline about it."):
        rewrite = _with(s, 0, s.turns[0].text + added)
        problems, _ = check_turns(rewrite, events, facts, _known_before(part, 1), s, VOCAB)
        assert problems and "has not mentioned" in problems[0][0], added
    # ordinary words at a sentence start are not names
    fine = _with(s, 0, "Honestly? Okay, so. " + s.turns[0].text + " Sounds silly, but congrats to me.")
    assert check_turns(fine, events, facts, _known_before(part, 1), s, VOCAB)[0] == {}


def test_a_person_of_the_world_is_not_named_before_the_user_names_them(persona):
    part, events, facts = persona
    people = [f for f in facts.values() if f.kind == "relationship"]
    k, s, t = _first(part, facts, lambda s, t: t.role == "assistant")
    untold = next(f for f in people if f.id not in _known_before(part, k + 1))
    name = untold.key.split("/", 1)[1]
    rewrite = _with(s, t.index, f"{t.text} Say hi to {name} for me!")
    problems, _ = check_turns(rewrite, events, facts, _known_before(part, k), s, VOCAB)
    assert t.index in problems and name in " ".join(problems[t.index])


def test_a_card_detail_is_not_revealed_before_it_is_told(persona):
    part, events, facts = persona
    prefs = [f for f in facts.values() if f.kind in ("preference", "interest") and " " not in f.terms[0]]
    untold = next(f for f in prefs if f.id not in _known_before(part, 1) and f.id not in part.sessions[0].planned_fact_ids)
    s = part.sessions[0]
    t = next(t for t in s.turns if t.role == "assistant")
    rewrite = _with(s, t.index, f"{t.text} I bet you love {untold.terms[0]}.")
    problems, _ = check_turns(rewrite, events, facts, set(), s, VOCAB)
    assert t.index in problems and "has not told yet" in " ".join(problems[t.index])


def test_a_vaguer_activity_is_not_the_activity(persona):
    part, events, facts = persona
    k, s, t = _first(part, facts, lambda s, t: t.role == "user" and t.time_refs
                     and any(facts[f].kind == "activity" for f in t.fact_ids))
    fact = next(facts[f] for f in t.fact_ids if facts[f].kind == "activity")
    vague = f"{t.time_refs[0].phrase.capitalize()} we just hung out at {', '.join(fact.terms)}."
    problems, _ = check_turns(_with(s, t.index, vague), events, facts, _known_before(part, k), s, VOCAB)
    assert t.index in problems and "is not stated" in problems[t.index][0]


def test_a_wrong_or_lost_date_is_caught_and_a_reworded_one_is_not(persona):
    part, events, facts = persona
    k, s, t = _first(part, facts, lambda s, t: t.role == "user" and any(r.phrase.startswith("on ") and r.phrase[3].isupper()
                                                                       and r.phrase.split()[1] in ("March", "April")
                                                                       and r.phrase in t.text for r in t.time_refs))
    ref = next(r for r in t.time_refs if r.phrase.split()[1] in ("March", "April") and r.phrase in t.text)
    month, day = ref.phrase.split()[1:3]
    known = _known_before(part, k)
    reworded = _with(s, t.index, t.text.replace(ref.phrase, f"on {month[:3]} {day}th"))
    assert check_turns(reworded, events, facts, known, s, VOCAB)[0] == {}
    wrong = _with(s, t.index, t.text.replace(ref.phrase, f"on {month} {int(day.rstrip(',')) % 27 + 1}"))
    problems, _ = check_turns(wrong, events, facts, known, s, VOCAB)
    assert "the date is lost or wrong" in problems[t.index][0]
    lost = _with(s, t.index, t.text.replace(ref.phrase, "recently"))
    assert "the date is lost or wrong" in check_turns(lost, events, facts, known, s, VOCAB)[0][t.index][0]
