from __future__ import annotations

import math

import pytest

from pipeline.labels.personality import lam, observed_scores, personality_track
from pipeline.records import TRAITS, BigFive


def test_lambda_schedule_matches_personavlm():
    assert lam(1) == pytest.approx(0.5, abs=1e-3)
    assert lam(25) == pytest.approx(0.7)
    assert lam(50) == pytest.approx(0.9) and lam(200) == pytest.approx(0.9)
    assert all(lam(m) < lam(m + 1) for m in range(1, 50))


def test_observed_scores_shrink_with_little_evidence():
    true = BigFive(openness=4.8, conscientiousness=1.2, extraversion=3.4, agreeableness=2.6, neuroticism=4.4)
    full = observed_scores(true, 6)
    assert full.model_dump() == {"openness": 5, "conscientiousness": 1, "extraversion": 3, "agreeableness": 3, "neuroticism": 4}
    thin = observed_scores(true, 1)
    assert thin.openness < full.openness and thin.conscientiousness > full.conscientiousness


def test_track_follows_the_ema_and_converges(small_parts):
    for part in (p for p in small_parts if p.persona.split == "train"):
        track = personality_track(part.persona, part.sessions)
        assert track == part.personality
        p = dict.fromkeys(TRAITS, 3.0)
        for obs in track:
            for t in TRAITS:
                p[t] = obs.lam * p[t] + (1 - obs.lam) * getattr(obs.observed, t)
                assert getattr(obs.estimate, t) == pytest.approx(p[t], abs=1e-3)
        end = sum(abs(getattr(track[-1].estimate, t) - getattr(track[-1].true, t)) for t in TRAITS) / 5
        start = sum(abs(3.0 - getattr(track[0].true, t)) for t in TRAITS) / 5
        assert end < 0.6 and (end < start or math.isclose(start, 0, abs_tol=0.3))
