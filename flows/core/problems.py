"""Problems a user can cause, as data: a stable id, where it is, and how to fix it (sv + en).

Ids are kebab-case and never change meaning. Where Frictionless has a name for the problem
(``type-error``, ``constraint-error``, ``primary-key``, ``foreign-key``, ``blank-row`` ...) we use
that name, so our reports line up with Frictionless's own.

Every type's title and every message live in ``catalogue/problem.yaml``; code names a message by
its key::

    problem("missing-label", file, "problem.missing-label.required",
            {"column": name, "title": title}, field=name)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel

from flows.core.messages import LANGUAGES, Said, say, t

# The problem types. The README lists these; a test keeps them in sync. Each has its title in
# the catalogue (problem.<type>.title): see title().
PROBLEM_TYPES: tuple[str, ...] = (
    # file level
    "bad-path", "unsafe-path", "file-too-large", "file-in-motion", "unknown-report-type",
    "unknown-department", "year-outside-programme", "unsupported-format", "unreadable-file",
    "empty-file", "missing-label", "extra-label", "duplicate-label", "blank-label", "no-rows",
    "strict-file-rejected",
    # row level (Frictionless's own types)
    "blank-row", "extra-cell", "missing-cell", "type-error", "constraint-error", "unique-error",
    "primary-key", "foreign-key",
    # row level (our domain rules)
    "department-mismatch", "year-mismatch", "date-order", "merged-cells", "cell-too-long",
    "formula-without-value", "unknown-sdg-target", "personal-data", "control-character",
    "bidi-control", "invisible-character", "not-finite", "excel-error",
    # the codelists maintained with the code (an error here stops publishing)
    "invalid-codelist", "unknown-mapped-object",
    # warnings: reported, nothing is rejected
    "unmapped-goal", "unmapped-key-figure",
)

FILE_LEVEL = {
    "bad-path", "unsafe-path", "file-too-large", "file-in-motion", "unknown-report-type",
    "unknown-department", "year-outside-programme",
    "unsupported-format", "unreadable-file", "empty-file", "missing-label", "extra-label",
    "duplicate-label", "blank-label", "strict-file-rejected", "no-rows",
}


class Problem(BaseModel):
    """One located problem in a delivered file. ``row`` is the row as the department sees it
    (the line in the CSV, the row in the spreadsheet); ``None`` for file-level problems."""

    type: str
    severity: Literal["error", "warning"] = "error"
    file: str
    row: int | None = None
    field: str | None = None
    value: str | None = None
    message_sv: str
    message_en: str

    @property
    def file_level(self) -> bool:
        return self.type in FILE_LEVEL


def title(type: str) -> Said:
    """A problem type's title in both languages."""
    return say(f"problem.{type}.title")


def problem(type: str, file: str, key: str, params: Mapping[str, Any] | None = None, *,
            row: int | None = None, field: str | None = None, value: Any = None,
            severity: Literal["error", "warning"] = "error") -> Problem:
    """A Problem of ``type`` in ``file`` with the message ``key`` of the catalogue, its
    placeholders filled from ``params`` (see :func:`message`)."""
    if type not in PROBLEM_TYPES:
        raise ValueError(f"unknown problem type {type!r}")
    if not key.startswith("problem."):
        raise ValueError(f"a problem's message is a problem.* key, not {key!r}")
    shown = None if value is None else _clip(str(value))
    said = message(key, params or {})
    return Problem(type=type, severity=severity, file=file, row=row, field=field, value=shown,
                   message_sv=said.sv, message_en=said.en)


def message(key: str, params: Mapping[str, Any]) -> Said:
    """The message ``key`` in both languages; a parameter that is a :class:`Said` gives each
    language its own side."""
    return Said(*(t(key, lang, **{name: v[lang] if isinstance(v, Said) else v
                                  for name, v in params.items()}) for lang in LANGUAGES))


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
