"""The verdict on one delivered file: how it was read, rows read = published + rejected, the
located problems, and the accepted rows themselves - typed, in the report type's published
columns plus `_row` (the row in the delivered file) - as Arrow data: in a Parquet file of the
work store when the flow asks for one, else in memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel, PrivateAttr

from flows.core.problems import Problem, problem

SUFFIX = ".parquet"  # the work store: Parquet, LZ4 (fast), which DuckDB reads natively
ROW = "_row"  # each accepted row remembers its row in the delivered file
KEY = "_key"  # and the 64-bit hash of its primary key (for the checks across files)


class ValidatedFile(BaseModel):
    """The verdict on one delivered file."""

    file: str
    report_type: str
    department: str | None
    year: int | None
    format: str | None = None
    encoding: str | None = None  # as detected, for CSV and JSON
    delimiter: str | None = None  # as detected, for CSV
    sheet: str | None = None  # the worksheet read, for Excel
    rows_read: int = 0
    rows_published: int = 0
    accepted: Path | None = None  # Parquet file of the accepted rows (None: in memory, or none)
    rejected_rows: list[int] = []  # rows rejected with a problem of their own
    problems: list[Problem] = []
    rows_kept: int = 0  # rows of an earlier valid delivery still published
    kept: Path | None = None  # their Parquet file
    kept_from: str | None = None  # the release those rows were first published in
    _tables: dict[str, pa.Table] = PrivateAttr(default_factory=dict)

    @property
    def rows_rejected(self) -> int:
        """Read = published + rejected: a file rejected whole rejects every row it has."""
        return self.rows_read - self.rows_published

    @property
    def file_rejected(self) -> bool:
        """Nothing of the file can be published (it waits whole for a valid delivery)."""
        return any(p.file_level for p in self.problems)

    def accepted_table(self) -> pa.Table | None:
        return self._table("accepted")

    def kept_table(self) -> pa.Table | None:
        return self._table("kept")

    def with_tables(self, **tables: pa.Table | None) -> ValidatedFile:
        """This verdict holding the given tables in memory (accepted=..., kept=...)."""
        self._tables.update({k: v for k, v in tables.items() if v is not None})
        for name, table in tables.items():
            if table is None:
                self._tables.pop(name, None)
        return self

    def _table(self, name: str) -> pa.Table | None:
        if name in self._tables:
            return self._tables[name]
        path = getattr(self, name)
        return read_rows(path) if path is not None and Path(path).is_file() else None

    @property
    def records(self) -> list[dict[str, Any]]:
        """The accepted rows as dicts (for small files: tests, the CLI)."""
        table = self.accepted_table()
        return [] if table is None else table.to_pylist()

    def copy_with(self, **update: Any) -> ValidatedFile:
        copy = self.model_copy(update=update)
        copy._tables = dict(self._tables)
        return copy


def read_rows(path: Path, columns: list[str] | None = None) -> pa.Table:
    """Rows of the work store (only the columns asked for are read)."""
    return pq.read_table(path, columns=columns)


def write_rows(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="lz4")


def filter_rows(path: Path, dropped: pa.Array) -> int:
    """Remove the rows whose `_row` is among `dropped` from a stored file, a row group at a
    time (-> the rows left)."""
    source = pq.ParquetFile(path)
    target = path.with_name(path.name + ".tmp")
    writer, left = RowWriter(target, source.schema_arrow), 0
    for batch in source.iter_batches(batch_size=262_144):
        kept = batch.filter(pc.invert(pc.is_in(batch.column(ROW), value_set=dropped)))
        writer.write(pa.Table.from_batches([kept]))
        left += kept.num_rows
    writer.close()
    target.replace(path)
    return left


class RowWriter:
    """Rows written to the work store piece by piece."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.writer = pq.ParquetWriter(path, schema, compression="lz4")

    def write(self, table: pa.Table) -> None:
        """The rows as one row group."""
        self.writer.write_table(table, row_group_size=max(1, table.num_rows))

    def close(self) -> None:
        self.writer.close()


def rejected_file(name: str, report_type: str, problems: list[Problem]) -> ValidatedFile:
    """A file that could not even be classified (no year, department or format known)."""
    return ValidatedFile(file=name, report_type=report_type, department=None, year=None,
                         problems=problems)


def hold_strict_file(result: ValidatedFile) -> ValidatedFile:
    """A strict report type is published whole or not at all: one bad row holds the file."""
    bad = len(result.rejected_rows)
    held = problem("strict-file-rejected", result.file, "problem.strict-file-rejected.rows",
                   {"report_type": result.report_type, "count": bad})
    held_file = result.copy_with(rows_published=0, accepted=None,
                                 problems=[held, *result.problems])
    return held_file.with_tables(accepted=None)
