from __future__ import annotations

from pipeline.dedup import LEVELS, find_duplicates, hash_docs, shingles, signatures
from pipeline.personas.sampler import _unique_bios

BASE = ("we walked along the harbor after dinner and watched the fishing boats come in while the sun went down "
        "behind the old lighthouse and my sister told me about her new job at the bakery on the corner")


def _jaccard(a: str, b: str) -> float:
    x, y = set(shingles(a)), set(shingles(b))
    return len(x & y) / len(x | y)


def _docs(**levels):
    return {lvl: levels.get(lvl, []) for lvl in LEVELS}


def test_exactly_the_planted_duplicates_are_found():
    near = BASE.replace("new job", "new post")  # one word: Jaccard ~0.85
    miss = BASE.replace("fishing boats come in", "ferries leave").replace("old lighthouse", "hill")  # ~0.6
    assert _jaccard(BASE, near) > 0.8 > _jaccard(BASE, miss)
    a = hash_docs("p-a", _docs(sft=[("a/1", BASE), ("a/2", "completely different words about cooking pasta tonight")],
                               turns=[("a/t", "Long day today.")]))
    b = hash_docs("p-b", _docs(sft=[("b/exact", BASE.upper() + " !!"), ("b/near", near), ("b/miss", miss),
                                    ("b/own", "a sample only persona b writes, twice over"),
                                    ("b/own2", "a sample only persona b writes, twice over")],
                               turns=[("b/t", "long day today")]))
    r = find_duplicates([b, a], threshold=0.8)  # order given does not matter: persona order decides
    assert r.counts["sft"] == {"seen": 7, "exact": 1, "near": 1, "removed": 2}
    assert sorted(r.drop_ids["sft"]) == ["b/exact", "b/near"]  # the later persona's copies; own repeats are not cross-persona
    assert r.counts["turns"]["exact"] == 1 and r.counts["turns"]["removed"] == 0  # turns are reported, not removed
    assert r.drop_personas == []


def test_a_duplicated_session_drops_the_later_persona():
    a = hash_docs("p-a", _docs(sessions=[("a/s0", BASE)]))
    b = hash_docs("p-b", _docs(sessions=[("b/s0", "something else entirely, nothing alike at all"), ("b/s1", BASE)]))
    r = find_duplicates([a, b], threshold=0.8)
    assert r.drop_personas == ["p-b"] and r.counts["personas"] == {"seen": 2, "removed": 1}


def test_signature_estimates_jaccard():
    texts = [BASE, BASE.replace("new job", "new post"), BASE.replace("fishing boats come in", "ferries leave")]
    sig = signatures(texts)
    for j in (1, 2):
        assert abs((sig[0] == sig[j]).mean() - _jaccard(texts[0], texts[j])) < 0.12


def test_duplicate_bios_are_drawn_again(small_cfg, lex):
    from pipeline.personas.sampler import sample_personas

    personas = sample_personas(small_cfg, lex)[:3]
    personas[2] = personas[2].model_copy(update={"bio": personas[0].bio})
    stats: dict = {}
    fixed = _unique_bios(list(personas), small_cfg, stats)
    assert stats["regenerated"] >= 1 and fixed[2].bio != personas[0].bio
    assert len({p.bio for p in fixed}) == 3


def test_prompt_templates_do_not_make_samples_alike(small_parts, tmp_path):
    """Every sample of an agent call shares its template; only what fills it can make two samples duplicates."""
    from pipeline.dedup import documents
    from pipeline.parts import write_part
    from pipeline.personavlm.protocol import boilerplate, load_templates

    train = [p for p in small_parts if p.persona.split == "train"][:2]
    for part in train:
        write_part(tmp_path, part, "fp")
    fixed = boilerplate(load_templates())
    assert "# Core Instructions" in fixed and not any("{" in line for line in fixed)
    semantic = []
    for part in train:
        docs = documents(tmp_path, part.persona.id, fixed)
        assert docs["sft"] and not any(line.strip() in fixed for _, text in docs["sft"] for line in text.split("\n"))
        plain = dict(documents(tmp_path, part.persona.id)["sft"])
        first = next(i for i, _ in docs["sft"] if "/semantic/" in i)
        semantic.append((plain[first], dict(docs["sft"])[first]))
    (plain_a, kept_a), (plain_b, kept_b) = semantic
    assert _jaccard(kept_a, kept_b) < _jaccard(plain_a, plain_b) / 2
