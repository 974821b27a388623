"""Phrase templates with variants: `[a|b|c]` says one of the alternatives, `[a|]` says `a` or nothing; they nest.

An optional part carries its own space ("I [really |]mean it"), so every variant is spaced as written. A pool
of ten fixed sentences, drawn a few thousand times, repeats its word sequences everywhere; the same ten
written with a handful of alternatives each say the same things in thousands of ways. A template's variants can be
recognised again (`Finder`), so sentences that carry a signal (the user's trait sentences, which Persona-MME's
alignment gold counts and its certificate swaps) can vary too. `{slot}` fields pass through for `str.format`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np

from pipeline.grammar import fix_articles
from pipeline.rng import pick

Node = str | tuple  # a literal, or a tuple of alternatives, each a tuple of nodes


@lru_cache(maxsize=None)
def _parse(template: str) -> tuple[Node, ...]:
    stack: list[list] = [[[]]]  # per open bracket: its alternatives so far, the last one being filled
    for part in re.split(r"([\[\]|])", template):
        if part == "[":
            stack.append([[]])
        elif part == "|":
            if len(stack) == 1:
                raise ValueError(f"'|' outside brackets in template {template!r}")
            stack[-1].append([])
        elif part == "]":
            if len(stack) == 1:
                raise ValueError(f"unbalanced ']' in template {template!r}")
            alternatives = stack.pop()
            stack[-1][-1].append(tuple(tuple(a) for a in alternatives))
        elif part:
            stack[-1][-1].append(part)
    if len(stack) != 1:
        raise ValueError(f"unclosed '[' in template {template!r}")
    return tuple(stack[0][0])


def _say(nodes: Sequence[Node], rng: np.random.Generator, out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        else:
            _say(node[int(rng.integers(len(node)))], rng, out)


# a space an empty alternative left before punctuation ("[on it|]." said as " ."), or a doubled one; not an emoticon's
_LOOSE = re.compile(r" +(?=[.,!?;:](?![)(]))|(?<= ) +")


def _tidy(said: str) -> str:
    """Spaced as written, and each article fitting the alternative after it ("a [completely|entirely] new")."""
    return fix_articles(_LOOSE.sub("", said)).lstrip(" ")


def vary(template: str, rng: np.random.Generator) -> str:
    """One variant of the template."""
    out: list[str] = []
    _say(_parse(template), rng, out)
    return _tidy("".join(out))


def say(rng: np.random.Generator, pool: Sequence[str]) -> str:
    """A variant of one template of the pool."""
    return vary(pick(rng, pool), rng)


def canonical(template: str) -> str:
    """The variant that takes every first alternative."""
    def first(nodes: Sequence[Node]) -> str:
        return "".join(n if isinstance(n, str) else first(n[0]) for n in nodes)

    return _tidy(first(_parse(template)))


def variants(template: str) -> int:
    """How many ways the template can be said."""
    def count(nodes: Sequence[Node]) -> int:
        total = 1
        for n in nodes:
            if not isinstance(n, str):
                total *= sum(count(a) for a in n)
        return total

    return count(_parse(template))


def spellings(template: str, limit: int = 100_000) -> list[str]:
    """Every variant of the template."""
    if variants(template) > limit:
        raise ValueError(f"template has {variants(template)} variants, more than {limit} to list: {template!r}")

    def expand(nodes: Sequence[Node]) -> list[str]:
        out = [""]
        for n in nodes:
            tails = [n] if isinstance(n, str) else list(dict.fromkeys(x for a in n for x in expand(a)))  # [a|a|b]: a once
            out = [head + tail for head in out for tail in tails]
        return out

    return [_tidy(said) for said in expand(_parse(template))]


# a sentence: from a non-space to the first . ! ? or ) that ends a word (or to the end of the text)
_SENTENCE = re.compile(r"\S.*?(?:[.!?)](?=\s|\Z)|\Z)", re.S)


class Finder:
    """Finds the sentences of a text that are variants of a set of templates; each names its template by `key`.

    A variant is looked up whole, so finding is exact (a sentence that merely contains one is not it) and fast.
    Raises ValueError if two templates share a variant, which would make the finding ambiguous."""

    def __init__(self, templates: Iterable[tuple[object, str]]):
        self._key: dict[str, object] = {}
        for key, template in templates:
            for said in spellings(template):
                if self._key.setdefault(said, key) != key:
                    raise ValueError(f"{said!r} is a variant of two templates, {self._key[said]!r} and {key!r}")

    def find(self, text: str) -> list[tuple[object, int, int]]:
        """(key, start, end) of each such sentence, in order."""
        return [(self._key[m.group(0)], m.start(), m.end()) for m in _SENTENCE.finditer(text) if m.group(0) in self._key]


def _each(value, rewrite):
    """`rewrite` applied to every template of a pool: a string, or tuples and dicts of them."""
    if isinstance(value, dict):
        return {k: _each(v, rewrite) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_each(v, rewrite) for v in value)
    return rewrite(value) if isinstance(value, str) else value


def with_synonyms(value, synonyms: dict[str, tuple[str, ...]], keep: dict[str, str] | None = None):
    """The templates with each listed word or phrase said in any of its synonyms: `synonyms` maps a lower-case
    phrase to its alternatives (the phrase itself among them). `keep` maps a phrase to a regex for where it stays
    as written, matched against the template with the phrase replaced by `@` ("@ of" keeps "think of", whose
    "reckon of" would be wrong). A capital of the phrase is kept; `{slot}` fields are left alone."""
    keys = "|".join(re.escape(k) for k in sorted(synonyms, key=len, reverse=True))
    regex = re.compile(r"(\{[^}]*\})|(?<![\w'-])(" + keys + r")(?![\w'-])", re.IGNORECASE)
    guards = {k: re.compile(v, re.IGNORECASE) for k, v in (keep or {}).items()}

    def one(m: re.Match) -> str:
        said = m.group(2)
        if m.group(1) or said.lower() in guards and guards[said.lower()].search(
                m.string[:m.start()] + "@" + m.string[m.end():]):
            return m.group(0)
        alternatives = synonyms[said.lower()]
        if said[:1].isupper():
            alternatives = tuple(a[:1].upper() + a[1:] for a in alternatives)
        return "[" + "|".join(alternatives) + "]"

    return _each(value, lambda template: regex.sub(one, template))


def _unparse(nodes: Sequence[Node]) -> str:
    return "".join(n if isinstance(n, str) else "[" + "|".join(_unparse(a) for a in n) + "]" for n in nodes)


def _lowered(nodes: Sequence[Node]) -> tuple[Node, ...]:
    """The template with its first letter lower-cased wherever it starts (not 'I', a slot or a name-like word)."""
    if not nodes:
        return ()
    first, rest = nodes[0], tuple(nodes[1:])
    if isinstance(first, str):
        word = first.split(" ", 1)[0]
        keep = not first or first[0] == "{" or word == "I" or word.startswith("I'")
        return ((first if keep else first[:1].lower() + first[1:]), *rest)
    return (tuple(_lowered(a) for a in first), *rest)


# the words a full clause opens with; a connective before anything else ("Truth is, such a nice feeling.") is wrong
_SUBJECTS = frozenset({"i", "i'm", "i've", "i'd", "i'll", "it", "it's", "that", "that's", "this", "my", "we", "we're", "you",
                       "you're", "you've", "you'll", "your", "there", "there's", "they", "everyone", "everybody", "people"})


def with_leads(value, leads: Sequence[str], bare: int):
    """The templates that open with their subject led in, sometimes, by a connective ("Also, ", "Honestly, "): each
    such template said as itself `bare` times as often as with a lead (any one of them)."""
    def lead_in(template: str) -> str:
        first = canonical(template).split(" ", 1)[0].strip(",.:;!?").lower()
        if first not in _SUBJECTS:
            return template
        led = _unparse(_lowered(_parse(template)))
        fitting = [x for x in leads if x.strip(" ,:").lower() not in template.lower()]  # no "Honestly, ... honestly"
        return "[" + "|".join([template] * bare + ["[" + "|".join(x + led for x in fitting) + "]"]) + "]" if fitting else template

    return _each(value, lead_in)
