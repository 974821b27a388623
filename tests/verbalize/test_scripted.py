from __future__ import annotations

from pipeline.records import parse_time
from pipeline.verbalize.check import check_session
from pipeline.verbalize.match import mentions
from pipeline.world.clock import resolve


def _index(part):
    events = {e.id: e for e in part.events}
    facts = {f.id: f for e in part.events for f in e.facts}
    return events, facts


def test_every_session_passes_the_check(small_parts):
    for part in small_parts:
        events, facts = _index(part)
        known: set[str] = set()
        for s in part.sessions:
            assert check_session(s, events, facts, known) == []
            known |= set(s.planned_fact_ids)


def test_every_planned_fact_is_stated_in_its_turn(small_parts):
    n = 0
    for part in small_parts:
        events, facts = _index(part)
        for s in part.sessions:
            for t in s.turns:
                if t.role != "user":
                    continue
                for fid in t.fact_ids:
                    f = facts[fid]
                    if f.modality == "text":
                        assert all(mentions(t.text, term) for term in f.terms), (t.text, f)
                    else:
                        assert f"{fid.rsplit('/', 1)[0]}/image" in t.image_ids
                    n += 1
    assert n > 500


def test_no_future_leakage(small_parts):
    for part in small_parts:
        events, facts = _index(part)
        told: set[str] = set()
        for s in part.sessions:
            for t in s.turns:
                for fid in t.fact_ids:
                    assert events[fid.rsplit("/", 1)[0]].time <= t.time
                if t.role == "assistant":
                    assert set(t.fact_ids) <= told, "the assistant recalls only what was told before"
                else:
                    told |= set(t.fact_ids)


def test_relative_dates_match_the_clock(small_parts):
    n = 0
    for part in small_parts:
        events, _ = _index(part)
        for s in part.sessions:
            for t in s.turns:
                for ref in t.time_refs:
                    assert ref.phrase.lower() in t.text.lower()
                    lo, hi = resolve(ref.phrase, parse_time(t.time))
                    assert lo <= parse_time(events[ref.event_id].time).date() <= hi
                    n += 1
    assert n > 100


def test_image_rate_and_assistant_recall(small_cfg, small_parts):
    user = [t for p in small_parts for s in p.sessions for t in s.turns if t.role == "user"]
    assert sum(bool(t.image_ids) for t in user) / len(user) >= small_cfg.image_rate
    recalls = [t for p in small_parts for s in p.sessions for t in s.turns if t.role == "assistant" and t.fact_ids]
    assert len(recalls) > 20


def test_the_check_catches_a_wrong_text_and_a_wrong_date(small_parts):
    part = small_parts[0]
    events, facts = _index(part)
    known: set[str] = set()
    for s in part.sessions:
        for k, t in enumerate(s.turns):
            text_facts = [facts[f] for f in t.fact_ids if facts[f].modality == "text"]
            if t.role == "user" and text_facts and t.time_refs:
                term = text_facts[0].terms[0]
                broken = s.model_copy(deep=True)
                broken.turns[k].text = t.text.replace(term, "something")
                assert any("not stated" in p for p in check_session(broken, events, facts, known))
                broken = s.model_copy(deep=True)
                broken.turns[k].time_refs[0].event_id = part.events[-1].id
                assert any("means" in p or "future" in p for p in check_session(broken, events, facts, known))
                return
        known |= set(s.planned_fact_ids)
    raise AssertionError("no suitable turn found")


def test_shifted_preferences_reach_the_assistant(small_parts):
    """After a shift is told, recommendations use the new preference, never the old one."""
    checked = 0
    for part in small_parts:
        events, facts = _index(part)
        latest: dict[str, str] = {}
        for s in part.sessions:
            for t in s.turns:
                if t.role == "user":
                    for fid in t.fact_ids:
                        if facts[fid].key.startswith("preference/"):
                            latest[facts[fid].key] = fid
                else:
                    for fid in t.fact_ids:
                        if facts[fid].key.startswith("preference/"):
                            assert latest[facts[fid].key] == fid
                            checked += 1
    assert checked > 10


def test_recall_questions_point_at_one_event(small_parts):
    """'What did I do last week with Ana?' must have one answer: no other such event in that range."""
    checked = 0
    for part in small_parts:
        events, facts = _index(part)
        for s in part.sessions:
            for user, reply in zip(s.turns[::2], s.turns[1::2]):
                if user.fact_ids or not user.time_refs or not reply.fact_ids:
                    continue
                fact = facts[reply.fact_ids[0]]
                if fact.kind not in ("activity", "visual"):
                    continue
                target = events[user.time_refs[0].event_id]
                lo, hi = resolve(user.time_refs[0].phrase, parse_time(user.time))
                for e in events.values():
                    if e.id == target.id or not lo <= parse_time(e.time).date() <= hi:
                        continue
                    if fact.kind == "activity":
                        assert not (e.kind == "activity" and set(e.participants) == set(target.participants))
                    else:
                        name = fact.key.rsplit("/", 1)[1]
                        assert not (e.image_spec and any(o.name == name for o in e.image_spec.objects))
                checked += 1
    assert checked > 20


def test_the_assistant_adapts_only_to_the_personality_earlier_sessions_showed(small_parts):
    from pipeline.verbalize.vary import Finder
    from pipeline.verbalize.voice import ADAPTED, find_voice, shown_pole, trait_counts

    adaptations = Finder(((trait, pole), m) for trait, poles in ADAPTED.items() for pole in (0, 1) for m in poles[pole])
    adapted = 0
    for part in small_parts:
        earlier = ""
        for s in part.sessions:
            shown = {t: shown_pole(*c) for t, c in trait_counts(earlier).items()}
            for t in s.turns:
                said = [key for key, _, _ in adaptations.find(t.text)]
                if t.role == "user":
                    assert not said
                    continue
                assert not find_voice(t.text), "the assistant never says the user's trait sentences"
                for trait, pole in said:  # only a pole the user's earlier words showed
                    assert shown[trait] is not None and shown[trait] == bool(pole), (s.id, t.text)
                adapted += bool(said)
            earlier += "\n".join(t.text for t in s.turns if t.role == "user") + "\n"
        assert not any(adaptations.find(t.text) for t in part.sessions[0].turns), "nothing observed yet"
    assert adapted > 20
