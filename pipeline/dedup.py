"""Exact and near-duplicate removal across personas, between the parts and the shards.

Documents: user turns, sessions (their user text), SFT samples and GRPO prompts (their non-system
text); persona bios are deduplicated earlier, at sampling, by drawing the bio again. Exact
duplicates share a hash of the normalized text; near duplicates have an estimated Jaccard
similarity of word 3-shingles at or above the threshold (MinHash, 128 permutations, LSH with
datasketch's band layout for that threshold: two documents are candidates when all rows of one
band agree). Only a match with a *different, earlier* persona counts.

What goes on a duplicate, per level:
- SFT samples and GRPO prompts: the later one is dropped (nothing points at them).
- Sessions: a persona's sessions are one history — its memory ops, personality track and samples
  all depend on every session — so a duplicated session drops the later persona from every table
  rather than leave labels pointing at a hole.
- User turns: counted and reported only; a turn cannot leave its session.

The decision is the one a single pass in persona order makes: a document is an exact duplicate when
its text first appeared in another persona; otherwise it is a near duplicate when it shares a band
with a kept (not itself duplicate) document of an earlier persona, and points at the smallest such
id. It runs as five steps over a scratch folder on the run's shared output, each a plain function,
so no process ever holds more than one partition:

1. hash: per chunk of personas, every document's exact hash and band keys, in P partitions by exact hash;
2. exact: per exact partition, the first persona of each text; later personas' copies are exact
   duplicates; the first persona's copies become one *node*, whose band keys go to P band partitions;
3. bands: per band partition, the buckets that hold nodes of two or more personas;
4. resolve: one pass over only those nodes, in persona order, keeps or drops each (the LSH decision);
5. sum: per exact partition, counts, dropped ids and examples, merged by the caller.

The run hands the steps to Ray tasks; tests and the bio check call the same functions in-process.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import xxhash
from datasketch import MinHashLSH

from pipeline.atomic import write_json
from pipeline.fanout import Map, in_process
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


def _min_hashes(hashes: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per group of shingle hashes (group g is hashes[starts[g]:starts[g+1]], none empty), the minimum of each
    permutation, as a (128 x groups) array: ((a*x + b) mod 2^64) >> 32, a 2-universal family that needs no
    modulo. Permutation-major blocks of ~64k shingles bound the temporary, and make the arithmetic and the
    reduceat run along contiguous rows (about 5x faster than shingle-major)."""
    out = np.empty((NUM_PERM, len(starts)), dtype=np.uint64)
    lo = 0
    while lo < len(starts):
        hi = max(lo + 1, min(len(starts), int(np.searchsorted(starts, starts[lo] + 65536, side="right"))))
        a, b = int(starts[lo]), int(starts[hi]) if hi < len(starts) else len(hashes)
        with np.errstate(over="ignore"):
            block = np.multiply(_A[:, None], hashes[None, a:b])
            block += _B[:, None]
        block >>= _SHIFT
        out[:, lo:hi] = np.minimum.reduceat(block, starts[lo:hi] - a, axis=1)
        lo = hi
    return out


def _hash_all(groups: list[list[bytes]]) -> tuple[np.ndarray, np.ndarray]:
    hashes = np.fromiter((xxhash.xxh32_intdigest(x) for g in groups for x in g), dtype=np.uint64)
    return hashes, np.cumsum([0] + [len(g) for g in groups[:-1]])


def signatures(texts: list[str]) -> np.ndarray:
    return sign(texts)[0]


