"""How a question's history is shown to a model, and how long it is in tokens.

One rendering serves the token counts in the table, the evaluator's prompts and the export, so the
reported context size is the size of what a model is actually given. Each turn is a chat message
prefixed with its time in PersonaVLM's query format; a photo is an image part of its user message.

Token counts use a real tokenizer when one is given (`--mme-tokenizer PATH`, loaded with
transformers). Without one they are an approximation: ceil(characters / 4) per message (the usual
rule of thumb for English) plus 4 for the chat template. Images count as a Qwen2.5-VL-style processor
at the paper's 230,400 max pixels counts them (`image_tokens`), in both cases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import ConfigError
from pipeline.records import Turn, parse_time

PER_MESSAGE = 4


def stamp(time: str) -> str:
    """'2025-03-04 19:05 (Tuesday)', the time format of PersonaVLM's queries."""
    return f"{time} ({parse_time(time).strftime('%A')})"


def turn_text(t: Turn) -> str:
    return f"[{stamp(t.time)}] {t.text}"


def question_text(time: str, query: str, choices: list[tuple[str, str]]) -> str:
    options = "\n".join(f"{k} {v}" for k, v in choices)
    return (f"{{'time': '{stamp(time)}', 'query': {query!r}}}\n\nOptions:\n{options}\n\n"
            "Answer with the letter of the right option, e.g. (a).")


@dataclass(frozen=True)
class Setting:
    """A benchmark setting: a history of `min_turns` to `max_turns` turns that fits `budget` tokens and holds more
    than `floor` (a 128k case is one that the 32k budget could not take). A turn is one user-assistant exchange, an
    entry of the `sessions` list of PersonaVLM's `user_data.json`."""

    name: str
    min_turns: int
    max_turns: int
    budget: int
    floor: int = 0


SETTINGS = (Setting("32k", 20, 100, 32_768), Setting("128k", 100, 500, 131_072, floor=32_768))
BUDGET = {s.name: s.budget for s in SETTINGS}
MAX_PIXELS = 230_400  # the paper's Qwen2.5-VL setting


def image_tokens(height: int, width: int, max_pixels: int = MAX_PIXELS, min_pixels: int = 56 * 56) -> int:
    """Tokens of one image in a Qwen2.5-VL-style processor: the sides rounded to multiples of 28 (14-pixel
    patches merged 2x2) and scaled to fit `max_pixels`, one token per 28x28 cell, plus the two vision markers."""
    h, w = max(28, round(height / 28) * 28), max(28, round(width / 28) * 28)
    if h * w > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h, w = max(28, math.floor(height / beta / 28) * 28), max(28, math.floor(width / beta / 28) * 28)
    elif h * w < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h, w = math.ceil(height * beta / 28) * 28, math.ceil(width * beta / 28) * 28
    return (h // 28) * (w // 28) + 2


class TokenCounter:
    def __init__(self, tokenizer: str | Path | None, image_size: int):
        self.image_tokens = image_tokens(image_size, image_size)
        self._tok = None
        self.name = "approx: ceil(chars/4)+4 per message"
        if tokenizer:
            from transformers import AutoTokenizer

            try:
                self._tok = AutoTokenizer.from_pretrained(str(tokenizer))
            except Exception as e:  # noqa: BLE001 - transformers raises many kinds; all mean "not a tokenizer"
                raise ConfigError(f"mme_tokenizer: cannot load a tokenizer from {tokenizer} ({type(e).__name__}: {e}); "
                                 "give a local folder with tokenizer files, or leave it unset for the approximation") from None
            self.name = f"tokenizer: {Path(str(tokenizer)).name}"
        self.name += f"; {self.image_tokens} per image"

    def text(self, s: str) -> int:
        if self._tok is not None:
            return len(self._tok(s, add_special_tokens=False)["input_ids"]) + PER_MESSAGE
        return math.ceil(len(s) / 4) + PER_MESSAGE

    def turn(self, t: Turn) -> int:
        return self.text(turn_text(t)) + self.image_tokens * len(t.image_ids)
