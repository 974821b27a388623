"""GRPO prompts with checkable references, from the agent's reasoning calls that need a search.

About 56% multiple choice (4 options), 23% two-choice and 21% open with a short answer, as in
PersonaVLM. Distractors come first from what the search retrieved besides the asked exchange (the
same people on other days), then from the rest of the persona's world: other activities, the other
colours in the same photo. The correct option's position is drawn uniformly.
"""

from __future__ import annotations

import numpy as np

from pipeline.labels.agent import Call, Replay
from pipeline.labels.audit import matchable
from pipeline.labels.queries import Query
from pipeline.labels.sft import content
from pipeline.personavlm import protocol as P
from pipeline.records import Choice, ContentPart, Event, Image, Message, Persona, RlSample
from pipeline.world.simulate import COLOURS

KINDS = ("multiple-choice", "two-choice", "open")
KIND_SHARE = (0.556, 0.234, 0.210)
LETTERS = ("(a)", "(b)", "(c)", "(d)")
MC_INSTRUCTION = "\nAnswer with the letter of the right option."
OPEN_INSTRUCTION = "\nAnswer in a few words."


def answer_and_pool(q: Query, events: list[Event], rng: np.random.Generator) -> tuple[str, list[str]]:
    """The short correct answer of a search question (an activity, a colour in a photo) and plausible wrong ones
    from the same persona (best first)."""
    f = q.fact
    if f.kind == "activity":
        correct = f.value.split(" with ")[0]
        others = [e.facts[0].value.split(" with ")[0] for e in events if e.kind == "activity" and e.id != q.event.id]
        pool = [o for o in dict.fromkeys(others) if o != correct and o.split(" at ")[-1] != correct.split(" at ")[-1]]
        return correct, [pool[int(i)] for i in rng.permutation(len(pool))]
    name = f.key.rsplit("/", 1)[1]
    spec = q.event.image_spec
    correct = next(o.colour for o in spec.objects if o.name == name)
    same_photo = [o.colour for o in spec.objects if o.colour != correct]
    rest = [c for c in COLOURS if c != correct and c not in same_photo]
    return correct, same_photo + [rest[int(i)] for i in rng.permutation(len(rest))]


def options_for(kind: str, correct: str, decoys: list[str], pool: list[str], rng: np.random.Generator
                ) -> tuple[list[Choice], str] | None:
    """The shown options (the retrieved decoys first, then the persona's other answers) and the correct key."""
    n = {"multiple-choice": 4, "two-choice": 2, "open": 0}[kind]
    if not n:
        return [], correct
    others = [o for o in dict.fromkeys(decoys + pool) if o.lower() != correct.lower()][: n - 1]
    if len(others) < n - 1:
        return None
    pos = int(rng.integers(n))
    others.insert(pos, correct)
    return [Choice(key=LETTERS[i], text=t) for i, t in enumerate(others)], LETTERS[pos]


def build_rl(persona: Persona, calls: list[Call], replay: Replay, events: list[Event], images: dict[str, Image],
             rng: np.random.Generator, per_persona: int, group_size: int = 6) -> tuple[list[RlSample], dict]:
    """GRPO prompts from the questions that need a search: the START prompt with the options in the query, the
    search by keywords alone, and what it retrieves (the asked exchange and the latest others on the same
    keywords, with their photos). The policy answers from that; an answer already written in the START prompt
    (the profile, the last hour) makes no prompt, nor does a search that retrieves nothing else to weigh, nor
    one whose retrieved text spells out the correct option and no other."""
    counts = {"rl_answer_in_prompt": 0, "rl_nothing_to_weigh": 0, "rl_too_few_options": 0, "rl_matchable": 0}
    out = []
    searches = [c for c in calls if c.task == "reasoning" and c.meta["source"] != "core"]
    for k in rng.permutation(len(searches)):
        if len(out) >= per_persona:
            break
        call = searches[int(k)]
        q = call.meta["query"]
        correct, pool = answer_and_pool(q, events, rng)
        if correct.lower() in call.meta["start"].lower():
            counts["rl_answer_in_prompt"] += 1
            continue
        found = replay.search(q)
        if found is None:
            counts["rl_nothing_to_weigh"] += 1
            continue
        mid, mid_images, decoys = found
        kind = str(rng.choice(KINDS, p=KIND_SHARE))
        shown = options_for(kind, correct, decoys, pool, rng)
        if shown is None:
            counts["rl_too_few_options"] += 1
            continue
        choices, reference = shown
        ask = q.turn.text + ("\nOptions:\n" + "\n".join(f"{c.key}. {c.text}" for c in choices) + MC_INSTRUCTION
                             if choices else OPEN_INSTRUCTION)
        start = call.meta["start"].replace(P.query(q.turn.time, q.turn.text, len(q.turn.image_ids)),
                                           P.query(q.turn.time, ask, len(q.turn.image_ids)))
        step = P.retrieve_block(f"{replay.first} asks about something from their past; I search my memory for it.",
                                q.keywords, None, None)
        prompt = [Message(role="user", content=content(start)), Message(role="assistant", content=[ContentPart(type="text", text=step)]),
                  Message(role="user", content=content(mid))]
        ids = list(call.meta["start_images"]) + mid_images
        sample = RlSample(id=f"{q.session.id}/t{q.turn.index}/rl", persona_id=persona.id, split=persona.split, kind=kind,
                            session_id=q.session.id, prompt=prompt, image_ids=ids, images=[images[i].png for i in ids],
                            choices=choices, reference=reference, reference_text=correct, evidence=[q.fact.id],
                            group_size=group_size)
        if matchable(sample):  # the retrieved text states the answer's words and no other option's
            counts["rl_matchable"] += 1
            continue
        out.append(sample)
    out.sort(key=lambda r: r.id)
    return out, counts


def uniquely_longest(choices: list[tuple[str, str]], answer: str) -> bool:
    """Whether the correct option (key `answer` among (key, text) pairs) is strictly the longest: a cue a
    model could use without reading the question."""
    lengths = sorted(((len(text), key) for key, text in choices), reverse=True)
    return bool(lengths) and lengths[0][1] == answer and (len(lengths) == 1 or lengths[0][0] > lengths[1][0])

