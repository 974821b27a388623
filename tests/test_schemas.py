from __future__ import annotations

import json

import jsonschema

from pipeline.schemas import RECORDS, SCHEMA_DIR, schema_of


def test_committed_schemas_match_the_records():
    for name in RECORDS:
        committed = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text())
        assert committed == schema_of(name), f"schemas/{name}.schema.json is stale: run `python -m pipeline schemas`"


def test_every_record_of_a_small_run_validates(small_parts):
    validators = {n: jsonschema.Draft202012Validator(json.loads((SCHEMA_DIR / f"{n}.schema.json").read_text()))
                  for n in RECORDS}
    counts = dict.fromkeys(RECORDS, 0)
    for part in small_parts:
        for name, records in (("persona", [part.persona]), ("event", part.events), ("session", part.sessions),
                              ("image", part.images), ("memory_op", part.memory_ops), ("personality", part.personality),
                              ("sft", part.sft), ("rl", part.rl), ("mme_question", part.mme),
                              ("quarantine", part.quarantine)):
            for r in records:
                validators[name].validate(json.loads(r.model_dump_json()))
                counts[name] += 1
    assert all(n for name, n in counts.items() if name != "quarantine"), counts  # a small run quarantines no one
    bad = json.loads(small_parts[0].sessions[0].model_dump_json())
    bad["turns"][0]["role"] = "narrator"
    assert not validators["session"].is_valid(bad)
