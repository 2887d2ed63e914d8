"""Every published dataset, built once and only when its inputs changed.

A dataset's fingerprint is a hash of what it is made from: the schemas and code, and for a
report type the verdicts of its files (and the earlier deliveries kept), for a derived dataset
the fingerprints of its sources (`sources:` in datasets.yaml). A dataset whose fingerprint is
the one the previous release recorded is not built again: the caller reuses that release's
files (`reusable`).

The report types are merged from the verdicts' stored rows by DuckDB, sorted by primary key,
in bounded memory (it spills to disk), into a Parquet file of the run's work folder; small
tables (codelists, derived tables) are pandas frames. Consumers read what they show: a frame
of a small dataset, the publishing municipality's rows of a large one, a preview.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from flows.checks.fastcheck.keys import canonical_type
from flows.checks.verdict import ValidatedFile
from flows.core.register import Register
from flows.tables.agenda2030 import key_figure_trends, links, overview
from flows.tables.codelists import DTYPES, conform, read_codelists
from flows.tables.comparison import compare
from flows.tables.derived import activity_status, budget_deviation, fossil_free_share
from flows.tables.progress import key_figure_progress, progress_by_goal

BATCH_ROWS = 65_536
PREVIEW_ROWS = 10
MEMORY_LIMIT = "256MB"  # DuckDB spills to disk beyond this (memory stays flat at any size)

DERIVED = {
    "aktivitetsstatus_per_mal": lambda f, r: activity_status(f["aktiviteter"], f["malprogram"]),
    "budgetavvikelse": lambda f, r: budget_deviation(f["ekonomi"]),
    "fossilfri_andel_fordon": lambda f, r: fossil_free_share(f["fordon"]),
    "agenda2030_koppling": lambda f, r: links(f["agenda2030_mappning"], f["aktiviteter"],
                                              f["sdg_delmal"]),
    "nyckeltal_trend": lambda f, r: key_figure_trends(f["nyckeltal"], f["nyckeltal_definitioner"],
                                                      r.package.municipality),
    "agenda2030_oversikt": lambda f, r: overview(f["agenda2030_koppling"], f["sdg_mal"],
                                                 f["aktiviteter"], f["nyckeltal_trend"]),
    "nyckeltal_framsteg": lambda f, r: key_figure_progress(
        f["nyckeltal"], f["nyckeltal_definitioner"], f["nyckeltal_trend"], r.package.municipality),
    "framsteg_per_mal": lambda f, r: progress_by_goal(f["nyckeltal_framsteg"], f["agenda2030_koppling"]),
    "nyckeltal_jamforelse": lambda f, r: compare(f["kolada_varden"], f["kolada_jamforelsegrupper"],
                                                 f["nyckeltal_definitioner"], r.package.municipality),
}


@dataclass
class Built:
    """One dataset, ready to publish: its rows sorted as published, in canonical Arrow types."""

    id: str
    fingerprint: str
    schema: pa.Schema
    rows: int
    parquet: Path | None = None  # the rows (a fresh file, or the previous release's)
    held: pd.DataFrame | None = None  # the rows in memory (small datasets)
    reused: bool = False  # the previous release's files hold it as it is
    municipality_field: str | None = None
    municipality: str | None = None

    def batches(self, size: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
        if self.held is not None:
            table = pa.Table.from_pandas(self.held, schema=self.schema, preserve_index=False)
            yield from table.to_batches(size)
            return
        source = pq.ParquetFile(self.parquet)
        for batch in source.iter_batches(batch_size=size):
            yield batch.cast(self.schema)

    def preview(self, rows: int = PREVIEW_ROWS) -> pd.DataFrame:
        if self.held is not None:
            return self.held.head(rows)
        first = next(self.batches(rows), None)
        return frame_of(pa.Table.from_batches([first] if first is not None else [],
                                                schema=self.schema))

    def replaced(self, frame: pd.DataFrame) -> Built:
        """This dataset with other rows (a new fingerprint): for tests and tools."""
        return Built(id=self.id, fingerprint=fingerprint(self.fingerprint, "replaced"),
                     schema=self.schema, rows=len(frame), held=frame,
                     municipality_field=self.municipality_field, municipality=self.municipality)

    def frame(self) -> pd.DataFrame:
        """What the derived tables, the portal and the follow-up read: every row of a small
        dataset; of one with a municipality column, the publishing municipality's rows."""
        if self.held is not None:
            frame = self.held
        else:  # DuckDB reads only what passes the filter: bounded memory at any size
            import duckdb

            where = "" if self.municipality_field is None else \
                f'WHERE "{self.municipality_field}" = {_quote(self.municipality)}'
            with duckdb.connect(config={"memory_limit": MEMORY_LIMIT}) as connection:
                table = connection.sql(f"SELECT * FROM read_parquet({_quote(self.parquet)}) "
                                       f"{where}").to_arrow_table()
            frame = frame_of(table.cast(self.schema))
        if self.municipality_field is not None:
            frame = frame[frame[self.municipality_field] == self.municipality]
            frame = frame.reset_index(drop=True)
        return frame


