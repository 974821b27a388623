"""SFT samples: the PersonaVLM agent's own calls (`pipeline.labels.agent`), drawn to PersonaVLM's mix.

Each sample is one call as the agent makes it (its template, its line format), so the embedded trainer
trains what a PersonaVLM agent runs, and `export personavlm` writes the same samples for the
release's loader. Every reasoning call is kept; personality and memory calls are drawn around them to
43.6 / 10.3 / 46.1% (the agent makes two calls per message, most of them "nothing new": all of them
would drown the rest). Memory draws from the session-end rewrites, every semantic decision to keep,
and as many decisions not to.
"""

from __future__ import annotations

import numpy as np

from pipeline.labels.agent import Call
from pipeline.personavlm.protocol import IMAGE
from pipeline.records import ContentPart, Image, Message, Persona, SftSample

MIX = {"reasoning": 0.436, "personality": 0.103, "memory": 0.461}
MEMORY_TASKS = ("core", "semantic", "episodic", "procedural")


def mix(calls: list[Call], rng: np.random.Generator) -> list[Call]:
    by_task: dict[str, list[Call]] = {}
    for c in calls:
        by_task.setdefault(c.task, []).append(c)
    reasoning = by_task.get("reasoning", [])
    keep = [c for c in by_task.get("semantic", []) if c.meta.get("decision")]
    skip = [c for c in by_task.get("semantic", []) if not c.meta.get("decision")]
    memory = [c for t in ("episodic", "procedural", "core") for c in by_task.get(t, [])] + keep
    memory += [skip[int(i)] for i in sorted(rng.choice(len(skip), min(len(keep), len(skip)), replace=False))]
    total = len(reasoning) / MIX["reasoning"]

    def draw(items: list[Call], share: float) -> list[Call]:
        n = min(len(items), round(total * share))
        return [items[int(i)] for i in sorted(rng.choice(len(items), n, replace=False))]

    chosen = set(map(id, reasoning + draw(by_task.get("personality", []), MIX["personality"]) + draw(memory, MIX["memory"])))
    return [c for c in calls if id(c) in chosen]


def content(text: str) -> list[ContentPart]:
    """A prompt as content parts: an image part wherever the agent's text has an image marker."""
    parts: list[ContentPart] = []
    for k, piece in enumerate(text.split(IMAGE)):
        if k:
            parts.append(ContentPart(type="image"))
        if piece:
            parts.append(ContentPart(type="text", text=piece))
    return parts


def to_sample(persona: Persona, call: Call, images: dict[str, Image], sample_id: str) -> SftSample:
    messages = []
    for prompt, target in call.rounds:
        messages += [Message(role="user", content=content(prompt)),
                     Message(role="assistant", content=[ContentPart(type="text", text=target)])]
    return SftSample(id=sample_id, persona_id=persona.id, split=persona.split, task=call.task, session_id=call.session_id,
                     messages=messages, image_ids=list(call.images), images=[images[i].png for i in call.images])


def build_sft(persona: Persona, calls: list[Call], images: dict[str, Image], rng: np.random.Generator
              ) -> tuple[list[SftSample], dict]:
    chosen = mix(calls, rng)
    samples = [to_sample(persona, c, images, f"{c.session_id}/{c.task}/{k:04d}") for k, c in enumerate(chosen)]
    return samples, {"agent_calls": len(calls)}
