"""The validator's result: Frictionless's flat errors, built only when asked for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from frictionless import errors, helpers

FLAT_KEYS = ("rowNumber", "fieldNumber", "fieldName", "type", "cell", "note", "message")


class Found(NamedTuple):
    """One error, compact: rendered as Frictionless's flat error only when asked for (building
    Frictionless error objects costs ~100 µs each, and a message per error adds up)."""

    kind: type
    note: str
    row: int | None
    field: str | None
    number: int | None
    cell: str | None

    def render(self, keys: tuple[str, ...] | list[str] = FLAT_KEYS) -> dict[str, Any]:
        values = {"type": self.kind.type, "title": self.kind.title,
                  "description": self.kind.description, "note": self.note,
                  "rowNumber": self.row, "fieldName": self.field, "fieldNumber": self.number,
                  "cell": self.cell, "cells": []}
        if "message" in keys:
            values["message"] = helpers.safe_format(self.kind.template, values)
        return {key: values.get(key) for key in keys}


@dataclass
class FastResult:
    valid: bool
    rows: int
    found: list[Any]  # Found, or an already rendered dict (header errors)
    seconds: float
    handed_over: list[str] = field(default_factory=list)  # what Frictionless checked instead

    def iter_errors(self, keys: tuple[str, ...] | list[str] = FLAT_KEYS):
        for item in self.found:
            yield item.render(keys) if isinstance(item, Found) else \
                {key: item.get(key) for key in keys}

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.iter_errors())

    def flatten(self, keys: tuple[str, ...] | list[str] = FLAT_KEYS) -> list[list[Any]]:
        return [[error[key] for key in keys] for error in self.iter_errors(tuple(keys))]


def flat_error(kind: type, *, note: str = "", row_number: int | None = None,
               field_name: str | None = None, field_number: int | None = None,
               cell: str | None = None) -> Found:
    return Found(kind, note, row_number, field_name, field_number, cell)


def from_frictionless(error: Any, row_number: int | None = None) -> Any:
    """A Frictionless error object as a flat error, at the row's number in the file."""
    if row_number is None:
        descriptor = error.to_descriptor()
        return {key: descriptor.get(key) for key in FLAT_KEYS}
    return flat_error(type(error), note=error.note, row_number=row_number,
                      field_name=getattr(error, "field_name", None),
                      field_number=getattr(error, "field_number", None),
                      cell=getattr(error, "cell", None))


def cell_errors(field_: Any, number: int, row_number: int, cell: Any,
                notes: dict[str, str]) -> list[Found]:
    """What Frictionless's Row reports for one cell, from its own cell reader's notes."""
    if "type" in notes:
        return [flat_error(errors.TypeError, note=notes["type"], row_number=row_number,
                           field_name=field_.name, field_number=number, cell=str(cell))]
    return [flat_error(errors.ConstraintError, note=note, row_number=row_number,
                       field_name=field_.name, field_number=number, cell=str(cell))
            for note in notes.values()]


