"""Relative dates from one clock: phrases for "when did it happen", and their exact meaning.

`when_phrases(event, now)` lists every phrase that truthfully places `event` as seen from `now`;
`resolve(phrase, now)` returns the date range a phrase denotes. Tests check that each phrase
resolves back to a range holding the event date, so "last Thursday" can never point at Wednesday.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
          "eleven": 11, "twelve": 12}
_NUM = {v: k for k, v in _WORDS.items()}


def _prev_month(d: date) -> tuple[int, int]:
    return (d.year, d.month - 1) if d.month > 1 else (d.year - 1, 12)


def when_phrases(event: datetime, now: datetime) -> list[str]:
    """Truthful ways to say when `event` happened, seen from `now` (event <= now)."""
    e, n = event.date(), now.date()
    delta = (n - e).days
    if delta < 0:
        raise ValueError(f"event {event} is after now {now}: the past tense cannot describe the future")
    out = [f"on {MONTHS[e.month - 1]} {e.day}" + (f", {e.year}" if delta >= 300 else "")]
    if delta == 0:
        out += ["today", "earlier today"]
    elif delta == 1:
        out += ["yesterday"]
    elif delta <= 6:
        out += [f"on {WEEKDAYS[e.weekday()]}", f"this past {WEEKDAYS[e.weekday()]}", f"{_NUM.get(delta, delta)} days ago"]
    elif delta == 7:
        out += ["a week ago", f"a week ago on {WEEKDAYS[e.weekday()]}"]
    elif delta <= 13:
        out += [f"{_NUM.get(delta, delta)} days ago"]
        if 9 <= delta <= 12:
            out += ["about a week and a half ago"]
    if 12 <= delta <= 20:
        out += ["a couple of weeks ago"]
    if delta >= 14 and abs(delta - 7 * round(delta / 7)) <= 2 and round(delta / 7) <= 12:
        out += [f"{_NUM[round(delta / 7)]} weeks ago"]
    if e.isocalendar()[:2] == (n - timedelta(days=7)).isocalendar()[:2]:
        out += ["last week"]
    if (e.year, e.month) == _prev_month(n):
        out += ["last month", f"back in {MONTHS[e.month - 1]}"]
    elif (e.year, e.month) == (n.year, n.month) and delta >= 2:
        out += ["earlier this month"]
    elif (e.year, e.month) < _prev_month(n) and delta < 300:
        out += [f"back in {MONTHS[e.month - 1]}"]
    return out


def resolve(phrase: str, now: datetime) -> tuple[date, date]:
    """The inclusive date range a phrase from `when_phrases` denotes at `now`."""
    n = now.date()
    p = re.sub(r" at \d{1,2}:\d{2} [ap]m$", "", phrase.lower())

    def days_ago(lo: int, hi: int | None = None) -> tuple[date, date]:
        return n - timedelta(days=hi if hi is not None else lo), n - timedelta(days=lo)

    if p in ("today", "earlier today"):
        return n, n
    if p == "yesterday":
        return days_ago(1)
    if m := re.fullmatch(r"on (\w+) (\d+)(?:, (\d{4}))?", p):
        month = [x.lower() for x in MONTHS].index(m.group(1)) + 1
        year = n.year if (month, int(m.group(2))) <= (n.month, n.day) else n.year - 1
        year = int(m.group(3)) if m.group(3) else year
        d = date(year, month, int(m.group(2)))
        return d, d
    if m := re.fullmatch(r"(?:on|this past) (\w+)", p):
        wd = [x.lower() for x in WEEKDAYS].index(m.group(1))
        back = (n.weekday() - wd) % 7
        return days_ago(back)
    if m := re.fullmatch(r"(\w+) days ago", p):
        k = int(m.group(1)) if m.group(1).isdigit() else _WORDS[m.group(1)]
        return days_ago(k)
    if p in ("a week ago",) or p.startswith("a week ago on "):
        return days_ago(7)
    if p == "about a week and a half ago":
        return days_ago(9, 12)
    if p == "a couple of weeks ago":
        return days_ago(12, 20)
    if m := re.fullmatch(r"(\w+) weeks ago", p):
        k = _WORDS[m.group(1)]
        return days_ago(7 * k - 2, 7 * k + 2)
    if p == "last week":
        monday = n - timedelta(days=n.weekday() + 7)
        return monday, monday + timedelta(days=6)
    if p == "last month":
        y, m_ = _prev_month(n)
        first = date(y, m_, 1)
        return first, date(n.year, n.month, 1) - timedelta(days=1)
    if p == "earlier this month":
        return date(n.year, n.month, 1), n - timedelta(days=2)
    if m := re.fullmatch(r"back in (\w+)", p):
        month = [x.lower() for x in MONTHS].index(m.group(1)) + 1
        year = n.year if month < n.month else n.year - 1
        first = date(year, month, 1)
        nxt = date(year + (month == 12), month % 12 + 1, 1)
        return first, nxt - timedelta(days=1)
    raise ValueError(f"not a relative date phrase: {phrase!r}")


def clock_time(t: datetime) -> str:
    """'7:30 pm' style, for personas who are precise about times."""
    h = t.hour % 12 or 12
    return f"{h}:{t.minute:02d} {'am' if t.hour < 12 else 'pm'}"
