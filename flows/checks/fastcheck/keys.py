"""Unique, primary and foreign keys on 64-bit hashes of canonical typed values: the table is
never held twice, only one hash per row and key (8 bytes) and its bucket (1 byte)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from frictionless import Field

NULL = np.uint64(0x9E3779B97F4A7C15)  # what a None cell adds to a key (None == None)
MULTIPLIER = np.uint64(0x100000001B3)
DATE_SALT = np.uint64(0xD1B54A32D192ED03)
INT64 = (-(2**63), 2**63)
_random = np.random.default_rng(20260101)
CANONICAL = {"integer": pa.int64(), "year": pa.int64(), "number": pa.float64(),
             "boolean": pa.bool_(), "date": pa.date32(), "string": pa.string()}


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
        return value
    if kind == "datetime" and isinstance(value, dt.datetime):  # the same instant is equal
        aware = value.tzinfo is not None and value.utcoffset() is not None
        return (value.astimezone(dt.UTC) if aware else value).isoformat()
    return str(value)


def canonical_type(field: Field) -> pa.DataType:
    return CANONICAL.get(field.type, pa.string())


def fits(field: Field, value: Any) -> bool:
    """Whether a Frictionless-typed value fits the field's canonical Arrow type (an integer
    beyond 64 bits does not)."""
    return value is None or field.type not in ("integer", "year") or INT64[0] <= int(value) < \
        INT64[1]


def typed_array(field: Field, values: list[Any]) -> pa.Array:
    """Frictionless-typed Python values as the field's canonical Arrow array - what is
    published (a value that does not fit is None: see fits)."""
    return pa.array([canonical(field, v) if fits(field, v) else None for v in values],
                    canonical_type(field))


class KeyCells(NamedTuple):
    """One key field's cells in some rows, as the key checks see them."""

    hashes: np.ndarray  # uint64 hash of each typed value (meaningless where None)
    nulls: np.ndarray  # the cell is None
    nans: np.ndarray | None  # the value is NaN, which equals nothing (numbers only)

    def put(self, positions: np.ndarray, other: KeyCells) -> KeyCells:
        """These cells with `other` at `positions`."""
        hashes, nulls = self.hashes.copy(), self.nulls.copy()
        hashes[positions], nulls[positions] = other.hashes, other.nulls
        nans = None
        if self.nans is not None or other.nans is not None:
            nans = np.zeros(len(hashes), dtype=bool) if self.nans is None else self.nans.copy()
            nans[positions] = False if other.nans is None else other.nans
        return KeyCells(hashes, nulls, nans)

    def take(self, indices: np.ndarray) -> KeyCells:
        return KeyCells(self.hashes[indices], self.nulls[indices],
                        None if self.nans is None else self.nans[indices])


def hash_column(column: pa.Array) -> np.ndarray:
    """One uint64 per value that depends on the value only (not on the batch around it).
    Integers, years and booleans hash by their 64-bit value, as do floats that are whole
    numbers (1.0 == 1); other floats by their bits, dates by their salted days, text by its
    characters."""
    nulls = column.is_null().to_numpy(zero_copy_only=False)
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        encoded = pc.dictionary_encode(column.fill_null(""))
        words = np.asarray(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=object)
        hashed = pd.util.hash_array(words, categorize=False)[
            encoded.indices.to_numpy(zero_copy_only=False)]
    elif pa.types.is_floating(kind):
        # a whole number hashes as the integer it equals (1.0 == 1 in Python, as in Frictionless)
        floats = column.fill_null(0.0).to_numpy(zero_copy_only=False).astype(np.float64)
        whole = (floats == np.trunc(floats)) & (np.abs(floats) < 2.0**63)
        as_int = np.where(whole, floats, 0.0).astype(np.int64).view(np.uint64)
        hashed = np.where(whole, pd.util.hash_array(as_int, categorize=False),
                          pd.util.hash_array(floats.view(np.uint64), categorize=False))
    elif pa.types.is_date(kind):  # a date equals no number: its days are salted
        days = column.cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False)
        hashed = pd.util.hash_array(days.astype(np.int64).view(np.uint64) ^ DATE_SALT,
                                    categorize=False)
    else:
        filled = (column.cast(pa.int64()) if pa.types.is_boolean(kind) else column).fill_null(0)
        raw = filled.to_numpy(zero_copy_only=False).astype(np.int64).view(np.uint64)
        hashed = pd.util.hash_array(raw, categorize=False)
    return np.where(nulls, NULL, hashed)


