"""The small English rules the templates rely on."""

from __future__ import annotations

import pytest

from pipeline.grammar import fix_articles, indefinite, second_person


@pytest.mark.parametrize("noun, said", [("accountant", "an accountant"), ("nurse", "a nurse"), ("university lecturer",
                                        "a university lecturer"), ("hour", "an hour"), ("one-off", "a one-off")])
def test_indefinite_follows_the_sound(noun, said):
    assert indefinite(noun) == said


def test_articles_are_fixed_to_the_word_after_them_and_acronyms_are_left_alone():
    assert fix_articles("A opening, an cat, a usual day, a entirely new one, a UX job, an hour.") == (
        "An opening, a cat, a usual day, an entirely new one, a UX job, an hour.")


@pytest.mark.parametrize("mine, yours", [
    ("record an EP with my band", "record an EP with your band"),
    ("Lara lent me money when I was short", "Lara lent you money when you were short"),
    ("my doctor suggested a change and I ended up trying it", "your doctor suggested a change and you ended up trying it"),
    ("I'm sure I am right, it's mine and I did it myself", "you're sure you are right, it's yours and you did it yourself"),
    ("My team meets", "Your team meets"),
    ("meal-prep for the team", "meal-prep for the team"),
])
def test_second_person_says_the_users_words_back_to_them(mine, yours):
    assert second_person(mine) == yours
