"""The world and its text make sense together: steps in order, reasons that fit the persona's people,
activities and requests at fitting hours, worry where there is something to worry about, and date
frames and articles that are grammatical."""

from __future__ import annotations

import re
from collections import Counter

from pipeline.grammar import indefinite
from pipeline.personas.sampler import GOALS
from pipeline.records import parse_time
from pipeline.verbalize.scripted import EVENING_CONTEXT, UNSETTLING
from pipeline.verbalize.voice import NEWS_TAILS, find_voice
from pipeline.world.plan import CHAT_TOPICS, SMALL_TALK, chat_topics, fits_hour
from pipeline.world.simulate import COLOURS, GOAL_LANES, activity_hours, roles_named


def test_goal_milestones_are_reached_in_order(small_parts, lex):
    steps = {g.key: g.steps for g in lex.goals}
    for part in small_parts:
        for goal in part.persona.goals:
            reached = [e for e in part.events if e.kind == "goal_progress" and e.facts[0].key == f"goal_progress/{goal.id}"]
            order = [steps[goal.key].index(e.facts[0].value) for e in sorted(reached, key=lambda e: e.time)]
            assert order == list(range(len(order))), (goal.text, order)


def test_goals_run_in_lanes_and_their_news_is_told_in_order(small_parts):
    """At most GOAL_LANES goals at once (with two habits, procedural memory's five entries), GOALS goals in all,
    and what the user tells of a goal comes in the order it happened: started, milestones, outcome."""
    kinds = ("goal_start", "goal_progress", "goal_outcome")
    for part in small_parts:
        assert len(part.persona.goals) == GOALS and len({h.weekday for h in part.persona.habits}) == len(part.persona.habits)
        live: dict[str, list[str]] = {}  # goal id -> [started, ended or never]
        for e in part.events:
            for f in e.facts:
                if f.kind == "goal":
                    live[f.key.split("/", 1)[1]] = [e.time, "9999"]
                elif f.kind == "goal_outcome":
                    live[f.key.split("/", 1)[1]][1] = e.time
        for started, _ in live.values():
            assert sum(a <= started < b for a, b in live.values()) <= GOAL_LANES, live
        event_of = {f.id: e for e in part.events for f in e.facts}
        told = [event_of[t.fact_ids[0]] for s in part.sessions for t in s.turns if t.role == "user" and t.fact_ids]
        told = [(e.kind, e.facts[0].key.split("/", 1)[1]) for e in told if e.kind in kinds]
        for gid in {g for _, g in told}:
            order = [kinds.index(k) for k, g in told if g == gid]
            assert order == sorted(order), (gid, order)


def test_place_names_hold_no_palette_colour(lex):
    """A photo question's colour options are not named by another question's place ("Yellow Door Gym")."""
    assert not [p for p in lex.places.prefixes if set(p.lower().split()) & set(COLOURS)]


def test_reasons_name_only_people_the_persona_has(small_parts, lex):
    checked = 0
    for part in small_parts:
        roles = {x.role for x in part.persona.relationships}
        for e in part.events:
            if e.kind == "preference_shift":
                reason = e.facts[1].value
                assert roles_named(reason, lex) <= roles, (reason, roles)
                checked += 1
    assert checked and roles_named("my new roommate is obsessed with it", lex) == {"roommate"}


def test_activities_requests_and_remarks_fit_the_hour(small_parts):
    meals = 0
    for part in small_parts:
        for e in part.events:
            if e.kind == "activity":
                activity = e.facts[0].value.split(f" at {e.place}")[0]
                lo, hi = activity_hours(activity)
                assert lo <= parse_time(e.time).hour < hi, (activity, e.time)
                meals += (lo, hi) != (8, 21)
        for s in part.sessions:
            for t in s.turns:
                if t.role != "user":
                    continue
                hour = parse_time(t.time).hour
                for said in (*SMALL_TALK, *(x for xs in CHAT_TOPICS.values() for x in xs)):
                    if said in t.text:
                        assert fits_hour(said, hour), (said, t.time)
                if any(frame.strip(", ") in t.text for frame in EVENING_CONTEXT):
                    assert hour >= 16, (t.text, t.time)
    assert meals > 0
    assert not fits_hour("Slow morning over here.", 21) and fits_hour("Can't sleep again.", 1)


