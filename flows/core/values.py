"""One canonical plain rendering of a typed value, used wherever a value becomes text or JSON:
ISO dates, '.' decimals, whole numbers without '.0', missing values empty (or null)."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from typing import Any

import pandas as pd


def cell_text(value: Any) -> str:
    """One canonical text per value: ISO dates, '.' decimals, integral numbers without '.0'."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def json_value(value: Any) -> Any:
    """A value as JSON holds it: NaN and infinities are null (they are not JSON, RFC 8259)."""
    if value is None or value is pd.NA or (isinstance(value, float) and not math.isfinite(
            value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return json_value(value.item())
    return value


def report_value(value: Any) -> Any:
    """A number as the follow-up report shows it: missing is None, numpy scalars become
    Python's, floats are rounded to one decimal (unlike json_value, 5.0 stays 5.0)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        value = value.item()
    return round(value, 1) if isinstance(value, float) else value


def native_number(value: Any) -> Any:
    """A Decimal (as Frictionless reads a number) as a float, for a pandas column; anything
    else as it is."""
    return float(value) if isinstance(value, Decimal) else value


def strict(value: Any) -> Any:
    """A document as strict JSON holds it: every NaN or infinity (nested anywhere) is null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: strict(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [strict(item) for item in value]
    return value


def json_document(value: Any) -> bytes:
    """Published JSON: strict (RFC 8259: no NaN or Infinity), UTF-8, indented, ending in a
    newline."""
    return (json.dumps(strict(value), ensure_ascii=False, indent=2, allow_nan=False) + "\n"
            ).encode("utf-8")
