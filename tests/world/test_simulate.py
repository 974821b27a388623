from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import numpy as np

from pipeline.personas.sampler import sample_personas
from pipeline.records import TRAITS, parse_time
from pipeline.world.plan import plan_sessions
from pipeline.world.simulate import SILENCE, simulate_world


def test_timestamps_increase_and_sessions_are_separated_by_silence(small_parts):
    for part in small_parts:
        times = [e.time for e in part.events]
        assert times == sorted(times)
        for a, b in zip(part.sessions, part.sessions[1:]):
            assert parse_time(b.start_time) - parse_time(a.end_time) >= SILENCE
        for s in part.sessions:
            ts = [t.time for t in s.turns]
            assert ts == sorted(ts) and ts[0] == s.start_time and ts[-1] == s.end_time
            assert parse_time(s.end_time) - parse_time(s.start_time) < SILENCE


def test_preference_shifts_update_the_same_key_in_order(small_parts):
    for part in small_parts:
        prefs = {f"preference/{q.category}": q.item for q in part.persona.preferences}
        shifts = [e for e in part.events if e.kind == "preference_shift"]
        assert 6 <= len(shifts) <= 12  # eight to sixteen in three months (these lives are two months: six to twelve)
        for e in shifts:  # chronological: each shift starts from the value the previous one left
            new = e.facts[0]
            assert new.kind == "preference_shift" and new.key in prefs
            old = next(t for t in new.terms if t != new.value)
            assert old == prefs[new.key] != new.value
            prefs[new.key] = new.value
            assert e.facts[1].kind == "shift_reason"


def test_goal_outcomes_are_consistent(small_parts):
    outcomes = defaultdict(list)
    for part in small_parts:
        started, progress, ended = {}, defaultdict(list), {}
        for e in part.events:
            for f in e.facts:
                gid = f.key.split("/", 1)[1] if f.key.startswith(("goal/", "goal_progress/")) else None
                if f.kind == "goal":
                    started[gid] = e.time
                elif f.kind == "goal_progress":
                    progress[gid].append(e.time)
                elif f.kind == "goal_outcome":
                    assert gid not in ended, "a goal ends once"
                    ended[gid] = e.time
                    outcomes[f.value.split(":")[0]].append(gid)
        assert set(started) == {g.id for g in part.persona.goals}
        for gid, t in ended.items():
            assert started[gid] <= t and all(p <= t for p in progress[gid])
    assert {"completed", "abandoned"} <= set(outcomes)
    n_open = sum(len(p.persona.goals) for p in small_parts) - sum(map(len, outcomes.values()))
    assert n_open > 0, "some goals stay open (the truthful answer is then 'unknown')"


def test_personality_drifts_and_shifts_after_strong_events(small_cfg, lex):
    personas = sample_personas(small_cfg.model_copy(update={"personas": 40, "bench_personas": 0}), lex)
    moved = []
    for p in personas:
        world = simulate_world(p, small_cfg, lex)
        traj = world.trajectory
        assert traj.min() >= 1 and traj.max() <= 5
        assert np.abs(np.diff(traj, axis=0)).max() < 0.8  # slow drift, except shocks
        for e in world.events:
            if e.kind == "life_event":
                d = (parse_time(e.time) - world.start).days
                if 3 <= d < len(traj) - 10:
                    for te in e.trait_effect:
                        k = TRAITS.index(te.trait)
                        moved.append(np.sign(te.delta) * (traj[d + 5, k] - traj[d - 3, k]))
    assert len(moved) > 10 and np.mean(moved) > 0.15


def test_world_is_deterministic_per_persona(small_cfg, lex):
    p = sample_personas(small_cfg, lex)[1]
    a, b = simulate_world(p, small_cfg, lex), simulate_world(p, small_cfg, lex)
    assert a.events == b.events and a.session_starts == b.session_starts
    assert plan_sessions(a, small_cfg)[0].events == plan_sessions(b, small_cfg)[0].events


def test_relationship_and_life_events_reach_the_conversation(small_parts):
    for part in small_parts:
        conveyed = {f for s in part.sessions for t in s.turns if t.role == "user" for f in t.fact_ids}
        important = [f.id for e in part.events if e.kind in ("preference_shift", "goal_outcome", "life_event",
                                                            "relationship_change") for f in e.facts
                     if parse_time(e.time) < parse_time(part.sessions[-1].start_time) - timedelta(days=3)]
        missing = [f for f in important if f not in conveyed]
        assert not missing, missing


def test_planning_returns_a_new_world_and_leaves_the_given_one_as_it_was(small_cfg, lex):
    import copy

    p = sample_personas(small_cfg, lex)[0]
    world = simulate_world(p, small_cfg, lex)
    before = (list(world.events), copy.deepcopy(world.slots))
    final, plans = plan_sessions(world, small_cfg)
    assert (world.events, world.slots) == before
    snapshots = [e for e in final.events if e.kind == "snapshot"]
    assert snapshots and all(e.id in final.slots and e.id not in world.slots for e in snapshots)
    assert {e.id for e in world.events} < {e.id for e in final.events}