def sign(texts: list[str]) -> tuple[np.ndarray, list[str]]:
    """MinHash signatures (len(texts) x 128, uint64) of the texts' word shingles (every shingle hashed once
    with xxh32, then permuted).

    Documents share lines (an SFT sample carries the history its neighbours carry), so the work is done per
    distinct line: a document's shingles are those inside its lines plus those across its line breaks, and
    its signature is the minimum of its lines' signatures and of the crossing shingles' — the same values
    as hashing the whole normalized text, since normalizing a text normalizes each line. Also returns the
    normalized texts (for the exact hash).
    """
    normalized: list[str] = []
    line_of: dict[str, int] = {}
    line_words: list[list[str]] = []
    refs: list[list[int]] = []  # per text, its distinct lines with shingles of their own
    extra: list[list[bytes]] = []  # per text, the shingles no single line holds
    for text in texts:
        words: list[str] = []
        breaks: list[int] = []
        mine: list[int] = []
        for line in text.split("\n"):
            i = line_of.get(line)
            if i is None:
                i = line_of[line] = len(line_words)
                line_words.append(normalize(line).split())
            w = line_words[i]
            if words:
                breaks.append(len(words))
            if len(w) >= SHINGLE:
                mine.append(i)
            words += w
        normalized.append(" ".join(words))
        n = len(words)
        if n <= SHINGLE:  # too short to shingle: the whole text is its one shingle
            refs.append([])
            extra.append([" ".join(words).encode()])
            continue
        refs.append(mine)
        crossing = sorted({s for b in breaks for s in (b - 2, b - 1) if 0 <= s <= n - SHINGLE})
        extra.append([" ".join(words[s:s + SHINGLE]).encode() for s in crossing])
    line_sig = np.full((NUM_PERM, len(line_words)), np.iinfo(np.uint64).max, dtype=np.uint64)
    own = [i for i, w in enumerate(line_words) if len(w) >= SHINGLE]
    if own:
        line_sig[:, own] = _min_hashes(*_hash_all([[" ".join(line_words[i][s:s + SHINGLE]).encode()
                                                  for s in range(len(line_words[i]) - SHINGLE + 1)] for i in own]))
    out = np.full((NUM_PERM, len(texts)), np.iinfo(np.uint64).max, dtype=np.uint64)
    crossing = [d for d, e in enumerate(extra) if e]
    if crossing:
        out[:, crossing] = _min_hashes(*_hash_all([extra[d] for d in crossing]))
    with_lines = [d for d, r in enumerate(refs) if r]
    flat = np.fromiter((i for d in with_lines for i in refs[d]), dtype=np.int64)
    starts = np.cumsum([0] + [len(refs[d]) for d in with_lines[:-1]])
    for lo in range(0, len(with_lines), 1024):  # bounds the (128 x lines) gather
        hi = min(lo + 1024, len(with_lines))
        a, b = int(starts[lo]), int(starts[hi]) if hi < len(with_lines) else len(flat)
        docs = with_lines[lo:hi]
        out[:, docs] = np.minimum(out[:, docs], np.minimum.reduceat(line_sig[:, flat[a:b]], starts[lo:hi] - a, axis=1))
    return np.ascontiguousarray(out.T), normalized


Docs = dict[str, list[tuple[str, str]]]  # level -> (id, text), in part order


def documents(run_dir: Path, persona_id: str, boilerplate: frozenset[str] = frozenset()) -> Docs:
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


def band_ranges(threshold: float) -> tuple[tuple[int, int], ...]:
    """The signature rows of each LSH band: datasketch's choice for this threshold (false positives and
    negatives weighted equally)."""
    return tuple(MinHashLSH(threshold=threshold, num_perm=NUM_PERM).hashranges)


@dataclass(frozen=True)
class Scratch:
    """One dedup's scratch folder: `docs/` (step 1), `exact/`, `members/`, `bands/` (2), `groups/` (3) and
    `near/` (4), an Arrow IPC file per chunk or partition. A file written for P partitions holds P record
    batches, batch k for partition k, which the next step's task k reads memory-mapped."""

    root: Path
    partitions: int
    ranges: tuple[tuple[int, int], ...]

    def file(self, kind: str, k: int) -> Path:
        return self.root / kind / f"{k:05d}.arrow"

    def write(self, kind: str, k: int, table: pa.Table, part_of: np.ndarray | None = None) -> None:
        """Write `table` as one batch, or as one batch per partition (`part_of`: each row's partition)."""
        path = self.file(kind, k)
        path.parent.mkdir(parents=True, exist_ok=True)
        if part_of is None:
            batches = [table]
        else:
            order = np.argsort(part_of, kind="stable")
            table = table.take(order)
            bounds = np.searchsorted(part_of[order], np.arange(self.partitions + 1))
            batches = [table.slice(a, b - a) for a, b in zip(bounds[:-1], bounds[1:])]
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            for batch in batches:  # exactly one record batch each, empty ones included
                batch = batch.combine_chunks()
                writer.write_batch(batch.to_batches()[0] if batch.num_rows else
                                   pa.RecordBatch.from_pylist([], schema=table.schema))

    def read(self, kind: str, files: Iterable[int], batch: int | None = None) -> pa.Table:
        """Concatenate the given files (or only their batch `batch`), memory-mapped."""
        tables = []
        for k in files:
            reader = pa.ipc.open_file(pa.memory_map(str(self.file(kind, k))))
            tables.append(pa.Table.from_batches([reader.get_batch(batch)]) if batch is not None else reader.read_all())
        return pa.concat_tables(tables)


