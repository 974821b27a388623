"""The shipped tables, each declared once: its record, its rows in a persona's part, its description,
its image column. The Arrow schema (with the Hugging Face features metadata), the card's table list,
the JSON Schemas and the shards all read these declarations.

Schemas are derived from the records' annotations (not inferred from data) so empty lists and nulls
keep their types and every shard of a table has the same schema. A record's `bytes` field ships as an
`Image()` column (a list of `bytes` as a list of `Image()`), `{bytes, path}` as `datasets` stores it.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal, get_args, get_origin

import pyarrow as pa
from pydantic import BaseModel

from pipeline.records import (
    Event,
    Image,
    MemoryOp,
    MmeQuestion,
    Persona,
    PersonalityObs,
    PersonaPart,
    Quarantine,
    Record,
    RlSample,
    Session,
    SftSample,
)

IMAGE = pa.struct([pa.field("bytes", pa.binary()), pa.field("path", pa.string())])
_SCALARS = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}


@dataclass(frozen=True)
class Table:
    name: str
    record: type[Record]
    schema_name: str  # schemas/<schema_name>.schema.json
    about: str  # the card's description
    rows: Callable[[PersonaPart], list[Record]]
    image: tuple[str, str] | None = None  # (record's bytes field, shipped column)
    bench_nulls: tuple[str, ...] = ()  # model input for a benchmark persona must not hold these


def _arrow(annotation) -> pa.DataType:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _arrow(get_args(annotation)[0])
    if origin is Literal:
        return _arrow(type(get_args(annotation)[0]))
    if origin in (typing.Union, types.UnionType):
        return _arrow(next(a for a in get_args(annotation) if a is not type(None)))
    if origin is list:
        return pa.list_(_arrow(get_args(annotation)[0]))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return pa.struct([pa.field(k, _arrow(f.annotation)) for k, f in annotation.model_fields.items()])
    if annotation is bytes:
        return IMAGE
    return _SCALARS[annotation]


def arrow_schema(table: Table) -> pa.Schema:
    fields = []
    for name, f in table.record.model_fields.items():
        column = table.image[1] if table.image and table.image[0] == name else name
        fields.append(pa.field(column, _arrow(f.annotation)))
    return pa.schema(fields)


DECLARED: tuple[Table, ...] = (
    Table("personas", Persona, "persona", "One row per persona (benchmark personas: `answer_key` split, for audit only): "
          "Big Five (1-5, Latin hypercube per split), style, rhythm, demographics, relationships, goals, habits, "
          "starting preferences.", lambda p: [p.persona]),
    Table("events", Event, "event", "The simulated world, for audit (benchmark personas: `answer_key` split): "
          "time-stamped events made of atomic facts (each with the terms a text must contain to state it), scene specs "
          "of photos, personality effects of strong events.", lambda p: p.events),
    Table("sessions", Session, "session", "Conversations: one row per session with its turns (role, time, text, image "
          "ids, the fact ids a user turn conveys or an assistant turn recalls, relative-date references) and the true "
          "Big Five (null for benchmark personas).", lambda p: p.sessions, bench_nulls=("true_personality",)),
    Table("images", Image, "image", "Every picture shown in a conversation: PNG, its scene spec (objects, colours, "
          "counts) and caption (null for benchmark personas: they are in the answer key's events).",
          lambda p: p.images, image=("png", "image"), bench_nulls=("spec", "caption")),
    Table("memory_ops", MemoryOp, "memory_op", "Update-stage targets: ADD/UPDATE/DELETE/NOOP on core, semantic, "
          "episodic and procedural memory, with the evidence turns. Replaying a persona's ops rebuilds its memory "
          "after every session.", lambda p: p.memory_ops),
    Table("personality", PersonalityObs, "personality", "Per session: observed integer Big Five p', the EMA estimate "
          "(PersonaVLM's lambda schedule) and the truth.", lambda p: p.personality),
    Table("sft", SftSample, "sft", "SFT samples (messages + images, TRL conversational format): the PersonaVLM agent's "
          "own calls in its templates and line formats: reasoning with <think>/<retrieve>/<answer>, per-message "
          "personality and semantic decisions, per-session episodic topics and core/procedural rewrites.",
          lambda p: p.sft, image=("images", "images")),
    Table("rl", RlSample, "rl", "GRPO prompts with checkable references for questions that need a search: the START "
          "prompt with the options, the search and what it retrieves (the asked exchange among others on the same "
          "people); multiple-choice, two-choice and open, group size 6.", lambda p: p.rl, image=("images", "images")),
    Table("persona_mme", MmeQuestion, "mme_question", "Persona-MME benchmark (test split): in-situ multiple-choice "
          "questions over the benchmark personas' real histories at 32k and 128k, 14 tasks in 7 aspects, with evidence, "
          "context sizes, and the aligned/misaligned replies of Personality Alignment. Export to the release layout "
          "with `python -m pipeline export personavlm`.", lambda p: p.mme),
    Table("quarantine", Quarantine, "quarantine", "Personas left out, with the reason: too many of their turns fell "
          "back to the scripted draft (LLM text backend), or their generation raised; their data is not shipped.",
          lambda p: p.quarantine),
)
BY_NAME = {t.name: t for t in DECLARED}
TABLES = tuple(BY_NAME)
SCHEMAS: dict[str, pa.Schema] = {t.name: arrow_schema(t) for t in DECLARED}


def _image(png: bytes, image_id: str) -> dict:
    return {"bytes": png, "path": f"{image_id.replace('/', '_')}.png"}


def _row(table: Table, record: Record, bench: bool) -> dict:
    row = record.model_dump(exclude={table.image[0]} if table.image else None)
    if table.image:
        data = getattr(record, table.image[0])
        row[table.image[1]] = (_image(data, record.id) if isinstance(data, bytes)
                               else [_image(b, i) for b, i in zip(data, record.image_ids)])
    if bench:
        row.update(dict.fromkeys(table.bench_nulls))
    return row


def part_tables(part: PersonaPart) -> dict[str, pa.Table]:
    """One persona's records as Arrow tables (rows in record order); a quarantined persona ships only its
    quarantine row."""
    bench = part.persona.split == "bench"
    out = {}
    for t in DECLARED:
        records = t.rows(part) if not part.quarantine or t.name == "quarantine" else []
        out[t.name] = pa.Table.from_pylist([_row(t, r, bench) for r in records], schema=SCHEMAS[t.name])
    return out


def hf_schema(table: str) -> pa.Schema:
    """The table's schema carrying `datasets` features metadata (image columns as Image())."""
    from datasets import Features, List
    from datasets import Image as HfImage

    features = Features.from_arrow_schema(SCHEMAS[table])
    spec = BY_NAME[table]
    if spec.image:
        column = spec.image[1]
        features[column] = List(HfImage()) if pa.types.is_list(SCHEMAS[table].field(column).type) else HfImage()
    return features.arrow_schema


def image_column(table: str) -> tuple[str, bool] | None:
    """(column, is a list) of a table's images, or None."""
    spec = BY_NAME[table]
    if not spec.image:
        return None
    return spec.image[1], pa.types.is_list(SCHEMAS[table].field(spec.image[1]).type)
