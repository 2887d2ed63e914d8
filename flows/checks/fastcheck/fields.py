"""Per field, vectorised: a status per cell (missing? certainly valid?) and, for key fields, a
64-bit hash of each certainly valid cell's typed value.

Soundness is the rule: a cell marked clean must be one Frictionless accepts with no error and
reads to the same value. Anything else is UNSURE and goes to Frictionless's own cell reader."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from frictionless import Field

from flows.checks.fastcheck.keys import (
    KeyCells,
    canonical,
    canonical_type,
    cells_of,
    hash_column,
    nan_mask,
    typed_array,
)

MISSING, UNSURE = np.uint8(1), np.uint8(2)  # status bits of a cell
INT = r"^\s*-?[0-9]{1,18}\s*$"
NUMBER = r"^\s*-?[0-9]{1,15}(?:\.[0-9]{1,15})?\s*$"  # and at most 16 characters: _number
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
YEAR = r"^[0-9]{4}$"
LIMITS = {"required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"}
FAST_CONSTRAINTS = {"string": {"required", "minLength", "maxLength", "pattern", "enum"},
                    "integer": LIMITS, "number": LIMITS, "year": LIMITS, "date": LIMITS,
                    "boolean": {"required", "enum"}}
# a column is checked once per distinct value while the last batch had fewer distinct values
# than this share of its cells; above it, cell by cell (integers parse faster than they hash)
DICTIONARY_SHARE = {"integer": 0.01}
DEFAULT_SHARE = 0.25
MAX_KNOWN = 200_000  # distinct values whose verdicts a field remembers


class Checked(NamedTuple):
    """A column's verdict: a status per cell (MISSING and UNSURE bits), the cells as a key sees
    them (key fields only) and the typed values (when asked for: null where missing or unsure;
    unsure cells are read by Frictionless afterwards)."""

    status: np.ndarray
    cells: KeyCells | None
    typed: pa.Array | None

    def take(self, indices: np.ndarray) -> Checked:
        return Checked(self.status[indices], self.cells.take(indices) if self.cells else None,
                       None if self.typed is None else self.typed.take(pa.array(indices)))


class Known(NamedTuple):
    """Values of a field already judged, with their verdicts."""

    values: pa.Array
    checked: Checked


def _fits(kind: str, value: Any) -> bool:
    """Whether a limit compares exactly in the field's canonical Arrow type."""
    if kind == "integer":
        return -(2**63) <= int(value) < 2**63
    if kind == "number":
        if isinstance(value, float):
            return value == value  # a float is held by a float (NaN compares with nothing)
        number = Decimal(value)
        return number.is_finite() and Decimal(repr(float(number))) == number
    return True


