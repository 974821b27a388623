"""The discourse around the facts: it states no fact of its own, replies fit the news, and the personality it
shows follows the session's true personality."""

from __future__ import annotations

import re

import numpy as np

from pipeline.records import TRAITS
from pipeline.verbalize import phrases as ph
from pipeline.verbalize import scripted as sc
from pipeline.verbalize.vary import Finder, canonical, spellings, variants, vary
from pipeline.verbalize.voice import ADAPTED, CHAT_VOICE, NEWS_TAILS, TRAIT_TAILS, find_voice, restyle, trait_counts
from pipeline.world.clock import MONTHS, WEEKDAYS
from pipeline.world.simulate import COLOURS

TIME_WORDS = {"today", "yesterday", "tomorrow", "tonight", "morning", "afternoon", "evening", "night", "noon", "midnight",
              "lunch", "dinner", "breakfast", "brunch", "ago", *(w.lower() for w in WEEKDAYS), *(m.lower() for m in MONTHS)}


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (tuple, list)):
        return [s for v in value for s in _strings(v)]
    return []


def _discourse() -> list[str]:
    pools = [getattr(ph, name) for name in dir(ph) if name.isupper() and name != "KEEP"]  # KEEP holds regexes
    return _strings(pools) + _strings(TRAIT_TAILS) + _strings(ADAPTED)


def test_the_discourse_states_no_fact(lex):
    """No date, hour or meal, no colour of the photo palette, no preference item, interest or place name: what the
    verbalizer adds around the facts can never contradict the world or answer a benchmark question."""
    items = {i.lower() for c in lex.preferences.values() for i in c.items} | {i.lower() for i in lex.interests}
    names = {n.lower() for n in lex.first_names} | {p.lower() for p in lex.places.prefixes}
    known = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(items | names, key=len, reverse=True))) + r")\b")
    for text in _discourse():
        low = text.lower()
        words = set(re.findall(r"[a-z'-]+", low))
        assert not words & TIME_WORDS, (text, words & TIME_WORDS)
        assert not words & set(COLOURS), text
        assert not known.search(low), (text, known.search(low))


# slips that variant templates make when their alternatives do not fit each other or their slot
SLIPS = {
    "a space before punctuation": r" [.,!?;:](?![)(])|  ",
    "'a' before a vowel": r"\b[Aa] (?!uni|use|usu|eu|one\b|once\b|U[A-Z])[aeiou]",
    "'an' before a consonant": r"\b[Aa]n (?!hour|honest|heir)[b-df-hj-np-tv-z]",
    "a plural subject with a singular verb": r"(?:^|[.!?] )(?:People|Friends|Others) (?:is|was|has|does|doesn't|seems)\b"
                                             r"|\b(?:they|we) (?:is|was|has|does|doesn't|seems|sounds)\b",
    "a singular subject with a plural verb": r"\b(everyone|everybody|nobody|someone|anyone|somebody) (are|were|have|don't)\b",
    "a past form after an auxiliary": r"\b(will|would|can|could|should|might|must|did|does|didn't|doesn't|don't)( never| not| just)?"
                                      r" (seen|done|gone|told|went|took|got|wrote|felt|was|were)\b",
    "a doubled word": r"\b(?!in\b|that\b|had\b)(\w+) \1\b",
    "a sentence in lower case": r"(?<!\.\.)[.!?] [a-z]",
}


def _slips(text: str) -> list[str]:
    return [name for name, rx in SLIPS.items() if re.search(rx, text)]


def test_the_text_has_none_of_the_slips_variants_make(small_parts):
    """Every turn, and many variants of every template, read as written English: spaced, articles agreeing, and none
    of the slips seen when alternatives were combined that do not fit ("an justification", "Okay so so")."""
    for part in small_parts:
        for s in part.sessions:
            for t in s.turns:
                assert not _slips(t.text), (_slips(t.text), t.text)
    rng = np.random.default_rng(0)
    scripted = _strings([sc.TELL, sc.BACKGROUND, sc.INTRO, sc.PHOTO, sc.RECALL_ASK, sc.ACK, sc.CONTEXT, sc.FAVOURITE_PICK])
    for template in _discourse() + scripted:
        for said in {canonical(template), *(vary(template, rng) for _ in range(20))}:
            slots = iter(range(99))
            said = re.sub(r"\{[^}]*\}", lambda _: f"Slot{next(slots)}", said)
            assert not _slips(said), (_slips(said), said)


def test_no_template_syntax_reaches_the_text(small_parts):
    for part in small_parts:
        for s in part.sessions:
            for t in s.turns:
                assert not set(t.text) & set("[]|{}"), t.text


