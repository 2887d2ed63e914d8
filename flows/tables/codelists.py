"""The codelists maintained with the code (schemas/codelists/<id>.csv), validated together
with Frictionless - their foreign keys point at each other - plus the Agenda 2030 mapping's own
checks. Errors here are ours, not a department's: they stop publishing. Small tables, held as
pandas frames with one nullable column per schema field."""

from __future__ import annotations

from typing import Any

import pandas as pd
from frictionless import Package, Schema

from flows.checks.delivery import codelist_resource
from flows.checks.explain import describe
from flows.core.problems import Problem
from flows.core.register import Register
from flows.core.values import native_number
from flows.tables.agenda2030 import check_mapping

DTYPES = {"integer": "Int64", "year": "Int64", "number": "Float64", "string": "string",
          "boolean": "boolean"}


def to_frame(records: list[dict[str, Any]], schema: Schema, *, sort: bool = True
             ) -> pd.DataFrame:
    """Records with typed cells -> a DataFrame with one nullable column per field, in order,
    rows sorted by the primary key (codelists keep their maintained order: sort=False)."""
    columns = {}
    for field in schema.fields:
        values = [native_number(record.get(field.name)) for record in records]
        dtype = DTYPES.get(field.type, "object")
        columns[field.name] = pd.Series(values, dtype=dtype)
    frame = pd.DataFrame(columns)
    key = list(schema.primary_key)
    if sort and key and len(frame):
        frame = frame.sort_values(key, kind="stable").reset_index(drop=True)
    return frame


def read_codelists(register: Register) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Every codelist, validated together with Frictionless (their foreign keys point at each
    other), plus the Agenda 2030 mapping's own checks. Errors here are ours, not a department's:
    they stop publishing."""
    ids = [spec.id for spec in register.of_kind("codelist")]
    rows_of = {i: register.codelist_rows(i) for i in ids}
    package = Package(resources=[codelist_resource(register, i, rows_of[i]) for i in ids])
    frames, problems = {}, []
    for dataset_id in ids:
        resource = package.get_resource(dataset_id)
        rows = resource.read_rows()
        name = f"schemas/codelists/{dataset_id}.csv"
        header = rows_of[dataset_id][0]
        lookups = register.lookups(resource.schema)
        for row in rows:
            cells = dict(zip(header, rows_of[dataset_id][row.row_number - 1], strict=False))
            for error in row.errors:
                found = describe(error, resource.schema, name, row.row_number, cells, lookups)
                problems.append(found.model_copy(update={"type": "invalid-codelist"}))
        frames[dataset_id] = to_frame([r for r in rows if r.valid], resource.schema, sort=False)
    problems += check_mapping(frames["agenda2030_mappning"], frames["malprogram"],
                              frames["nyckeltal_definitioner"],
                              "schemas/codelists/agenda2030_mappning.csv")
    return frames, problems


def conform(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Columns in schema order with the schema's dtypes (a test checks derived code and schema
    agree: a missing column fails here)."""
    return pd.DataFrame({field.name: frame[field.name].astype(DTYPES.get(field.type, "object"))
                         for field in schema.fields})
