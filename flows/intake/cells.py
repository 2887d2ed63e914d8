"""What Swedish spreadsheets write, made readable for the schema before it is checked: decimal
comma, space or no-break space as thousands separator, the Unicode minus, Excel's date serials
and midnight timestamps, and cells of only spaces (which count as empty). A value that is not
recognised is left exactly as delivered, so the check reports it with the department's own text.

A CSV's cells are text, normalised a column at a time (`normalized`): the common shapes
vectorised, anything else once per distinct value by the same Python rules (`normalize_number`,
`normalize_date`), which are the definition. An Excel sheet's or a JSON file's cells are typed
values; `cell_as_text` turns each into the text the schema check reads, so that every format
is checked the same way.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SPACES = "[ \u00a0\u202f\u2009]"
PLAIN = re.compile(r"[+-]?\d+([.,]\d+)?")
SPACED = re.compile(rf"[+-]?\d{{1,3}}({SPACES}\d{{3}})+([.,]\d+)?")
DOTTED = re.compile(r"[+-]?\d{1,3}(\.\d{3})+,\d+|[+-]?\d{1,3}(\.\d{3}){2,}")
EXCEL_EPOCH = dt.date(1899, 12, 30)
MIDNIGHT = re.compile(r"(\d{4}-\d{2}-\d{2})[ T]00:00(:00(\.0+)?)?")
# every character Python's str.strip() removes, as an RE2 class: a cell of only these is empty
WHITESPACE = "".join(f"\\x{{{ord(c):x}}}" for c in map(chr, range(sys.maxunicode + 1))
                     if c.isspace())
ONLY_SPACE = f"^[{WHITESPACE}]+$"
# shapes the Python rules leave as they are (or, for a decimal comma, only swap the comma)
PLAIN_NUMBER = r"^[+-]?[0-9]+(\.[0-9]+)?$"
COMMA_NUMBER = r"^[+-]?[0-9]+,[0-9]+$"
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def normalize_number(value: Any) -> Any:
    """'1 234,5' -> '1234.5', '−3' -> '-3', '1.234,5' -> '1234.5'; anything else unchanged."""
    if not isinstance(value, str):
        return value
    text = value.strip().replace("\u2212", "-")
    if PLAIN.fullmatch(text):
        return text.replace(",", ".")
    if SPACED.fullmatch(text):
        return re.sub(SPACES, "", text).replace(",", ".")
    if DOTTED.fullmatch(text):
        return text.replace(".", "").replace(",", ".")
    return value


def normalize_date(value: Any, from_excel: bool) -> Any:
    """Excel serial numbers (from a workbook only) and midnight timestamps -> dates."""
    if from_excel and isinstance(value, int | float) and not isinstance(value, bool) \
            and 1 <= value < 2958466:
        return EXCEL_EPOCH + dt.timedelta(days=int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date()
    if isinstance(value, str):
        match = MIDNIGHT.fullmatch(value.strip())
        if match:
            return match.group(1)
    return value


def normalized(column: pa.Array, field_type: str) -> pa.Array:
    """A column of delivered text ('' when empty) as the schema check should read it.

    Only cells whose bytes could make a rule apply are looked at (a byte scan finds them):
    a cell of only spaces must start with a space; a number the rules change holds a comma,
    a space, a character beyond ASCII or two points."""
    column = _blank_emptied(column)
    if field_type in ("number", "integer"):
        candidates = _any_byte(column, NUMBER_BYTES) | (_count_byte(column, ord(".")) >= 2)
        if not candidates.any():
            return column
        comma = pc.match_substring_regex(column, COMMA_NUMBER)
        column = pc.if_else(pc.and_(pa.array(candidates), comma),
                            pc.replace_substring(column, ",", "."), column)
        settled = pa.array(~candidates | pc.fill_null(comma, False).to_numpy(
            zero_copy_only=False))
        return _by_value(column, settled, normalize_number)
    if field_type == "date":
        settled = pc.or_(pc.invert(pc.match_substring(column, "00:00")),
                         pc.match_substring_regex(column, ISO_DATE))
        return _by_value(column, settled, lambda v: normalize_date(v, False))
    return column


def _table(*ranges: tuple[int, int]) -> np.ndarray:
    marked = np.zeros(256, dtype=bool)
    for low, high in ranges:
        marked[low:high + 1] = True
    return marked


# the first byte of a cell of only spaces (Python's whitespace, in UTF-8)
SPACE_FIRST = _table((0x09, 0x0D), (0x1C, 0x20), (0xC2, 0xC2), (0xE1, 0xE3))
# bytes without which no number rule changes a cell: comma, spaces, anything beyond ASCII
NUMBER_BYTES = _table((0x09, 0x0D), (0x1C, 0x20), (ord(","), ord(",")), (0x80, 0xFF))


def string_buffers(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, bytes) of a string column."""
    _, offsets, data = column.buffers()
    offsets = np.frombuffer(offsets, dtype=np.int32, count=len(column) + 1,
                            offset=column.offset * 4)
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return offsets, data


