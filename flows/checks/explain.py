"""Turn a Frictionless error into a located Problem with a Swedish fix (English alongside)."""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from typing import Any

from frictionless import Schema

from flows.core.problems import Problem, problem

TYPE_HINTS: dict[str, tuple[str, str]] = {
    "string": ("text", "text"),
    "integer": ("ett heltal, t.ex. 42", "a whole number, e.g. 42"),
    "number": ("ett tal med punkt som decimaltecken, t.ex. 1250.5",
               "a number with a point as decimal separator, e.g. 1250.5"),
    "date": ("ett datum som ÅÅÅÅ-MM-DD, t.ex. 2020-03-31", "a date as YYYY-MM-DD, e.g. 2020-03-31"),
    "year": ("ett årtal med fyra siffror, t.ex. 2020", "a four-digit year, e.g. 2020"),
    "boolean": ("ja/nej som true eller false", "yes/no as true or false"),
    "datetime": ("tidpunkt som ÅÅÅÅ-MM-DDTHH:MM:SS", "a timestamp as YYYY-MM-DDTHH:MM:SS"),
}


def nearest(value: Any, choices: list[str]) -> list[str]:
    """The (up to) three choices closest to the value; the same value is looked up once."""
    if not isinstance(choices, tuple):
        choices = tuple(str(c) for c in choices)
    return list(_nearest(str(value), choices))


