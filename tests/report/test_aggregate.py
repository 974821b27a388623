"""The report's partial aggregates: merged in any grouping they give the same statistics, and those equal what
the whole columns say (the corpus-wide distinct-n within its sketch's error)."""

from __future__ import annotations

import random
from collections import Counter
from functools import reduce

import pyarrow.compute as pc
import pyarrow.dataset as pads
import pytest

from pipeline.report.aggregate import Partial, aggregate_shard, distinct_n, shard_calls
from pipeline.report.build import _statistics
from pipeline.shards import write_shards
from tests.conftest import write_run


@pytest.fixture(scope="module")
def many_shards(small_parts, tmp_path_factory):
    """A small run cut into many shards (and so many partial aggregates)."""
    run = write_run(small_parts, tmp_path_factory.mktemp("run"))
    write_shards(run, [p.persona.id for p in small_parts], target_mb=0.05)
    return run


def _column(run, table, column):
    return pads.dataset(sorted((run / "data" / table).glob("*.parquet")), format="parquet").to_table(columns=[column])[column]


def test_any_grouping_of_the_shards_gives_the_same_statistics(many_shards):
    partials = [aggregate_shard(*call) for call in shard_calls(many_shards)]
    assert sum(call[1] == "sessions" for call in shard_calls(many_shards)) >= 3
    in_order = _statistics(reduce(Partial.merge, partials, Partial()))
    shuffled = partials[:]
    random.Random(0).shuffle(shuffled)
    half = len(shuffled) // 2
    pairs = reduce(Partial.merge, shuffled[:half], Partial()).merge(reduce(Partial.merge, shuffled[half:], Partial()))
    assert _statistics(pairs) == in_order


def test_the_statistics_equal_the_whole_columns(many_shards):
    partials = [aggregate_shard(*call) for call in shard_calls(many_shards)]
    stats = _statistics(reduce(Partial.merge, partials, Partial()))
    sessions = _column(many_shards, "sessions", "turns")
    turns = pc.list_flatten(sessions).combine_chunks()
    roles = turns.field("role").to_pylist()
    user = [t for t, r in zip(turns.field("text").to_pylist(), roles) if r == "user"]
    with_image = [len(i) > 0 for i in turns.field("image_ids").to_pylist()]
    assert stats["sessions"] == len(sessions) and stats["turns"] == len(turns) and stats["user_turns"] == len(user)
    assert stats["images"] == sum(with_image)
    lengths = pc.list_value_length(sessions).to_pylist()
    assert stats["turns_per_session"] == {"min": min(lengths), "mean": round(sum(lengths) / len(lengths), 2),
                                          "max": max(lengths)}
    per_persona = Counter(_column(many_shards, "sessions", "persona_id").to_pylist()).values()
    assert stats["sessions_per_persona"]["max"] == max(per_persona)
    assert stats["events_by_kind"] == dict(sorted(Counter(_column(many_shards, "events", "kind").to_pylist()).items()))
    assert stats["most_repeated_user_turn_share"] == round(Counter(user).most_common(1)[0][1] / len(user), 5)
    sources = Counter(turns.field("source").to_pylist())
    assert stats["text_source_share"] == {k: round(v / len(turns), 4) for k, v in sorted(sources.items())}
    for n in (2, 3):  # the sketch's estimate against the exact share
        assert stats[f"distinct_{n}_user"] == pytest.approx(distinct_n(user, n), rel=0.02)
    assert stats["distinct_3_user_10k"] == round(distinct_n(user, 3), 4)  # fewer than 10k turns: the sample is all
