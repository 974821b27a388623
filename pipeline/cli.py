"""What every command line here shares: no abbreviated options, and flags generated from a typed config.

argparse accepts any unambiguous prefix by default (`--persona 10` silently meant `--personas 10`);
every parser is built here with that off. A config's flags come from its pydantic fields, so a new
field is a new flag (and a YAML key) with its description, choices and one default in `--help`.
"""

from __future__ import annotations

import argparse
import types
from datetime import date
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel


def parser(prog: str, description: str | None = None, **kw: Any) -> argparse.ArgumentParser:
    return argparse.ArgumentParser(prog=prog, description=description, allow_abbrev=False, **kw)


def subparsers(ap: argparse.ArgumentParser, dest: str, title: str) -> Any:
    """Required subcommands whose parsers refuse abbreviations too (argparse does not pass the setting down)."""
    sub = ap.add_subparsers(dest=dest, required=True, title=title, metavar="{" + title + "}")
    plain = sub.add_parser

    def add_parser(name: str, **kw: Any) -> argparse.ArgumentParser:
        kw.setdefault("description", kw.get("help"))
        return plain(name, allow_abbrev=False, **kw)

    sub.add_parser = add_parser
    return sub


def _mapping(text: str) -> dict:
    value = yaml.safe_load(text)
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a YAML/JSON mapping such as '{{key: value}}', got {text!r}")
    return value


def _unwrap_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


def _shown_default(value: Any, root: Path | None) -> str | None:
    if value is None or value == {} or value == ():
        return None
    if isinstance(value, Path) and root is not None and value.is_absolute() and value.is_relative_to(root):
        return str(value.relative_to(root)) or "."
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return " ".join(map(str, value))
    return str(value)


def add_model_options(ap: argparse.ArgumentParser | argparse._ArgumentGroup, model: type[BaseModel],
                      root: Path | None = None) -> None:
    """One `--field-name` per field of `model`, defaulting to None (so that only what was given overrides
    the YAML file). Values are validated by the model, not here, so a bad one is reported like a bad YAML key."""
    for name, field in model.model_fields.items():
        kind = _unwrap_optional(field.annotation)
        kw: dict[str, Any] = {"dest": name, "default": None}
        if kind is bool:
            kw["action"] = argparse.BooleanOptionalAction
        elif get_origin(kind) is Literal:
            kw["choices"] = get_args(kind)
        elif get_origin(kind) is tuple:
            kw.update(nargs=len(get_args(kind)), type=get_args(kind)[0], metavar=("MIN", "MAX"))
        elif get_origin(kind) is dict:
            kw.update(type=_mapping, metavar="YAML")
        elif kind in (int, float):
            kw.update(type=kind, metavar="N" if kind is int else "X")
        elif kind is date:
            kw["metavar"] = "YYYY-MM-DD"
        elif kind is Path:
            kw.update(type=Path, metavar="PATH")
        else:
            kw["metavar"] = name.rsplit("_", 1)[-1].upper()
        if isinstance(field.json_schema_extra, dict) and "metavar" in field.json_schema_extra:
            kw["metavar"] = field.json_schema_extra["metavar"]
        text = field.description or ""
        default = _shown_default(field.default, root)
        if default is not None and "(default" not in text:
            text += f" (default: {default})"
        ap.add_argument("--" + name.replace("_", "-"), help=text, **kw)
