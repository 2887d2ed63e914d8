"""Rules for text cells, for every report type and codelist, before anything else reads them:
one odd character must not stop a release, and no published text may read differently from
what it holds.

- Every text is normalised to NFC (the same text, one way of writing it).
- Control characters (C0 and C1, and DEL): in free text, tab, line feed and carriage return
  are text; any other is **removed, with a warning** (`control-character`) - text pasted from
  another program often carries one, and the row is still worth publishing. In a code or an
  id (a key, or a text field with a pattern or a set of allowed values, or named *_id) any
  control character, tab and line breaks included, **rejects the row**: the code is not the
  one it looks like.
- Bidirectional overrides, embeddings and isolates (U+202A-U+202E, U+2066-U+2069) **reject
  the row** wherever they are (`bidi-control`): the text would display differently from what
  it holds (the "Trojan Source" trick), and only the department can say which was meant.
- Zero-width characters (U+200B-U+200D, U+2060, U+FEFF) in a code or an id **reject the row**
  (`invisible-character`); in free text they are allowed (emoji sequences and some scripts
  need them).

Cells are found with a byte scan (every such character starts with a byte a plain letter or
digit never has), so only the few suspect cells are looked at in Python, once per value.
"""

from __future__ import annotations

import unicodedata
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from flows.core.messages import say
from flows.core.problems import Problem, problem
from flows.intake.cells import string_buffers

C0 = {i: name for i, name in enumerate((
    "NULL", "START OF HEADING", "START OF TEXT", "END OF TEXT", "END OF TRANSMISSION",
    "ENQUIRY", "ACKNOWLEDGE", "BELL", "BACKSPACE", "CHARACTER TABULATION", "LINE FEED",
    "LINE TABULATION", "FORM FEED", "CARRIAGE RETURN", "SHIFT OUT", "SHIFT IN",
    "DATA LINK ESCAPE", "DEVICE CONTROL ONE", "DEVICE CONTROL TWO", "DEVICE CONTROL THREE",
    "DEVICE CONTROL FOUR", "NEGATIVE ACKNOWLEDGE", "SYNCHRONOUS IDLE",
    "END OF TRANSMISSION BLOCK", "CANCEL", "END OF MEDIUM", "SUBSTITUTE", "ESCAPE",
    "INFORMATION SEPARATOR FOUR", "INFORMATION SEPARATOR THREE", "INFORMATION SEPARATOR TWO",
    "INFORMATION SEPARATOR ONE"))}
C1 = {0x80 + i: name for i, name in enumerate((
    "PADDING CHARACTER", "HIGH OCTET PRESET", "BREAK PERMITTED HERE", "NO BREAK HERE",
    "INDEX", "NEXT LINE", "START OF SELECTED AREA", "END OF SELECTED AREA",
    "CHARACTER TABULATION SET", "CHARACTER TABULATION WITH JUSTIFICATION",
    "LINE TABULATION SET", "PARTIAL LINE FORWARD", "PARTIAL LINE BACKWARD",
    "REVERSE LINE FEED", "SINGLE SHIFT TWO", "SINGLE SHIFT THREE", "DEVICE CONTROL STRING",
    "PRIVATE USE ONE", "PRIVATE USE TWO", "SET TRANSMIT STATE", "CANCEL CHARACTER",
    "MESSAGE WAITING", "START OF GUARDED AREA", "END OF GUARDED AREA", "START OF STRING",
    "SINGLE GRAPHIC CHARACTER INTRODUCER", "SINGLE CHARACTER INTRODUCER",
    "CONTROL SEQUENCE INTRODUCER", "STRING TERMINATOR", "OPERATING SYSTEM COMMAND",
    "PRIVACY MESSAGE", "APPLICATION PROGRAM COMMAND"))}
CONTROLS = {**C0, 0x7F: "DELETE", **C1}
BREAKS = {0x09, 0x0A, 0x0D}  # text in free text
BIDI = set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))
INVISIBLE = {0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF}


HIDDEN = set(CONTROLS) | BIDI | INVISIBLE  # shown by name in messages


