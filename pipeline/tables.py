"""Arrow schemas of the shipped tables, with the Hugging Face features metadata.

Schemas are explicit (not inferred) so empty lists and nulls keep their types and every shard of a
table has the same schema. The `huggingface` metadata is produced by `datasets.Features` itself,
which makes `datasets` read the image column as `Image()` and turns as lists of structs.
"""

from __future__ import annotations

import pyarrow as pa

from pipeline.records import TRAITS, PersonaPart

S, I, F, B = pa.string(), pa.int64(), pa.float64(), pa.bool_()


def _struct(**fields: pa.DataType) -> pa.StructType:
    return pa.struct([pa.field(k, v) for k, v in fields.items()])


BIG_FIVE = _struct(**{t: F for t in TRAITS})
SCENE = _struct(setting=S, objects=pa.list_(_struct(name=S, shape=S, colour=S, count=I)), caption=S)
FACT = _struct(id=S, kind=S, key=S, value=S, text=S, terms=pa.list_(S), modality=S)
TURN = _struct(index=I, role=S, time=S, text=S, image_ids=pa.list_(S), fact_ids=pa.list_(S),
               time_refs=pa.list_(_struct(event_id=S, phrase=S)), source=S)
IMAGE = _struct(bytes=pa.binary(), path=S)
SCORES = _struct(**{t: I for t in TRAITS})
MESSAGES = pa.list_(_struct(role=S, content=pa.list_(_struct(type=S, text=S))))

SCHEMAS: dict[str, pa.Schema] = {
    "personas": pa.schema([
        ("id", S), ("split", S), ("name", S), ("age", I), ("occupation", S), ("location", S), ("bio", S),
        ("big_five", BIG_FIVE),
        ("style", _struct(exuberance=F, warmth=F, precision=F, worry=F, vividness=F, summary=S)),
        ("rhythm", _struct(sessions_per_week=F, peak_hour=F, hour_spread=F, weekend_factor=F)),
        ("interests", pa.list_(S)),
        ("relationships", pa.list_(_struct(name=S, role=S, closeness=I))),
        ("goals", pa.list_(_struct(id=S, text=S, key=S))),
        ("habits", pa.list_(_struct(id=S, activity=S, key=S, weekday=I, part=S))),
        ("preferences", pa.list_(_struct(category=S, noun=S, item=S))),
    ]),
    "events": pa.schema([
        ("id", S), ("persona_id", S), ("split", S), ("time", S), ("kind", S), ("participants", pa.list_(S)),
        ("place", S), ("facts", pa.list_(FACT)), ("image_spec", SCENE),
        ("trait_effect", pa.list_(_struct(trait=S, delta=F))),
    ]),
    "sessions": pa.schema([
        ("id", S), ("persona_id", S), ("split", S), ("index", I), ("start_time", S), ("end_time", S),
        ("turns", pa.list_(TURN)), ("planned_fact_ids", pa.list_(S)), ("true_personality", BIG_FIVE),
    ]),
    "images": pa.schema([
        ("id", S), ("persona_id", S), ("split", S), ("session_id", S), ("turn_index", I), ("event_id", S),
        ("spec", SCENE), ("caption", S), ("image", IMAGE),
    ]),
    "memory_ops": pa.schema([
        ("session_id", S), ("persona_id", S), ("split", S), ("index", I), ("memory", S), ("op", S), ("key", S),
        ("before", S), ("after", S), ("keywords", pa.list_(S)), ("evidence", pa.list_(I)), ("fact_ids", pa.list_(S)),
        ("time", S),
    ]),
    "personality": pa.schema([
        ("session_id", S), ("persona_id", S), ("split", S), ("m", I), ("lam", F), ("observed", SCORES),
        ("estimate", BIG_FIVE), ("true", BIG_FIVE),
    ]),
    "sft": pa.schema([
        ("id", S), ("persona_id", S), ("split", S), ("task", S), ("session_id", S), ("messages", MESSAGES),
        ("image_ids", pa.list_(S)), ("images", pa.list_(IMAGE)),
    ]),
    "rl": pa.schema([
        ("id", S), ("persona_id", S), ("split", S), ("kind", S), ("session_id", S), ("prompt", MESSAGES),
        ("image_ids", pa.list_(S)), ("images", pa.list_(IMAGE)), ("choices", pa.list_(_struct(key=S, text=S))),
        ("reference", S), ("reference_text", S), ("evidence", pa.list_(S)), ("group_size", I),
    ]),
    "persona_mme": pa.schema([
        ("id", S), ("persona_id", S), ("split", S), ("setting", S), ("aspect", S), ("task", S), ("time", S), ("query", S),
        ("choices", pa.list_(_struct(key=S, text=S))), ("answer", S), ("answer_text", S),
        ("evidence", pa.list_(_struct(session_id=S, turn_index=I, fact_id=S, image_id=S))),
        ("history_sessions", pa.list_(S)), ("needs_image", B), ("context_turns", I), ("context_images", I),
        ("context_tokens", I), ("token_counter", S), ("alignment", _struct(chosen=S, rejected=S)),
        ("certified", B),
    ]),
    "quarantine": pa.schema([("persona_id", S), ("split", S), ("session_id", S), ("reason", S), ("attempts", I)]),
}
TABLES = tuple(SCHEMAS)
IMAGE_COLUMNS = {"images": "image"}  # a single Image() per row
IMAGE_LIST_COLUMNS = {"sft": "images", "rl": "images"}  # a list of Image() per row


