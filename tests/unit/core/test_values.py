"""Plain values: one function per meaning."""

from decimal import Decimal

import numpy as np
import pandas as pd

from flows.core.values import json_value, native_number, report_value


def test_report_value_rounds_floats_and_keeps_them_floats():
    assert report_value(np.float64(1234.56)) == 1234.6 and isinstance(report_value(5.0), float)
    assert report_value(np.int64(7)) == 7 and type(report_value(np.int64(7))) is int
    assert [report_value(v) for v in (None, pd.NA, float("nan"))] == [None, None, None]
    assert json_value(5.0) == 5 and type(json_value(5.0)) is int  # the JSON meaning differs


def test_native_number_turns_frictionless_decimals_into_floats_only():
    assert native_number(Decimal("2.5")) == 2.5 and isinstance(native_number(Decimal("2")), float)
    assert native_number("2.5") == "2.5" and native_number(None) is None
