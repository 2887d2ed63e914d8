"""What Swedish spreadsheets write, made readable for the schema before Frictionless checks it:
decimal comma, space or no-break space as thousands separator, the Unicode minus, Excel's date
serials and midnight timestamps. A value that is not recognised is left exactly as delivered,
so Frictionless reports it with the department's own text."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

SPACES = "[ \u00a0\u202f\u2009]"
PLAIN = re.compile(r"[+-]?\d+([.,]\d+)?")
SPACED = re.compile(rf"[+-]?\d{{1,3}}({SPACES}\d{{3}})+([.,]\d+)?")
DOTTED = re.compile(r"[+-]?\d{1,3}(\.\d{3})+,\d+|[+-]?\d{1,3}(\.\d{3}){2,}")
EXCEL_EPOCH = dt.date(1899, 12, 30)
MIDNIGHT = re.compile(r"(\d{4}-\d{2}-\d{2})[ T]00:00(:00(\.0+)?)?")


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


def as_text(value: Any) -> Any:
    """Excel and JSON give numbers where the schema wants text (a code such as 0604)."""
    if value is None or isinstance(value, str):
        return value
    return str(value)


def normalizer(field_type: str, from_excel: bool):
    if field_type in ("number", "integer"):
        return normalize_number
    if field_type == "date":
        return lambda value: normalize_date(value, from_excel)
    if field_type == "string":
        return as_text
    return lambda value: value
