from __future__ import annotations

from pipeline.mme.history import substitute


def test_substitute_keeps_a_sentence_capital_but_not_one_the_replaced_text_has():
    assert substitute("Honestly, the money ran out.", {"the money ran out": "I kept dreading it"}) == \
        "Honestly, I kept dreading it."
    assert substitute("because I kept dreading it.", {"I kept dreading it": "the money ran out"}) == \
        "because the money ran out."
    assert substitute("The money ran out.", {"the money ran out": "work got too busy"}) == "Work got too busy."
    # a swap in one pass, whole words only
    assert substitute("tea, not coffee; teapot", {"tea": "coffee", "coffee": "tea"}) == "coffee, not tea; teapot"
