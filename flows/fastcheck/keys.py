"""Unique, primary and foreign keys on 64-bit hashes of canonical typed values: the table is
never held twice, only one hash per row and key (8 bytes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

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
        values = np.asarray(column.fill_null("").to_numpy(zero_copy_only=False), dtype=object)
        hashed = pd.util.hash_array(values, categorize=False)
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


class KeyLog:
    """Hashes of one key over the whole file, by row number."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.hashes: list[np.ndarray] = []
        self.skip: list[np.ndarray] = []  # rows whose key is not compared (all None)

    def add(self, rows: np.ndarray, hashes: np.ndarray, skip: np.ndarray) -> None:
        self.rows.append(rows)
        self.hashes.append(hashes)
        self.skip.append(skip)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.rows:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty.astype(np.uint64), empty.astype(bool)
        rows = np.concatenate(self.rows)
        order = np.argsort(rows, kind="stable")
        return rows[order], np.concatenate(self.hashes)[order], np.concatenate(self.skip)[order]

    def repeated(self) -> np.ndarray:
        """Row numbers whose key already appeared on an earlier row."""
        rows, hashes, skip = self.arrays()
        rows, hashes = rows[~skip], hashes[~skip]
        order = np.argsort(hashes, kind="stable")  # stable: earlier rows first within a key
        sorted_hashes = hashes[order]
        again = np.zeros(len(order), dtype=bool)
        again[1:] = sorted_hashes[1:] == sorted_hashes[:-1]
        return np.sort(rows[order][again])
