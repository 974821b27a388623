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


def test_synonyms_keep_slots_and_capitals():
    out = with_synonyms(("Really {really} great, really.",), {"really": ("really", "truly"), "great": ("great", "fine")})
    assert out == ("[Really|Truly] {really} [great|fine], [really|truly].",)


def test_leads_lower_the_first_letter_but_not_i_or_a_slot():
    assert set(spellings(with_leads("Keep it.", ("And ",), 1))) == {"Keep it.", "And keep it."}
    assert set(spellings(with_leads("[I'm|It's] fine.", ("And ",), 1))) == {"I'm fine.", "It's fine.", "And I'm fine.",
                                                                            "And it's fine."}
    assert with_leads("{Thing} moved.", ("And ",), 1) == "{Thing} moved."
    assert with_leads("Honestly, yes.", ("Honestly, ",), 1) == "Honestly, yes."  # no "Honestly, honestly"
