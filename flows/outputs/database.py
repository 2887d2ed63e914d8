"""The consumers' API: every release holds opendata.db (SQLite, one table per dataset, keys
indexed, full-text search on free-text columns) and Datasette metadata; `opendata browse`
serves the latest release with Datasette (JSON API, SQL, CSV export)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import sqlite_utils

from flows.core.register import Register
from flows.core.values import json_value
from flows.outputs.formats import records

SQL_TYPES = {"integer": int, "year": int, "number": float, "boolean": int}


def free_text(field: Any) -> bool:
    """Text people search in: strings without a code-like constraint (pattern or enum)."""
    return field.type == "string" and not {"pattern", "enum"} & set(field.constraints) and \
        not field.name.endswith("_id")


def write_database(path: Path, tables: dict[str, pd.DataFrame], register: Register,
                   previous: Path | None = None, changed: list[str] | None = None) -> None:
    """All tables, or - given the previous release's database - a copy of it with only the
    changed datasets' tables written again."""
    if previous is not None and previous.is_file() and changed is not None:
        shutil.copyfile(previous, path)
        database = sqlite_utils.Database(path)
        existing = {n for n in database.table_names() if "_fts" not in n}
        todo = [d for d in tables if d in changed or d not in existing]
        for dataset_id in [*todo, *(existing - set(tables))]:
            table = database.table(dataset_id)
            if table.exists():
                if table.detect_fts():
                    table.disable_fts()
                table.drop()
    else:
        database = sqlite_utils.Database(path, recreate=True)
        todo = list(tables)
    for dataset_id in todo:
        frame = tables[dataset_id]
        schema = register.published_schema(dataset_id)
        columns = {f.name: SQL_TYPES.get(f.type, str) for f in schema.fields}
        rows = [{name: _sql_value(value) for name, value in zip(frame.columns, row, strict=True)}
                for row in records(frame)]
        table = database.table(dataset_id)
        table.create(columns, pk=list(schema.primary_key) or None)
        table.insert_all(rows)
        for fk in schema.foreign_keys:
            table.create_index(list(fk["fields"]), if_not_exists=True)
        searchable = [f.name for f in schema.fields if free_text(f)]
        if searchable:
            table.enable_fts(searchable, create_triggers=False, tokenize="unicode61")
    database.vacuum()
    database.close()


def _sql_value(value: Any) -> Any:
    value = json_value(value)
    return int(value) if isinstance(value, bool) else value


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
