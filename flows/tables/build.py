"""Step 4: build the published tables: the codelists, the merged reports and the derived tables
users ask for first. Pure functions on pandas DataFrames, one column per schema field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd
from frictionless import Package, Schema

from flows.checks.delivery import ValidatedFile, codelist_resource
from flows.checks.explain import describe
from flows.core.problems import Problem
from flows.core.register import Register
from flows.tables.agenda2030 import check_mapping, key_figure_trends, links, overview

STATUSES = {"planerad": "antal_planerad", "pågående": "antal_pagaende",
            "genomförd": "antal_genomford", "avbruten": "antal_avbruten"}
FOSSIL_FREE = {"el", "biogas", "hvo"}
ELECTRIFIED = {"el", "elhybrid", "laddhybrid"}

DTYPES = {"integer": "Int64", "year": "Int64", "number": "Float64", "string": "string",
          "boolean": "boolean"}


def to_frame(records: list[dict[str, Any]], schema: Schema, *, sort: bool = True
             ) -> pd.DataFrame:
    """Records with typed cells -> a DataFrame with one nullable column per field, in order,
    rows sorted by the primary key (codelists keep their maintained order: sort=False)."""
    columns = {}
    for field in schema.fields:
        values = [_plain(record.get(field.name)) for record in records]
        dtype = DTYPES.get(field.type, "object")
        columns[field.name] = pd.Series(values, dtype=dtype)
    frame = pd.DataFrame(columns)
    key = list(schema.primary_key)
    if sort and key and len(frame):
        frame = frame.sort_values(key, kind="stable").reset_index(drop=True)
    return frame


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return value


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


def activity_status(aktiviteter: pd.DataFrame, malprogram: pd.DataFrame) -> pd.DataFrame:
    """Activities per status for every goal and reporting year (goals with none show zeros)."""
    years = sorted(int(y) for y in aktiviteter["rapportar"].dropna().unique())
    grid = malprogram[["perspektiv_id", "mal_id"]].merge(
        pd.DataFrame({"rapportar": pd.Series(years, dtype="Int64")}), how="cross")
    counts = (aktiviteter.groupby(["mal_id", "rapportar", "status"]).size()
              .unstack("status", fill_value=0)
              .reindex(columns=list(STATUSES), fill_value=0)
              .rename(columns=STATUSES).reset_index())
    table = grid.merge(counts, on=["mal_id", "rapportar"], how="left")
    for column in STATUSES.values():
        table[column] = table[column].fillna(0).astype("Int64")
    table["antal_totalt"] = table[list(STATUSES.values())].sum(axis=1).astype("Int64")
    share = (100 * table["antal_genomford"] / table["antal_totalt"].replace(0, pd.NA))
    table["andel_genomford_procent"] = share.astype("Float64").round(1)
    return table.sort_values(["mal_id", "rapportar"]).reset_index(drop=True)


def budget_deviation(ekonomi: pd.DataFrame) -> pd.DataFrame:
    """Budget minus outcome per department and year; outcome only when every area has one."""
    grouped = ekonomi.groupby(["forvaltning_id", "ar"])
    table = grouped.agg(budget_tkr=("budget_tkr", "sum"),
                        utfall_tkr=("utfall_tkr", lambda s: s.sum() if s.notna().all() else pd.NA),
                        antal_verksamheter=("verksamhet", "size")).reset_index()
    table["utfall_tkr"] = table["utfall_tkr"].astype("Float64")
    table["budget_tkr"] = table["budget_tkr"].astype("Float64")
    table["avvikelse_tkr"] = (table["budget_tkr"] - table["utfall_tkr"]).round(1)
    table["avvikelse_procent"] = (
        100 * table["avvikelse_tkr"] / table["budget_tkr"].replace(0, pd.NA)).round(1)
    table["antal_verksamheter"] = table["antal_verksamheter"].astype("Int64")
    return table.sort_values(["forvaltning_id", "ar"]).reset_index(drop=True)


def fossil_free_share(fordon: pd.DataFrame) -> pd.DataFrame:
    """Per year, the vehicles of that year's register extract in service during the year."""
    rows = []
    for year in sorted(int(y) for y in fordon["rapportar"].dropna().unique()):
        first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        snapshot = fordon[fordon["rapportar"] == year]
        in_service = snapshot[
            snapshot["i_trafik_fran"].map(lambda d, last=last: d <= last)
            & snapshot["i_trafik_till"].map(lambda d, first=first: pd.isna(d) or d >= first)]
        total = len(in_service)
        fossil_free = int(in_service["drivmedel"].isin(FOSSIL_FREE).sum())
        electrified = int(in_service["drivmedel"].isin(ELECTRIFIED).sum())
        rows.append({
            "ar": year, "antal_fordon": total, "antal_fossilfria": fossil_free,
            "antal_elektrifierade": electrified,
            "andel_fossilfria_procent": round(100 * fossil_free / total, 1) if total else None,
            "andel_elektrifierade_procent": round(100 * electrified / total, 1) if total else None,
        })
    return pd.DataFrame(rows, columns=["ar", "antal_fordon", "antal_fossilfria",
                                       "antal_elektrifierade", "andel_fossilfria_procent",
                                       "andel_elektrifierade_procent"])


