from __future__ import annotations

import hashlib
import json
import random

import pytest
from datasketch import LeanMinHash, MinHashLSH

from pipeline.dedup import LEVELS, dedup_documents, normalize, run_dedup, shingles, sign, signatures
from pipeline.fanout import in_process
from pipeline.personas.sampler import _new_bios

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
    a = _docs(sft=[("a/1", BASE), ("a/2", "completely different words about cooking pasta tonight")],
              turns=[("a/t", "Long day today.")])
    b = _docs(sft=[("b/exact", BASE.upper() + " !!"), ("b/near", near), ("b/miss", miss),
                   ("b/own", "a sample only persona b writes, twice over"),
                   ("b/own2", "a sample only persona b writes, twice over")],
              turns=[("b/t", "long day today")])
    r = dedup_documents({"p-b": b, "p-a": a}, threshold=0.8)  # order given does not matter: persona order decides
    assert r.counts["sft"] == {"seen": 7, "exact": 1, "near": 1, "removed": 2}
    assert sorted(r.drop_ids["sft"]) == ["b/exact", "b/near"]  # the later persona's copies; own repeats are not cross-persona
    assert r.counts["turns"]["exact"] == 1 and r.counts["turns"]["removed"] == 0  # turns are reported, not removed
    assert r.drop_personas == []


def test_no_documents_and_no_personas_are_nothing_to_remove():
    empty = dedup_documents({}, 0.8).to_json()
    assert empty["counts"]["personas"] == {"seen": 0, "removed": 0} and empty["drop_ids"] == {"sft": [], "rl": []}
    silent = dedup_documents({"p-a": _docs(), "p-b": _docs()}, 0.8, partitions=3).to_json()
    assert silent["counts"]["sft"] == {"seen": 0, "exact": 0, "near": 0, "removed": 0}


def test_a_duplicated_session_drops_the_later_persona():
    a = _docs(sessions=[("a/s0", BASE)])
    b = _docs(sessions=[("b/s0", "something else entirely, nothing alike at all"), ("b/s1", BASE)])
    r = dedup_documents({"p-a": a, "p-b": b}, threshold=0.8)
    assert r.drop_personas == ["p-b"] and r.counts["personas"] == {"seen": 2, "removed": 1}


def test_signature_estimates_jaccard():
    texts = [BASE, BASE.replace("new job", "new post"), BASE.replace("fishing boats come in", "ferries leave")]
    sig = signatures(texts)
    for j in (1, 2):
        assert abs((sig[0] == sig[j]).mean() - _jaccard(texts[0], texts[j])) < 0.12


def test_signatures_by_line_equal_hashing_each_whole_text():
    """The per-line shortcut gives exactly the signature of the whole text's shingles, whatever the lines:
    shared, short, empty, punctuation-only, or a text too short to shingle."""
    import numpy as np
    import xxhash

    from pipeline.dedup import _A, _B

    def whole(text: str) -> np.ndarray:
        h = np.array([xxhash.xxh32_intdigest(x) for x in shingles(text)], dtype=np.uint64)
        with np.errstate(over="ignore"):
            return ((h[:, None] * _A + _B) >> np.uint64(32)).min(axis=0)

    rng = random.Random(3)
    pool = [BASE[:i] for i in (0, 3, 9, 40, 120)] + ["Hi!", "ok", "--", "two words", "The Same line, again.",
                                                   BASE, BASE.replace("new job", "new post")]
    texts = ["\n".join(rng.choice(pool) for _ in range(rng.randint(1, 9))) for _ in range(300)]
    texts += ["", "\n\n", "one", "one two three", "one\ntwo\nthree\nfour", "a b\n\nc d"]
    got, normalized = sign(texts)
    assert normalized == [normalize(t) for t in texts]  # what the exact hash is taken of
    for text, sig in zip(texts, got):
        assert (sig == whole(text)).all(), repr(text)


def test_duplicate_bios_are_drawn_again(small_cfg, lex):
    from pipeline.personas.sampler import sample_personas

    personas = sample_personas(small_cfg, lex)[:3]
    personas[2] = personas[2].model_copy(update={"bio": personas[0].bio})
    stats: dict = {}
    new = _new_bios([p.bio for p in personas], personas.__getitem__, small_cfg, stats)
    assert stats["regenerated"] >= 1 and 2 in new and new[2] != personas[0].bio
    assert len({new.get(i, p.bio) for i, p in enumerate(personas)}) == 3


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


