"""PersonaVLM's GRPO reward: r = f_acc · f_cons + 0.5 · f_format, each term reported on its own.

- f_format = 1 only if the whole completion is <think>…</think><answer>…</answer>.
- f_acc: for choice questions, the option letter read as PersonaVLM's eval does (the character before
  the first ")") must equal the reference; for open questions, every word of the normalized
  reference must appear in the normalized answer.
- f_cons: whether the reasoning supports the answer — rule-based by default (the reasoning names the
  chosen option's content, or the open answer's words); a judge callable (0–10 → /10) may replace it,
  and likewise for open answers' accuracy.
- No `</answer>` at all: reward 0.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.records import RlSample

FORMAT = re.compile(r"^<think>.*?</think><answer>.*?</answer>$", re.DOTALL)
THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)
ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_ARTICLES = {"a", "an", "the"}

Judge = Callable[[str, str, RlSample], float]  # (reasoning, answer, sample) -> score in [0, 1]


@dataclass(frozen=True)
class Reward:
    total: float
    acc: float
    cons: float
    format: float


def words(s: str) -> list[str]:
    s = s.lower().translate(str.maketrans("", "", string.punctuation.replace("-", "")))
    return [w for w in s.split() if w not in _ARTICLES]


def option_letter(answer: str) -> str | None:
    """PersonaVLM's eval parse: the character right before the first ')' ("(c) Pink" -> "(c)"), or the
    answer's last character when it has no ')' ("... so c" -> "(c)"); None where the release's rule fails
    (an empty answer, or one that starts with ')')."""
    head = answer.split(")", 1)[0]
    return f"({head[-1].lower()})" if head else None


def f_format(completion: str) -> float:
    return 1.0 if FORMAT.match(completion.strip()) else 0.0


def f_acc(answer: str, sample: RlSample) -> float:
    if sample.choices:
        return 1.0 if option_letter(answer) == sample.reference else 0.0
    ref, got = words(sample.reference), set(words(answer))
    return 1.0 if ref and all(w in got for w in ref) else 0.0


def f_cons(reasoning: str, answer: str, sample: RlSample) -> float:
    claimed = answer
    if sample.choices:
        letter = option_letter(answer)
        chosen = next((c for c in sample.choices if c.key == letter), None)
        if chosen is None:
            return 0.0
        claimed = chosen.text
    need = [w for w in words(claimed) if len(w) > 2] or words(claimed)
    have = set(words(reasoning))
    return 1.0 if need and sum(w in have for w in need) / len(need) >= 0.5 else 0.0


def reward(completion: str, sample: RlSample, cons_judge: Judge | None = None, acc_judge: Judge | None = None) -> Reward:
    if "</answer>" not in completion:
        return Reward(0.0, 0.0, 0.0, 0.0)
    fmt = f_format(completion)
    m = ANSWER.search(completion)
    answer = m.group(1).strip() if m else ""
    t = THINK.search(completion)
    reasoning = t.group(1) if t else ""
    acc = acc_judge(reasoning, answer, sample) if (acc_judge and not sample.choices) else f_acc(answer, sample)
    cons = cons_judge(reasoning, answer, sample) if cons_judge else f_cons(reasoning, answer, sample)
    return Reward(total=acc * cons + 0.5 * fmt, acc=acc, cons=cons, format=fmt)
