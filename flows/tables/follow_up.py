"""The follow-up report (uppföljningsrapport) for a period, computed from the published tables
only, so every number can be traced to a dataset: per perspective and goal the activities and
their status, key figures with their trend against the desired direction, the balanced economy,
the fleet's fossil-free share and the Agenda 2030 links."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from flows.tables import derived as transform
from flows.tables.agenda2030 import (
    direction,
    latest_activities,
    series_by_figure,
    target_sort_key,
)

DEFAULT_PERIODS = [(2019, 2020), (2019, 2022)]  # the mid-term follow-up, and the whole period
STATUSES = list(transform.STATUSES)  # in their order


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        value = value.item()
    return round(value, 1) if isinstance(value, float) else value


def trend(first: float | None, last: float | None, desired: str) -> str:
    return "saknas" if first is None or last is None else direction(last - first, desired)


def follow_up(tables: dict[str, pd.DataFrame], start: int, end: int,
              municipality: str) -> dict[str, Any]:
    """Everything the report shows, as plain data (also published as JSON next to it)."""
    activities = tables["aktiviteter"]
    in_period = activities[(activities["rapportar"] >= start) & (activities["rapportar"] <= end)]
    latest = latest_activities(in_period)
    definitions = tables["nyckeltal_definitioner"]
    values = tables["nyckeltal"]
    values = values[(values["kommun_id"] == municipality) & (values["kon"] == "T")
                    & (values["ar"] >= start) & (values["ar"] <= end) & values["varde"].notna()]
    series = series_by_figure(values)
    links = tables["agenda2030_koppling"]
    perspectives = []
    for perspective_id, goals in tables["malprogram"].groupby("perspektiv_id", sort=False):
        entries = []
        for goal in goals.itertuples(index=False):
            mine = latest[latest["mal_id"] == goal.mal_id]  # sorted by aktivitet_id
            figures = []
            for kpi in definitions[definitions["mal_id"] == goal.mal_id].itertuples(index=False):
                years, found = series.get(kpi.nyckeltal_id, ([], []))
                first = 0 if years else None
                last = len(years) - 1 if len(years) > 1 else None
                figures.append({
                    "nyckeltal_id": kpi.nyckeltal_id, "namn": kpi.namn, "enhet": kpi.enhet,
                    "onskad_riktning": kpi.onskad_riktning,
                    "varden": {int(y): _plain(v) for y, v in zip(years, found, strict=True)},
                    "fran_ar": None if first is None else int(years[first]),
                    "till_ar": None if last is None else int(years[last]),
                    "trend": trend(None if first is None else float(found[first]),
                                   None if last is None else float(found[last]),
                                   kpi.onskad_riktning)})
            targets = sorted(set(links.loc[(links["objekttyp"] == "programmal")
                                           & (links["objekt_id"] == goal.mal_id), "delmal_id"]),
                             key=target_sort_key)
            entries.append({
                "mal_id": goal.mal_id, "mal_text": goal.mal_text,
                "status": {s: int((mine["status"] == s).sum()) for s in STATUSES},
                "aktiviteter": [{"aktivitet_id": a.aktivitet_id, "titel": a.titel,
                                 "status": a.status, "rapportar": int(a.rapportar),
                                 "forvaltning_id": a.forvaltning_id}
                                for a in mine.itertuples(index=False)],
                "nyckeltal": figures, "delmal": targets})
        perspectives.append({"perspektiv_id": perspective_id,
                             "perspektiv_namn": goals.iloc[0]["perspektiv_namn"], "mal": entries})
    budget = tables["budgetavvikelse"]
    budget = budget[(budget["ar"] >= start) & (budget["ar"] <= end)]
    economy = []
    for year, rows in budget.groupby("ar"):
        complete = bool(rows["utfall_tkr"].notna().all())
        economy.append({
            "ar": int(year), "budget_tkr": _plain(float(rows["budget_tkr"].sum())),
            "utfall_tkr": _plain(float(rows["utfall_tkr"].sum())) if complete else None,
            "avvikelse_tkr": _plain(float(rows["avvikelse_tkr"].sum())) if complete else None,
            "forvaltningar": {r.forvaltning_id: _plain(r.avvikelse_tkr)
                              for r in rows.itertuples(index=False)}})
    fleet = tables["fossilfri_andel_fordon"]
    fleet = fleet[(fleet["ar"] >= start) & (fleet["ar"] <= end)]
    overview = tables["agenda2030_oversikt"]
    return {
        "period": [start, end],
        "perspektiv": perspectives,
        "aktiviteter_totalt": {s: int((latest["status"] == s).sum()) for s in STATUSES},
        "ekonomi": economy,
        "fordon": [{"ar": int(r.ar), "antal_fordon": int(r.antal_fordon),
                    "andel_fossilfria_procent": _plain(r.andel_fossilfria_procent),
                    "andel_elektrifierade_procent": _plain(r.andel_elektrifierade_procent)}
                   for r in fleet.itertuples(index=False)],
        "agenda2030": {
            "mal_berorda": int((overview["antal_kopplingar"] > 0).sum()),
            "delmal_berorda": int(links["delmal_id"].nunique()),
            "mal": [{"sdg_mal": int(r.sdg_mal), "namn": r.namn, "farg": r.farg,
                     "antal_kopplingar": int(r.antal_kopplingar),
                     "programmal": r.programmal if isinstance(r.programmal, str) else None}
                    for r in overview.itertuples(index=False) if r.antal_kopplingar > 0]},
    }
