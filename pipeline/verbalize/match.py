"""Lenient matching of model text against the world: a term is stated when its words are there up to
inflection, spelling variant and number format; a date is stated when some date expression in the
text resolves, on the project's clock, to a range that holds the day.

The scripted verbalizer writes the exact words; an LLM rewriting them says "a couple of weeks back"
for "two weeks ago", "Mar 3rd" for "on March 3", "3" for "three", "watercolours" for "watercolors".
Those are right and must pass; a missing word or a wrong day must not.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache

from pipeline.world.clock import MONTHS

_ONES = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
         "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
         "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1000}
# British and American spellings the lexicons and models mix; both sides are mapped to the first form.
_SPELLING = {"colour": "color", "favourite": "favorite", "grey": "gray", "theatre": "theater", "centre": "center",
             "jewellery": "jewelry", "pyjamas": "pajamas", "practise": "practice", "travelling": "traveling",
             "travelled": "traveled", "cosy": "cozy", "doughnut": "donut", "mum": "mom", "neighbour": "neighbor",
             "flavour": "flavor", "harbour": "harbor", "honour": "honor", "organise": "organize", "realise": "realize",
             "aluminium": "aluminum", "programme": "program", "catalogue": "catalog", "kerb": "curb", "tyre": "tire",
             "till": "until", "til": "until"}
# Words a paraphrase may add or drop inside a term ("went for a run" / "went running").
_GLUE = frozenset({"a", "an", "the", "for", "of", "to", "my", "our", "with", "at", "in", "on", "and", "some", "up"})
_WORD = re.compile(r"[a-z]+|\d+")


@lru_cache(maxsize=65536)
def _stem(w: str) -> str:
    """A light stemmer (plural, -ing, -ed forms, British spellings) applied to both sides of a comparison."""
    w = _SPELLING.get(w, w)
    if w.isdigit() or len(w) <= 3:
        return w
    for suffix, repl in (("ies", "y"), ("ied", "y"), ("sses", "ss"), ("ches", "ch"), ("shes", "sh"), ("xes", "x"),
                         ("ing", ""), ("ed", ""), ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and not (suffix == "s" and w.endswith("ss")):
            w = w[: len(w) - len(suffix)] + repl
            break
    w = _SPELLING.get(w, w)
    if w.endswith("our") and len(w) > 5:  # colour, flavour, harbour (not four, hour, tour)
        w = w[:-3] + "or"
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiouls":  # running -> runn -> run, stopped -> stopp -> stop
        w = w[:-1]
    if w.endswith("e") and len(w) > 3:  # bake/baking, dance/danced
        w = w[:-1]
    return w


def _numbers(words: list[str]) -> list[str]:
    """Runs of number words become digits: 'twenty two' -> '22', 'three hundred' -> '300'."""
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w in _ONES or w in _TENS:
            total, current, j = 0, 0, i
            while j < len(words) and (words[j] in _ONES or words[j] in _TENS or (words[j] in _SCALES and j > i)
                                      or (words[j] == "and" and j > i and j + 1 < len(words) and words[j + 1] in _ONES | _TENS)):
                x = words[j]
                if x in _ONES:
                    current += _ONES[x]
                elif x in _TENS:
                    current += _TENS[x]
                elif x in _SCALES:
                    current = max(current, 1) * _SCALES[x]
                    if x == "thousand":
                        total, current = total + current, 0
                j += 1
            out.append(str(total + current))
            i = j
        else:
            out.append(w)
            i += 1
    return out


@lru_cache(maxsize=65536)
def normalize(text: str) -> tuple[str, ...]:
    """The text as comparable tokens: lower case, words and digit runs apart, numbers as digits, stemmed."""
    return tuple(_stem(w) for w in _numbers(_WORD.findall(text.lower())) if w not in _GLUE)


@lru_cache(maxsize=16384)
def _spaced(text: str) -> str:
    """The normalized tokens between spaces (tokens are [a-z0-9]+, so a run of tokens is a substring)."""
    return f" {' '.join(normalize(text))} "


def mentions(text: str, term: str) -> bool:
    """Whether `term` is stated in `text`, up to case, inflection, spelling variant and number format."""
    needle = _spaced(term)
    return needle == "  " or needle in _spaced(text)


# ------------------------------------------------------------------ dates

_NUM = r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|couple of|couple|few)"
_MON = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?"
        r"|nov(?:ember)?|dec(?:ember)?)\.?")
_WD = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_ORD = r"(\d{1,2})(?:st|nd|rd|th)?"
_APPROX = r"(?:(?:about|around|roughly|nearly|almost|like|maybe|over|just over|just under|under|some)\s+)?"
_PATTERNS = [
    ("relative", re.compile(rf"\b{_APPROX}({_NUM})\s+(day|week|month)s?\s+(?:ago|back|earlier|before now)\b")),
    ("week_half", re.compile(rf"\b{_APPROX}a\s+week\s+and\s+a\s+half\s+(?:ago|back)\b")),
    ("month_day", re.compile(rf"\b({_MON})\s+{_ORD}\b(?:,?\s+(\d{{4}}))?")),
    ("day_month", re.compile(rf"\b(?:the\s+)?{_ORD}\s+(?:of\s+)?({_MON})\b(?:,?\s+(\d{{4}}))?")),
    ("iso", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")),
    ("weekday", re.compile(rf"\b(last|this past|past|on|this)?\s*({_WD})\b")),
    ("weekend", re.compile(r"\b(last|this past|this|over the|on the)\s+weekend\b")),
    ("today", re.compile(r"\b(today|this morning|this afternoon|this evening|earlier today|tonight)\b")),
    ("yesterday", re.compile(r"\b(yesterday|last night)\b")),
    ("week", re.compile(r"\b(last|earlier this|this past|this|the other)\s+week\b")),
    ("month", re.compile(r"\b(last|earlier this|this|the other)\s+month\b")),
    ("in_month", re.compile(rf"\b(?:back\s+)?(?:in|during|early|mid|late|earlier)\s+({_MON})\b")),
]
_WD_INDEX = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def _month(s: str) -> int:
    s = s.rstrip(".")[:3]
    return [m[:3].lower() for m in MONTHS].index(s) + 1


def _count(s: str) -> tuple[int, int]:
    """A count word as a range: 'couple' 2, 'few' 2..4."""
    if s.isdigit():
        return int(s), int(s)
    if s in ("a", "an", "one"):
        return 1, 1
    if s.startswith("couple"):
        return 2, 2
    if s == "few":
        return 2, 4
    return _ONES[s], _ONES[s]


def _past(d_month: int, d_day: int, n: date, year: str | None) -> date | None:
    y = int(year) if year else (n.year if (d_month, d_day) <= (n.month, n.day) else n.year - 1)
    try:
        return date(y, d_month, d_day)
    except ValueError:
        return None


def _month_range(y: int, m: int) -> tuple[date, date]:
    first = date(y, m, 1)
    return first, date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)


def date_ranges(text: str, now: datetime) -> list[tuple[date, date]]:
    """Every date expression in `text` as the inclusive range of days it can denote, seen from `now`
    (the past: these turns tell what happened). Lenient where English is: 'last Tuesday' may mean
    either of the two latest Tuesdays, 'a couple of weeks ago' 10–20 days back."""
    n = now.date()
    low = text.lower().replace("’", "'")
    out: list[tuple[date, date]] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(low):
            if kind == "relative":
                lo_k, hi_k = _count(m.group(1))
                unit = m.group(2)
                approx = m.group(0).split()[0] in ("about", "around", "roughly", "nearly", "almost", "like", "maybe",
                                                   "over", "just", "under", "some")
                if unit == "day":
                    slack = 1 if approx or lo_k != hi_k else 0
                    lo, hi = lo_k - slack, hi_k + slack
                elif unit == "week":
                    if m.group(1).startswith("couple"):
                        lo, hi = 10, 20
                    else:
                        lo, hi = 7 * lo_k - 3, 7 * hi_k + 3
                else:
                    lo, hi = 30 * lo_k - 12, 30 * hi_k + 12
                out.append((n - timedelta(days=hi), n - timedelta(days=max(lo, 0))))
            elif kind == "week_half":
                out.append((n - timedelta(days=12), n - timedelta(days=9)))
            elif kind in ("month_day", "day_month"):
                mon, day, year = (m.group(1), m.group(2), m.group(3)) if kind == "month_day" else (m.group(2), m.group(1), m.group(3))
                d = _past(_month(mon), int(day), n, year)
                if d is not None:
                    out.append((d, d))
            elif kind == "iso":
                try:
                    d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                except ValueError:
                    continue
                out.append((d, d))
            elif kind == "weekday":
                wd = _WD_INDEX[m.group(2)[:3]]
                back = (n.weekday() - wd) % 7
                if m.group(1) in ("last", "past", "this past"):
                    back = back or 7
                    out.append((n - timedelta(days=back + 7 if m.group(1) == "last" else back), n - timedelta(days=back)))
                else:  # 'on Tuesday' said on a Tuesday: today or a week ago
                    out.append((n - timedelta(days=back or 7), n - timedelta(days=back)))
            elif kind == "weekend":
                sunday = n - timedelta(days=(n.weekday() + 1) % 7)  # the latest Sunday, today included
                if m.group(1) == "last" and n.weekday() >= 5:
                    sunday -= timedelta(days=7)
                out.append((sunday - timedelta(days=1), sunday))
            elif kind == "today":
                out.append((n, n))
            elif kind == "yesterday":
                out.append((n - timedelta(days=1), n - timedelta(days=1)))
            elif kind == "week":
                monday = n - timedelta(days=n.weekday())
                if m.group(1) == "last":
                    out.append((monday - timedelta(days=7), monday - timedelta(days=1)))
                elif m.group(1) == "the other":
                    continue
                else:
                    out.append((monday, n))
            elif kind == "month":
                if m.group(1) == "last":
                    y, mo = (n.year, n.month - 1) if n.month > 1 else (n.year - 1, 12)
                    out.append(_month_range(y, mo))
                elif m.group(1) != "the other":
                    out.append((date(n.year, n.month, 1), n))
            elif kind == "in_month":
                mo = _month(m.group(1))
                if m.group(1).rstrip(".") == "may" and not re.search(r"(back|in|during|early|mid|late)\s+may\b", m.group(0)):
                    continue
                y = n.year if mo <= n.month else n.year - 1
                lo, hi = _month_range(y, mo)
                out.append((lo, min(hi, n)))
    return out


def states_day(text: str, day: date, now: datetime) -> bool:
    """Whether some date expression in `text` places an event on `day`, seen from `now`."""
    return any(lo <= day <= hi for lo, hi in date_ranges(text, now))

