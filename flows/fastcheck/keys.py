"""Unique, primary and foreign keys on 64-bit hashes of canonical typed values: the table is
never held twice, only one hash per row and key (8 bytes) and its bucket (1 byte)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

NULL = np.uint64(0x9E3779B97F4A7C15)  # the hash of a missing cell: None == None in a key
NAN = np.uint64(0x7FF8DEADBEEF0001)  # NaN, until spread_nan makes each one different
MULTIPLIER = np.uint64(0x100000001B3)
INT64 = (-(2**63), 2**63)
_nan_counter = np.random.default_rng(20260101)


def hash_column(column: pa.Array) -> np.ndarray:
    """One uint64 per value that depends on the value only (not on the batch around it).
    Integer-like values (integers, years, booleans, dates as days) hash by their 64-bit value,
    floats by their bits, text by its characters."""
    nulls = column.is_null().to_numpy(zero_copy_only=False)
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        encoded = pc.dictionary_encode(column.fill_null(""))
        words = np.asarray(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=object)
        hashed = pd.util.hash_array(words, categorize=False)[
            encoded.indices.to_numpy(zero_copy_only=False)]
    elif pa.types.is_floating(kind):
        floats = column.fill_null(0.0).to_numpy(zero_copy_only=False).astype(np.float64)
        floats = np.where(floats == 0.0, 0.0, floats)  # -0.0 equals 0.0
        hashed = pd.util.hash_array(floats.view(np.uint64), categorize=False)
        hashed = np.where(np.isnan(floats), NAN, hashed)
    else:
        filled = (column.cast(pa.int64()) if pa.types.is_boolean(kind) else column).fill_null(0)
        raw = filled.to_numpy(zero_copy_only=False).astype(np.int64).view(np.uint64)
        hashed = pd.util.hash_array(raw, categorize=False)
    return np.where(nulls, NULL, hashed)


def spread_nan(hashes: np.ndarray) -> np.ndarray:
    """NaN never equals anything, as Decimal('NaN') in Frictionless: each gets its own hash."""
    nan = hashes == NAN
    if nan.any():
        hashes = hashes.copy()
        hashes[nan] = _nan_counter.integers(0, 2**63, int(nan.sum()), dtype=np.uint64)
    return hashes


def hash_values(field: Any, values: list[Any], *, spread: bool = True) -> np.ndarray:
    """Hashes of Frictionless-typed Python values, equal to those of the same values read
    vectorised. An integer beyond 64 bits hashes by its digits (it equals no 64-bit one)."""
    from flows.fastcheck.fields import canonical, canonical_type

    if field.type == "integer":
        fits = [v is None or INT64[0] <= int(v) < INT64[1] for v in values]
        hashed = hash_column(pa.array([int(v) if v is not None and ok else None
                                       for v, ok in zip(values, fits, strict=True)], pa.int64()))
        big = [i for i, ok in enumerate(fits) if not ok]
        if big:
            hashed[big] = hash_column(pa.array([str(int(values[i])) for i in big], pa.string()))
    else:
        hashed = hash_column(pa.array([canonical(field, v) for v in values],
                                      canonical_type(field)))
    return spread_nan(hashed) if spread else hashed


def combine(columns: list[np.ndarray]) -> np.ndarray:
    """One uint64 per row over the hashes of the key's columns, in order."""
    combined = np.zeros(len(columns[0]), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for hashes in columns:
            combined = combined * MULTIPLIER ^ hashes
    return combined


SKIP = np.uint64(0)  # the hash of a key that is not compared (all cells None)
BUCKETS = 16  # by the top 4 bits of a hash
GROUP_ROWS = 2_000_000  # at most about this many rows are compared at once
NO_BUCKET = np.uint8(255)


class KeyLog:
    """Hashes of one key over the whole file: 8 bytes a row and a 1-byte bucket, row numbers
    kept only where they are not consecutive (rows pyarrow set aside)."""

    def __init__(self) -> None:
        self.chunks: list[tuple[int | np.ndarray, np.ndarray, np.ndarray]] = []
        self.in_order = True  # row numbers only grow from chunk to chunk

    @staticmethod
    def prepare(hashes: np.ndarray, skip: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(hashes with SKIP where the key is not compared, their buckets)."""
        hashes = np.where(hashes == SKIP, np.uint64(1), hashes)
        hashes[skip] = SKIP
        buckets = (hashes >> np.uint64(60)).astype(np.uint8)
        buckets[skip] = NO_BUCKET
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
        found = [self._rows(spec, np.flatnonzero(h == SKIP)) for spec, h, _ in self.chunks]
        return np.sort(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)

    def hashes(self) -> np.ndarray:
        found = [h[h != SKIP] for _, h, _ in self.chunks]
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
                if groups == 1:  # all rows (a SKIP is never counted as repeated)
                    rows.append(self._rows(spec, np.arange(len(chunk))))
                    hashes.append(chunk)
                    continue
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
        found = [self._rows(spec, np.flatnonzero((h != SKIP) & ~np.isin(h, reference)))
                 for spec, h, _ in self.chunks]
        return np.sort(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)


FILTER_BITS = np.uint64((1 << 22) - 1)


def _later_repeats(hashes: np.ndarray) -> np.ndarray:
    """Positions of the hashes equal to one earlier in the array (SKIP aside). A sort finds
    the values that occur twice or more; a bit table on their low bits finds the few rows
    that may hold them; only those go through a hash table (a hash table over every row
    misses the CPU cache and costs several times more)."""
    ordered = np.sort(hashes)
    twice = ordered[1:][(ordered[1:] == ordered[:-1]) & (ordered[1:] != SKIP)]
    if not len(twice):
        return np.zeros(0, dtype=np.int64)
    table = np.zeros(int(FILTER_BITS) + 1, dtype=bool)
    table[twice & FILTER_BITS] = True
    candidates = np.flatnonzero(table[hashes & FILTER_BITS])
    repeat = pd.Series(hashes[candidates]).duplicated(keep="first").to_numpy()
    return candidates[repeat]
