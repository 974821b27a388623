"""Personality targets: per session the observed Big Five p′ and PersonaVLM's running estimate.

p′ is what a perfect reader of the session would score: the true traits at that time, shrunk toward
the neutral 3 when the session says little (fewer than 4 user turns), rounded to integers 1–5.
The estimate follows p ← λ_m·p + (1 − λ_m)·p′ from p = 3, with λ_m = 0.7 − 0.2·cos(π·min(m, 50)/50).
"""

from __future__ import annotations

import math

from pipeline.records import TRAITS, BigFive, Persona, PersonalityObs, Scores, Session

FULL_EVIDENCE_TURNS = 4


def lam(m: int) -> float:
    return 0.7 - 0.2 * math.cos(math.pi * min(m, 50) / 50)


def observed_scores(true: BigFive, user_turns: int) -> Scores:
    w = min(1.0, user_turns / FULL_EVIDENCE_TURNS)
    return Scores(**{t: min(5, max(1, math.floor(3 + w * (getattr(true, t) - 3) + 0.5))) for t in TRAITS})


def personality_track(persona: Persona, sessions: list[Session]) -> list[PersonalityObs]:
    estimate = dict.fromkeys(TRAITS, 3.0)
    out = []
    for m, s in enumerate(sessions, start=1):
        obs = observed_scores(s.true_personality, sum(t.role == "user" for t in s.turns))
        lm = lam(m)
        estimate = {t: lm * estimate[t] + (1 - lm) * getattr(obs, t) for t in TRAITS}
        out.append(PersonalityObs(session_id=s.id, persona_id=persona.id, split=persona.split, m=m, lam=round(lm, 6),
                                  observed=obs, estimate=BigFive(**{t: round(v, 4) for t, v in estimate.items()}),
                                  true=s.true_personality))
    return out


def final_mae(track: list[PersonalityObs]) -> float:
    """Mean absolute error of the estimate against the truth at the end of the timeline."""
    last = track[-1]
    return sum(abs(getattr(last.estimate, t) - getattr(last.true, t)) for t in TRAITS) / len(TRAITS)