def _u64(values) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.uint64), pa.uint64())


def _digests(normalized: list[str]) -> tuple[np.ndarray, np.ndarray]:
    d = [xxhash.xxh3_128_intdigest(t.encode()) for t in normalized]
    return (np.array([x >> 64 for x in d], dtype=np.uint64), np.array([x & 0xFFFFFFFFFFFFFFFF for x in d], dtype=np.uint64))


def band_keys(sig: np.ndarray, ranges: tuple[tuple[int, int], ...]) -> np.ndarray:
    """(documents x bands) 64-bit keys: two documents share a key when their signatures agree on every row
    of that band (up to a 2^-64 collision)."""
    out = np.empty((len(sig), len(ranges)), dtype=np.uint64)
    for b, (lo, hi) in enumerate(ranges):
        rows = np.ascontiguousarray(sig[:, lo:hi].astype(np.uint32))  # the permutations are 32-bit values
        out[:, b] = [xxhash.xxh3_64_intdigest(r.tobytes(), b) for r in rows]
    return out


def hash_documents(scratch: Scratch, chunk: int, personas: list[tuple[int, Docs]]) -> int:
    """Step 1: the documents of a chunk of personas (given with their rank in persona order) -> `docs/<chunk>`,
    partitioned by exact hash. Returns how many personas it hashed."""
    cols: dict[str, list] = {"level": [], "persona": [], "ordinal": [], "doc_id": [], "text": []}
    for rank, docs in personas:
        for level, name in enumerate(LEVELS):
            for ordinal, (doc_id, text) in enumerate(docs.get(name, [])):
                for col, v in zip(cols, (level, rank, ordinal, doc_id, text)):
                    cols[col].append(v)
    sig, normalized = sign(cols["text"])
    hi, lo = _digests(normalized)
    keys = band_keys(sig, scratch.ranges)
    table = pa.table({
        "level": pa.array(cols["level"], pa.int8()), "persona": pa.array(cols["persona"], pa.int32()),
        "ordinal": pa.array(cols["ordinal"], pa.int32()), "doc_id": pa.array(cols["doc_id"], pa.string()),
        "exact_hi": _u64(hi), "exact_lo": _u64(lo),
        "bands": pa.FixedSizeListArray.from_arrays(_u64(keys.reshape(-1)), len(scratch.ranges))})
    scratch.write("docs", chunk, table, (lo % np.uint64(scratch.partitions)).astype(np.int64))
    return len(personas)


def hash_parts(scratch: Scratch, chunk: int, run_dir: str, personas: list[tuple[int, str]],
               boilerplate: frozenset[str] = frozenset()) -> int:
    """Step 1 on a run's parts, where they are (a Ray task)."""
    return hash_documents(scratch, chunk, [(rank, documents(Path(run_dir), pid, boilerplate)) for rank, pid in personas])


