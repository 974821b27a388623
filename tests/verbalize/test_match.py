"""Lenient matching: right paraphrases pass, wrong words and wrong days do not."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from pipeline.verbalize.match import date_ranges, mentions, states_day
from pipeline.world.clock import resolve, when_phrases

NOW = datetime(2025, 3, 20, 18, 0)  # a Thursday


@pytest.mark.parametrize("text,term", [
    ("I painted with watercolours", "paint with watercolors"), ("four brown watering cans", "watering can"),
    ("I'm twenty-two", "22"), ("in front of 300 people", "three hundred people"), ("till 3 am", "until 3am"),
    ("I went running", "went for a run"), ("we baked bread", "bake bread"), ("my favourite colour", "favorite color"),
    ("Chen's idea", "Chen"), ("OPEN-WATER swim", "open water"), ("the flavours", "flavor"),
])
def test_terms_pass_up_to_inflection_spelling_and_number_format(text, term):
    assert mentions(text, term)


@pytest.mark.parametrize("text,term", [
    ("a banana", "Ana"), ("for me", "four"), ("we just hung out", "had dinner"), ("Harbor Park", "Harbor Lake"),
    ("twenty people", "22"), ("I ran", "swim"),
])
def test_other_words_do_not(text, term):
    assert not mentions(text, term)


@pytest.mark.parametrize("text,day", [
    ("a couple of weeks back", date(2025, 3, 6)), ("2 weeks ago", date(2025, 3, 6)), ("Mar 3rd", date(2025, 3, 3)),
    ("on the 3rd of March", date(2025, 3, 3)), ("this past Monday", date(2025, 3, 17)), ("3 days back", date(2025, 3, 17)),
    ("last Tuesday", date(2025, 3, 11)), ("last Tuesday", date(2025, 3, 18)), ("yesterday evening", date(2025, 3, 19)),
    ("earlier this month", date(2025, 3, 5)), ("back in February", date(2025, 2, 11)), ("about a week and a half ago",
                                                                                           date(2025, 3, 10)),
    ("2025-03-01", date(2025, 3, 1)), ("last weekend", date(2025, 3, 16)), ("this morning", date(2025, 3, 20)),
])
def test_dates_pass_in_any_wording_that_means_the_day(text, day):
    assert states_day(f"So, {text}, I went out.", day, NOW)


@pytest.mark.parametrize("text,day", [
    ("a couple of weeks back", date(2025, 3, 17)), ("Mar 4th", date(2025, 3, 3)), ("on Wednesday", date(2025, 3, 18)),
    ("yesterday", date(2025, 3, 18)), ("last month", date(2025, 3, 5)), ("recently", date(2025, 3, 18)),
    ("I sat in the sun", date(2025, 3, 16)), ("I may go", date(2025, 3, 20)),
])
def test_wrong_or_vague_dates_do_not(text, day):
    assert not states_day(text, day, NOW)


def test_every_phrase_of_the_clock_is_read_back_to_its_day():
    """What the scripted verbalizer writes, the lenient reader resolves to a range that holds the same day."""
    for back in range(0, 80):
        event = datetime(2025, 3, 20, 9, 0) - timedelta(days=back)
        for phrase in when_phrases(event, NOW):
            lo, hi = resolve(phrase, NOW)
            assert lo <= event.date() <= hi
            assert any(a <= event.date() <= b for a, b in date_ranges(phrase, NOW)), phrase
