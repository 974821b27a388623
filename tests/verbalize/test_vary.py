"""Variant templates: every variant can be said and found again, and the rewrites keep slots, capitals and spaces."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.verbalize.vary import Finder, canonical, spellings, variants, vary, with_leads, with_synonyms


def test_a_template_says_each_of_its_variants_and_nothing_else():
    template = "[Hi|Hey], I [really |]love [the [big|small] |]dogs."
    every = set(spellings(template))
    assert len(every) == variants(template) == 2 * 2 * 3
    assert "Hey, I love the small dogs." in every and "Hi, I love dogs." in every
    rng = np.random.default_rng(0)
    assert {vary(template, rng) for _ in range(400)} == every
    assert canonical(template) == "Hi, I really love the big dogs."


@pytest.mark.parametrize("bad", ["[a|b", "a]b", "a|b", "[a|[b]"])
def test_a_malformed_template_is_refused(bad):
    with pytest.raises(ValueError, match="template"):
        vary(bad, np.random.default_rng(0))


def test_the_finder_finds_whole_sentences_only_and_refuses_a_shared_variant():
    finder = Finder([("a", "I [kept|left] it quiet."), ("b", "[No|Nope], thanks.")])
    text = "So. I left it quiet. Nope, thanks. I kept it quiet, mostly."
    assert [(k, text[i:j]) for k, i, j in finder.find(text)] == [("a", "I left it quiet."), ("b", "Nope, thanks.")]
    with pytest.raises(ValueError, match="two templates"):
        Finder([("a", "[Yes|Sure]."), ("b", "[Sure|Fine].")])


def test_a_variant_is_spaced_and_its_articles_agree_whatever_the_alternatives():
    assert set(spellings("Thanks[ for it|] [on it|].")) == {"Thanks for it on it.", "Thanks for it.", "Thanks on it.", "Thanks."}
    assert set(spellings("It was a [big|open|usual] day, an [odd|good] one.")) == {
        f"It was {a} day, {b} one." for a in ("a big", "an open", "a usual") for b in ("an odd", "a good")}
    assert vary("Sending a hug :)", np.random.default_rng(0)) == "Sending a hug :)"
    assert set(spellings("[Oh,|] I'm sorry.")) == {"Oh, I'm sorry.", "I'm sorry."}


def test_synonyms_keep_slots_and_capitals():
    out = with_synonyms(("Really {really} great, really.",), {"really": ("really", "truly"), "great": ("great", "fine")})
    assert out == ("[Really|Truly] {really} [great|fine], [really|truly].",)


def test_a_phrase_stays_as_written_where_its_synonyms_would_be_wrong():
    out = with_synonyms(("I think of it. I think so. Not really.",), {"i think": ("I think", "I reckon"), "really": ("really", "truly")},
                        keep={"i think": r"@ of\b", "really": r"\bnot @"})
    assert out == ("I think of it. [I think|I reckon] so. Not really.",)


def test_leads_go_before_a_clause_and_lower_its_first_letter_but_not_i_or_a_name():
    assert set(spellings(with_leads("That works.", ("And ",), 1))) == {"That works.", "And that works."}
    assert set(spellings(with_leads("[I'm|It's] fine.", ("And ",), 1))) == {"I'm fine.", "It's fine.", "And I'm fine.",
                                                                            "And it's fine."}
    for fragment in ("{Thing} moved.", "Such a day.", "Keep it.", "Honestly, yes."):  # no "Truth is, such a day."
        assert with_leads(fragment, ("And ", "Truth is, "), 1) == fragment
    assert with_leads("It is, honestly.", ("Honestly, ",), 1) == "It is, honestly."  # no "Honestly, ... honestly"
