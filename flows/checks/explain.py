"""Turn a Frictionless error into a located Problem with a Swedish fix (English alongside)."""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from typing import Any

from frictionless import Schema

from flows.core.messages import Said, say
from flows.core.problems import Problem, problem

TYPE_HINTS = ("string", "integer", "number", "date", "year", "boolean", "datetime")


def nearest(value: Any, choices: list[str]) -> list[str]:
    """The (up to) three choices closest to the value; the same value is looked up once."""
    if not isinstance(choices, tuple):
        choices = tuple(str(c) for c in choices)
    return list(_nearest(str(value), choices))


@lru_cache(maxsize=4096)
def _nearest(value: str, choices: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(difflib.get_close_matches(value, choices, n=3, cutoff=0.5))


def _suggest(value: Any, choices: list[str]) -> Said | str:
    close = nearest(value, choices)
    if not close:
        return ""
    return say("checks.did-you-mean", choices=", ".join(f"'{c}'" for c in close))


def _hint(type_: str) -> Said | str:
    """What to write in a column of this type; the type's own name for a type without a hint."""
    return say(f"checks.type-hint.{type_}") if type_ in TYPE_HINTS else type_


def describe(error: Any, schema: Schema, file: str, row: int, cells: dict[str, Any],
             lookups: dict[str, list[str]]) -> Problem:
    """One Frictionless row error -> one Problem. ``cells`` are the row's delivered values;
    ``lookups`` the valid codes of each referenced codelist."""
    kind = error.type
    if kind in ("type-error", "constraint-error", "unique-error", "missing-cell", "extra-cell"):
        field_name = error.field_name or None
        value = getattr(error, "cell", None)
        located = {"row": row, "field": field_name, "value": value}
        said = {"value": value, "column": field_name}
        if kind == "type-error":
            hint = _hint(schema.get_field(field_name).type)
            return problem(kind, file, "problem.type-error.value", {**said, "hint": hint}, **located)
        if kind == "constraint-error":
            key, params = _constraint(schema, field_name, value, error.note)
            return problem(kind, file, key, {**said, **params}, **located)
        if kind == "unique-error":
            return problem(kind, file, "problem.unique-error.earlier-row", said, **located)
        if kind == "missing-cell":
            return problem(kind, file, "problem.missing-cell.column", said, row=row,
                           field=field_name)
        return problem(kind, file, "problem.extra-cell.value", said, row=row, value=value)
    if kind == "foreign-key":
        field_name = error.field_names[0]
        value = cells.get(field_name)
        reference = error.reference_name
        codes = lookups.get(reference, [])
        listed = ", ".join(codes[:12]) + (" …" if len(codes) > 12 else "")
        return problem(kind, file, "problem.foreign-key.code",
                       {"value": value, "column": field_name, "codelist": reference,
                        "suggestion": _suggest(value, codes), "codes": listed},
                       row=row, field=field_name, value=value)
    if kind == "primary-key":
        key = list(schema.primary_key)
        shown = ", ".join(f"{name}={cells.get(name)}" for name in key)
        return problem(kind, file, "problem.primary-key.earlier-row", {"key": shown},
                       row=row, field=",".join(key), value=shown)
    if kind == "blank-row":
        return problem(kind, file, "problem.blank-row.blank", row=row)
    return problem("type-error" if kind == "cell-error" else "constraint-error", file,
                   "problem.rejected-row.reason", {"reason": error.message}, row=row)


# constraint -> the message's variant
CONSTRAINTS = {"required": "required", "enum": "enum", "pattern": "pattern",
               "minimum": "minimum", "exclusiveMinimum": "minimum", "maximum": "maximum",
               "exclusiveMaximum": "maximum", "minLength": "min-length",
               "maxLength": "max-length"}


def _constraint(schema: Schema, field_name: str, value: Any, note: str
                ) -> tuple[str, dict[str, Any]]:
    """The message key of a broken constraint and the parameters beyond value and column."""
    field = schema.get_field(field_name)
    match = re.search(r'constraint "(\w+)"', note or "")
    constraint = match.group(1) if match else "unknown"
    limits = field.constraints
    variant = CONSTRAINTS.get(constraint, "other")
    params: dict[str, Any] = {}
    if variant == "required":
        params = {"title": field.title}
    elif variant == "enum":
        params = {"allowed": ", ".join(str(v) for v in limits["enum"]),
                  "suggestion": _suggest(value, limits["enum"])}
    elif variant == "pattern":
        english = (field.to_descriptor().get("en") or {}).get("description", "")
        params = {"description": Said(str(field.description), english)}
    elif variant == "other":
        params = {"constraint": constraint}
    else:
        params = {"limit": limits[constraint]}
    return f"problem.constraint-error.{variant}", params
