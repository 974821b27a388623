"""GRPO prompts with checkable references, built from the supported queries.

About 56% multiple choice (4 options), 23% two-choice and 21% open with a short answer, as in
PersonaVLM. Distractors come from the same persona's world: other activities, the other colours in
the same photo, and — for preferences — what the user liked before a shift. The correct option's
position is drawn uniformly.
"""

from __future__ import annotations

import json

import numpy as np

from pipeline.labels.queries import Query
from pipeline.labels.retrieve import render_retrieved
from pipeline.labels.sft import RESPONSE_SYSTEM, query_text
from pipeline.personas.lexicon import Lexicon
from pipeline.records import Choice, ContentPart, Event, Image, Message, Persona, RlSample
from pipeline.world.simulate import COLOURS

KINDS = ("multiple-choice", "two-choice", "open")
KIND_SHARE = (0.556, 0.234, 0.210)
LETTERS = ("(a)", "(b)", "(c)", "(d)")


def answer_and_pool(q: Query, events: list[Event], lex: Lexicon, rng: np.random.Generator) -> tuple[str, list[str]]:
    """The short correct answer and plausible wrong ones from the same persona (best first)."""
    f = q.fact
    if f.kind == "activity":
        correct = f.value.split(" with ")[0]
        others = [e.facts[0].value.split(" with ")[0] for e in events if e.kind == "activity" and e.id != q.event.id]
        pool = [o for o in dict.fromkeys(others) if o != correct and o.split(" at ")[-1] != correct.split(" at ")[-1]]
        return correct, [pool[int(i)] for i in rng.permutation(len(pool))]
    if f.kind == "visual":
        name = f.key.rsplit("/", 1)[1]
        spec = q.event.image_spec
        correct = next(o.colour for o in spec.objects if o.name == name)
        same_photo = [o.colour for o in spec.objects if o.colour != correct]
        rest = [c for c in COLOURS if c != correct and c not in same_photo]
        return correct, same_photo + [rest[int(i)] for i in rng.permutation(len(rest))]
    category = f.key.split("/", 1)[1]
    earlier = [e.facts[0].terms for e in events if e.kind == "preference_shift" and e.facts[0].key == f.key]
    before = [t for terms in earlier for t in terms if t != f.value]
    rest = [x for x in lex.preferences[category].items if x != f.value and x not in before]
    return f.value, list(dict.fromkeys(before)) + [rest[int(i)] for i in rng.permutation(len(rest))]


def build_rl(persona: Persona, queries: list[Query], events: list[Event], images: dict[str, Image], lex: Lexicon,
             rng: np.random.Generator, per_persona: int, group_size: int = 6) -> list[RlSample]:
    supported = [q for q in queries if q.supported]
    chosen = [supported[int(i)] for i in sorted(rng.choice(len(supported), min(per_persona, len(supported)), replace=False))]
    out = []
    for q in chosen:
        kind = str(rng.choice(KINDS, p=KIND_SHARE))
        correct, pool = answer_and_pool(q, events, lex, rng)
        n_options = {"multiple-choice": 4, "two-choice": 2, "open": 0}[kind]
        if n_options and len(pool) < n_options - 1:
            kind, n_options = "open", 0
        choices: list[Choice] = []
        reference = correct
        if n_options:
            options = pool[: n_options - 1]
            pos = int(rng.integers(n_options))
            options.insert(pos, correct)
            choices = [Choice(key=LETTERS[i], text=t) for i, t in enumerate(options)]
            reference = LETTERS[pos]
        question = query_text(q.turn.time, q.turn.text)
        if choices:
            question += "\nOptions: " + " ".join(f"{c.key} {c.text}" for c in choices) + "\nAnswer with the right option."
        else:
            question += "\nAnswer in a few words."
        context = "" if q.retrieved is None else "\n\n" + render_retrieved(q.retrieved)
        system = RESPONSE_SYSTEM.format(core=json.dumps(q.memory["core"], ensure_ascii=False, indent=0)) + context
        prompt = [Message(role="system", content=[ContentPart(type="text", text=system)]),
                  Message(role="user", content=[ContentPart(type="text", text=question)]
                          + [ContentPart(type="image") for _ in q.turn.image_ids])]
        out.append(RlSample(
            id=f"{q.session.id}/t{q.turn.index}/rl", persona_id=persona.id, split=persona.split, kind=kind,
            session_id=q.session.id, prompt=prompt, image_ids=list(q.turn.image_ids),
            images=[images[i].png for i in q.turn.image_ids], choices=choices, reference=reference,
            reference_text=correct, evidence=[q.fact.id], group_size=group_size))
    return out


def uniquely_longest(choices: list[tuple[str, str]], answer: str) -> bool:
    """Whether the correct option (key `answer` among (key, text) pairs) is strictly the longest: a cue a
    model could use without reading the question."""
    lengths = sorted(((len(text), key) for key, text in choices), reverse=True)
    return bool(lengths) and lengths[0][1] == answer and (len(lengths) == 1 or lengths[0][0] > lengths[1][0])

