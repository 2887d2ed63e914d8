"""Agenda 2030: resolve the programme's links to the targets, and build
what consumers read: the links in long form, key-figure trends and one overview row per goal.

The mapping is data (schemas/codelists/agenda2030_mappning.csv): programme goal -> targets and
key figure -> targets. An activity inherits its goal's targets, adds the codes in its own column
sdg_delmal, and with sdg_endast_egna=true uses only its own codes.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from flows.checks.sdg import parse_targets
from flows.core.problems import Problem, problem
from flows.core.vocabulary import status_columns
from flows.tables.derived import municipality_totals

OWN_RATIONALE = "Angiven av förvaltningen i aktivitetsrapporten."


def check_mapping(mapping: pd.DataFrame, programme: pd.DataFrame, definitions: pd.DataFrame,
                  file: str) -> list[Problem]:
    """Every mapped object exists; every programme goal and key figure has at least one link."""
    known = {"programmal": set(programme["mal_id"]), "nyckeltal": set(definitions["nyckeltal_id"])}
    found: list[Problem] = []
    for number, row in enumerate(mapping.itertuples(index=False), start=2):
        if row.objekt_id not in known[row.objekttyp]:
            codelist = "malprogram" if row.objekttyp == "programmal" else "nyckeltal_definitioner"
            found.append(problem("unknown-mapped-object", file, "problem.unknown-mapped-object.id",
                                 {"kind": row.objekttyp, "id": row.objekt_id, "codelist": codelist},
                                 row=number, field="objekt_id", value=row.objekt_id))
    for kind, ids, type_ in (("programmal", programme["mal_id"], "unmapped-goal"),
                             ("nyckeltal", definitions["nyckeltal_id"], "unmapped-key-figure")):
        mapped = set(mapping.loc[mapping["objekttyp"] == kind, "objekt_id"])
        for ident in ids:
            if ident not in mapped:
                found.append(problem(type_, file, "problem.unmapped.no-link",
                                     {"id": ident, "kind": kind}, value=ident, severity="warning"))
    return found


def latest_activities(aktiviteter: pd.DataFrame) -> pd.DataFrame:
    """Each activity as of its latest reporting year."""
    if aktiviteter.empty:
        return aktiviteter
    latest = aktiviteter.sort_values(["aktivitet_id", "rapportar"]).groupby("aktivitet_id").tail(1)
    return latest.reset_index(drop=True)


def links(mapping: pd.DataFrame, aktiviteter: pd.DataFrame, delmal: pd.DataFrame) -> pd.DataFrame:
    """agenda2030_koppling: programme goals, key figures and activities -> targets, long form."""
    rows = [{"objekttyp": r.objekttyp, "objekt_id": r.objekt_id, "delmal_id": r.delmal_id,
             "primar": bool(r.primar), "arvd_fran": None, "motivering": r.motivering}
            for r in mapping.itertuples(index=False)]
    by_goal = mapping[mapping["objekttyp"] == "programmal"]
    for activity in latest_activities(aktiviteter).itertuples(index=False):
        own = parse_targets(activity.sdg_delmal)
        only_own = not pd.isna(activity.sdg_endast_egna) and bool(activity.sdg_endast_egna)
        inherited = [] if only_own else [
            r for r in by_goal.itertuples(index=False) if r.objekt_id == activity.mal_id]
        taken = set()
        for code in own:
            if code not in taken:
                taken.add(code)
                rows.append({"objekttyp": "aktivitet", "objekt_id": activity.aktivitet_id,
                             "delmal_id": code, "primar": True, "arvd_fran": None,
                             "motivering": OWN_RATIONALE})
        for link in inherited:
            if link.delmal_id not in taken:
                taken.add(link.delmal_id)
                rows.append({"objekttyp": "aktivitet", "objekt_id": activity.aktivitet_id,
                             "delmal_id": link.delmal_id, "primar": bool(link.primar),
                             "arvd_fran": activity.mal_id, "motivering": link.motivering})
    table = pd.DataFrame(rows, columns=["objekttyp", "objekt_id", "delmal_id", "primar",
                                        "arvd_fran", "motivering"])
    goal_of = dict(zip(delmal["delmal_id"], delmal["sdg_mal"], strict=True))
    table.insert(2, "sdg_mal", table["delmal_id"].map(goal_of).astype("Int64"))
    sort_keys = {"objekttyp": {"programmal": 0, "nyckeltal": 1, "aktivitet": 2}.get,
                 "delmal_id": target_sort_key, "objekt_id": str}
    table = table.sort_values(["objekttyp", "objekt_id", "delmal_id"],
                              key=lambda column: column.map(sort_keys[column.name]))
    return table.reset_index(drop=True)


def target_sort_key(code: str) -> str:
    """'4.a' after '4.10', '11.2' after '3.6': the official order as a sortable text."""
    goal, target = code.split(".")
    return f"{int(goal):02d}." + (f"{int(target):02d}" if target.isdigit() else f"~{target}")


def key_figure_trends(nyckeltal: pd.DataFrame, definitions: pd.DataFrame, municipality: str
                      ) -> pd.DataFrame:
    """nyckeltal_trend: per key figure the two latest years with a value (the municipality,
    gender T) and whether the change goes the desired way."""
    values = municipality_totals(nyckeltal, municipality)
    values = values[values["varde"].notna()]
    by_figure = series_by_figure(values)
    rows = []
    for definition in definitions.itertuples(index=False):
        years, found = by_figure.get(definition.nyckeltal_id, ([], []))
        row = {"nyckeltal_id": definition.nyckeltal_id, "mal_id": definition.mal_id,
               "onskad_riktning": definition.onskad_riktning, "senaste_ar": None,
               "senaste_varde": None, "foregaende_ar": None, "foregaende_varde": None,
               "forandring": None, "trend": "saknas"}
        if years:
            row.update(senaste_ar=int(years[-1]), senaste_varde=float(found[-1]))
        if len(years) >= 2:
            change = round(float(found[-1]) - float(found[-2]), 6)
            row.update(foregaende_ar=int(years[-2]), foregaende_varde=float(found[-2]),
                       forandring=change, trend=direction(change, definition.onskad_riktning))
        rows.append(row)
    return pd.DataFrame(rows)


def series_by_figure(values: pd.DataFrame) -> dict[str, tuple[list[int], list[Any]]]:
    """Key-figure values split by key figure: (years, values), sorted by year. One sort, not
    one filter per key figure: a codelist may hold thousands."""
    ordered = values.sort_values(["nyckeltal_id", "ar"], kind="stable")
    ids = ordered["nyckeltal_id"].to_numpy(dtype=object)
    years, found = ordered["ar"].tolist(), ordered["varde"].tolist()
    if not len(ids):
        return {}
    starts = [0, *(i for i in range(1, len(ids)) if ids[i] != ids[i - 1])]
    ends = [*starts[1:], len(ids)]
    return {str(ids[a]): (years[a:b], found[a:b]) for a, b in zip(starts, ends, strict=True)}


def direction(change: float, desired: str) -> str:
    """Whether a key figure that changed by `change` moved the desired way."""
    if change == 0:
        return "oförändrad"
    better = change > 0 if desired == "ökande" else change < 0
    return "förbättras" if better else "försämras"


STATUS_COLUMNS = status_columns("aktiviteter")
TREND_COLUMNS = {"förbättras": "nyckeltal_forbattras", "försämras": "nyckeltal_forsamras",
                 "oförändrad": "nyckeltal_oforandrade", "saknas": "nyckeltal_utan_trend"}


def overview(koppling: pd.DataFrame, sdg_mal: pd.DataFrame, aktiviteter: pd.DataFrame,
             trends: pd.DataFrame) -> pd.DataFrame:
    """agenda2030_oversikt: one row per SDG goal (all 17), counted from agenda2030_koppling."""
    current = latest_activities(aktiviteter)
    status = dict(zip(current["aktivitet_id"], current["status"], strict=True))
    trend = dict(zip(trends["nyckeltal_id"], trends["trend"], strict=True))
    rows = []
    for goal in sdg_mal.itertuples(index=False):
        links_ = koppling[koppling["sdg_mal"] == goal.sdg_mal]
        ids = {kind: sorted(set(links_.loc[links_["objekttyp"] == kind, "objekt_id"]))
               for kind in ("programmal", "nyckeltal", "aktivitet")}
        row = {"sdg_mal": goal.sdg_mal, "namn": goal.namn, "farg": goal.farg,
               "antal_kopplingar": len(links_), "antal_delmal": links_["delmal_id"].nunique(),
               "antal_programmal": len(ids["programmal"]),
               "programmal": " ".join(ids["programmal"]) or None,
               "antal_aktiviteter": len(ids["aktivitet"]),
               **{column: sum(status.get(a) == s for a in ids["aktivitet"])
                  for s, column in STATUS_COLUMNS.items()},
               "antal_nyckeltal": len(ids["nyckeltal"]),
               **{column: sum(trend.get(k) == t for k in ids["nyckeltal"])
                  for t, column in TREND_COLUMNS.items()}}
        rows.append(row)
    return pd.DataFrame(rows)
