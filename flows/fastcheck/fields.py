"""Per field, vectorised: which cells are missing, which are certainly valid (Frictionless would
raise nothing for them), and their typed values in a canonical Arrow type for key checks.

Soundness is the rule: a cell marked clean must be one Frictionless accepts with no error and
reads to the same value. Anything else is not clean and goes to Frictionless row by row."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from frictionless import Field

INT = r"^\s*-?[0-9]{1,18}\s*$"
# at most 15 significant digits: distinct decimals stay distinct floats, so comparisons agree
NUMBER = r"^\s*-?[0-9]{1,15}(?:\.[0-9]{1,15})?\s*$"
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
YEAR = r"^[0-9]{4}$"
EPOCH = dt.date(1970, 1, 1)
CANONICAL = {"integer": pa.int64(), "year": pa.int64(), "number": pa.float64(),
             "boolean": pa.bool_(), "date": pa.int32(), "string": pa.string()}
FAST_CONSTRAINTS = {
    "string": {"required", "minLength", "maxLength", "pattern", "enum"},
    "integer": {"required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"},
    "number": {"required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"},
    "year": {"required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"},
    "date": {"required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"},
    "boolean": {"required", "enum"},
}


def canonical(field: Field, value: Any) -> Any:
    """A Frictionless-typed value as the Python value of its canonical Arrow type."""
    if value is None:
        return None
    kind = field.type
    if kind in ("integer", "year"):
        return int(value)
    if kind == "number":
        return float(value)
    if kind == "boolean":
        return bool(value)
    if kind == "date":
        return (value - EPOCH).days
    return str(value)


def canonical_type(field: Field) -> pa.DataType:
    return CANONICAL.get(field.type, pa.string())


def key_value(field: Field, value: Any) -> Any:
    """As a key cell: integers as text, since Python's int has no size limit."""
    if value is not None and field.type == "integer":
        return str(int(value))
    return canonical(field, value)


def key_type(field: Field) -> pa.DataType:
    return pa.string() if field.type == "integer" else canonical_type(field)


