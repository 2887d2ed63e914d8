"""The derived tables users ask for first, computed from the report types: activities per
status and goal, the budget deviation, the fleet's fossil-free share. Pure functions on pandas
frames (the report types they read are small; the large ones are read as the municipality's
rows only)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from flows.core.vocabulary import status_columns

STATUSES = status_columns("antal")  # status -> its column, in the statuses' order
FOSSIL_FREE = {"el", "biogas", "hvo"}
ELECTRIFIED = {"el", "elhybrid", "laddhybrid"}


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


def municipality_totals(values: pd.DataFrame, municipality: str) -> pd.DataFrame:
    """The rows of one municipality for all genders together (kon T): the figures the
    municipality's follow-up reads, out of a key-figure table that holds every comparison."""
    return values[(values["kommun_id"] == municipality) & (values["kon"] == "T")]


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
