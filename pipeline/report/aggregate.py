"""The report's statistics as partial aggregates: one per shard, merged in any order, never a column.

A shard is read one row group at a time (a row group holds whole personas, so per-persona figures are
complete in it) into a `Partial`: tallies, fixed-bin histograms and grids (summed), extremes (min and
max), the rows of the first few personas by id and a hash-chosen sample of user turns (bounded lists
that keep their smallest keys) and HyperLogLog++ sketches of distinct n-grams (unions). Each kind
merges exactly, so the merged statistics do not depend on how the shards were grouped; only the
distinct-n over the whole corpus is an estimate (within about 1%), and the share of the most repeated
user turn is counted from each shard's 1,000 most common turns.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash
from datasketch import HyperLogLogPlusPlus

from pipeline.labels.rl import uniquely_longest
from pipeline.mme.context import BUDGET
from pipeline.records import TRAITS

_WORD = re.compile(r"[a-z0-9']+")
TRAIT_BINS = np.linspace(1, 5, 17)
BUDGET_BINS = np.linspace(0, 100, 41)
RATE_BINS = 100  # image rate per persona, in 1% steps
FIRST = {"calendar": 80, "shifts": 40, "personality": 4, "estimate": 3, "samples": 3,
         "turn_sample": 10_000, "top_turns": 1_000}  # how many entries each bounded list keeps
COLUMNS = {
    "personas": ["id", "split", "big_five"],
    "sessions": ["id", "persona_id", "start_time", "turns", "true_personality"],
    "events": ["persona_id", "kind", "time", "facts"],
    "sft": ["task"], "memory_ops": ["memory", "op"], "rl": ["kind", "reference", "choices"],
    "personality": ["persona_id", "m", "true", "estimate"],
    "persona_mme": ["setting", "task", "context_tokens", "context_turns", "needs_image"],
}


def _hash64(b: bytes) -> int:
    return xxhash.xxh64_intdigest(b)


def _sketch() -> HyperLogLogPlusPlus:
    return HyperLogLogPlusPlus(p=14, hashfunc=_hash64)


def ngrams(text: str, n: int) -> list[tuple[str, ...]]:
    w = _WORD.findall(text.lower())
    return list(zip(*(w[i:] for i in range(n))))


def distinct_n(texts: list[str], n: int) -> float:
    """Share of distinct n-grams among all n-grams (higher = more varied wording)."""
    total, seen = 0, set()
    for t in texts:
        grams = ngrams(t, n)
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0


def _time(s: str) -> datetime:
    return datetime.fromisoformat(s)


@dataclass
class Partial:
    tallies: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    grids: dict[str, np.ndarray] = field(default_factory=dict)
    lows: dict[str, object] = field(default_factory=dict)
    highs: dict[str, object] = field(default_factory=dict)
    firsts: dict[str, list] = field(default_factory=lambda: defaultdict(list))  # (key, value), smallest keys kept
    sketches: dict[str, HyperLogLogPlusPlus] = field(default_factory=dict)

    def grid(self, name: str, values: np.ndarray) -> None:
        self.grids[name] = self.grids[name] + values if name in self.grids else values

    def extremes(self, name: str, low, high) -> None:
        self.lows[name] = min(self.lows.get(name, low), low)
        self.highs[name] = max(self.highs.get(name, high), high)

    def keep(self, name: str, entries: list[tuple]) -> None:
        self.firsts[name] = sorted(self.firsts[name] + entries, key=lambda e: e[0])[:FIRST[name]]

    def sketch(self, name: str) -> HyperLogLogPlusPlus:
        return self.sketches.setdefault(name, _sketch())

    def merge(self, other: Partial) -> Partial:
        for k, c in other.tallies.items():
            self.tallies[k].update(c)
        for k, g in other.grids.items():
            self.grid(k, g)
        for k in other.lows:
            self.extremes(k, other.lows[k], other.highs[k])
        for k, entries in other.firsts.items():
            self.keep(k, entries)
        for k, s in other.sketches.items():
            self.sketch(k).merge(s)
        self.bound_top_turns()
        return self

    def bound_top_turns(self) -> None:
        """Keep only the most common user turns (the share of the most repeated one is read from them)."""
        if "top_turns" in self.tallies:
            self.tallies["top_turns"] = Counter(dict(self.tallies["top_turns"].most_common(FIRST["top_turns"])))


def aggregate_shard(path: str, table: str, shard_order: int) -> Partial:
    """One shard's partial aggregate (a task); `shard_order` places its rows among all shards of the table."""
    part = Partial()
    parquet = pq.ParquetFile(path)
    add = _ADD[table]
    for i in range(parquet.num_row_groups):
        add(part, parquet.read_row_group(i, columns=COLUMNS[table]), (shard_order, i))
    part.bound_top_turns()
    return part