class FieldCheck:
    """Checks one field's column of raw strings."""

    def __init__(self, field: Field, missing_values: list[str], *, key: bool = False,
                 strategy: str = "auto", typed: bool = False) -> None:
        self.field = field
        self.key = key  # whether hashes of the typed values are wanted
        self.typed = typed  # whether the typed values are wanted (to publish them)
        self.strategy = strategy  # auto | dictionary | direct (tests force one)
        self.only_empty_missing = list(missing_values) == [""]
        self.missing = pa.array(missing_values, pa.string())
        self.reader = field.create_cell_reader()
        self.memo: dict[Any, tuple[Any, dict]] = {}  # the cell reader's answers, bounded
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
        bounds = {name: value_reader(field.constraints[name])
                  for name in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
                  if name in field.constraints}
        members = [value_reader(v) for v in field.constraints.get("enum", [])]
        if not all(_fits(kind, v) for v in [*bounds.values(), *members] if v is not None):
            self.mode = "scalar"  # a limit an int64 or a float cannot hold: Frictionless decides
        self.limits = {name: canonical(field, v) for name, v in bounds.items()}
        self.enum = None
        if "enum" in field.constraints and self.mode != "scalar":
            self.enum = pa.array([canonical(field, v) for v in members if v is not None],
                                 canonical_type(field))
        self.pattern = None
        if "pattern" in field.constraints:
            try:
                self.pattern = f"^(?:{field.constraints['pattern']})$"
                pc.match_substring_regex(pa.array(["x"]), self.pattern)
            except pa.ArrowInvalid:
                self.mode = "scalar"  # not RE2: Python's re decides, value by value
        self.true_false = (field.true_values, field.false_values) if kind == "boolean" else None
        # a text column with no constraints beyond `required` that is not a key is only
        # checked for missing values
        self.needs_values = key or typed or self.mode != "string" or bool(
            constraints - {"required"})
        self.distinct_share = 0.0  # share of distinct values in the last piece
        self.known: Known | None = None  # values already judged
        self.lock = threading.Lock()

    @property
    def required(self) -> bool:
        return bool(self.field.constraints.get("required"))

    def read(self, cell: Any) -> tuple[Any, dict]:
        """Frictionless's own reading of one cell: (typed value, notes), remembered."""
        found = self.memo.get(cell)
        if found is None:
            found = self.reader(cell)
            if len(self.memo) < 100_000:
                self.memo[cell] = found
        return found

    def check(self, column: pa.Array) -> Checked:
        """The column's verdict; unsure cells are to be read by Frictionless.

        A column with few distinct values (codes, years, dates) is checked once per value,
        and the values' verdicts are remembered from piece to piece; one that had many in the
        last piece is checked cell by cell without trying."""
        if not self._per_value():
            return self._evaluate(column)
        known = self.known
        if known is not None:
            where = pc.index_in(column, value_set=known.values)
            if not where.null_count:
                return known.checked.take(where.to_numpy())
            if where.null_count <= len(column) // 8:  # some new values: add them
                indices = where.fill_null(-1).to_numpy()
                new = np.flatnonzero(indices < 0)
                fresh = column.take(pa.array(new))
                encoded = pc.dictionary_encode(fresh)
                known = self._remember(encoded.dictionary, self._evaluate(encoded.dictionary))
                indices = indices.copy()
                indices[new] = pc.index_in(fresh, value_set=known.values).to_numpy()
                return known.checked.take(indices)
        encoded = pc.dictionary_encode(column)
        self.distinct_share = len(encoded.dictionary) / max(len(column), 1)
        if not self._per_value():
            return self._evaluate(column)
        known = self._remember(encoded.dictionary, self._evaluate(encoded.dictionary))
        indices = pc.index_in(encoded.dictionary, value_set=known.values).to_numpy()
        return known.checked.take(indices[encoded.indices.to_numpy(zero_copy_only=False)])

    def _remember(self, values: pa.Array, checked: Checked) -> Known:
        """Add checked values to the known ones (pieces are checked in several threads; the
        known values only grow, so positions found in an earlier copy stay right)."""
        with self.lock:
            known = self.known
            if known is None:
                self.known = Known(values, checked)
                return self.known
            new = pc.is_null(pc.index_in(values, value_set=known.values)).to_numpy(
                zero_copy_only=False)
            grown = len(known.values) + int(new.sum()) > MAX_KNOWN
            if not grown:  # else: too many to remember; judged now, and when seen again
                values, checked = values.filter(pa.array(new)), checked.take(np.flatnonzero(new))
            before, cells = known.checked, checked.cells
            merged = Known(pa.concat_arrays([known.values, values]), Checked(
                np.concatenate([before.status, checked.status]),
                None if cells is None else KeyCells(*(
                    None if a is None else np.concatenate([a, b])
                    for a, b in zip(before.cells, cells, strict=True))),
                None if checked.typed is None else pa.concat_arrays(
                    [before.typed, checked.typed])))
            if not grown:
                self.known = merged
            return merged

    def _per_value(self) -> bool:
        if self.mode == "scalar" or self.strategy == "dictionary":
            return True
        if self.strategy == "direct" or not self.needs_values:
            return False
        return self.distinct_share < DICTIONARY_SHARE.get(self.mode, DEFAULT_SHARE)

    def _evaluate(self, column: pa.Array) -> Checked:
        if self.only_empty_missing:
            missing = pc.equal(pc.binary_length(column), 0).to_numpy(zero_copy_only=False)
        else:
            missing = pc.is_in(column, value_set=self.missing).to_numpy(zero_copy_only=False)
        cells = typed = None
        if self.mode == "scalar":
            clean, cells, typed = self._scalar(column)
        elif not self.needs_values:
            clean = np.ones(len(column), dtype=bool)
        else:
            clean, typed = getattr(self, f"_{self.mode}")(column)
            clean = clean & self._constraints(column, typed)
            if self.key:
                cells = KeyCells(hash_column(typed), typed.is_null().to_numpy(
                    zero_copy_only=False), nan_mask(typed) if self.field.type == "number"
                    else None)
        clean = np.asarray(clean, dtype=bool) & ~missing
        status = missing.astype(np.uint8)
        if not self.required:
            clean = clean | missing  # a missing optional cell is fine (and None)
        status |= (~clean).astype(np.uint8) * UNSURE
        if cells is not None:  # a missing cell is None (unsure ones are read again)
            cells = KeyCells(cells.hashes, cells.nulls | missing, cells.nans)
        if self.typed:  # null where missing or unsure: unsure cells are read again
            typed = pc.if_else(pa.array(clean & ~missing), typed, pa.nulls(len(column),
                                                                             typed.type))
        return Checked(status, cells, typed if self.typed else None)

    # the fast types -------------------------------------------------------------------
    def _string(self, column: pa.Array):
        return np.ones(len(column), dtype=bool), column

    def _integer(self, column: pa.Array):
        # plain digits parse at once; signs and spaces (and bad cells) take the full pattern
        plain = _mask(pc.and_(pc.ascii_is_decimal(column),
                              pc.less_equal(pc.binary_length(column), 18)))
        typed = pc.cast(pc.if_else(pa.array(plain), column, "0"), pa.int64()).to_numpy()
        others = np.flatnonzero(~plain & (pc.binary_length(column).to_numpy() > 0))
        if len(others):
            subset = column.take(pa.array(others))
            shaped = pc.match_substring_regex(subset, INT)
            values = pc.cast(pc.if_else(shaped, pc.utf8_trim_whitespace(subset), "0"), pa.int64())
            typed, plain = typed.copy(), plain.copy()
            typed[others] = values.to_numpy()
            plain[others] = _mask(shaped)
        return plain, pa.array(typed, mask=~plain)

    def _number(self, column: pa.Array):
        # at most 15 significant digits (16 characters with the point): the float is exact
        # enough that distinct decimals stay distinct and in order
        ok = pc.and_(pc.match_substring_regex(column, NUMBER), pc.less_equal(
            pc.subtract(pc.binary_length(column), pc.cast(pc.starts_with(column, "-"),
                                                            pa.int32())), 16))
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
        ok = pc.and_(ok, pc.invert(pc.starts_with(column, "0000")))  # Python has no year 0
        days = pc.cast(parsed, pa.date32())
        return _mask(ok), pc.if_else(ok, days, pa.scalar(None, pa.date32()))

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
    def _scalar(self, values: pa.Array) -> tuple[np.ndarray, KeyCells | None, pa.Array | None]:
        flags, typed_values = [], []
        for value in values.to_pylist():
            target, notes = self.read(value)
            flags.append(not notes)
            typed_values.append(target if not notes else None)
        cells = cells_of(self.field, typed_values) if self.key else None
        typed = typed_array(self.field, typed_values) if self.typed else None
        return np.asarray(flags, dtype=bool).reshape(len(values)), cells, typed


def _mask(array: pa.Array) -> np.ndarray:
    return pc.fill_null(array, False).to_numpy(zero_copy_only=False)