@lru_cache(maxsize=4096)
def _nearest(value: str, choices: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(difflib.get_close_matches(value, choices, n=3, cutoff=0.5))


def _suggest(value: Any, choices: list[str]) -> tuple[str, str]:
    close = nearest(value, choices)
    if not close:
        return "", ""
    listed = ", ".join(f"'{c}'" for c in close)
    return f" Menade du {listed}?", f" Did you mean {listed}?"


def describe(error: Any, schema: Schema, file: str, row: int, cells: dict[str, Any],
             lookups: dict[str, list[str]]) -> Problem:
    """One Frictionless row error -> one Problem. ``cells`` are the row's delivered values;
    ``lookups`` the valid codes of each referenced codelist."""
    kind = error.type
    if kind in ("type-error", "constraint-error", "unique-error", "missing-cell", "extra-cell"):
        field_name = error.field_name or None
        value = getattr(error, "cell", None)
        if kind == "type-error":
            field = schema.get_field(field_name)
            hint_sv, hint_en = TYPE_HINTS.get(field.type, (field.type, field.type))
            return problem(kind, file,
                           f"Värdet '{value}' i kolumnen {field_name} är inte giltigt. Skriv {hint_sv}.",
                           f"The value '{value}' in column {field_name} is not valid. Write {hint_en}.",
                           row=row, field=field_name, value=value)
        if kind == "constraint-error":
            sv, en = _constraint(schema, field_name, value, error.note)
            return problem(kind, file, sv, en, row=row, field=field_name, value=value)
        if kind == "unique-error":
            return problem(kind, file,
                           f"Värdet '{value}' i kolumnen {field_name} finns redan på en tidigare rad. "
                           "Varje värde får bara förekomma en gång.",
                           f"The value '{value}' in column {field_name} already appears on an "
                           "earlier row. Each value may appear only once.",
                           row=row, field=field_name, value=value)
        if kind == "missing-cell":
            return problem(kind, file,
                           f"Raden har färre celler än rubrikraden: kolumnen {field_name} saknas. "
                           "Kontrollera avgränsare och citattecken på raden.",
                           f"The row has fewer cells than the header: column {field_name} is "
                           "missing. Check the delimiters and quotes on the row.",
                           row=row, field=field_name)
        return problem(kind, file,
                       f"Raden har fler celler än rubrikraden (extra värde '{value}'). Ta bort "
                       "värdet, eller citera texter som innehåller avgränsaren.",
                       f"The row has more cells than the header (extra value '{value}'). Remove "
                       "it, or quote texts that contain the delimiter.",
                       row=row, value=value)
    if kind == "foreign-key":
        field_name = error.field_names[0]
        value = cells.get(field_name)
        reference = error.reference_name
        codes = lookups.get(reference, [])
        hint_sv, hint_en = _suggest(value, codes)
        listed = ", ".join(codes[:12]) + (" …" if len(codes) > 12 else "")
        return problem(kind, file,
                       f"Koden '{value}' i kolumnen {field_name} finns inte i kodlistan "
                       f"{reference}.{hint_sv} Giltiga koder: {listed}.",
                       f"The code '{value}' in column {field_name} is not in the codelist "
                       f"{reference}.{hint_en} Valid codes: {listed}.",
                       row=row, field=field_name, value=value)
    if kind == "primary-key":
        key = list(schema.primary_key)
        shown = ", ".join(f"{name}={cells.get(name)}" for name in key)
        return problem(kind, file,
                       f"Raden har samma nyckel ({shown}) som en tidigare rad. Ta bort dubbletten "
                       "eller rätta nyckeln.",
                       f"The row has the same key ({shown}) as an earlier row. Remove the "
                       "duplicate or correct the key.",
                       row=row, field=",".join(key), value=shown)
    if kind == "blank-row":
        return problem(kind, file, "Raden är tom. Ta bort den.", "The row is blank. Remove it.",
                       row=row)
    return problem("type-error" if kind == "cell-error" else "constraint-error", file,
                   f"Raden underkändes: {error.message}", f"The row was rejected: {error.message}",
                   row=row)


def _constraint(schema: Schema, field_name: str, value: Any, note: str) -> tuple[str, str]:
    field = schema.get_field(field_name)
    match = re.search(r'constraint "(\w+)"', note or "")
    constraint = match.group(1) if match else "unknown"
    limits = field.constraints
    col = f"kolumnen {field_name}"
    col_en = f"column {field_name}"
    if constraint == "required":
        return (f"Kolumnen {field_name} är obligatorisk men tom. Fyll i {field.title}.",
                f"Column {field_name} is required but empty. Fill it in.")
    if constraint == "enum":
        allowed = ", ".join(str(v) for v in limits["enum"])
        hint_sv, hint_en = _suggest(value, limits["enum"])
        return (f"Värdet '{value}' i {col} är inte tillåtet.{hint_sv} Tillåtna värden: {allowed}.",
                f"The value '{value}' in {col_en} is not allowed.{hint_en} Allowed: {allowed}.")
    if constraint == "pattern":
        return (f"Värdet '{value}' i {col} har fel form. {field.description}",
                f"The value '{value}' in {col_en} has the wrong form. "
                f"{(field.to_descriptor().get('en') or {}).get('description', '')}")
    if constraint in ("minimum", "exclusiveMinimum"):
        return (f"Värdet {value} i {col} är för litet: det ska vara minst {limits[constraint]}.",
                f"The value {value} in {col_en} is too small: it must be at least "
                f"{limits[constraint]}.")
    if constraint in ("maximum", "exclusiveMaximum"):
        return (f"Värdet {value} i {col} är för stort: det ska vara högst {limits[constraint]}.",
                f"The value {value} in {col_en} is too large: it must be at most "
                f"{limits[constraint]}.")
    if constraint == "minLength":
        return (f"Texten i {col} är för kort: minst {limits[constraint]} tecken.",
                f"The text in {col_en} is too short: at least {limits[constraint]} characters.")
    if constraint == "maxLength":
        return (f"Texten i {col} är för lång: högst {limits[constraint]} tecken. Korta den.",
                f"The text in {col_en} is too long: at most {limits[constraint]} characters.")
    return (f"Värdet '{value}' i {col} uppfyller inte villkoret {constraint}.",
            f"The value '{value}' in {col_en} breaks the constraint {constraint}.")
