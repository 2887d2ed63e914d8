"""Nothing personal is published: Swedish personal identity numbers (personnummer) and
co-ordination numbers (samordningsnummer) with a valid check digit and a plausible date,
e-mail addresses and Swedish phone numbers are found in any text cell of any report and
withheld - the cell, or the whole row where the schema says so (field property
`privacy: row`). The internal report says where, with the value masked."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ID_NUMBER = re.compile(r"(?<![\d])(?:(\d{2}))?(\d{2})(\d{2})(\d{2})[-+ ]?(\d{3})(\d)(?![\d])")
EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\d+\-/.:])(?:\+46|0046|0)[ -]?\(?0?\)?[1-9](?:[ -]?\d){6,9}(?![\d])")


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def plausible_date(century: str | None, year: str, month: str, day: str) -> bool:
    """A real calendar date; a samordningsnummer has the day plus 60."""
    day_number = int(day) - 60 if int(day) > 60 else int(day)
    years = [int(century + year)] if century else [1900 + int(year), 2000 + int(year)]
    for full_year in years:
        try:
            dt.date(full_year, int(month), day_number)
            return True
        except ValueError:
            continue
    return False


def find_personal(text: str) -> list[tuple[str, str]]:
    """(kind, masked value) for every personal datum in the text."""
    found = []
    for match in ID_NUMBER.finditer(text):
        century, year, month, day, serial, check = match.groups()
        if plausible_date(century, year, month, day) and \
                luhn_ok(f"{year}{month}{day}{serial}{check}"):
            kind = "samordningsnummer" if int(day) > 60 else "personnummer"
            found.append((kind, f"{year}{month}{day}-****"))
    for match in EMAIL.finditer(text):
        local, _, domain = match.group(0).partition("@")
        found.append(("e-post", f"{local[:1]}***@{domain}"))
    for match in PHONE.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        found.append(("telefonnummer", f"{digits[:3]}***{digits[-2:]}"))
    return found


def guard(record: dict[str, Any], text_fields: dict[str, str]) -> list[tuple[str, str, str]]:
    """Withhold personal data in a record (in place): returns (field, kind, masked) for each
    hit. text_fields maps each text field to 'cell' or 'row' (what to withhold)."""
    hits = []
    for name in text_fields:
        value = record.get(name)
        if isinstance(value, str) and value:
            for kind, masked in find_personal(value):
                hits.append((name, kind, masked))
    return hits


# Every personal datum the patterns above find holds an '@' or seven digits with at most one
# space, hyphen or plus between them (RE2's \p{Nd} is Python's \d): only such cells are looked
# at, once per distinct value.
MAY_HOLD = r"@|\p{Nd}(?:[-+ ]?\p{Nd}){6,}"


def personal_in(column: pa.Array) -> dict[int, list[tuple[str, str]]]:
    """Positions of the cells (a text column) that hold personal data: (kind, masked) each."""
    maybe = np.flatnonzero(pc.fill_null(pc.match_substring_regex(column, MAY_HOLD), False)
                           .to_numpy(zero_copy_only=False))
    if not len(maybe):
        return {}
    values = column.take(pa.array(maybe)).to_pylist()
    found = {value: find_personal(value) for value in set(values)}
    return {int(p): found[v] for p, v in zip(maybe.tolist(), values, strict=True) if found[v]}
