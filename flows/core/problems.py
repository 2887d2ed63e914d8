"""Problems a user can cause, as data: a stable id, where it is, and how to fix it (sv + en).

Ids are kebab-case and never change meaning. Where Frictionless has a name for the problem
(``type-error``, ``constraint-error``, ``primary-key``, ``foreign-key``, ``blank-row`` ...) we use
that name, so our reports line up with Frictionless's own.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

# id -> (Swedish title, English title). The README lists these; a test keeps them in sync.
PROBLEM_TYPES: dict[str, tuple[str, str]] = {
    # file level
    "bad-path": ("Filen ligger på fel plats", "File is not in the expected place"),
    "unsafe-path": ("Länk utanför raw-mappen", "Link outside the raw folder"),
    "file-too-large": ("Filen är för stor", "File too large"),
    "file-in-motion": ("Filen ändrades medan den lästes", "File changed while it was read"),
    "unknown-report-type": ("Okänd rapporttyp", "Unknown report type"),
    "unknown-department": ("Okänd förvaltning", "Unknown department"),
    "year-outside-programme": ("År utanför programperioden", "Year outside the programme"),
    "unsupported-format": ("Filformatet stöds inte", "Unsupported file format"),
    "unreadable-file": ("Filen kan inte läsas", "File cannot be read"),
    "empty-file": ("Filen är tom", "File is empty"),
    "missing-label": ("Kolumn saknas", "Column missing"),
    "extra-label": ("Okänd kolumn", "Unknown column"),
    "duplicate-label": ("Kolumnen finns två gånger", "Duplicate column"),
    "blank-label": ("Kolumn utan rubrik", "Column without a header"),
    "no-rows": ("Inga rader", "No rows"),
    "strict-file-rejected": ("Hela filen väntar", "The whole file waits"),
    # row level (Frictionless's own types)
    "blank-row": ("Tom rad", "Blank row"),
    "extra-cell": ("För många celler", "Extra cell"),
    "missing-cell": ("För få celler", "Missing cell"),
    "type-error": ("Fel datatyp", "Wrong data type"),
    "constraint-error": ("Otillåtet värde", "Value not allowed"),
    "unique-error": ("Värdet förekommer flera gånger", "Duplicate value"),
    "primary-key": ("Dubblett av nyckel", "Duplicate key"),
    "foreign-key": ("Okänd kod", "Unknown code"),
    # row level (our domain rules)
    "department-mismatch": ("Fel förvaltning på raden", "Department does not match folder"),
    "year-mismatch": ("Fel år på raden", "Year does not match folder"),
    "date-order": ("Datum i fel ordning", "Dates in the wrong order"),
    "merged-cells": ("Sammanslagna celler", "Merged cells"),
    "cell-too-long": ("För lång cell", "Cell too long"),
    "formula-without-value": ("Formel utan värde", "Formula without a value"),
    "unknown-sdg-target": ("Okänt delmål i Agenda 2030", "Unknown Agenda 2030 target"),
    "personal-data": ("Personuppgift publiceras inte", "Personal data withheld"),
    "control-character": ("Styrtecken i texten", "Control character in the text"),
    "bidi-control": ("Tecken som vänder textens riktning", "Bidirectional control character"),
    "invisible-character": ("Osynligt tecken i en kod", "Invisible character in a code"),
    "not-finite": ("Inget ändligt tal", "Not a finite number"),
    "excel-error": ("Excels felvärde", "Excel error value"),
    # the codelists maintained with the code (an error here stops publishing)
    "invalid-codelist": ("Fel i en kodlista", "Invalid codelist"),
    "unknown-mapped-object": ("Kopplingen gäller ett okänt objekt", "Mapping names an unknown object"),
    # warnings: reported, nothing is rejected
    "unmapped-goal": ("Mål utan koppling till Agenda 2030", "Goal without an Agenda 2030 link"),
    "unmapped-key-figure": ("Nyckeltal utan koppling till Agenda 2030",
                            "Key figure without an Agenda 2030 link"),
}

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


def problem(type: str, file: str, sv: str, en: str, *, row: int | None = None,
            field: str | None = None, value: Any = None,
            severity: Literal["error", "warning"] = "error") -> Problem:
    if type not in PROBLEM_TYPES:
        raise ValueError(f"unknown problem type {type!r}")
    shown = None if value is None else _clip(str(value))
    return Problem(type=type, severity=severity, file=file, row=row, field=field, value=shown,
                   message_sv=sv, message_en=en)


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
