"""Each key figure as a goal page shows it: a chart with the municipality, the mean of every
Kolada comparison group it is in, the country and the target line; a comparison table for the
latest year (value, group means, country, rank and quartile, by gender where Kolada has it);
its progress status with the numbers behind it. And the statuses rolled up per programme goal,
Agenda 2030 target and goal (``framsteg_per_mal``), for the goal and Agenda 2030 pages.

Built once from the published tables (nyckeltal, nyckeltal_jamforelse, kolada_jamforelsegrupper,
nyckeltal_framsteg, framsteg_per_mal); words that differ by language are ``{"sv", "en"}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from flows.core.messages import t
from flows.core.values import json_value
from flows.intake.kolada_source import KOLADA_ID
from flows.outputs import charts
from flows.tables.agenda2030 import series_by_figure
from flows.tables.progress import STATUSES

GENDERS = ("T", "K", "M")


def comparison_by_figure(comparison: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """nyckeltal_jamforelse split by key figure, each sorted by year, gender order and group."""
    if not len(comparison):
        return {}
    ordered = comparison.assign(_kon=comparison["kon"].map(GENDERS.index)).sort_values(
        ["nyckeltal_id", "ar", "_kon", "grupp_id"], kind="stable").drop(columns="_kon")
    return {str(ident): rows.reset_index(drop=True)
            for ident, rows in ordered.groupby("nyckeltal_id", sort=False)}


def comparison_series(rows: pd.DataFrame, lang: str) -> list[charts.Series]:
    """The lines beside the municipality's: each group's mean (gender T), then the country."""
    total = rows[rows["kon"] == "T"]
    lines = [charts.Series(f"grupp_{group_id}", str(group["grupp_namn"].iloc[0]), points(
        group, "grupp_medel")) for group_id, group in total.groupby("grupp_id", sort=True)]
    if len(total):
        country = total.drop_duplicates("ar")
        lines.append(charts.Series("riket", t("portal.country", lang), points(country, "riket_varde")))
    return lines


def points(rows: pd.DataFrame, column: str) -> dict[int, Any]:
    return charts.year_points(rows["ar"], rows[column])


def target_of(kpi: Any, lang: str) -> charts.Target | None:
    """The key figure's target line, labelled with its year, or None without a target value."""
    if pd.isna(kpi.malvarde):
        return None
    label = (t("portal.target-line", lang) if pd.isna(kpi.malar)
             else t("portal.target-line-year", lang, year=int(kpi.malar)))
    return charts.Target(float(kpi.malvarde), label)


def figure_chart(kpi: Any, own: dict[int, Any], rows: pd.DataFrame, lang: str) -> dict | None:
    """The key figure's chart in ``lang``: the municipality (``varde``), the comparison lines
    and the target."""
    mine = charts.Series("varde", t("portal.municipality", lang), own)
    return charts.line_chart([mine, *comparison_series(rows, lang)], kpi.namn, kpi.enhet,
                             target_of(kpi, lang))


def comparison_table(rows: pd.DataFrame, group_sizes: Mapping[str, int]) -> dict[str, Any]:
    """The latest year's comparison: a row per gender with the municipality's value, each
    group's mean (with how many of its members had a value), the country, rank and quartile."""
    year = int(rows["ar"].max())
    latest = rows[rows["ar"] == year]
    groups = latest.drop_duplicates("grupp_id")[["grupp_id", "grupp_namn"]]
    table = []
    for kon, found in latest.groupby("kon", sort=False):
        first = found.iloc[0]
        means = dict(zip(found["grupp_id"], found.itertuples(index=False), strict=True))
        table.append({"kon": kon, "value": json_value(first["kommun_varde"]),
                      "country": json_value(first["riket_varde"]),
                      "rank": json_value(first["rang"]), "of": json_value(first["antal_kommuner"]),
                      "colour": json_value(first["farg"]),
                      "groups": [group_cell(means.get(g), group_sizes.get(g, 0))
                                 for g in groups["grupp_id"]]})
    return {"year": year, "groups": list(zip(groups["grupp_id"], groups["grupp_namn"], strict=True)),
            "rows": table}