def test_trait_sentences_are_recognised_in_every_variant_and_swap_one_to_one():
    """Counting and swapping them (Persona-MME's alignment gold and its certificate) is exact only if each variant
    of a sentence is found as that sentence and nothing else, and both poles have as many."""
    rng = np.random.default_rng(0)
    for trait, poles in TRAIT_TAILS.items():
        for pole, sentences in enumerate(poles):
            for rank, template in enumerate(sentences):
                for said in {canonical(template), *(vary(template, rng) for _ in range(30))}:
                    text = f"So that happened. {said} Anyway."
                    found = [(v.trait, v.pole, v.rank, text[v.start:v.end]) for v in find_voice(text)]
                    assert found == [(trait, pole, rank, said)], said
                    swapped = restyle(said, trait)
                    assert swapped == canonical(TRAIT_TAILS[trait][1 - pole][rank])
                    assert restyle(swapped, trait) == canonical(template)
    for bank in (NEWS_TAILS, CHAT_VOICE, ADAPTED):
        assert all(len(low) == len(high) for low, high in bank.values())
    # no adaptation is spelt like a user's trait sentence, or like another adaptation (Finder refuses a shared one)
    signals = Finder(((bank, trait, pole, rank), t) for bank, banks in (("user", TRAIT_TAILS), ("reply", ADAPTED))
                     for trait, poles in banks.items() for pole in (0, 1) for rank, t in enumerate(poles[pole]))
    # nor like any other sentence of the discourse, which would count as a signal it is not
    for template in _strings([getattr(ph, name) for name in dir(ph) if name.isupper() and name != "KEEP"]):
        every = spellings(template) if variants(template) <= 5000 else [vary(template, rng) for _ in range(200)]
        assert not [said for said in every if signals.find(said)], template
    assert trait_counts("I hope that was the right call, or not.")["neuroticism"] == (0, 0), "a variant, or nothing"


def _valence(event) -> int:
    if event.kind == "goal_outcome":
        return -1 if event.facts[0].value.startswith("abandoned") else 1
    if event.kind == "relationship_change":
        return 1 if "grew closer" in event.facts[0].text else -1
    return {"goal_progress": 1, "goal_start": 1, "activity": 1}.get(event.kind, 0)


def test_replies_fit_the_news_and_take_up_its_details(small_parts):
    """Good news is never met with sympathy, nor a setback with cheer; a detail the reply mentions is the one the
    user just told."""
    reactions = Finder((valence, t) for valence in (1, -1) for t in ph.REACT[valence])
    echoes = {thing: [said.format(thing=thing, Thing=thing[:1].upper() + thing[1:], did=did)
                      for shape in ph.SCENE_ECHO for said in spellings(shape)]
              for scenes in ph.SCENE.values() for thing, did in scenes}
    seen = {1: 0, -1: 0, "echo": 0}
    for part in small_parts:
        events = {e.id: e for e in part.events}
        for s in part.sessions:
            for user, reply in zip(s.turns[::2], s.turns[1::2]):
                kinds = {events[f.rsplit("/", 1)[0]].kind for f in user.fact_ids}
                if len(user.fact_ids) == 1 and kinds <= {"goal_outcome", "goal_progress", "goal_start", "activity",
                                                         "relationship_change"}:
                    v = _valence(events[user.fact_ids[0].rsplit("/", 1)[0]])
                    found = reactions.find(reply.text)
                    assert found and found[0][1] == 0, reply.text  # the reply opens with its reaction
                    assert found[0][0] == v, (user.text, reply.text)
                    seen[v] += 1
                for thing, said in echoes.items():
                    if thing in reply.text.lower() and any(echo in reply.text for echo in said):
                        assert thing.lower() in user.text.lower(), (user.text, reply.text)
                        seen["echo"] += 1
    assert min(seen.values()) > 0, seen


def test_the_personality_the_text_shows_follows_the_session(small_parts):
    """Per session, the balance of a trait's high and low sentences rises with the session's true trait, drift
    included."""
    for trait in TRAITS:
        shown, true = [], []
        for part in small_parts:
            for s in part.sessions:
                low, high = trait_counts("\n".join(t.text for t in s.turns if t.role == "user"))[trait]
                shown.append(high - low)
                true.append(getattr(s.true_personality, trait))
        assert np.corrcoef(shown, true)[0, 1] > 0.6, trait


def test_replies_name_the_news_in_its_own_terms_said_back_to_the_user(small_parts):
    """A reply engages with this news, not news of its kind: it names the goal, place, person or new favourite the
    user just told, and says the user's own words back in the second person ("your band", never "my band")."""
    named, told = 0, 0
    for part in small_parts:
        events = {e.id: e for e in part.events}
        facts = {f.id: f for e in part.events for f in e.facts}
        for s in part.sessions:
            for user, reply in zip(s.turns[::2], s.turns[1::2]):
                news = [facts[f] for f in user.fact_ids if events[f.rsplit("/", 1)[0]].kind in {
                    "goal_start", "goal_progress", "goal_outcome", "relationship_change", "activity", "preference_shift"}]
                if len(user.fact_ids) != 1 or not news:
                    continue
                told += 1
                event = events[news[0].id.rsplit("/", 1)[0]]
                term = event.place if event.kind == "activity" else news[0].terms[0]
                named += term.lower() in reply.text.lower()
                for phrase in re.findall(r"[^.;:!?]*\b(?:my|me)\b[^.;:!?]*", news[0].value):
                    assert phrase.strip() not in reply.text, (phrase, reply.text)
    assert told > 20 and named / told > 0.9, (named, told)