class FieldCheck:
    """Checks one field's column of raw strings."""

    def __init__(self, field: Field, missing_values: list[str]) -> None:
        self.field = field
        self.missing = pa.array(missing_values, pa.string())
        self.reader = field.create_cell_reader()
        kind = field.type
        constraints = set(field.constraints) - {"unique"}
        fmt = field.format
        defined = set(field.list_defined())
        self.mode = "scalar"
        if kind == "string" and fmt == "default" and constraints <= FAST_CONSTRAINTS["string"]:
            self.mode = "string"
        elif kind == "integer" and field.bare_number and constraints <= FAST_CONSTRAINTS[kind]:
            self.mode = "integer"
        elif kind == "number" and not {"group_char", "decimal_char", "bare_number",
                                       "float_number"} & defined \
                and constraints <= FAST_CONSTRAINTS[kind]:
            self.mode = "number"
        elif kind == "year" and constraints <= FAST_CONSTRAINTS[kind]:
            self.mode = "year"
        elif kind == "date" and fmt == "default" and constraints <= FAST_CONSTRAINTS[kind]:
            self.mode = "date"
        elif kind == "boolean" and constraints <= FAST_CONSTRAINTS[kind]:
            self.mode = "boolean"
        value_reader = field.create_value_reader()
        limits = {}
        for name in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if name in field.constraints:
                limits[name] = canonical(field, value_reader(field.constraints[name]))
        self.limits = limits
        self.enum = None
        if "enum" in field.constraints:
            values = [value_reader(v) for v in field.constraints["enum"]]
            self.enum = pa.array([canonical(field, v) for v in values if v is not None],
                                 canonical_type(field))
        self.pattern = None
        if "pattern" in field.constraints:
            try:
                self.pattern = f"^(?:{field.constraints['pattern']})$"
                pc.match_substring_regex(pa.array(["x"]), self.pattern)
            except pa.ArrowInvalid:
                self.mode = "scalar"  # not RE2: Python's re decides, value by value
        self.true_false = (field.true_values, field.false_values) if kind == "boolean" else None
        self.distinct_share = 0.0  # share of distinct values in the last batch

    @property
    def required(self) -> bool:
        return bool(self.field.constraints.get("required"))

    def check(self, column: pa.Array) -> tuple[np.ndarray, np.ndarray, pa.Array]:
        """-> (missing mask, clean mask, canonical typed values with nulls where not clean).

        A column with few distinct values (codes, years, dates) is checked once per value; one
        that had many in the last batch is checked cell by cell without trying."""
        if self.distinct_share < 0.25 or self.mode == "scalar":
            encoded = pc.dictionary_encode(column)
            self.distinct_share = len(encoded.dictionary) / max(len(column), 1)
            if self.distinct_share < 0.25 or self.mode == "scalar":
                missing, clean, typed = self._check(encoded.dictionary)
                indices = encoded.indices.to_numpy(zero_copy_only=False)
                return missing[indices], clean[indices], typed.take(encoded.indices)
        return self._check(column)

    def _check(self, column: pa.Array) -> tuple[np.ndarray, np.ndarray, pa.Array]:
        missing = pc.is_in(column, value_set=self.missing).to_numpy(zero_copy_only=False)
        if self.mode == "scalar":
            clean, typed = self._scalar(column)
        else:
            clean, typed = getattr(self, f"_{self.mode}")(column)
            clean = clean & self._constraints(column, typed)
        clean = np.asarray(clean, dtype=bool) & ~missing
        if not self.required:
            clean = clean | missing  # a missing optional cell is fine (and None)
        typed = pc.if_else(pa.array(missing), pa.scalar(None, typed.type), typed)
        return missing, clean, typed

    # the fast types -------------------------------------------------------------------
    def _string(self, column: pa.Array):
        return np.ones(len(column), dtype=bool), column

    def _integer(self, column: pa.Array):
        ok = pc.match_substring_regex(column, INT)
        typed = pc.cast(pc.utf8_trim_whitespace(pc.if_else(ok, column, "0")), pa.int64())
        return _mask(ok), pc.if_else(ok, typed, pa.scalar(None, pa.int64()))

    def _number(self, column: pa.Array):
        ok = pc.match_substring_regex(column, NUMBER)
        safe = pc.if_else(ok, pc.utf8_trim_whitespace(column), "0")
        typed = pc.cast(safe, pa.float64())
        return _mask(ok), pc.if_else(ok, typed, pa.scalar(None, pa.float64()))

    def _year(self, column: pa.Array):
        ok = pc.match_substring_regex(column, YEAR)
        typed = pc.cast(pc.if_else(ok, column, "0"), pa.int64())
        return _mask(ok), pc.if_else(ok, typed, pa.scalar(None, pa.int64()))

    def _date(self, column: pa.Array):
        shaped = pc.match_substring_regex(column, DATE)
        parsed = pc.strptime(pc.if_else(shaped, column, "1970-01-01"), format="%Y-%m-%d",
                             unit="s", error_is_null=True)
        # Arrow rolls 2020-02-30 over to March: only a date that prints back the same is sure
        same = pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), column)
        ok = pc.and_(pc.and_(shaped, pc.is_valid(parsed)), pc.fill_null(same, False))
        days = pc.cast(pc.cast(parsed, pa.date32()), pa.int32())
        return _mask(ok), pc.if_else(ok, days, pa.scalar(None, pa.int32()))

    def _boolean(self, column: pa.Array):
        trues, falses = self.true_false
        is_true = pc.is_in(column, value_set=pa.array(trues, pa.string()))
        is_false = pc.is_in(column, value_set=pa.array(falses, pa.string()))
        ok = pc.or_(is_true, is_false)
        return _mask(ok), pc.if_else(ok, is_true, pa.scalar(None, pa.bool_()))

    def _constraints(self, column: pa.Array, typed: pa.Array) -> np.ndarray:
        ok = np.ones(len(column), dtype=bool)
        constraints = self.field.constraints
        if self.field.type == "string":
            if "minLength" in constraints:
                ok &= _mask(pc.greater_equal(pc.utf8_length(column), constraints["minLength"]))
            if "maxLength" in constraints:
                ok &= _mask(pc.less_equal(pc.utf8_length(column), constraints["maxLength"]))
            if self.pattern:
                ok &= _mask(pc.match_substring_regex(column, self.pattern))
        for name, compare in (("minimum", pc.greater_equal), ("maximum", pc.less_equal),
                              ("exclusiveMinimum", pc.greater), ("exclusiveMaximum", pc.less)):
            if name in self.limits:
                ok &= _mask(compare(typed, pa.scalar(self.limits[name], typed.type)))
        if self.enum is not None:
            ok &= _mask(pc.is_in(typed, value_set=self.enum))
        return ok

    # everything else: Frictionless's own reader, once per distinct value ------------------
    def _scalar(self, column: pa.Array):
        encoded = pc.dictionary_encode(column)
        values = encoded.dictionary.to_pylist()
        flags, typed_values = [], []
        for value in values:
            target, notes = self.reader(value)
            flags.append(not notes)
            typed_values.append(key_value(self.field, target) if not notes else None)
        indices = encoded.indices
        clean = np.asarray(flags, dtype=bool)[indices.to_numpy(zero_copy_only=False)] \
            if len(values) else np.zeros(len(column), dtype=bool)
        typed = pa.array(typed_values, key_type(self.field)).take(indices)
        return clean, typed


def _mask(array: pa.Array) -> np.ndarray:
    return pc.fill_null(array, False).to_numpy(zero_copy_only=False)