def _count_marked(column: pa.Array, marked: np.ndarray) -> np.ndarray:
    """Per cell, how many of its bytes are marked."""
    offsets, data = string_buffers(column)
    start = int(offsets[0])
    running = np.zeros(int(offsets[-1]) - start + 1, dtype=np.int32)
    np.cumsum(marked[data[start:int(offsets[-1])]], out=running[1:])
    return running[offsets[1:] - start] - running[offsets[:-1] - start]


def _any_byte(column: pa.Array, marked: np.ndarray) -> np.ndarray:
    return _count_marked(column, marked) > 0


def _count_byte(column: pa.Array, byte: int) -> np.ndarray:
    return _count_marked(column, _table((byte, byte)))


def _blank_emptied(column: pa.Array) -> pa.Array:
    """Cells of only spaces become '' (empty)."""
    offsets, data = string_buffers(column)
    filled = offsets[1:] > offsets[:-1]
    first = np.zeros(len(column), dtype=np.uint8)
    first[filled] = data[offsets[:-1][filled]]
    maybe = filled & SPACE_FIRST[first]
    if not maybe.any():
        return column
    blank = pc.and_(pa.array(maybe), pc.match_substring_regex(column, ONLY_SPACE))
    return pc.if_else(blank, "", column)


def _by_value(column: pa.Array, settled: pa.Array, rule: Any) -> pa.Array:
    """The rule, once per distinct value, on the cells not already settled."""
    settled = pc.fill_null(settled, True)
    if pc.all(settled).as_py():
        return column
    others = pc.unique(column.filter(pc.invert(settled)))
    results = pa.array([rule(value) for value in others.to_pylist()], pa.string())
    where = pc.index_in(column, value_set=others)
    changed = pc.take(results, pc.fill_null(where, 0))
    return pc.if_else(pc.and_(pc.invert(settled), pc.is_valid(where)), changed, column)


def cell_as_text(value: Any, field_type: str, from_excel: bool,
                 truth: tuple[str, str] = ("true", "false")) -> str:
    """A typed cell (Excel, JSON) as the text the schema check reads, so that its verdict is
    the one Table Schema gives the typed value: '' when missing; a whole float is a whole
    number where the field is an integer; a boolean is the field's first true or false value.
    `truth`: the field's (true, false) words."""
    if field_type in ("number", "integer"):
        value = normalize_number(value)
    elif field_type == "date":
        value = normalize_date(value, from_excel)
    if value is None:
        return ""
    if isinstance(value, bool) and field_type == "boolean":
        return truth[0] if value else truth[1]
    if isinstance(value, str):
        return "" if value.strip() == "" else value
    if isinstance(value, float) and field_type == "integer" and value.is_integer():
        return str(int(value))
    return str(value)  # an int, a float (its repr), a date (ISO), True, a datetime
