"""The follow-up report (uppföljningsrapport) for a period, computed from the published tables
only, so every number can be traced to a dataset: per perspective and goal the activities and
their status, key figures with their trend against the desired direction, the balanced economy,
the fleet's fossil-free share and the Agenda 2030 links."""

from __future__ import annotations

from typing import Any

import pandas as pd

from flows.core.values import report_value
from flows.tables import derived as transform
from flows.tables.agenda2030 import (
    direction,
    latest_activities,
    series_by_figure,
    target_sort_key,
)
from flows.tables.derived import municipality_totals

DEFAULT_PERIODS = [(2019, 2020), (2019, 2022)]  # the mid-term follow-up, and the whole period
STATUSES = list(transform.STATUSES)  # in their order
Series = dict[str, tuple[list[int], list[Any]]]


def trend(first: float | None, last: float | None, desired: str) -> str:
    return "saknas" if first is None or last is None else direction(last - first, desired)


def follow_up(tables: dict[str, pd.DataFrame], start: int, end: int,
              municipality: str) -> dict[str, Any]:
    """Everything the report shows, as plain data (also published as JSON next to it)."""
    activities = _in_period(tables["aktiviteter"], "rapportar", start, end)
    latest = latest_activities(activities)
    values = _in_period(municipality_totals(tables["nyckeltal"], municipality), "ar", start, end)
    series = series_by_figure(values[values["varde"].notna()])
    return {
        "period": [start, end],
        "perspektiv": _perspectives(tables, latest, series),
        "aktiviteter_totalt": _status_counts(latest),
        "ekonomi": _economy(_in_period(tables["budgetavvikelse"], "ar", start, end)),
        "fordon": _fleet(_in_period(tables["fossilfri_andel_fordon"], "ar", start, end)),
        "agenda2030": _agenda2030(tables["agenda2030_oversikt"], tables["agenda2030_koppling"]),
    }


def _in_period(table: pd.DataFrame, year: str, start: int, end: int) -> pd.DataFrame:
    return table[(table[year] >= start) & (table[year] <= end)]


def _status_counts(activities: pd.DataFrame) -> dict[str, int]:
    return {s: int((activities["status"] == s).sum()) for s in STATUSES}


def _perspectives(tables: dict[str, pd.DataFrame], latest: pd.DataFrame,
                  series: Series) -> list[dict[str, Any]]:
    """Per perspective its goals, each with its activities, key figures and targets."""
    definitions, links = tables["nyckeltal_definitioner"], tables["agenda2030_koppling"]
    perspectives = []
    for perspective_id, goals in tables["malprogram"].groupby("perspektiv_id", sort=False):
        entries = []
        for goal in goals.itertuples(index=False):
            mine = latest[latest["mal_id"] == goal.mal_id]  # sorted by aktivitet_id
            kpis = definitions[definitions["mal_id"] == goal.mal_id].itertuples(index=False)
            targets = sorted(set(links.loc[(links["objekttyp"] == "programmal")
                                           & (links["objekt_id"] == goal.mal_id), "delmal_id"]),
                             key=target_sort_key)
            entries.append({
                "mal_id": goal.mal_id, "mal_text": goal.mal_text,
                "status": _status_counts(mine),
                "aktiviteter": [{"aktivitet_id": a.aktivitet_id, "titel": a.titel,
                                 "status": a.status, "rapportar": int(a.rapportar),
                                 "forvaltning_id": a.forvaltning_id}
                                for a in mine.itertuples(index=False)],
                "nyckeltal": [_key_figure(kpi, series) for kpi in kpis], "delmal": targets})
        perspectives.append({"perspektiv_id": perspective_id,
                             "perspektiv_namn": goals.iloc[0]["perspektiv_namn"], "mal": entries})
    return perspectives


def _key_figure(kpi: Any, series: Series) -> dict[str, Any]:
    """One key figure's values in the period and its trend from the first to the last."""
    years, found = series.get(kpi.nyckeltal_id, ([], []))
    first = 0 if years else None
    last = len(years) - 1 if len(years) > 1 else None
    return {
        "nyckeltal_id": kpi.nyckeltal_id, "namn": kpi.namn, "enhet": kpi.enhet,
        "onskad_riktning": kpi.onskad_riktning,
        "varden": {int(y): report_value(v) for y, v in zip(years, found, strict=True)},
        "fran_ar": None if first is None else int(years[first]),
        "till_ar": None if last is None else int(years[last]),
        "trend": trend(None if first is None else float(found[first]),
                       None if last is None else float(found[last]), kpi.onskad_riktning)}


def _economy(budget: pd.DataFrame) -> list[dict[str, Any]]:
    """Per year the budget, and the outcome and deviation when every department has one."""
    economy = []
    for year, rows in budget.groupby("ar"):
        complete = bool(rows["utfall_tkr"].notna().all())
        economy.append({
            "ar": int(year), "budget_tkr": report_value(float(rows["budget_tkr"].sum())),
            "utfall_tkr": report_value(float(rows["utfall_tkr"].sum())) if complete else None,
            "avvikelse_tkr": report_value(float(rows["avvikelse_tkr"].sum())) if complete
            else None,
            "forvaltningar": {r.forvaltning_id: report_value(r.avvikelse_tkr)
                              for r in rows.itertuples(index=False)}})
    return economy


def _fleet(fleet: pd.DataFrame) -> list[dict[str, Any]]:
    return [{"ar": int(r.ar), "antal_fordon": int(r.antal_fordon),
             "andel_fossilfria_procent": report_value(r.andel_fossilfria_procent),
             "andel_elektrifierade_procent": report_value(r.andel_elektrifierade_procent)}
            for r in fleet.itertuples(index=False)]


def _agenda2030(overview: pd.DataFrame, links: pd.DataFrame) -> dict[str, Any]:
    return {
        "mal_berorda": int((overview["antal_kopplingar"] > 0).sum()),
        "delmal_berorda": int(links["delmal_id"].nunique()),
        "mal": [{"sdg_mal": int(r.sdg_mal), "namn": r.namn, "farg": r.farg,
                 "antal_kopplingar": int(r.antal_kopplingar),
                 "programmal": r.programmal if isinstance(r.programmal, str) else None}
                for r in overview.itertuples(index=False) if r.antal_kopplingar > 0]}
