"""Small English rules the templates need, in one place."""

from __future__ import annotations

# vowel letters read as a consonant sound, and consonant letters read as a vowel sound
_CONSONANT_SOUND = ("uni", "use", "usu", "uro", "eu", "one")
_VOWEL_SOUND = ("hour", "honest", "honor", "heir")


def indefinite(noun: str) -> str:
    """'an accountant', 'a nurse', 'a university lecturer', 'an hour'."""
    low = noun.lower()
    vowel = (low[:1] in "aeiou" and not low.startswith(_CONSONANT_SOUND)) or low.startswith(_VOWEL_SOUND)
    return f"{'an' if vowel else 'a'} {noun}"