def _groups(group_by: list[np.ndarray], within: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort rows by `group_by`, then `within` (each list most significant first). Returns the order, each
    sorted row's group (rows equal on `group_by`) and where each group starts in the sorted order."""
    order = np.lexsort([*reversed(within), *reversed(group_by)])
    new = np.ones(len(order), dtype=bool)
    if len(order) > 1:
        new[1:] = np.any([k[order][1:] != k[order][:-1] for k in group_by], axis=0)
    return order, np.cumsum(new) - 1, np.flatnonzero(new)


def split_exact(scratch: Scratch, k: int, chunks: int) -> None:
    """Step 2 for exact partition k: exact duplicates (`exact/k`), the first persona's copies as nodes
    (`members/k`) and the nodes' band keys by band partition (`bands/k`)."""
    docs = scratch.read("docs", range(chunks), batch=k)
    level, persona, ordinal = (docs[c].to_numpy() for c in ("level", "persona", "ordinal"))
    hi, lo = docs["exact_hi"].to_numpy(), docs["exact_lo"].to_numpy()
    # group by (level, text); sorted inside a group by (persona, ordinal), so its first row is the text's first use
    order, gid, first = _groups([level, hi, lo], [persona, ordinal])
    ids = docs["doc_id"].take(order)
    persona_s = persona[order]
    dup = persona_s != persona_s[first][gid]
    exact_rows = np.flatnonzero(dup)
    scratch.write("exact", k, pa.table({
        "level": level[order][exact_rows], "persona": persona_s[exact_rows], "ordinal": ordinal[order][exact_rows],
        "doc_id": ids.take(exact_rows), "hit": ids.take(first[gid[exact_rows]])}))
    kept = np.flatnonzero(~dup)
    node = (np.int64(k) << np.int64(32)) | gid.astype(np.int64)
    scratch.write("members", k, pa.table({
        "node": node[kept], "level": level[order][kept], "persona": persona_s[kept],
        "ordinal": ordinal[order][kept], "doc_id": ids.take(kept)}))
    # a node's id in the LSH sense is the smallest id among its copies (they share every band)
    reps = ids.take(first).to_pylist()
    copies = np.bincount(gid[kept], minlength=len(first))
    kept_ids = ids.take(kept).to_pylist()
    starts = np.searchsorted(gid[kept], np.arange(len(first)))
    for g in np.flatnonzero(copies > 1):
        reps[g] = min(kept_ids[starts[g]:starts[g] + copies[g]])
    nb = len(scratch.ranges)
    bands = docs["bands"].combine_chunks().values.to_numpy().reshape(-1, nb)[order[first]]
    g_node = node[first]
    scratch.write("bands", k, pa.table({
        "level": np.repeat(level[order][first], nb), "band": np.tile(np.arange(nb, dtype=np.int8), len(first)),
        "key": _u64(bands.reshape(-1)), "node": np.repeat(g_node, nb), "persona": np.repeat(persona_s[first], nb),
        "rep": pa.array(np.repeat(np.array(reps, dtype=object), nb), pa.string())}),
        (bands.reshape(-1) % np.uint64(scratch.partitions)).astype(np.int64))


def find_groups(scratch: Scratch, j: int) -> int:
    """Step 3 for band partition j: every band bucket that holds nodes of two or more personas -> `groups/j`.
    Returns how many buckets it kept."""
    rows = scratch.read("bands", range(scratch.partitions), batch=j)
    level, band, key, persona = (rows[c].to_numpy() for c in ("level", "band", "key", "persona"))
    order, gid, first = _groups([level, band, key], [persona])
    persona_s = persona[order]
    ends = np.r_[first[1:], len(order)] - 1 if len(first) else first
    shared = np.flatnonzero(persona_s[first] != persona_s[ends])  # sorted by persona inside a bucket
    keep = np.isin(gid, shared)
    scratch.write("groups", j, pa.table({
        "group": (np.int64(j) << np.int64(32)) | gid[keep].astype(np.int64),
        "node": rows["node"].to_numpy()[order][keep], "persona": persona_s[keep],
        "rep": rows["rep"].take(order[keep])}))
    return len(shared)


def resolve(scratch: Scratch) -> int:
    """Step 4: decide every node that shares a bucket with another persona, in persona order: a node is kept
    unless a bucket of it already keeps a node of an earlier persona; then it is a near duplicate of the
    smallest such id. (All nodes a bucket keeps belong to one persona: the first one kept blocks every later
    persona.) Writes `near/` (node, hit) and returns its length."""
    rows = scratch.read("groups", range(scratch.partitions))
    nodes, inverse = np.unique(rows["node"].to_numpy(), return_inverse=True)
    _, group = np.unique(rows["group"].to_numpy(), return_inverse=True)
    node_persona = np.empty(len(nodes), dtype=np.int64)
    node_persona[inverse] = rows["persona"].to_numpy()
    node_rep = np.empty(len(nodes), dtype=object)
    node_rep[inverse] = rows["rep"].to_numpy(zero_copy_only=False)
    by_node = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[by_node], np.arange(len(nodes) + 1))
    bucket_persona = np.full(group.max() + 1 if len(group) else 0, -1, dtype=np.int64)
    bucket_rep: list = [None] * len(bucket_persona)
    near_node, near_hit = [], []
    for n in np.argsort(node_persona, kind="stable"):
        buckets = group[by_node[starts[n]:starts[n + 1]]]
        p = node_persona[n]
        hits = [bucket_rep[b] for b in buckets if 0 <= bucket_persona[b] < p]
        if hits:
            near_node.append(nodes[n])
            near_hit.append(min(hits))
            continue
        for b in buckets:
            if bucket_persona[b] < 0:
                bucket_persona[b], bucket_rep[b] = p, node_rep[n]
            else:  # kept by this same persona already
                bucket_rep[b] = min(bucket_rep[b], node_rep[n])
    order = np.argsort(near_node, kind="stable")
    table = pa.table({"node": pa.array(np.array(near_node, dtype=np.int64)[order], pa.int64()),
                      "hit": pa.array([near_hit[i] for i in order], pa.string())})
    scratch.write("near", 0, table)
    return table.num_rows