def suppress_small_counts(values: pd.DataFrame, definitions: pd.DataFrame,
                          min_count: int) -> pd.DataFrame:
    """A key figure that counts persons is not published when fewer than min_count (but more
    than none) are counted: the value is emptied and the row marked status=undertryckt."""
    persons = set(definitions.loc[definitions["raknar_personer"].fillna(False).astype(bool),
                                  "nyckeltal_id"])
    small = (values["nyckeltal_id"].isin(persons) & values["varde"].notna()
             & (values["varde"] > 0) & (values["varde"] < min_count)).fillna(False)
    if not small.any():
        return values
    # a hidden cell must not be recoverable from the others (T = K + M): in every group with a
    # hidden cell, the smallest other value is hidden too
    group = ["nyckeltal_id", "kommun_id", "ar"]
    hidden = small.copy()
    others = values[~small & values["varde"].notna()]
    others = others[pd.MultiIndex.from_frame(others[group]).isin(
        pd.MultiIndex.from_frame(values.loc[small, group]))]
    if len(others):
        smallest = others["varde"].astype(float).groupby([others[c] for c in group]).idxmin()
        hidden.loc[smallest.to_numpy()] = True
    values = values.copy()
    values.loc[hidden, "varde"] = pd.NA
    values.loc[hidden, "status"] = "undertryckt"
    return values


def build_tables(results: list[ValidatedFile], register: Register, min_count: int | None = None,
                 codelists: dict[str, pd.DataFrame] | None = None) -> dict[str, pd.DataFrame]:
    """Every published dataset as a DataFrame whose columns follow its schema (`codelists`:
    the frames of read_codelists when the caller already has them)."""
    if min_count is None:
        from flows.core.settings import Settings

        min_count = Settings.from_env().min_count
    tables: dict[str, pd.DataFrame] = {}
    tables.update(codelists if codelists is not None else read_codelists(register)[0])
    for report_type in register.report_types:
        records = [record for result in results if result.report_type == report_type
                   for record in result.records + result.kept]
        tables[report_type] = to_frame(records, register.published_schema(report_type))
    tables["nyckeltal"] = suppress_small_counts(tables["nyckeltal"],
                                                tables["nyckeltal_definitioner"], min_count)
    derived = {
        "aktivitetsstatus_per_mal": activity_status(tables["aktiviteter"], tables["malprogram"]),
        "budgetavvikelse": budget_deviation(tables["ekonomi"]),
        "fossilfri_andel_fordon": fossil_free_share(tables["fordon"]),
        "agenda2030_koppling": links(tables["agenda2030_mappning"], tables["aktiviteter"],
                                     tables["sdg_delmal"]),
        "nyckeltal_trend": key_figure_trends(tables["nyckeltal"],
                                             tables["nyckeltal_definitioner"],
                                             register.package.municipality),
    }
    derived["agenda2030_oversikt"] = overview(derived["agenda2030_koppling"], tables["sdg_mal"],
                                              tables["aktiviteter"], derived["nyckeltal_trend"])
    for dataset_id, frame in derived.items():
        tables[dataset_id] = conform(frame, register.schema(dataset_id))
    return {dataset_id: tables[dataset_id] for dataset_id in register.published}


def conform(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Columns in schema order with the schema's dtypes (a test checks derived code and schema
    agree: a missing column fails here)."""
    return pd.DataFrame({field.name: frame[field.name].astype(DTYPES.get(field.type, "object"))
                         for field in schema.fields})
