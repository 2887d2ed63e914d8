"""The reporting status: for each of the 17 Agenda 2030 goals and each programme goal, how many
of its targets, key figures and activities have data for the latest year, and which do not.

An activity has data when it is reported for the latest year; a key figure when the
municipality's total (gender T) has a value for it; an Agenda 2030 target when at least one
activity or key figure linked to it has data. An Agenda 2030 goal counts what
``agenda2030_koppling`` links to it (as ``agenda2030_oversikt`` does); a programme goal counts
its own activities and key figures and every target linked to it or to them.

Beside that, how many of the key figures have a target value and how many a progress status
that says something (nyckeltal_framsteg: any status but for_lite_data and ej_bedombar)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from flows.tables.agenda2030 import latest_activities, target_sort_key

# a progress status that says nothing about the direction: too few values, or none to assess
UNASSESSED = ("for_lite_data", "ej_bedombar")


def coverage(ids: Iterable[str], present: set[str], names: Mapping[str, str],
             order=None) -> dict[str, Any]:
    """How many of ``ids`` are in ``present``, and the others with their names."""
    ids = sorted(set(ids), key=order)
    missing = [(i, names.get(i, "")) for i in ids if i not in present]
    return {"total": len(ids), "have": len(ids) - len(missing), "missing": missing}


def latest_year(activities: pd.DataFrame, values: pd.DataFrame) -> int | None:
    """The latest year with an activity report or a key-figure value."""
    years = [*activities["rapportar"].dropna(), *values.loc[values["varde"].notna(), "ar"]]
    return int(max(years)) if years else None


def names_of(tables: Mapping[str, pd.DataFrame]) -> dict[str, dict[str, str]]:
    """What a missing activity, key figure or target is called (as published, in Swedish)."""
    latest = latest_activities(tables["aktiviteter"])
    definitions, targets = tables["nyckeltal_definitioner"], tables["sdg_delmal"]
    return {"aktivitet": dict(zip(latest["aktivitet_id"], latest["titel"], strict=True)),
            "nyckeltal": dict(zip(definitions["nyckeltal_id"], definitions["namn"], strict=True)),
            "delmal": dict(zip(targets["delmal_id"], targets["etikett"], strict=True))}


def present(tables: Mapping[str, pd.DataFrame], values: pd.DataFrame, year: int | None
            ) -> dict[str, set[str]]:
    """What has data for ``year``: activities reported, key figures with a value, targets with
    either linked; and the key figures with a target value and with an assessed status."""
    activities, links = tables["aktiviteter"], tables["agenda2030_koppling"]
    reported = set(activities.loc[activities["rapportar"] == year, "aktivitet_id"])
    valued = set(values.loc[(values["ar"] == year) & values["varde"].notna(), "nyckeltal_id"])
    linked_data = (links["objekttyp"].eq("aktivitet") & links["objekt_id"].isin(reported)) | (
        links["objekttyp"].eq("nyckeltal") & links["objekt_id"].isin(valued))
    progress = tables["nyckeltal_framsteg"]
    return {"activities": reported, "key_figures": valued,
            "targets": set(links.loc[linked_data, "delmal_id"]),
            "with_target": set(progress.loc[progress["metod"] == "mal", "nyckeltal_id"]),
            "assessed": set(progress.loc[~progress["status"].isin(UNASSESSED), "nyckeltal_id"])}


def reporting_status(tables: Mapping[str, pd.DataFrame], values: pd.DataFrame) -> dict[str, Any]:
    """The reporting status from the published tables; ``values`` are the municipality's
    key-figure totals (gender T)."""
    activities, links = tables["aktiviteter"], tables["agenda2030_koppling"]
    definitions = tables["nyckeltal_definitioner"]
    year = latest_year(activities, values)
    found, names = present(tables, values, year), names_of(tables)

    def row(targets, key_figures, activity_ids) -> dict[str, Any]:
        return {"targets": coverage(targets, found["targets"], names["delmal"], target_sort_key),
                **{kind: coverage(key_figures, found[kind], names["nyckeltal"])
                   for kind in ("key_figures", "with_target", "assessed")},
                "activities": coverage(activity_ids, found["activities"], names["aktivitet"])}

    def linked(frame: pd.DataFrame, kind: str) -> list[str]:
        return list(frame.loc[frame["objekttyp"] == kind, "objekt_id"])

    sdg = []
    for goal in tables["sdg_mal"].itertuples(index=False):
        mine = links[links["sdg_mal"] == goal.sdg_mal]
        sdg.append({"id": int(goal.sdg_mal), "name": {"sv": goal.namn, "en": goal.namn_en},
                    **row(mine["delmal_id"], linked(mine, "nyckeltal"),
                          linked(mine, "aktivitet"))})
    goals = []
    for goal in tables["malprogram"].itertuples(index=False):
        acts = list(activities.loc[activities["mal_id"] == goal.mal_id, "aktivitet_id"])
        kpis = list(definitions.loc[definitions["mal_id"] == goal.mal_id, "nyckeltal_id"])
        mine = links[(links["objekttyp"].eq("programmal") & links["objekt_id"].eq(goal.mal_id))
                     | (links["objekttyp"].eq("aktivitet") & links["objekt_id"].isin(acts))
                     | (links["objekttyp"].eq("nyckeltal") & links["objekt_id"].isin(kpis))]
        goals.append({"id": goal.mal_id, "name": goal.mal_text,
                      **row(mine["delmal_id"], kpis, acts)})
    return {"year": year, "sdg": sdg, "goals": goals}