def group_cell(row: Any, size: int) -> dict[str, Any]:
    """A group's mean and how many of its ``size`` members had a value."""
    if row is None:
        return {"mean": None, "have": 0, "size": size}
    return {"mean": json_value(row.grupp_medel), "have": int(row.grupp_antal), "size": size}


def progress_view(row: Any) -> dict[str, Any]:
    """A key figure's progress status and the numbers behind it (nyckeltal_framsteg)."""
    values = {name: json_value(getattr(row, name)) for name in (
        "metod", "status", "basar", "basvarde", "senaste_ar", "senaste_varde", "malvarde",
        "malar", "kvot")}
    ratio = values.pop("kvot")
    return {**values, "percent": None if ratio is None else round(100 * ratio, 1)}


def without_comparison(ident: str) -> str:
    """Why a key figure has no comparison: the municipality's own, or Kolada had no value."""
    return "portal.no-comparison-kolada" if KOLADA_ID.match(ident) else "portal.no-comparison-own"


def figure_views(tables: Mapping[str, pd.DataFrame], values: pd.DataFrame, line
                 ) -> dict[str, list[dict[str, Any]]]:
    """Each goal's key figures: chart and its inline drawing in both languages, comparison
    table, progress status. One pass over each table, not one filter per key figure."""
    series, compared = series_by_figure(values), comparison_by_figure(tables["nyckeltal_jamforelse"])
    sizes = tables["kolada_jamforelsegrupper"].groupby("grupp_id").size().to_dict()
    trend = dict(zip(tables["nyckeltal_trend"]["nyckeltal_id"], tables["nyckeltal_trend"]["trend"],
                     strict=True))
    progress = {row.nyckeltal_id: row for row in tables["nyckeltal_framsteg"].itertuples(index=False)}
    empty = tables["nyckeltal_jamforelse"].iloc[0:0]
    charted: dict[str, list[dict[str, Any]]] = {}
    for kpi in tables["nyckeltal_definitioner"].itertuples(index=False):
        ident = kpi.nyckeltal_id
        years, found = series.get(ident, ([], []))
        own = charts.year_points(years, found)
        rows = compared.get(ident, empty)
        chart = {lang: figure_chart(kpi, own, rows, lang) for lang in ("sv", "en")}
        chart_id = f"kpi-{ident}"
        svg = {lang: line(chart[lang], chart_id) for lang in chart}
        charted.setdefault(kpi.mal_id, []).append({
            "kpi": kpi, "chart": chart, "svg": svg, "id": chart_id,
            "localised": str(svg["sv"]) != str(svg["en"]), "trend": trend.get(ident, "saknas"),
            "comparison": comparison_table(rows, sizes) if len(rows) else None,
            "no_comparison": None if len(rows) else without_comparison(ident),
            "progress": progress_view(progress[ident]) if ident in progress else None})
    return charted


def rollups(table: pd.DataFrame) -> dict[str, dict[str, dict[str, Any]]]:
    """framsteg_per_mal by kind (programmal, delmal, sdg_mal) and id: the overall status, the
    method that decided it, the mean score, how many key figures (with a target) and the
    non-zero counts per status."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for row in table.itertuples(index=False):
        counts = [(status, int(getattr(row, f"antal_{status}"))) for status in STATUSES]
        found.setdefault(row.objekttyp, {})[str(row.objekt_id)] = {
            "status": row.samlad_status, "method": json_value(row.samlad_metod),
            "mean": json_value(row.medelpoang), "total": int(row.antal_nyckeltal),
            "with_target": int(row.antal_med_malvarde),
            "counts": [(status, n) for status, n in counts if n]}
    return found
