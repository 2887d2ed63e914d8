"""The consumers' API: every release holds opendata.db (SQLite, one table per dataset, keys
indexed, full-text search on free-text columns) and Datasette metadata; `opendata browse`
serves the latest release with Datasette (JSON API, SQL, CSV export)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlite_utils

from flows.core.register import Register

SQL_TYPES = {"integer": int, "year": int, "number": float, "boolean": int}


def free_text(field: Any) -> bool:
    """Text people search in: strings without a code-like constraint (pattern or enum)."""
    return field.type == "string" and not {"pattern", "enum"} & set(field.constraints) and \
        not field.name.endswith("_id")


def write_database(path: Path, datasets: dict[str, Any], register: Register,
                   previous: Path | None = None, reused: set[str] | None = None) -> None:
    """All tables, or - given the previous release's database - a copy of it with only the
    tables of datasets not reused written again. `datasets`: id -> a built dataset (its
    `batches()`). Rows go in batch by batch through ADBC's bulk ingest (SQLite's C API, no
    Python per row), so memory does not grow with the table."""
    if previous is not None and previous.is_file() and reused is not None:
        shutil.copyfile(previous, path)
        database = sqlite_utils.Database(path)
        existing = {n for n in database.table_names() if "_fts" not in n}
        todo = [d for d in datasets if d not in reused or d not in existing]
        for dataset_id in [*todo, *(existing - set(datasets))]:
            table = database.table(dataset_id)
            if table.exists():
                if table.detect_fts():
                    table.disable_fts()
                table.drop()
    else:
        database = sqlite_utils.Database(path, recreate=True)
        todo = list(datasets)
    for dataset_id in todo:
        schema = register.published_schema(dataset_id)
        columns = {f.name: SQL_TYPES.get(f.type, str) for f in schema.fields}
        database.table(dataset_id).create(columns, pk=list(schema.primary_key) or None)
    database.close()
    _ingest(path, {d: datasets[d] for d in todo})
    database = sqlite_utils.Database(path)
    for dataset_id in todo:
        schema = register.published_schema(dataset_id)
        table = database.table(dataset_id)
        for fk in schema.foreign_keys:
            table.create_index(list(fk["fields"]), if_not_exists=True)
        searchable = [f.name for f in schema.fields if free_text(f)]
        if searchable:
            table.enable_fts(searchable, create_triggers=False, tokenize="unicode61")
    if len(todo) == len(datasets):
        database.vacuum()  # a copy keeps its big tables as they are: no rewrite of the file
    database.close()


def _ingest(path: Path, datasets: dict[str, Any]) -> None:
    import adbc_driver_sqlite.dbapi as adbc

    with adbc.connect(str(path)) as connection:
        with connection.cursor() as cursor:
            for dataset_id, dataset in datasets.items():
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
            dataset_id: {"title": f"{register.datasets[dataset_id].title.sv} / "
                                  f"{register.datasets[dataset_id].title.en}",
                         "description": register.datasets[dataset_id].description.sv,
                         "columns": {f.name: f.description or ""
                                     for f in register.published_schema(dataset_id).fields}}
            for dataset_id in register.published}}},
    }


def write_metadata(path: Path, register: Register, version: str) -> None:
    path.write_text(json.dumps(datasette_metadata(register, version), ensure_ascii=False,
                               indent=2) + "\n", encoding="utf-8")
