"""JSON Schemas of the records, generated from the pydantic models into `schemas/`.

The committed files are what external users validate against; a test fails when they drift from
the models (regenerate with `python -m pipeline schemas`).
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from pipeline.config import REPO_ROOT
from pipeline.tables import DECLARED

RECORDS: dict[str, type[BaseModel]] = {t.schema_name: t.record for t in DECLARED}
SCHEMA_DIR = REPO_ROOT / "schemas"


def schema_of(name: str) -> dict:
    schema = RECORDS[name].model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"personaforge/{name}.schema.json", **schema}


def write_schemas(folder: Path = SCHEMA_DIR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in RECORDS:
        path = folder / f"{name}.schema.json"
        path.write_text(json.dumps(schema_of(name), indent=2, sort_keys=True) + "\n")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    from pipeline.cli import parser

    ap = parser("python -m pipeline schemas", "Write the JSON Schemas of the records (what external users validate "
                "against) from the pydantic models.")
    ap.add_argument("--out", type=Path, default=SCHEMA_DIR, metavar="DIR", help="target folder (default: schemas/)")
    args = ap.parse_args(argv)
    for path in write_schemas(args.out):
        print(path)
    return 0
