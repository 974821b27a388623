"""Small English rules the templates need, in one place."""

from __future__ import annotations

import re

# vowel letters read as a consonant sound, and consonant letters read as a vowel sound
_CONSONANT_SOUND = ("uni", "use", "usu", "uro", "eu", "one")
_VOWEL_SOUND = ("hour", "honest", "honor", "heir")


def indefinite(noun: str) -> str:
    """'an accountant', 'a nurse', 'a university lecturer', 'an hour'."""
    low = noun.lower()
    vowel = (low[:1] in "aeiou" and not low.startswith(_CONSONANT_SOUND)) or low.startswith(_VOWEL_SOUND)
    return f"{'an' if vowel else 'a'} {noun}"


_ARTICLE = re.compile(r"\b([Aa])(n?) (?=([A-Za-z]+))")


def fix_articles(text: str) -> str:
    """Each 'a' or 'an' made to fit the word after it ("a [quiet|easy] day" said as "an easy day")."""
    def one(m: re.Match) -> str:
        word = m.group(3)
        if word.isupper() or word.lower() in ("a", "an"):  # an acronym's sound is its letters'; "a" as a letter
            return m.group(0)
        return indefinite(word).replace("a", m.group(1), 1).rsplit(" ", 1)[0] + " "

    return _ARTICLE.sub(one, text)


_FIRST_PERSON = {"i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself", "i'm": "you're",
                 "i've": "you've", "i'd": "you'd", "i'll": "you'll"}
_PERSON = re.compile(r"\b(I am|I was|I'm|I've|I'd|I'll|I|me|my|mine|myself)\b", re.IGNORECASE)


def second_person(phrase: str) -> str:
    """A phrase the user says of themselves as someone else says it to them: 'lost my job when I was away' ->
    'lost your job when you were away'."""
    def one(m: re.Match) -> str:
        said = m.group(1)
        low = said.lower()
        out = "you are" if low == "i am" else "you were" if low == "i was" else _FIRST_PERSON[low]
        return out.capitalize() if said[0].isupper() and low[0] != "i" else out  # "My ..." but not every "I"

    return _PERSON.sub(one, phrase)
