from __future__ import annotations

import numpy as np
import pytest

from pipeline.config import load_config
from pipeline.personas.lexicon import LexiconError, load_lexicon
from pipeline.personas.sampler import sample_personas, style_from_traits, trait_design
from pipeline.records import TRAITS, BigFive


def test_trait_design_fills_every_stratum():
    pts = trait_design(100, seed=3, split="train")
    assert pts.shape == (100, 5) and pts.min() >= 1 and pts.max() <= 5
    for k in range(5):  # Latin hypercube: each of 10 equal bins of each trait holds ~10 points
        counts = np.histogram(pts[:, k], bins=np.linspace(1, 5, 11))[0]
        assert counts.min() >= 8 and counts.max() <= 12, counts


def test_default_scale_personas_are_distinct_and_split(lex):
    cfg = load_config()
    personas = sample_personas(cfg, lex)
    assert len(personas) == 700
    assert len({p.name for p in personas}) == 700
    assert [p.split for p in personas].count("bench") == 200
    assert not {p.id for p in personas if p.split == "train"} & {p.id for p in personas if p.split == "bench"}
    assert len({p.occupation for p in personas}) >= 200
    assert len({p.bio for p in personas}) == 700
    for p in personas:
        names = [r.name for r in p.relationships]
        assert len(set(names)) == len(names) and p.name.split()[0] not in names


def test_sampling_is_deterministic_and_seeded(lex):
    a = sample_personas(load_config(overrides={"personas": 5, "bench_personas": 1}), lex)
    b = sample_personas(load_config(overrides={"personas": 5, "bench_personas": 1}), lex)
    c = sample_personas(load_config(overrides={"personas": 5, "bench_personas": 1, "seed": 1}), lex)
    assert a == b and a != c


def test_style_follows_traits():
    low = style_from_traits(BigFive(**{t: 1.5 for t in TRAITS}))
    high = style_from_traits(BigFive(**{t: 4.5 for t in TRAITS}))
    for knob in ("exuberance", "warmth", "precision", "worry", "vividness"):
        assert getattr(high, knob) > getattr(low, knob)
    assert "reserved" in low.summary and "outgoing" in high.summary


def test_malformed_lexicon_names_the_file(tmp_path, lex):
    src = load_config().lexicon_dir
    for f in src.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    (tmp_path / "goals.yaml").write_text("- {text: run far, key: swim, steps: [ran], done: ran far}\n")
    load_lexicon.cache_clear()
    with pytest.raises(LexiconError, match="goals.yaml.*key 'swim' does not occur"):
        load_lexicon(tmp_path)
    (tmp_path / "goals.yaml").write_text("- {text: run far}\n")
    with pytest.raises(LexiconError, match="goals.yaml"):
        load_lexicon(tmp_path)
    (tmp_path / "goals.yaml").write_bytes((src / "goals.yaml").read_bytes())
    (tmp_path / "first_names.txt").write_text("Ana\nAna\n")
    with pytest.raises(LexiconError, match="first_names.txt: 'Ana' appears twice"):
        load_lexicon(tmp_path)


def test_the_run_samples_the_same_personas_as_json_also_when_a_bio_is_drawn_again(small_cfg, lex, monkeypatch):
    """The driver's JSON pairs are the objects' JSON, byte for byte, with the duplicate bio redrawn the same way."""
    import pipeline.personas.sampler as sampler

    drawn = list(sampler._drawn(small_cfg, lex))
    drawn[2] = drawn[2].model_copy(update={"bio": drawn[0].bio})
    monkeypatch.setattr(sampler, "_drawn", lambda cfg, lex: iter(drawn))
    as_objects, as_json = {}, {}
    personas = sampler.sample_personas(small_cfg, lex, as_objects)
    pairs = sampler.sample_as_json(small_cfg, lex, as_json)
    assert as_objects["regenerated"] >= 1 and as_objects == as_json
    assert personas[2].bio != drawn[0].bio
    assert pairs == [(p.id, p.model_dump_json()) for p in personas]