def _personas(part: Partial, rows: pa.Table, _) -> None:
    part.tallies["count"]["personas"] += rows.num_rows
    for split in set(rows["split"].to_pylist()):
        mine = rows.filter(pc.equal(rows["split"], split))
        pts = np.array([[b[t] for t in TRAITS] for b in mine["big_five"].to_pylist()], dtype=float).reshape(-1, 5)
        grid = np.zeros((5, 5, len(TRAIT_BINS) - 1, len(TRAIT_BINS) - 1))
        for i in range(5):
            for j in range(5):
                grid[i, j] = np.histogram2d(pts[:, i], pts[:, j], bins=[TRAIT_BINS, TRAIT_BINS])[0]
        part.grid(f"big_five/{split}", grid)


def _sessions(part: Partial, rows: pa.Table, where: tuple[int, int]) -> None:
    lengths = pc.list_value_length(rows["turns"]).to_numpy()
    turns = pc.list_flatten(rows["turns"]).combine_chunks()
    roles = turns.field("role").to_numpy(zero_copy_only=False)
    texts = turns.field("text").to_pylist()
    images = pc.list_value_length(turns.field("image_ids")).to_numpy(zero_copy_only=False) > 0
    user = roles == "user"
    pids = rows["persona_id"].to_pylist()
    session_ids = rows["id"].to_pylist()
    starts = [_time(s) for s in rows["start_time"].to_pylist()]
    turn_pids = np.repeat(np.array(pids, dtype=object), lengths)
    tally = part.tallies
    tally["count"].update(sessions=rows.num_rows, turns=len(texts), user_turns=int(user.sum()), images=int(images.sum()))
    tally["turns_per_session"].update(lengths.tolist())
    tally["sessions_per_persona"].update(Counter(pids).values())
    tally["sources"].update(turns.field("source").to_pylist())
    offsets = np.r_[0, np.cumsum(lengths)[:-1]]
    tally["images_per_session"].update(np.add.reduceat(images.astype(int), offsets).tolist() if len(lengths) else [])
    user_texts = [t for t, u in zip(texts, user) if u]
    tally["top_turns"].update(user_texts)
    for n in (2, 3):
        sketch = part.sketch(f"user_{n}grams")
        total = 0
        for t in user_texts:
            grams = ngrams(t, n)
            total += len(grams)
            for g in grams:
                sketch.update(" ".join(g).encode())
        tally["count"][f"user_{n}grams"] += total
    turn_index = np.concatenate([np.arange(n) for n in lengths]) if len(lengths) else np.zeros(0, int)
    turn_sessions = np.repeat(np.array(session_ids, dtype=object), lengths)
    part.keep("turn_sample", [(_hash64(f"{turn_sessions[k]}/t{turn_index[k]}".encode()), texts[k])
                              for k in np.flatnonzero(user)])
    rates = np.zeros(RATE_BINS + 1)
    for pid in dict.fromkeys(pids):
        mine = user & (turn_pids == pid)
        if mine.any():
            rate = float(images[mine].mean())
            rates[min(RATE_BINS, int(rate * RATE_BINS))] += 1
            part.extremes("image_rate", rate, rate)
    part.grid("image_rate", rates)
    rhythm = np.zeros((7, 24))
    for s in starts:
        rhythm[s.weekday(), s.hour] += 1
    part.grid("rhythm", rhythm)
    if starts:
        part.extremes("start", min(starts), max(starts))
    by_persona: dict[str, list] = defaultdict(list)
    for pid, s, truth in zip(pids, starts, rows["true_personality"].to_pylist()):
        by_persona[pid].append((s, truth))
    part.keep("calendar", [(pid, [s for s, _ in v]) for pid, v in by_persona.items()])
    part.keep("personality", [(pid, v) for pid, v in by_persona.items() if v[0][1] is not None])
    seen, picks = set(), []
    for k, (sid, pid) in enumerate(zip(session_ids, pids)):  # the first sessions with a photo, one per persona
        if pid not in seen and images[offsets[k]:offsets[k] + lengths[k]].any():
            seen.add(pid)
            picks.append(((*where, k), rows.slice(k, 1).select(["id", "persona_id", "turns"]).to_pylist()[0]))
        if len(picks) == FIRST["samples"]:
            break
    part.keep("samples", picks)