def arrow_schema(register: Register, dataset_id: str) -> pa.Schema:
    return pa.schema([(f.name, canonical_type(f))
                      for f in register.published_schema(dataset_id).fields])


def frame_of(table: pa.Table) -> pd.DataFrame:
    """Canonical Arrow columns as the pandas dtypes the tables are computed with."""
    kinds = {pa.int64(): "Int64", pa.float64(): "Float64", pa.string(): "string",
             pa.bool_(): "boolean"}
    return pd.DataFrame({name: pd.Series(table[name].to_pylist(),
                                         dtype=kinds.get(table.schema.field(name).type, "object"))
                         for name in table.column_names})


def fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def build_tables(results: list[ValidatedFile], register: Register, *, context: str = "",
                 min_count: int | None = None, codelists: dict[str, pd.DataFrame] | None = None,
                 work: Path | None = None, reusable: dict[str, tuple[str, Path]] | None = None,
                 keys: dict[str, str] | None = None) -> dict[str, Built]:
    """Every published dataset, built or reused. `context`: the hash of the schemas and the
    code; `codelists`: read_codelists' frames when the caller has them; `work`: where report
    types are merged (else in memory); `reusable`: dataset id -> (fingerprint, its Parquet
    file) of the previous release; `keys`: file -> validation key (what a report type's
    fingerprint is made of)."""
    reusable, keys = reusable or {}, keys or {}
    if min_count is None:  # the run passes its own; a library caller gets the default
        from flows.core.settings import Settings

        min_count = Settings.defaults().min_count
    if codelists is None:
        codelists = read_codelists(register)[0]
    built: dict[str, Built] = {}
    municipality = register.package.municipality

    def make(dataset_id: str, stamp: str, compute: Any) -> None:
        spec = register.datasets[dataset_id]
        common = {"id": dataset_id, "fingerprint": stamp, "schema": arrow_schema(register,
                                                                                  dataset_id),
                  "municipality_field": spec.municipality_field, "municipality": municipality}
        previous = reusable.get(dataset_id)
        if previous is not None and previous[0] == stamp and Path(previous[1]).is_file():
            rows = pq.ParquetFile(previous[1]).metadata.num_rows
            built[dataset_id] = Built(**common, rows=rows, parquet=Path(previous[1]),
                                      reused=True)
            return
        found = compute()
        if isinstance(found, Path):
            built[dataset_id] = Built(**common, rows=pq.ParquetFile(found).metadata.num_rows,
                                      parquet=found)
        else:
            frame = conform(found, register.published_schema(dataset_id))
            built[dataset_id] = Built(**common, rows=len(frame), held=frame)

    for spec in register.of_kind("codelist"):
        make(spec.id, fingerprint(context, spec.id), lambda i=spec.id: codelists[i])
    for report_type in register.report_types:
        files = sorted((r.file, keys.get(r.file), r.kept_from) for r in results
                       if r.report_type == report_type)
        settings = {"min_count": min_count} if report_type == "nyckeltal" else {}
        make(report_type, fingerprint(context, report_type, files, settings),
             lambda t=report_type: merge_report(results, register, t, work, min_count,
                                                codelists["nyckeltal_definitioner"]))
    frames: dict[str, pd.DataFrame] = {}

    def frame(dataset_id: str) -> pd.DataFrame:
        if dataset_id not in frames:
            frames[dataset_id] = built[dataset_id].frame() if dataset_id in built \
                else codelists[dataset_id]
        return frames[dataset_id]

    for dataset_id in _in_order(register):
        spec = register.datasets[dataset_id]
        stamp = fingerprint(context, dataset_id, [built[s].fingerprint for s in spec.sources])
        make(dataset_id, stamp, lambda i=dataset_id: DERIVED[i](_Lazy(frame), register))
    return {i: built[i] for i in register.published}


class _Lazy:
    def __init__(self, load: Any) -> None:
        self.load = load

    def __getitem__(self, dataset_id: str) -> pd.DataFrame:
        return self.load(dataset_id)


def _in_order(register: Register) -> list[str]:
    """The derived datasets, each after its sources."""
    done: list[str] = []
    pending = [d.id for d in register.of_kind("derived")]
    while pending:
        ready = [d for d in pending if all(s in done or register.datasets[s].kind != "derived"
                                           for s in register.datasets[d].sources)]
        if not ready:
            raise ValueError(f"derived datasets depend on each other in a circle: {pending}")
        done += ready
        pending = [d for d in pending if d not in ready]
    return done


