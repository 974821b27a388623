"""Exact and near-duplicate removal across personas, between the parts and the shards.

Documents: user turns, sessions (their user text), SFT samples and GRPO prompts (their non-system
text); persona bios are deduplicated earlier, at sampling, by drawing the bio again. Exact
duplicates share a hash of the normalized text; near duplicates have an estimated Jaccard
similarity of word 3-shingles at or above the threshold (MinHash, 128 permutations, LSH). Only a
match with a *different, earlier* persona counts.

What goes on a duplicate, per level:
- SFT samples and GRPO prompts: the later one is dropped (nothing points at them).
- Sessions: a persona's sessions are one history — its memory ops, personality track and samples
  all depend on every session — so a duplicated session drops the later persona from every table
  rather than leave labels pointing at a hole.
- User turns: counted and reported only; a turn cannot leave its session.

Hashing runs in Ray tasks over chunks of personas; the LSH index is built in the driver, in persona
order, so the decisions are deterministic.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xxhash
from datasketch import LeanMinHash, MinHashLSH

from pipeline.atomic import write_json
from pipeline.parts import read_part
from pipeline.progress import Task, silent

LEVELS = ("turns", "sessions", "sft", "rl")
NUM_PERM = 128
SHINGLE = 3
_PUNCT = re.compile(r"[^\w\s]")


def normalize(text: str) -> str:
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


def shingles(text: str, n: int = SHINGLE) -> list[bytes]:
    words = normalize(text).split()
    if len(words) <= n:
        return [" ".join(words).encode()]
    return [" ".join(words[i:i + n]).encode() for i in range(len(words) - n + 1)]


_RNG = np.random.default_rng(1)
_A = _RNG.integers(1, 2**63, size=NUM_PERM, dtype=np.uint64) * np.uint64(2) + np.uint64(1)  # odd 64-bit multipliers
_B = _RNG.integers(0, 2**63, size=NUM_PERM, dtype=np.uint64)
_SHIFT = np.uint64(32)


def signatures(texts: list[str]) -> np.ndarray:
    """MinHash signatures (len(texts) x 128, uint64) of the texts' word shingles.

    Every shingle is hashed once (xxh32); the 128 permutations are multiply-add-shift hashes
    ((a*x + b) mod 2^64) >> 32, a 2-universal family that needs no modulo, applied to all shingles at
    once in numpy, and each text's minimum is taken with one reduceat.
    """
    sets = [shingles(t) for t in texts]
    if not sets:
        return np.zeros((0, NUM_PERM), dtype=np.uint64)
    hashes = np.fromiter((xxhash.xxh32_intdigest(x) for s in sets for x in s), dtype=np.uint64)
    starts = np.cumsum([0] + [len(s) for s in sets[:-1]])
    out = np.empty((len(sets), NUM_PERM), dtype=np.uint64)
    lo = 0
    while lo < len(sets):  # blocks of texts holding ~64k shingles bound the (shingles x 128) temporary
        hi = min(len(sets), int(np.searchsorted(starts, starts[lo] + 65536, side="right")))
        hi = max(hi, lo + 1)
        a, b = int(starts[lo]), int(starts[hi]) if hi < len(sets) else len(hashes)
        with np.errstate(over="ignore"):
            block = (hashes[a:b, None] * _A + _B) >> _SHIFT
        out[lo:hi] = np.minimum.reduceat(block, starts[lo:hi] - a, axis=0)
        lo = hi
    return out


def documents(run_dir: Path, persona_id: str, boilerplate: frozenset[str] = frozenset()) -> dict[str, list[tuple[str, str]]]:
    """(id, text) per level for one persona, in part order. SFT and RL texts leave out the lines of the
    prompt templates (`boilerplate`): every sample of a task shares them, and two samples are duplicates
    only if what fills the template is."""
    sessions = read_part(run_dir, persona_id, "sessions").to_pylist()
    docs = {
        "turns": [(f"{s['id']}/t{t['index']}", t["text"]) for s in sessions for t in s["turns"] if t["role"] == "user"],
        "sessions": [(s["id"], "\n".join(t["text"] for t in s["turns"] if t["role"] == "user")) for s in sessions],
    }
    for table, column in (("sft", "messages"), ("rl", "prompt")):
        rows = read_part(run_dir, persona_id, table).select(["id", column]).to_pylist()
        docs[table] = [(r["id"], "\n".join(line for m in r[column] if m["role"] != "system" for c in m["content"]
                                           for line in (c["text"] or "").split("\n") if line.strip() not in boilerplate))
                       for r in rows]
    return docs


def hash_docs(persona_id: str, docs: dict[str, list[tuple[str, str]]]) -> dict:
    """One persona's documents -> per level: ids, exact hashes and MinHash signatures."""
    return {"persona_id": persona_id, "levels": {
        level: {"ids": [i for i, _ in d], "exact": [hashlib.sha1(normalize(t).encode()).hexdigest() for _, t in d],
                "sig": signatures([t for _, t in d])}
        for level, d in docs.items()}}


