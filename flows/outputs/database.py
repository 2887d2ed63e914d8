"""The consumers' API: every release holds opendata.db (SQLite, one table per dataset, keys
indexed, full-text search on free-text columns) and Datasette metadata; `opendata browse`
serves the latest release with Datasette (JSON API, SQL, CSV export)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlite_utils

from flows.core.diskfault import kind
from flows.core.messages import Said
from flows.core.register import Register
from flows.core.values import json_document

SQL_TYPES = {"integer": int, "year": int, "number": float, "boolean": int}


def free_text(field: Any) -> bool:
    """Text people search in: strings without a code-like constraint (pattern or enum)."""
    return field.type == "string" and not {"pattern", "enum"} & set(field.constraints) and \
        not field.name.endswith("_id")


def write_database(path: Path, datasets: dict[str, Any], register: Register,
                   previous: Path | None = None, reused: set[str] | None = None
                   ) -> dict[str, str]:
    """All tables, or - given the previous release's database - a copy of it with only the
    tables of datasets not reused written again. `datasets`: id -> a built dataset (its
    `batches()`). Rows go in batch by batch through ADBC's bulk ingest (SQLite's C API, no
    Python per row), so memory does not grow with the table. A table that cannot be written
    never stops the others: it is the previous release's table again, or left out ->
    {dataset id: why}."""
    if previous is not None and previous.is_file() and reused is not None:
        todo = _start_from_previous(path, previous, list(datasets), reused)
    else:
        sqlite_utils.Database(path, recreate=True).close()
        todo = list(datasets)
    _create_tables(path, register, todo)
    failed = _fill_tables(path, {d: datasets[d] for d in todo})
    _index_tables(path, register, [d for d in todo if d not in failed])
    restore_tables(path, previous, set(failed))
    if len(todo) == len(datasets) and not failed:
        database = sqlite_utils.Database(path)
        database.vacuum()  # a copy keeps its big tables as they are: no rewrite of the file
        database.close()
    return failed


def _start_from_previous(path: Path, previous: Path, datasets: list[str], reused: set[str]
                         ) -> list[str]:
    """A copy of the previous database without the tables to write again (and those of
    datasets no longer published) -> the datasets to write."""
    shutil.copyfile(previous, path)
    database = sqlite_utils.Database(path)
    existing = {n for n in database.table_names() if "_fts" not in n}
    todo = [d for d in datasets if d not in reused or d not in existing]
    for dataset_id in [*todo, *(existing - set(datasets))]:
        _drop(database, dataset_id)
    database.close()
    return todo


def _create_tables(path: Path, register: Register, names: list[str]) -> None:
    """Empty tables with the published schema's columns and primary key."""
    database = sqlite_utils.Database(path)
    for dataset_id in names:
        schema = register.published_schema(dataset_id)
        columns = {f.name: SQL_TYPES.get(f.type, str) for f in schema.fields}
        database.table(dataset_id).create(columns, pk=list(schema.primary_key) or None)
    database.close()


def _fill_tables(path: Path, datasets: dict[str, Any]) -> dict[str, str]:
    """Every dataset's rows into its table -> {dataset id: why} for those that failed."""
    failed: dict[str, str] = {}
    for dataset_id, dataset in datasets.items():
        try:
            _ingest(path, dataset_id, dataset)
        except Exception as error:  # that table only (a full disk is everyone's): restore_tables
            if kind(error):
                raise
            failed[dataset_id] = f"{type(error).__name__}: {error}"
    return failed


def _index_tables(path: Path, register: Register, names: list[str]) -> None:
    """Indexes on the foreign keys and full-text search on the free-text columns."""
    database = sqlite_utils.Database(path)
    for dataset_id in names:
        schema = register.published_schema(dataset_id)
        table = database.table(dataset_id)
        for fk in schema.foreign_keys:
            table.create_index(list(fk["fields"]), if_not_exists=True)
        searchable = [f.name for f in schema.fields if free_text(f)]
        if searchable:
            table.enable_fts(searchable, create_triggers=False, tokenize="unicode61")
    database.close()


def _drop(database: sqlite_utils.Database, name: str) -> None:
    table = database.table(name)
    if table.exists():
        if table.detect_fts():
            table.disable_fts()
        table.drop()


def restore_tables(path: Path, previous: Path | None, names: set[str]) -> set[str]:
    """The previous release's tables (their rows, indexes and full-text search) in place of
    these; a table the previous release lacks is left out -> the tables restored."""
    if not names:
        return set()
    database = sqlite_utils.Database(path)
    for name in names:
        _drop(database, name)
    restored: set[str] = set()
    if previous is not None and previous.is_file():
        database.execute("ATTACH DATABASE ? AS earlier", [str(previous)])
        for name in sorted(names):
            found = database.execute(
                "SELECT type, sql FROM earlier.sqlite_master WHERE tbl_name = ? AND sql IS "
                "NOT NULL ORDER BY type = 'index'", [name]).fetchall()
            if not found:
                continue
            for kind, sql in found:
                database.execute(sql)
                if kind == "table":
                    database.execute(f'INSERT INTO main."{name}" SELECT * FROM earlier."{name}"')
            fts = database.table(name).detect_fts() or sqlite_utils.Database(
                previous).table(name).detect_fts()
            if fts:
                columns = [c.name for c in sqlite_utils.Database(previous)[fts].columns]
                database.table(name).enable_fts(columns, create_triggers=False,
                                                tokenize="unicode61", replace=True)
            restored.add(name)
        database.conn.commit()
        database.execute("DETACH DATABASE earlier")
    database.close()
    return restored


def _ingest(path: Path, dataset_id: str, dataset: Any) -> None:
    import adbc_driver_sqlite.dbapi as adbc

    with adbc.connect(str(path)) as connection:
        with connection.cursor() as cursor:
            for batch in dataset.batches():
                if batch.num_rows:
                    cursor.adbc_ingest(dataset_id, sql_batch(batch), mode="append")
        connection.commit()


def sql_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Values as SQLite holds them: dates as ISO text, booleans as 0/1, NaN as NULL."""
    columns = []
    for column in batch.columns:
        if pa.types.is_date(column.type):
            column = pc.cast(column, pa.string())
        elif pa.types.is_boolean(column.type):
            column = pc.cast(column, pa.int64())
        elif pa.types.is_floating(column.type):
            column = pc.if_else(pc.is_nan(column), pa.scalar(None, column.type), column)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def datasette_metadata(register: Register, version: str) -> dict[str, Any]:
    spec = register.package
    return {
        "title": spec.title.sv,
        "description": f"{spec.description.sv}\n\n{spec.description.en}",
        "license": spec.license["name"],
        "license_url": spec.license.get("path"),
        "source": f"{spec.publisher}, release {version}",
        "databases": {"opendata": {"tables": {
            dataset_id: {"title": str(Said(register.datasets[dataset_id].title.sv,
                                           register.datasets[dataset_id].title.en)),
                         "description": register.datasets[dataset_id].description.sv,
                         "columns": {f.name: f.description or ""
                                     for f in register.published_schema(dataset_id).fields}}
            for dataset_id in register.published}}},
    }


def write_metadata(path: Path, register: Register, version: str) -> None:
    path.write_bytes(json_document(datasette_metadata(register, version)))