def test_no_request_or_remark_twice_in_a_session(small_parts):
    asked = (*SMALL_TALK, *(x for xs in CHAT_TOPICS.values() for x in xs))
    for part in small_parts:
        for s in part.sessions:
            said = Counter(x for t in s.turns if t.role == "user" for x in asked if x in t.text)
            assert not [x for x, n in said.items() if n > 1], s.id


def test_worry_only_where_there_is_something_to_worry_about(small_parts):
    def worries(text: str) -> bool:  # the sentences about news (the context-free ones, CHAT_VOICE, go anywhere)
        return any(v.trait == "neuroticism" and v.pole == 1 and v.rank < len(NEWS_TAILS[v.trait][1]) for v in find_voice(text))

    seen = 0
    for part in small_parts:
        events = {e.id: e for e in part.events}
        for s in part.sessions:
            for t in s.turns:
                if t.role == "user" and worries(t.text):
                    kinds = {events[f.rsplit("/", 1)[0]].kind for f in t.fact_ids}
                    assert kinds & UNSETTLING, (t.text, kinds)
                    seen += 1
    assert seen > 0


BROKEN_FRAMES = re.compile(r"\b(?:of|was) (?:on [A-Z]|earlier|today|yesterday|this past|last|back in|a week|a couple|"
                           r"\w+ days ago)|\b(?:of|me of) on\b")


def test_date_frames_and_articles_are_grammatical(small_parts):
    for part in small_parts:
        occupation = part.persona.occupation
        wrong = f"{'a' if indefinite(occupation).startswith('an ') else 'an'} {occupation}"
        assert wrong not in part.persona.bio
        for s in part.sessions:
            for t in s.turns:
                assert not BROKEN_FRAMES.search(t.text), t.text
                assert not re.search(r"(?<![\w'])i(?![\w'])|(?<![\w'])i'", t.text), t.text
                assert f" {wrong} " not in f" {t.text} " and not t.text.startswith(wrong.capitalize()), t.text
    assert indefinite("accountant") == "an accountant" and indefinite("university lecturer") == "a university lecturer"


def test_every_preference_category_has_requests_and_a_new_one_gets_them_from_its_noun(lex):
    for cat, entry in lex.preferences.items():
        asks = chat_topics(cat, entry.noun)
        assert asks == CHAT_TOPICS[cat] and len(set(asks)) >= 4, cat
        assert any(fits_hour(x, h) for x in asks for h in range(24)), cat
    added = chat_topics("tea", "kind of tea")
    assert len(set(added)) == 4 and all("kind of tea" in x for x in added)


def test_habits_are_dropped_and_taken_up_one_at_a_time_and_each_slot_names_one_habit(small_parts):
    """A habit dropped is told after it was first told, nothing of it is told after its end, its successor is told
    only after that end (never more habits at once than the persona started with), and no two habits of a life
    share a weekday."""
    changed = 0
    for part in small_parts:
        facts = {f.id: f for e in part.events for f in e.facts}
        slots = {}
        for f in facts.values():
            if f.kind == "habit":
                slots.setdefault(f.key, f.value.rsplit(" every ", 1)[1].split()[0])
        assert len(set(slots.values())) == len(slots), slots
        told = [facts[fid] for s in part.sessions for t in s.turns if t.role == "user" for fid in t.fact_ids]
        live: set[str] = set()
        ended: set[str] = set()
        for f in told:
            if f.kind == "habit":
                assert f.key not in ended, f"{f.key} told after its end"
                live.add(f.key)
            elif f.kind == "habit_end":
                assert f.key in live, f"{f.key} ended before it was told"
                live.discard(f.key)
                ended.add(f.key)
                changed += 1
            assert len(live) <= len(part.persona.habits)
        for e in part.events:
            if e.kind == "habit":
                weekday = e.facts[0].value.rsplit(" every ", 1)[1].split()[0]
                assert parse_time(e.time).strftime("%A") == weekday, (e.time, weekday)
    assert changed > 0


def test_photos_show_what_belongs_where_they_were_taken(small_parts, lex):
    """An activity's photo and a snapshot show objects of their setting's scene, and the setting is the place's."""
    seen = 0
    for part in small_parts:
        for im in part.images:
            assert {o.name for o in im.spec.objects} <= set(lex.scenes[im.spec.setting]), (im.spec.setting, im.spec.objects)
            event = next(e for e in part.events if e.id == im.event_id)
            if event.kind == "activity":
                assert im.spec.setting == lex.places.venues[event.place.split()[-1]].setting
                seen += 1
    assert seen > 5