def summarize(scratch: Scratch, k: int, examples: int = 5) -> dict:
    """Step 5 for exact partition k: per level, documents seen, exact and near duplicates; the dropped SFT/RL
    ids and the personas with a duplicated session, each with its (persona, ordinal) place in the pass; and
    the first `examples` duplicates of each level (with the id each one matched)."""
    members, exact = scratch.read("members", [k]), scratch.read("exact", [k])
    near = scratch.read("near", [0])
    near_nodes = near["node"].to_numpy()
    mine = (near_nodes >> 32) == k
    near_nodes, near_hits = near_nodes[mine], near["hit"].filter(pa.array(mine))
    m_node = members["node"].to_numpy()
    is_near = np.isin(m_node, near_nodes)
    hits = near_hits.take(np.searchsorted(near_nodes, m_node[is_near]))
    dups = pa.concat_tables([
        exact.append_column("kind", pa.array(["exact"] * exact.num_rows, pa.string())),
        members.filter(pa.array(is_near)).drop_columns(["node"]).append_column("hit", hits)
        .append_column("kind", pa.array(["near"] * int(is_near.sum()), pa.string()))], promote_options="default")
    seen = np.bincount(np.concatenate([members["level"].to_numpy(), exact["level"].to_numpy()]).astype(np.int64),
                       minlength=len(LEVELS))
    out: dict = {"seen": seen.tolist(), "exact": [0] * len(LEVELS), "near": [0] * len(LEVELS),
                 "dups": {name: [] for name in LEVELS}}
    for row in dups.select(["level", "persona", "ordinal", "doc_id", "hit", "kind"]).to_pylist():
        out[row["kind"]][row["level"]] += 1
        out["dups"][LEVELS[row["level"]]].append((row["persona"], row["ordinal"], row["doc_id"], row["hit"]))
    out["dups"]["turns"] = sorted(out["dups"]["turns"])[:examples]  # turns are only counted and shown
    return out


@dataclass
class DedupResult:
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    drop_ids: dict[str, list[str]] = field(default_factory=dict)  # table -> row ids removed
    drop_personas: list[str] = field(default_factory=list)
    examples: dict[str, list[list[str]]] = field(default_factory=dict)  # level -> [duplicate id, kept id]

    def to_json(self) -> dict:
        return {"counts": self.counts, "drop_ids": self.drop_ids, "drop_personas": self.drop_personas,
                "examples": self.examples}


