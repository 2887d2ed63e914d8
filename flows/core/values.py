"""One canonical plain rendering of a typed value, used wherever a value becomes text or JSON:
ISO dates, '.' decimals, whole numbers without '.0', missing values empty (or null)."""

from __future__ import annotations

import datetime as dt
import math
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
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return json_value(value.item())
    return value
