"""Persona sampling: Big Five from a space-filling design, the rest from the lexicons.

Training and benchmark personas come from two separate Latin hypercube designs, so each split
covers the trait space evenly on its own; full names are unique across both splits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from scipy.stats import qmc

from pipeline.config import RunConfig
from pipeline.grammar import indefinite
from pipeline.personas.lexicon import Lexicon
from pipeline.records import TRAITS, BigFive, Goal, Habit, Person, Persona, Preference, Rhythm, Split, Style
from pipeline.rng import pick, rng_for

# goals a persona pursues in three months: six after another in each of the world's three lanes
GOALS = 18
PEOPLE = (10, 14)  # how many people a persona's life has, at least and at most
INTERESTS = 5


def trait_design(n: int, seed: int, split: Split) -> np.ndarray:
    """n points in [1, 5]^5 from an optimized Latin hypercube (each trait's range cut in n equal strata)."""
    if n == 0:
        return np.zeros((0, len(TRAITS)))
    sampler = qmc.LatinHypercube(d=len(TRAITS), optimization="random-cd" if n > 1 else None,
                                 rng=rng_for(seed, "big_five", split))
    return np.round(1.0 + 4.0 * sampler.random(n), 2)


def style_from_traits(b: BigFive) -> Style:
    knob = {t: (getattr(b, t) - 1.0) / 4.0 for t in TRAITS}
    words = {  # trait: (low, middle, high)
        "extraversion": ("reserved", "even-toned", "outgoing and exclamatory"),
        "agreeableness": ("blunt", "polite", "warm"),
        "conscientiousness": ("loose about details", "fairly organized", "precise about plans and times"),
        "neuroticism": ("unflappable", "occasionally anxious", "prone to worry"),
        "openness": ("plain-spoken", "matter-of-fact", "vivid and curious"),
    }
    summary = ", ".join(w[0] if knob[t] < 0.4 else w[2] if knob[t] > 0.6 else w[1] for t, w in words.items())
    return Style(
        exuberance=round(knob["extraversion"], 3), warmth=round(knob["agreeableness"], 3),
        precision=round(knob["conscientiousness"], 3), worry=round(knob["neuroticism"], 3),
        vividness=round(knob["openness"], 3), summary=summary,
    )


def rhythm_from_traits(b: BigFive, rng: np.random.Generator) -> Rhythm:
    """Extraverts talk more often; conscientious people at regular hours; anxious people later at night."""
    chronotypes = np.array([8.0, 12.5, 19.5, 22.5])
    night = (b.neuroticism - 1) / 4
    weights = np.array([0.2 + 0.3 * (b.conscientiousness - 1) / 4, 0.2, 0.4, 0.1 + 0.4 * night])
    peak = float(rng.choice(chronotypes, p=weights / weights.sum()) + rng.normal(0, 0.7))
    return Rhythm(
        sessions_per_week=round(1.8 + 2.6 * (b.extraversion - 1) / 4 + float(rng.uniform(0, 1.2)), 2),
        peak_hour=round(min(max(peak, 7.0), 23.5), 2),
        hour_spread=round(0.6 + 2.4 * (1 - (b.conscientiousness - 1) / 4), 2),
        weekend_factor=round(float(rng.uniform(0.5, 1.8)), 2),
    )


_BIO = (
    "{name} is a {age}-year-old {occupation} living in {city}. Outside work: {i0}, {i1} and {i2}.",
    "{first}, {age}, works as {a_occupation} in {city} and spends free time on {i0} and {i1}; lately also {i2}.",
    "{A_occupation} from {city}, {name} ({age}) is into {i0}, with {i1} and {i2} on the side.",
    "{name} ({age}) lives in {city}, where they work as {a_occupation}. Weekends mean {i0}, {i1} or {i2}.",
)


def sample_personas(cfg: RunConfig, lex: Lexicon, stats: dict | None = None) -> list[Persona]:
    """All personas of a run, training first. Deterministic in (seed, lexicons, counts).

    A bio that duplicates an earlier one (exactly or above the dedup threshold) is drawn again;
    `stats`, when given, receives the counts.
    """
    personas = list(_drawn(cfg, lex))
    for i, bio in _new_bios([p.bio for p in personas], personas.__getitem__, cfg, stats).items():
        personas[i] = personas[i].model_copy(update={"bio": bio})
    return personas


def sample_as_json(cfg: RunConfig, lex: Lexicon, stats: dict | None = None) -> list[tuple[str, str]]:
    """The same personas as (id, JSON) pairs, the form a run's driver keeps them in. Each is dumped as it is
    drawn: as objects they take ~57 KB each, 33 times their JSON, and a heap does not give that back."""
    pairs, bios = [], []
    for p in _drawn(cfg, lex):
        pairs.append((p.id, p.model_dump_json()))
        bios.append(p.bio)

    def persona(i: int) -> Persona:
        return Persona.model_validate_json(pairs[i][1])

    for i, bio in _new_bios(bios, persona, cfg, stats).items():
        pairs[i] = (pairs[i][0], persona(i).model_copy(update={"bio": bio}).model_dump_json())
    return pairs


def _drawn(cfg: RunConfig, lex: Lexicon) -> Iterator[Persona]:
    """The personas in order, as first drawn (bios not yet made unique)."""
    n_total = cfg.personas + cfg.bench_personas
    n_names = len(lex.first_names) * len(lex.last_names)
    if n_total > n_names:
        raise ValueError(f"{n_total} personas need more unique names than the lexicons give ({n_names}); "
                         f"add names to {cfg.lexicon_dir}/first_names.txt or last_names.txt")
    run_rng = rng_for(cfg.seed, "persona_slots")
    name_idx = run_rng.choice(n_names, size=n_total, replace=False)
    occupation_order = run_rng.permutation(len(lex.occupations))
    location_order = run_rng.permutation(len(lex.locations))
    designs = {"train": trait_design(cfg.personas, cfg.seed, "train"),
               "bench": trait_design(cfg.bench_personas, cfg.seed, "bench")}
    for i in range(n_total):
        split: Split = "train" if i < cfg.personas else "bench"
        j = i if split == "train" else i - cfg.personas
        first = lex.first_names[int(name_idx[i]) // len(lex.last_names)]
        last = lex.last_names[int(name_idx[i]) % len(lex.last_names)]
        yield _persona(
            pid=f"{split}-{j:05d}", split=split, first=first, last=last,
            occupation=lex.occupations[int(occupation_order[i % len(occupation_order)])],
            location=lex.locations[int(location_order[i % len(location_order)])],
            big_five=BigFive(**dict(zip(TRAITS, designs[split][j].tolist()))),
            rng=rng_for(cfg.seed, f"{split}-{j:05d}", "persona"), lex=lex,
            session_rate=cfg.bench_session_rate if split == "bench" else 1.0,
        )


def _new_bios(bios: list[str], persona: Callable[[int], Persona], cfg: RunConfig, stats: dict | None) -> dict[int, str]:
    """A new bio (index -> bio) for each persona whose bio duplicates an earlier one, drawn again until none
    does (at most 8 rounds); `persona(i)` gives persona i, whose other fields the bio is made of."""
    from pipeline.dedup import unique_texts

    stats = stats if stats is not None else {}
    stats.update(seen=len(bios), regenerated=0)
    bios, changed = list(bios), {}
    for attempt in range(8):
        dups = unique_texts(bios, cfg.dedup_threshold)
        if not dups:
            break
        for i in dups:
            p = persona(i)
            rng = rng_for(cfg.seed, p.id, "bio", str(attempt))
            city = p.location.split(",")[0]
            interests = [p.interests[int(k)] for k in rng.permutation(len(p.interests))]
            bios[i] = changed[i] = pick(rng, _BIO).format(name=p.name, first=p.name.split()[0], age=p.age,
                                                          **_occupation(p.occupation), city=city, i0=interests[0],
                                                          i1=interests[1], i2=interests[2])
            stats["regenerated"] += 1
    return changed


def _occupation(occupation: str) -> dict[str, str]:
    """The occupation slots of a bio: bare, and with its article ('an accountant', 'An accountant')."""
    a = indefinite(occupation)
    return {"occupation": occupation, "a_occupation": a, "A_occupation": a[:1].upper() + a[1:]}


def _persona(*, pid: str, split: Split, first: str, last: str, occupation: str, location: str,
             big_five: BigFive, rng: np.random.Generator, lex: Lexicon, session_rate: float = 1.0) -> Persona:
    name = f"{first} {last}"
    age = int(rng.integers(19, 73))
    interests = pick(rng, lex.interests, INTERESTS)
    others = [n for n in lex.first_names if n != first]
    roles = pick(rng, list(lex.relationships.roles), int(rng.integers(PEOPLE[0], PEOPLE[1] + 1)))
    people = [
        Person(name=n, role=r, closeness=int(rng.integers(lo, hi + 1)))
        for n, r in zip(pick(rng, others, len(roles)), roles)
        for lo, hi in [lex.relationships.roles[r]]
    ]
    goals = [Goal(id=f"{pid}/goal{k}", text=g.text, key=g.key) for k, g in enumerate(pick(rng, lex.goals, GOALS))]
    # one habit per weekday, so no two habits share a slot
    habits = [
        Habit(id=f"{pid}/habit{k}", activity=h.activity, key=h.key, weekday=int(day), part=h.part)  # type: ignore[arg-type]
        for k, (h, day) in enumerate(zip(pick(rng, lex.habits, 2), rng.permutation(7)))
    ]
    categories = sorted(lex.preferences)
    preferences = [Preference(category=c, noun=lex.preferences[c].noun, item=pick(rng, lex.preferences[c].items))
                   for c in categories]
    city = location.split(",")[0]
    bio = pick(rng, _BIO).format(name=name, first=first, age=age, **_occupation(occupation), city=city,
                                 i0=interests[0], i1=interests[1], i2=interests[2])
    rhythm = rhythm_from_traits(big_five, rng)
    rhythm = rhythm.model_copy(update={"sessions_per_week": round(rhythm.sessions_per_week * session_rate, 2)})
    return Persona(
        id=pid, split=split, name=name, age=age, occupation=occupation, location=location, bio=bio,
        big_five=big_five, style=style_from_traits(big_five), rhythm=rhythm,
        interests=interests, relationships=people, goals=goals, habits=habits, preferences=preferences,
    )
