from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.world.clock import resolve, when_phrases


@settings(max_examples=400, deadline=None)
@given(now=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31)),
       back=st.integers(min_value=0, max_value=400), minute=st.integers(0, 1439))
def test_every_phrase_resolves_to_the_event_date(now, back, minute):
    event = datetime.combine((now - timedelta(days=back)).date(), datetime.min.time()) + timedelta(minutes=minute)
    if event > now:
        event = now
    for phrase in when_phrases(event, now):
        lo, hi = resolve(phrase, now)
        assert lo <= event.date() <= hi, (phrase, event, now)


def test_examples():
    now = datetime(2025, 4, 10, 18, 0)  # a Thursday
    assert "yesterday" in when_phrases(datetime(2025, 4, 9, 9), now)
    assert "on Monday" in when_phrases(datetime(2025, 4, 7, 9), now)
    assert "last month" in when_phrases(datetime(2025, 3, 2, 9), now)
    assert resolve("on Monday", now) == (datetime(2025, 4, 7).date(),) * 2
    assert "on Thursday" not in when_phrases(datetime(2025, 4, 3, 9), now)  # a week back is not "on Thursday"


def test_the_future_cannot_be_told_in_the_past_tense():
    with pytest.raises(ValueError, match="after now"):
        when_phrases(datetime(2025, 5, 2), datetime(2025, 5, 1))