def merge_report(results: list[ValidatedFile], register: Register, report_type: str,
                 work: Path | None, min_count: int, definitions: pd.DataFrame
                 ) -> Path | pd.DataFrame:
    """A report type: the accepted (and kept) rows of every file, in its published columns,
    small counts of persons suppressed, sorted by primary key. Into a Parquet file of `work`
    (else a frame)."""
    import duckdb

    schema = register.published_schema(report_type)
    names = schema.field_names
    connection = duckdb.connect(config={"threads": max(1, os.cpu_count() or 1),
                                        "memory_limit": MEMORY_LIMIT,
                                        "preserve_insertion_order": False})
    if work is not None:  # where a sort larger than memory spills
        spill = Path(work) / "duckdb"
        spill.mkdir(parents=True, exist_ok=True)
        connection.execute(f"SET temp_directory = {_quote(spill)}")
    parts = []
    for index, result in enumerate(r for r in results if r.report_type == report_type):
        for which in ("accepted", "kept"):
            table = result._tables.get(which)
            path = getattr(result, which)
            if table is not None:
                connection.register(f"part{index}{which}", table.select(names))
                parts.append(f"SELECT {_columns(names)} FROM part{index}{which}")
            elif path is not None and Path(path).is_file():
                parts.append(f"SELECT {_columns(names)} FROM read_parquet({_quote(path)})")
    if not parts:
        connection.register("empty", pa.table({f.name: pa.array([], t.type) for f, t in zip(
            schema.fields, arrow_schema(register, report_type), strict=True)}))
        parts = [f"SELECT {_columns(names)} FROM empty"]
    rows = " UNION ALL ".join(parts)
    if report_type == "nyckeltal":
        rows = _suppressed(connection, rows, names, definitions, min_count)
    order = ", ".join(f'"{n}"' for n in schema.primary_key) or "1"
    query = f"SELECT {_columns(names)} FROM ({rows}) ORDER BY {order}"
    if work is None:
        found = connection.sql(query).to_arrow_table()
        connection.close()
        return frame_of(found.cast(arrow_schema(register, report_type)))
    target = Path(work) / "datasets" / f"{report_type}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    connection.execute(f"COPY ({query}) TO {_quote(target)} (FORMAT parquet, "
                       "COMPRESSION zstd, ROW_GROUP_SIZE 262144)")
    connection.close()
    return target


def _columns(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _quote(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _suppressed(connection: Any, rows: str, names: list[str], definitions: pd.DataFrame,
                min_count: int) -> str:
    """A key figure that counts persons is not published when fewer than min_count (but more
    than none) are counted: the value is emptied and the row marked status=undertryckt. A
    hidden cell must not be recoverable from the others (T = K + M): in every group with a
    hidden cell, the smallest other value is hidden too (the first by gender on a tie)."""
    persons = definitions.loc[definitions["raknar_personer"].fillna(False).astype(bool),
                              "nyckeltal_id"].astype(str).tolist()
    connection.register("persons", pa.table({"nyckeltal_id": pa.array(persons, pa.string())}))
    group = '"nyckeltal_id", "kommun_id", "ar"'
    counted = '"nyckeltal_id" IN (SELECT nyckeltal_id FROM persons)'
    small = f'("varde" IS NOT NULL AND "varde" > 0 AND "varde" < {int(min_count)})'
    every = ", ".join(f'"{n}"' for n in names)
    shown = {"varde": 'CASE WHEN hide THEN NULL ELSE "varde" END AS "varde"',
             "status": "CASE WHEN hide THEN 'undertryckt' ELSE \"status\" END AS \"status\""}
    hiding = ", ".join(shown.get(n, f'"{n}"') for n in names)  # UNION ALL goes by position
    # only key figures that count persons can be hidden: the rest pass as they are
    return f"""
        WITH source AS ({rows}),
        marked AS (SELECT *, {small} AS small FROM source WHERE {counted}),
        groups AS (SELECT DISTINCT {group} FROM marked WHERE small),
        nearest AS (
            SELECT m."nyckeltal_id", m."kommun_id", m."ar", m."kon",
                   row_number() OVER (PARTITION BY m."nyckeltal_id", m."kommun_id", m."ar"
                                      ORDER BY m."varde", m."kon") AS rank
            FROM marked m JOIN groups g USING ({group})
            WHERE NOT m.small AND m."varde" IS NOT NULL),
        hidden AS (SELECT *, small OR (n.rank = 1) AS hide
                   FROM marked LEFT JOIN (SELECT * FROM nearest WHERE rank = 1) n
                   USING ("nyckeltal_id", "kommun_id", "ar", "kon"))
        SELECT {every} FROM source WHERE NOT ({counted})
        UNION ALL
        SELECT {hiding} FROM hidden"""


__all__ = ["BATCH_ROWS", "Built", "DTYPES", "build_tables", "frame_of", "merge_report"]


def suppress_small_counts(values: pd.DataFrame, definitions: pd.DataFrame, min_count: int
                          ) -> pd.DataFrame:
    """The suppression of small counts (see _suppressed) on a frame of key-figure values, rows
    in their order (for tests and tools; the flow runs it inside the merge)."""
    import duckdb

    connection = duckdb.connect()
    names = list(values.columns)
    connection.register("values_", pa.Table.from_pandas(values.reset_index(drop=True).assign(
        _order=range(len(values))), preserve_index=False))
    query = _suppressed(connection, "SELECT * FROM values_", names + ["_order"], definitions,
                        min_count)
    found = connection.sql(f"SELECT {_columns(names)} FROM ({query}) ORDER BY _order"
                           ).to_arrow_table()
    connection.close()
    return pd.DataFrame({n: pd.Series(found[n].to_pylist(), dtype=values[n].dtype)
                         for n in names})
