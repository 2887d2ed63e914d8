"""Unique, primary and foreign keys on 64-bit hashes of canonical typed values: the table is
never held twice, only one hash per row and key (8 bytes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

NULL = np.uint64(0x9E3779B97F4A7C15)
MULTIPLIER = np.uint64(0x100000001B3)
_nan_counter = np.random.default_rng(20260101)


def hash_column(column: pa.Array) -> np.ndarray:
    """One uint64 per value that depends on the value only (not on the batch around it).
    Nulls hash alike (None == None inside a key tuple); NaN never equals anything, as
    Decimal('NaN') in Frictionless."""
    nulls = column.is_null().to_numpy(zero_copy_only=False)
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        encoded = pc.dictionary_encode(column.fill_null(""))
        words = np.asarray(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=object)
        hashed = pd.util.hash_array(words, categorize=False)[
            encoded.indices.to_numpy(zero_copy_only=False)]
    else:
        if pa.types.is_floating(kind):
            floats = column.fill_null(0.0).to_numpy(zero_copy_only=False).astype(np.float64)
            floats = np.where(floats == 0.0, 0.0, floats)  # -0.0 equals 0.0
            raw = floats.view(np.uint64)
            nan = np.isnan(floats)
        else:
            filled = (column.cast(pa.int64()) if pa.types.is_boolean(kind) else column).fill_null(0)
            raw = filled.to_numpy(zero_copy_only=False).astype(np.int64).view(np.uint64)
            nan = np.zeros(len(column), dtype=bool)
        hashed = pd.util.hash_array(raw, categorize=False)
        if nan.any():
            hashed = hashed.copy()
            hashed[nan] = _nan_counter.integers(0, 2**63, nan.sum(), dtype=np.uint64)
    return np.where(nulls, NULL, hashed)


def hash_rows(columns: list[pa.Array]) -> np.ndarray:
    """One uint64 per row over the given key columns, in order."""
    combined = np.zeros(len(columns[0]), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in columns:
            combined = combined * MULTIPLIER ^ hash_column(column)
    return combined


SKIP = np.uint64(0)  # the hash of a key that is not compared (all cells None)
BUCKETS = 16


class KeyLog:
    """Hashes of one key over the whole file: 8 bytes a row, row numbers kept only where they
    are not consecutive (rows pyarrow set aside)."""

    def __init__(self) -> None:
        self.chunks: list[tuple[int | np.ndarray, np.ndarray]] = []

    def add(self, rows: np.ndarray, hashes: np.ndarray, skip: np.ndarray) -> None:
        hashes = np.where(hashes == SKIP, np.uint64(1), hashes)
        hashes[skip] = SKIP
        consecutive = len(rows) == 0 or rows[-1] - rows[0] == len(rows) - 1
        self.chunks.append((int(rows[0]) if consecutive and len(rows) else rows.copy(), hashes))

    def _rows(self, spec: int | np.ndarray, count: int) -> np.ndarray:
        return np.arange(spec, spec + count, dtype=np.int64) if isinstance(spec, int) else spec

    def skipped(self) -> np.ndarray:
        found = [self._rows(spec, len(h))[h == SKIP] for spec, h in self.chunks]
        return np.sort(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)

    def hashes(self) -> np.ndarray:
        found = [h[h != SKIP] for _, h in self.chunks]
        return np.concatenate(found) if found else np.zeros(0, dtype=np.uint64)

    def repeated(self) -> np.ndarray:
        """Row numbers whose key already appeared on an earlier row, bucket by bucket on the
        hash's top bits, so the working memory is a fraction of the log's."""
        found = []
        for bucket in range(BUCKETS):
            rows, hashes = [], []
            for spec, chunk in self.chunks:
                mask = ((chunk >> np.uint64(60)) == bucket) & (chunk != SKIP)
                if mask.any():
                    rows.append(self._rows(spec, len(chunk))[mask])
                    hashes.append(chunk[mask])
            if not rows:
                continue
            rows_, hashes_ = np.concatenate(rows), np.concatenate(hashes)
            order = np.argsort(rows_, kind="stable")  # file order, rows set aside included
            rows_, hashes_ = rows_[order], hashes_[order]
            found.append(rows_[pd.Series(hashes_).duplicated(keep="first").to_numpy()])
        return np.sort(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)

    def missing_from(self, reference: np.ndarray) -> np.ndarray:
        """Row numbers whose key is compared and not among the reference hashes."""
        found = [self._rows(spec, len(h))[(h != SKIP) & ~np.isin(h, reference)]
                 for spec, h in self.chunks]
        return np.sort(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