def _image(png: bytes, image_id: str) -> dict:
    return {"bytes": png, "path": f"{image_id.replace('/', '_')}.png"}


def _with_images(sample) -> dict:
    return {**sample.model_dump(exclude={"images"}), "images": [_image(b, i) for b, i in zip(sample.images, sample.image_ids)]}


def part_tables(part: PersonaPart) -> dict[str, pa.Table]:
    """One persona's records as Arrow tables (rows in record order); a quarantined persona ships
    only its quarantine row."""
    if part.quarantine:
        rows = {name: [] for name in TABLES}
        rows["quarantine"] = [q.model_dump() for q in part.quarantine]
        return {name: pa.Table.from_pylist(rows[name], schema=SCHEMAS[name]) for name in TABLES}
    bench = part.persona.split == "bench"
    rows = {
        "personas": [part.persona.model_dump()],
        "events": [e.model_dump() for e in part.events],
        # a benchmark history is model input: no true personality, no scene spec or caption of its photos
        # (they are in the answer key's events)
        "sessions": [{**s.model_dump(), **({"true_personality": None} if bench else {})} for s in part.sessions],
        "images": [{**im.model_dump(exclude={"png"}), "image": _image(im.png, im.id),
                    **({"spec": None, "caption": None} if bench else {})} for im in part.images],
        "memory_ops": [o.model_dump() for o in part.memory_ops],
        "personality": [o.model_dump() for o in part.personality],
        "sft": [_with_images(x) for x in part.sft],
        "rl": [_with_images(x) for x in part.rl],
        "persona_mme": [q.model_dump() for q in part.mme],
        "quarantine": [],
    }
    return {name: pa.Table.from_pylist(rows[name], schema=SCHEMAS[name]) for name in TABLES}


def hf_schema(table: str) -> pa.Schema:
    """The table's schema carrying `datasets` features metadata (image columns as Image())."""
    from datasets import Features, Image, List

    features = Features.from_arrow_schema(SCHEMAS[table])
    if table in IMAGE_COLUMNS:
        features[IMAGE_COLUMNS[table]] = Image()
    if table in IMAGE_LIST_COLUMNS:
        features[IMAGE_LIST_COLUMNS[table]] = List(Image())
    return features.arrow_schema