def merge(persona_ids: list[str], summaries: Iterable[dict], examples: int = 5) -> DedupResult:
    """The partitions' sums -> one result, every list in the order of a single pass over the personas."""
    counts = {name: {"seen": 0, "exact": 0, "near": 0, "removed": 0} for name in LEVELS}
    dups: dict[str, list] = {name: [] for name in LEVELS}
    for s in summaries:
        for i, name in enumerate(LEVELS):
            for key in ("seen", "exact", "near"):
                counts[name][key] += s[key][i]
            dups[name].extend(s["dups"][name])
    for name in LEVELS:
        dups[name].sort()
    for name in ("sft", "rl"):
        counts[name]["removed"] = len(dups[name])
    result = DedupResult(
        counts={**counts, "personas": {"seen": len(persona_ids)}},
        drop_ids={name: [d[2] for d in dups[name]] for name in ("sft", "rl")},
        drop_personas=[persona_ids[r] for r in sorted({d[0] for d in dups["sessions"]})],
        examples={name: [[d[2], d[3]] for d in dups[name][:examples]] for name in LEVELS})
    result.counts["personas"]["removed"] = len(result.drop_personas)
    return result


def dedup(scratch: Scratch, persona_ids: list[str], hash_step: Callable, hash_calls: list[tuple],
          run: Map = in_process, task: Task | None = None, examples: int = 5) -> DedupResult:
    """Every step, each one's calls through `run`; `hash_calls` are step one's, one per chunk of personas.
    The scratch folder is emptied first and removed at the end."""
    task = task or silent()
    P = scratch.partitions
    if not hash_calls:  # no persona finished yet
        return merge(persona_ids, [], examples)
    shutil.rmtree(scratch.root, ignore_errors=True)
    try:
        task.phase("hashing", len(persona_ids))
        for n in run(hash_step, hash_calls):
            task.advance(n)
        task.phase("matching", 3 * P + 1)
        for step, calls in ((split_exact, [(scratch, k, len(hash_calls)) for k in range(P)]),
                            (find_groups, [(scratch, j) for j in range(P)]), (resolve, [(scratch,)])):
            for _ in run(step, calls):
                task.advance()
        summaries = []
        for s in run(summarize, [(scratch, k, examples) for k in range(P)]):
            summaries.append(s)
            task.advance()
        return merge(persona_ids, summaries, examples)
    finally:
        shutil.rmtree(scratch.root, ignore_errors=True)


def dedup_documents(docs: dict[str, Docs], threshold: float, partitions: int = 1, chunk: int = 25,
                    examples: int = 5) -> DedupResult:
    """In-process dedup of documents given per persona (tests, benchmarks, the bio check)."""
    ids = sorted(docs)
    with tempfile.TemporaryDirectory(prefix="pf-dedup-") as tmp:
        scratch = Scratch(Path(tmp) / "scratch", partitions, band_ranges(threshold))
        calls = [(scratch, c, [(r, docs[ids[r]]) for r in range(lo, min(lo + chunk, len(ids)))])
                 for c, lo in enumerate(range(0, len(ids), chunk))]
        return dedup(scratch, ids, hash_documents, calls, examples=examples)


def unique_texts(texts: list[str], threshold: float) -> list[int]:
    """Indices of texts that exactly or nearly duplicate an earlier one."""
    result = dedup_documents({f"{i:09d}": {"sft": [(str(i), t)]} for i, t in enumerate(texts)}, threshold)
    return sorted(int(i) for i in result.drop_ids["sft"])


def run_dedup(run_dir: Path, persona_ids: list[str], threshold: float, run: Map, workers: int = 1,
              boilerplate: frozenset[str] = frozenset(), task: Task | None = None) -> DedupResult:
    """Every step through `run` (Ray tasks in a run), over a scratch folder in the run; saves dedup.json.
    Chunks of at most 25 personas, at least two per worker; as many partitions as chunks (at most 256)."""
    ids = sorted(persona_ids)
    chunk = max(1, min(25, -(-len(ids) // (2 * workers))))
    n_chunks = -(-len(ids) // chunk)
    scratch = Scratch(run_dir / "dedup.tmp", max(1, min(256, n_chunks)), band_ranges(threshold))
    calls = [(scratch, c, str(run_dir), [(r, ids[r]) for r in range(c * chunk, min((c + 1) * chunk, len(ids)))],
              boilerplate) for c in range(n_chunks)]
    result = dedup(scratch, ids, hash_parts, calls, run, task)
    write_json(run_dir / "dedup.json", result.to_json(), indent=1)
    return result