def _first_bytes() -> np.ndarray:
    """The bytes that begin every character above in UTF-8: C0 and DEL themselves, 0xC2
    (C1), 0xE2 (U+2000-U+2FFF) and 0xEF (U+FEFF). Å, ä and ö begin with 0xC3."""
    marked = np.zeros(256, dtype=bool)
    marked[0x00:0x20] = True
    marked[[0x7F, 0xC2, 0xE2, 0xEF]] = True
    return marked


SUSPECT = _first_bytes()


def char_name(char: str) -> str:
    """'U+202E RIGHT-TO-LEFT OVERRIDE', 'U+0007 BELL'."""
    code = ord(char)
    return f"U+{code:04X} {CONTROLS.get(code) or unicodedata.name(char, 'UNNAMED')}"


class Finding(NamedTuple):
    kind: str  # control-character | bidi-control | invisible-character
    chars: list[str]
    reject: bool


def judge(value: str, code: bool) -> tuple[str, list[Finding]]:
    """(the value as published: NFC, controls removed from free text; what was found)."""
    value = unicodedata.normalize("NFC", value)
    controls = [c for c in value if ord(c) in CONTROLS and (code or ord(c) not in BREAKS)]
    bidi = [c for c in value if ord(c) in BIDI]
    invisible = [c for c in value if code and ord(c) in INVISIBLE]
    found = []
    if controls:
        found.append(Finding("control-character", controls, reject=code))
        if not code:
            value = "".join(c for c in value if c not in set(controls))
    if bidi:
        found.append(Finding("bidi-control", bidi, reject=True))
    if invisible:
        found.append(Finding("invisible-character", invisible, reject=True))
    return value, found


def text_rules(column: pa.Array, code: bool) -> tuple[pa.Array, dict[int, list[Finding]]]:
    """A text column (one field's cells, '' when empty) as published, and what the rules found
    by position: NFC for every cell beyond ASCII (vectorised), the rules for the cells holding
    a suspect byte, once per value."""
    offsets, data = string_buffers(column)
    if len(data) and (data[int(offsets[0]):int(offsets[-1])] >= 0x80).any():
        column = pc.utf8_normalize(column, "NFC")
        offsets, data = string_buffers(column)
    if not len(data) or not SUSPECT[data[int(offsets[0]):int(offsets[-1])]].any():
        return column, {}
    counts = np.zeros(int(offsets[-1]) - int(offsets[0]) + 1, dtype=np.int32)
    np.cumsum(SUSPECT[data[int(offsets[0]):int(offsets[-1])]], out=counts[1:])
    start = offsets - offsets[0]
    suspect = np.flatnonzero(counts[start[1:]] - counts[start[:-1]] > 0)
    values = column.take(pa.array(suspect)).to_pylist()
    judged = {value: judge(value, code) for value in set(values)}
    findings = {}
    changed = np.zeros(len(column), dtype=bool)
    for position, value in zip(suspect.tolist(), values, strict=True):
        published, found = judged[value]
        if found:
            findings[position] = found
        changed[position] = published != value
    if changed.any():
        replaced = pa.array([judged[v][0] for v, c in zip(values, changed[suspect],
                                                          strict=True)], pa.string())
        spread = np.zeros(len(column), dtype=np.int64)
        spread[suspect] = np.arange(len(suspect))
        column = pc.if_else(pa.array(changed), replaced.take(pa.array(spread)), column)
    return column, findings


def describe_finding(found: Finding, file: str, row: int, field: str, value: Any,
                     code: bool) -> Problem:
    names = ", ".join(dict.fromkeys(char_name(c) for c in found.chars))
    shown = "".join(f"<{char_name(c).split()[0]}>" if ord(c) in HIDDEN else c
                    for c in str(value))
    said = {"column": field, "what": say(f"checks.character.{found.kind}"), "names": names}
    if found.reject:
        where = say("checks.character.in-code" if code else "checks.character.in-text")
        return problem(found.kind, file, "problem.character.rejected", {**said, "where": where},
                       row=row, field=field, value=shown)
    return problem(found.kind, file, "problem.character.removed", said,
                   row=row, field=field, value=shown, severity="warning")
