"""Is every training target learnable from its input? Counted per persona into the run's stats.

- A target may hold no id, clock time or number its input does not show (the protocol's own numbers
  excepted: personality scores, round numbers the input numbers, a search window's bounds).
- A sample about a photo carries the photo.
- A GRPO prompt is not solved by string matching: the correct option is not the only one written in it.
"""

from __future__ import annotations

import re

from pipeline.labels.agent import Call
from pipeline.records import RlSample

_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
_NUMBER = re.compile(r"\b\d+\b")
_ID = re.compile(r"\b(?:train|bench)-\d{5}\b|\b[a-z]+/[\w./-]+|\be\d{4}\b")
_ROUNDS = re.compile(r'"source_dialog_indices": \[(.*)\]')


def unsupported(call: Call) -> list[str]:
    seen = "\n".join(p for p, _ in call.rounds)
    out = []
    for _, target in call.rounds:
        if call.task == "personality":
            continue
        target = re.sub(r'"(start_time|end_time)": .*', "", target)
        if call.task == "episodic":
            rounds = re.findall(r"\d+", " ".join(_ROUNDS.findall(target)))
            out += [f"round {k}" for k in rounds if f"Round {k} of dialogues" not in seen]
            target = _ROUNDS.sub("", target)
        out += [t for t in _ID.findall(target) if t not in seen]
        out += [t for t in _TIME.findall(target) if t not in seen]
        out += [n for n in _NUMBER.findall(_TIME.sub("", target)) if not re.search(rf"\b{n}\b", seen)]
    return out


def about_photo(call: Call) -> bool:
    q = call.meta.get("query")
    return bool(q and q.fact.kind == "visual") or any("(Image Object:" in t for _, t in call.rounds)


def photo_missing(call: Call) -> bool:
    q = call.meta.get("query")
    if q is not None and q.fact.kind == "visual":
        return f"{q.event.id}/image" not in call.images
    return about_photo(call) and not call.images


def prompt_text(sample: RlSample) -> str:
    return "\n".join(p.text or "" for m in sample.prompt for p in m.content)


def matchable(sample: RlSample) -> bool:
    """The correct option is the only option whose text the prompt holds outside the options list."""
    if not sample.choices:
        return False
    text = prompt_text(sample).lower()
    for c in sample.choices:
        text = text.replace(f"{c.key}. {c.text}".lower(), " ")
    return [c.key for c in sample.choices if c.text.lower() in text] == [sample.reference]


def audit(calls: list[Call], rl: list[RlSample]) -> dict[str, int]:
    """Counts over the calls the samples come from and the GRPO prompts (summed over personas in the manifest)."""
    bad = [c for c in calls if unsupported(c)]
    photos = [c for c in calls if about_photo(c)]
    return {"audit_targets": len(calls), "audit_targets_unsupported": len(bad),
            "audit_photo_samples": len(photos), "audit_photo_samples_without_photo": sum(map(photo_missing, photos)),
            "audit_rl_choice_prompts": sum(bool(r.choices) for r in rl), "audit_rl_matchable": sum(map(matchable, rl))}