def nan_mask(column: pa.Array) -> np.ndarray:
    return pc.fill_null(pc.is_nan(column), False).to_numpy(zero_copy_only=False)


def cells_of(field: Field, values: list[Any]) -> KeyCells:
    """Frictionless-typed Python values as key cells, hashed as the same values read
    vectorised. An integer beyond 64 bits, or a decimal a float does not hold exactly, hashes
    by its digits (it equals no value the vectorised path reads)."""
    nulls = np.array([v is None for v in values], dtype=bool)
    nans = None
    exact: list[int] = []  # positions hashed by their digits
    if field.type == "integer":
        exact = [i for i, v in enumerate(values) if v is not None
                 and not INT64[0] <= int(v) < INT64[1]]
    elif field.type == "number":
        nans = np.array([v is not None and v != v for v in values], dtype=bool)
        # a decimal a float does not hold exactly (more digits, or beyond its range)
        exact = [i for i, v in enumerate(values) if isinstance(v, Decimal) and v.is_finite()
                 and Decimal(repr(float(v))) != v]
    apart = set(exact)
    plain = [None if i in apart else canonical(field, v) for i, v in enumerate(values)]
    hashed = hash_column(pa.array(plain, canonical_type(field)))
    if exact:  # a whole number as its integer's digits, as an integer beyond 64 bits
        hashed[exact] = hash_column(pa.array([_digits(values[i]) for i in exact]))
    return KeyCells(hashed, nulls, nans)


def _digits(value: Any) -> str:
    if isinstance(value, Decimal) and value != value.to_integral_value():
        return str(value.normalize())
    return str(int(value))