def hash_chunk(run_dir: str, persona_ids: list[str], boilerplate: frozenset[str] = frozenset()) -> list[dict]:
    """The parallel part: hash a chunk of personas' parts."""
    return [hash_docs(pid, documents(Path(run_dir), pid, boilerplate)) for pid in persona_ids]


@dataclass
class DedupResult:
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    drop_ids: dict[str, list[str]] = field(default_factory=dict)  # table -> row ids removed
    drop_personas: list[str] = field(default_factory=list)
    examples: dict[str, list[list[str]]] = field(default_factory=dict)  # level -> [duplicate id, kept id]

    def to_json(self) -> dict:
        return {"counts": self.counts, "drop_ids": self.drop_ids, "drop_personas": self.drop_personas,
                "examples": self.examples}


class _Index:
    """Exact-hash map plus LSH over one level; remembers which persona owns each document."""

    def __init__(self, threshold: float, num_perm: int):
        self.lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self.exact: dict[str, tuple[str, str]] = {}
        self.owner: dict[str, str] = {}

    def check(self, doc_id: str, persona: str, exact: str, sig: np.ndarray) -> tuple[str, str] | None:
        """('exact'|'near', id of the earlier document) if a document of another persona matches."""
        first = self.exact.get(exact)
        if first is not None and first[1] != persona:
            return "exact", first[0]
        self.exact.setdefault(exact, (doc_id, persona))
        m = LeanMinHash(seed=1, hashvalues=sig, scheme="affine32")  # a carrier for our own permutations
        others = sorted(c for c in self.lsh.query(m) if self.owner[c] != persona)
        if others:
            return "near", others[0]
        self.lsh.insert(doc_id, m)
        self.owner[doc_id] = persona
        return None


def find_duplicates(hashed: list[dict], threshold: float, num_perm: int = NUM_PERM, task: Task | None = None) -> DedupResult:
    task = task or silent()
    """Decide, in persona order, what each duplicate costs (see the module docstring)."""
    result = DedupResult(counts={lvl: {"seen": 0, "exact": 0, "near": 0, "removed": 0} for lvl in LEVELS},
                         drop_ids={"sft": [], "rl": []}, examples={lvl: [] for lvl in LEVELS})
    index = {lvl: _Index(threshold, num_perm) for lvl in LEVELS}
    for entry in sorted(hashed, key=lambda e: e["persona_id"]):
        pid = entry["persona_id"]
        persona_dropped = False
        for level in LEVELS:
            d = entry["levels"][level]
            for doc_id, exact, sig in zip(d["ids"], d["exact"], d["sig"]):
                result.counts[level]["seen"] += 1
                hit = index[level].check(doc_id, pid, exact, sig)
                if hit is None:
                    continue
                result.counts[level][hit[0]] += 1
                if len(result.examples[level]) < 5:
                    result.examples[level].append([doc_id, hit[1]])
                if level in ("sft", "rl"):
                    result.drop_ids[level].append(doc_id)
                    result.counts[level]["removed"] += 1
                elif level == "sessions" and not persona_dropped:
                    persona_dropped = True
                    result.drop_personas.append(pid)
        task.advance()
    result.counts["personas"] = {"seen": len(hashed), "removed": len(result.drop_personas)}
    return result


def unique_texts(texts: list[str], threshold: float) -> list[int]:
    """Indices of texts that exactly or nearly duplicate an earlier one (any owner)."""
    index = _Index(threshold, NUM_PERM)
    sigs = signatures(texts)
    return [i for i, (t, sig) in enumerate(zip(texts, sigs))
            if index.check(str(i), str(i), hashlib.sha1(normalize(t).encode()).hexdigest(), sig) is not None]


def run_dedup(run_dir: Path, persona_ids: list[str], threshold: float, chunk: int = 25,
              boilerplate: frozenset[str] = frozenset(), task: Task | None = None) -> DedupResult:
    """Hash on Ray (one task per chunk of personas), decide in the driver, save dedup.json."""
    import ray

    task = task or silent()
    hash_task = ray.remote(num_cpus=1)(hash_chunk)
    ids = sorted(persona_ids)
    refs = [hash_task.remote(str(run_dir), ids[i:i + chunk], boilerplate) for i in range(0, len(ids), chunk)]
    task.phase("hashing", len(ids))
    hashed, waiting = [], refs
    while waiting:
        ready, waiting = ray.wait(waiting, num_returns=1)
        part = ray.get(ready[0])
        hashed.extend(part)
        task.advance(len(part))
    task.phase("matching", len(ids))
    result = find_duplicates(hashed, threshold, task=task)
    write_json(run_dir / "dedup.json", result.to_json(), indent=1)
    return result
