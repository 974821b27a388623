from __future__ import annotations

import pyarrow.parquet as pq

from pipeline.parts import is_complete, part_dir, read_part, write_part
from pipeline.records import Session
from pipeline.shards import write_shards
from pipeline.tables import TABLES


def test_part_roundtrip_and_tamper_detection(tmp_path, small_parts):
    part = small_parts[0]
    rows = write_part(tmp_path, part, "fp")
    assert rows == {"personas": 1, "events": len(part.events), "sessions": len(part.sessions), "images": len(part.images),
                    "memory_ops": len(part.memory_ops), "personality": len(part.personality), "sft": len(part.sft),
                    "rl": len(part.rl), "persona_mme": 0, "quarantine": 0}
    assert rows["sft"] and rows["rl"]
    assert is_complete(tmp_path, part.persona.id, "fp")
    assert not is_complete(tmp_path, part.persona.id, "other-config")
    back = [Session.model_validate(r) for r in read_part(tmp_path, part.persona.id, "sessions").to_pylist()]
    assert back == part.sessions
    path = part_dir(tmp_path, part.persona.id) / "events.parquet"
    path.write_bytes(path.read_bytes()[:-20])
    assert not is_complete(tmp_path, part.persona.id, "fp")
    assert not list((tmp_path / "parts").glob(".tmp-*"))


def test_shards_hf_layout_rollover_and_determinism(tmp_path, small_parts):
    for p in small_parts:
        write_part(tmp_path, p, "fp")
    ids = [p.persona.id for p in small_parts]
    shards = write_shards(tmp_path, ids, target_mb=0.1)
    names = {s["path"] for s in shards}
    assert "data/personas/train-00000-of-00001.parquet" in names
    # the benchmark personas' cards and worlds are the answer key, not input: they are not in `test`
    assert "data/personas/answer_key-00000-of-00001.parquet" in names
    assert "data/events/answer_key-00000-of-00001.parquet" in names
    assert not {n for n in names if n.startswith(("data/personas/test-", "data/events/test-"))}
    assert "data/sessions/test-00000-of-00001.parquet" in names
    test_sessions = pq.read_table(tmp_path / "data/sessions/test-00000-of-00001.parquet").to_pylist()
    assert all(s["true_personality"] is None for s in test_sessions)
    test_images = [n for n in names if n.startswith("data/images/test-")]
    assert all(r["spec"] is None and r["caption"] is None for n in test_images
               for r in pq.read_table(tmp_path / n, columns=["spec", "caption"]).to_pylist())
    image_shards = sorted(s["path"] for s in shards if s["table"] == "images" and s["split"] == "train")
    n = len(image_shards)
    assert n >= 2, "a 0.1 MB target must roll the image table over"
    assert image_shards == [f"data/images/train-{k:05d}-of-{n:05d}.parquet" for k in range(n)]
    for table in TABLES:
        total = sum(s["rows"] for s in shards if s["table"] == table)
        assert total == sum(read_part(tmp_path, i, table).num_rows for i in ids)
    meta = pq.read_schema(tmp_path / image_shards[0]).metadata
    assert b'"_type": "Image"' in meta[b"huggingface"]
    first = {s["path"]: s["sha256"] for s in shards}
    again = write_shards(tmp_path, list(reversed(ids)), target_mb=0.1)
    assert {s["path"]: s["sha256"] for s in again} == first
    assert not (tmp_path / "data.tmp").exists() and not (tmp_path / "data.old").exists()


def test_shards_leave_out_exactly_the_dropped_rows(tmp_path, small_parts):
    for p in small_parts:
        write_part(tmp_path, p, "fp")
    ids = [p.persona.id for p in small_parts]
    sft = [r["id"] for i in ids for r in read_part(tmp_path, i, "sft", ["id"]).to_pylist()]
    dropped = sft[::3] + ["train-99999/not-a-row"]  # an id that matches no row changes nothing
    shards = write_shards(tmp_path, ids, target_mb=64, drop_ids={"sft": dropped})
    shipped = [r["id"] for s in shards if s["table"] == "sft" for r in pq.read_table(tmp_path / s["path"], columns=["id"]).to_pylist()]
    assert shipped == [i for i in sft if i not in set(dropped)] and len(shipped) < len(sft)
    events = sum(s["rows"] for s in shards if s["table"] == "events")
    assert events == sum(read_part(tmp_path, i, "events").num_rows for i in ids)