def key_hashes(cells: list[KeyCells]) -> tuple[np.ndarray, np.ndarray]:
    """(one uint64 per row over a key's fields, in order; rows whose key is all None, which
    are not compared). Which fields are None is mixed in apart from the values, so a None
    never equals a value whose hash happens to be NULL; each NaN gets a fresh random hash,
    so it equals nothing, not even itself in another key log."""
    combined = np.zeros(len(cells[0].hashes), dtype=np.uint64)
    pattern = np.zeros(len(combined), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for position, field_cells in enumerate(cells):
            hashes = np.where(field_cells.nulls, NULL, field_cells.hashes)
            if field_cells.nans is not None and field_cells.nans.any():
                hashes[field_cells.nans] = _random.integers(0, 2**64 - 1, int(
                    field_cells.nans.sum()), dtype=np.uint64, endpoint=True)
            combined = combined * MULTIPLIER ^ hashes
            pattern |= field_cells.nulls.astype(np.uint64) << np.uint64(position % 64)
        combined = pd.util.hash_array(combined ^ pd.util.hash_array(pattern, categorize=False),
                                      categorize=False)
    return combined, np.logical_and.reduce([c.nulls for c in cells])


BUCKETS = 16  # by the top 4 bits of a hash
GROUP_ROWS = 2_000_000  # at most about this many rows are compared at once
SKIPPED = np.uint8(255)  # the "bucket" of a key that is not compared (all cells None)


class KeyLog:
    """Hashes of one key over the whole file: 8 bytes a row and a 1-byte bucket (SKIPPED for
    a key that is not compared), row numbers kept only where they are not consecutive (rows
    pyarrow set aside)."""

    def __init__(self) -> None:
        self.chunks: list[tuple[int | np.ndarray, np.ndarray, np.ndarray]] = []
        self.in_order = True  # row numbers only grow from chunk to chunk

    @staticmethod
    def prepare(hashes: np.ndarray, skip: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the hashes, their buckets: SKIPPED where the key is not compared)."""
        buckets = (hashes >> np.uint64(60)).astype(np.uint8)
        buckets[skip] = SKIPPED
        return hashes, buckets

    def append(self, rows: np.ndarray, hashes: np.ndarray, buckets: np.ndarray) -> None:
        if not len(rows):
            return
        consecutive = rows[-1] - rows[0] == len(rows) - 1
        if self.chunks and self.in_order:
            self.in_order = bool(np.all(np.diff(rows) > 0)) and rows[0] > self._last()
        self.chunks.append((int(rows[0]) if consecutive else rows.copy(), hashes, buckets))

    def _last(self) -> int:
        spec, hashes, _ = self.chunks[-1]
        return spec + len(hashes) - 1 if isinstance(spec, int) else int(spec[-1])

    @staticmethod
    def _rows(spec: int | np.ndarray, positions: np.ndarray) -> np.ndarray:
        return spec + positions if isinstance(spec, int) else spec[positions]

    def skipped(self) -> np.ndarray:
        found = [self._rows(spec, np.flatnonzero(b == SKIPPED)) for spec, _, b in self.chunks]
        return np.sort(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)

    def hashes(self) -> np.ndarray:
        """The hashes of every compared key."""
        found = [h[b != SKIPPED] for _, h, b in self.chunks]
        return np.concatenate(found) if found else np.zeros(0, dtype=np.uint64)

    def repeated(self) -> np.ndarray:
        """Row numbers whose key already appeared on an earlier row. A large log is taken in
        groups of buckets (the hash's top bits), so the working memory stays near that of
        GROUP_ROWS rows whatever the file's length."""
        total = sum(len(h) for _, h, _ in self.chunks)
        groups = 1
        while total > groups * GROUP_ROWS and groups < BUCKETS:
            groups *= 2
        shift = np.uint8(BUCKETS.bit_length() - groups.bit_length())
        found = []
        for group in range(groups):
            rows, hashes = [], []
            for spec, chunk, buckets in self.chunks:
                # SKIPPED >> shift is beyond every group
                positions = np.flatnonzero((buckets >> shift) == group)
                if len(positions):
                    rows.append(self._rows(spec, positions))
                    hashes.append(chunk[positions])
            if not rows:
                continue
            rows_, hashes_ = np.concatenate(rows), np.concatenate(hashes)
            if not self.in_order:  # file order, rows set aside included
                order = np.argsort(rows_, kind="stable")
                rows_, hashes_ = rows_[order], hashes_[order]
            found.append(rows_[_later_repeats(hashes_)])
        return np.sort(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)

    def missing_from(self, reference: np.ndarray) -> np.ndarray:
        """Row numbers whose key is compared and not among the reference hashes."""
        found = [self._rows(spec, np.flatnonzero((b != SKIPPED) & ~np.isin(h, reference)))
                 for spec, h, b in self.chunks]
        return np.sort(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)


FILTER_BITS = np.uint64((1 << 22) - 1)


def _later_repeats(hashes: np.ndarray) -> np.ndarray:
    """Positions of the hashes equal to one earlier in the array. A sort finds the values
    that occur twice or more; a bit table on their low bits finds the few rows that may hold
    them; only those go through a hash table (a hash table over every row misses the CPU
    cache and costs several times more)."""
    ordered = np.sort(hashes)
    twice = ordered[1:][ordered[1:] == ordered[:-1]]
    if not len(twice):
        return np.zeros(0, dtype=np.int64)
    table = np.zeros(int(FILTER_BITS) + 1, dtype=bool)
    table[twice & FILTER_BITS] = True
    candidates = np.flatnonzero(table[hashes & FILTER_BITS])
    repeat = pd.Series(hashes[candidates]).duplicated(keep="first").to_numpy()
    return candidates[repeat]


def row_keys(columns: list[pa.Array]) -> np.ndarray:
    """One uint64 per row over a key's typed columns (canonical Arrow types), equal for equal
    keys whatever table the rows are in: the hash the key checks use."""
    if not columns:
        return np.zeros(0, dtype=np.uint64)
    cells = [KeyCells(hash_column(c), c.is_null().to_numpy(zero_copy_only=False),
                      nan_mask(c) if pa.types.is_floating(c.type) else None) for c in columns]
    return key_hashes(cells)[0]