def _events(part: Partial, rows: pa.Table, _) -> None:
    kinds = rows["kind"].to_pylist()
    pids = rows["persona_id"].to_pylist()
    part.tallies["events_by_kind"].update(kinds)
    shifts: dict[str, list] = {pid: [] for pid in dict.fromkeys(pids)}
    for pid, kind, t, facts in zip(pids, kinds, rows["time"].to_pylist(), rows["facts"].to_pylist()):
        if kind == "preference_shift":
            when, category = _time(t), facts[0]["key"].split("/", 1)[1]
            shifts[pid].append(when)
            part.tallies["shifts_by_day"][(when.date().isoformat(), category)] += 1
            part.extremes("shift", when, when)
    part.tallies["shifts_per_persona"].update(len(v) for v in shifts.values())
    part.keep("shifts", [(pid, v) for pid, v in shifts.items() if v])


def _sft(part: Partial, rows: pa.Table, _) -> None:
    part.tallies["sft_tasks"].update(rows["task"].to_pylist())


def _memory_ops(part: Partial, rows: pa.Table, _) -> None:
    part.tallies["memory_ops"].update(f"{m}/{o}" for m, o in zip(rows["memory"].to_pylist(), rows["op"].to_pylist()))


def _rl(part: Partial, rows: pa.Table, _) -> None:
    kinds = rows["kind"].to_pylist()
    part.tallies["rl_kinds"].update(kinds)
    for k, ref, choices in zip(kinds, rows["reference"].to_pylist(), rows["choices"].to_pylist()):
        if k == "multiple-choice":
            part.tallies["rl_mc_correct_position"][ref] += 1
            part.tallies["count"]["rl_mc_uniquely_longest"] += uniquely_longest([(x["key"], x["text"]) for x in choices], ref)


def _personality(part: Partial, rows: pa.Table, _) -> None:
    by_persona: dict[str, list] = defaultdict(list)
    for r in rows.to_pylist():
        by_persona[r["persona_id"]].append(r)
    for mine in by_persona.values():
        last = mine[-1]
        part.grid("estimate_error", np.array([np.mean([abs(last["estimate"][t] - last["true"][t]) for t in TRAITS]), 1.0]))
    part.keep("estimate", list(by_persona.items()))


def _persona_mme(part: Partial, rows: pa.Table, _) -> None:
    t = part.tallies
    for setting, task, tokens, turns, needs in zip(*(rows[c].to_pylist() for c in COLUMNS["persona_mme"])):
        t["mme_questions"][setting] += 1
        t["mme_task_setting"][(task, setting)] += 1
        t["count"]["mme_needs_image"] += bool(needs)
        t["count"][f"mme_{setting}_context_turns"] += turns
        t["count"][f"mme_{setting}_context_tokens"] += tokens
        part.extremes(f"mme_{setting}_context_turns", turns, turns)
        part.extremes(f"mme_{setting}_context_tokens", tokens, tokens)
        part.grid(f"mme_budget/{setting}", np.histogram([100 * tokens / BUDGET[setting]], bins=BUDGET_BINS)[0])


_ADD = {"personas": _personas, "sessions": _sessions, "events": _events, "sft": _sft, "memory_ops": _memory_ops,
        "rl": _rl, "personality": _personality, "persona_mme": _persona_mme}


def shard_calls(run_dir: Path) -> list[tuple]:
    """One call per shard the report reads, in the order `aggregate` places its rows."""
    calls = []
    for table in _ADD:
        for k, path in enumerate(sorted((run_dir / "data" / table).glob("*.parquet"))):
            calls.append((str(path), table, k))
    return calls


def image_bytes(path: str, image_ids: list[str]) -> dict[str, bytes]:
    """The bytes of these images in one images shard (a task: the report fetches only its samples' photos)."""
    table = pq.read_table(path, columns=["id", "image"], filters=[("id", "in", image_ids)])
    return {r["id"]: r["image"]["bytes"] for r in table.to_pylist()}