def _single_pass(docs: dict, threshold: float, n_examples: int = 5) -> dict:
    """The decision rule written the obvious way, as one pass in persona order over datasketch's own LSH index:
    exact when the text first appeared in another persona, else near when the index holds a document of another
    persona sharing a band (the smallest id), else the document joins the index."""
    counts = {lvl: {"seen": 0, "exact": 0, "near": 0, "removed": 0} for lvl in LEVELS}
    drop_ids, drop_personas, examples = {"sft": [], "rl": []}, [], {lvl: [] for lvl in LEVELS}
    first: dict = {lvl: {} for lvl in LEVELS}
    lsh = {lvl: MinHashLSH(threshold=threshold, num_perm=128) for lvl in LEVELS}
    owner: dict = {}
    for pid in sorted(docs):
        for lvl in LEVELS:
            items = docs[pid].get(lvl, [])
            for (doc_id, text), sig in zip(items, signatures([t for _, t in items])):
                counts[lvl]["seen"] += 1
                key = hashlib.sha1(normalize(text).encode()).hexdigest()
                earlier = first[lvl].setdefault(key, (doc_id, pid))
                m = LeanMinHash(seed=1, hashvalues=sig, scheme="affine32")
                others = sorted(c for c in lsh[lvl].query(m) if owner[lvl, c] != pid)
                hit = ("exact", earlier[0]) if earlier[1] != pid else ("near", others[0]) if others else None
                if hit is None:
                    lsh[lvl].insert(doc_id, m)
                    owner[lvl, doc_id] = pid
                    continue
                counts[lvl][hit[0]] += 1
                if len(examples[lvl]) < n_examples:
                    examples[lvl].append([doc_id, hit[1]])
                if lvl in drop_ids:
                    drop_ids[lvl].append(doc_id)
                    counts[lvl]["removed"] += 1
                elif lvl == "sessions" and pid not in drop_personas:
                    drop_personas.append(pid)
    counts["personas"] = {"seen": len(docs), "removed": len(drop_personas)}
    return {"counts": counts, "drop_ids": drop_ids, "drop_personas": drop_personas, "examples": examples}


def _tangled_corpus(seed: int, personas: int = 60) -> dict:
    """Personas whose documents copy, edit and re-edit a few shared texts: exact copies, near copies, chains of
    near copies (A ~ B ~ C with A !~ C), repeats inside one persona, and empty levels."""
    rng = random.Random(seed)
    words = "the a harbor dinner walked boats sun lighthouse sister job bakery corner cat tea rain park".split()
    base = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 30))) for _ in range(40)]

    def edit(text: str) -> str:
        w = text.split()
        if w and rng.random() < 0.7:
            w[rng.randrange(len(w))] = rng.choice(words)
        return " ".join(w)

    corpus = {}
    for _ in range(personas):
        pid = f"p-{rng.randint(0, 10**6):07d}"
        corpus[pid] = {lvl: [(f"{pid}/{lvl}/{i}", rng.choice([rng.choice(base), edit(rng.choice(base)),
                                                              edit(edit(rng.choice(base))).upper() + "!"]))
                             for i in range(rng.randint(0, 12))] for lvl in LEVELS}
    return corpus


@pytest.mark.parametrize("seed", [0, 1])
def test_the_partitioned_steps_decide_as_one_pass_in_persona_order(seed):
    corpus = _tangled_corpus(seed)
    want = _single_pass(corpus, 0.8, n_examples=10**6)  # every duplicate with the id it matched, as "examples"
    assert want["counts"]["sft"]["near"] >= 10 and want["counts"]["sft"]["exact"] >= 50 and want["drop_personas"]
    for partitions, chunk in ((1, 60), (3, 7), (8, 1)):
        got = dedup_documents(corpus, 0.8, partitions=partitions, chunk=chunk, examples=10**6).to_json()
        assert got == want, (partitions, chunk)


def test_a_run_dedups_the_same_at_any_partitioning(small_parts, tmp_path):
    """The run's entry point (parts on disk, a scratch folder in the run, dedup.json) against the one-pass rule
    on the same documents, with a later persona that is a copy of an earlier one; the scratch folder is gone
    afterwards."""
    import shutil

    from pipeline.dedup import documents
    from pipeline.parts import part_dir, write_part

    for part in small_parts:
        write_part(tmp_path, part, "fp")
    ids = [p.persona.id for p in small_parts]
    shutil.copytree(part_dir(tmp_path, ids[1]), part_dir(tmp_path, "train-99999"))
    ids.append("train-99999")
    want = _single_pass({pid: documents(tmp_path, pid) for pid in ids}, 0.8)
    assert want["drop_personas"] == ["train-99999"] and want["drop_ids"]["sft"] and want["drop_ids"]["rl"]
    results = [run_dedup(tmp_path, ids, 0.8, in_process, workers=w).to_json() for w in (1, 3)]
    assert results[0] == results[1] == want
    assert json.loads((tmp_path / "dedup.json").read_text()) == want and not (tmp_path / "dedup.tmp").exists()
