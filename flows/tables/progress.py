"""Progress toward targets: Open SDG's progress measure (Statistics Canada's method) for every key
figure with a target value, the direction of change (nyckeltal_trend) for one without, and the
statuses rolled up to each programme goal and each Agenda 2030 target and goal.

The method with a target, as Open SDG documents it (README, "Framsteg mot mål"):
- base year: the first year from 2015 with a value; latest year: the last year with a value;
- observed growth CAGR = (y_latest / y_base) ** (1 / (t_latest - t_base)) - 1;
- required growth CAGR_T = (target / y_base) ** (1 / (t_target - t_base)) - 1;
- ratio R = s * d * CAGR / |CAGR_T|, d = +1 when a higher value is better, else -1, and s = -1 when
  the base value is negative (an all-negative series has its direction flipped);
- the target is met (the latest value is at or beyond it): malet_uppnatt; else by R:
  R >= 0.95 betydande_framsteg, 0.6 <= R < 0.95 mattliga_framsteg, 0 <= R < 0.6
  begransade_framsteg, R < 0 forsamring.
A base value or target of 0 is replaced by 0.001, as Open SDG does. Fewer than two years with a
value: for_lite_data; a base and latest value of opposite signs (no growth rate): ej_bedombar.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from flows.tables.agenda2030 import series_by_figure, target_sort_key
from flows.tables.derived import municipality_totals

BASE_YEAR = 2015  # Open SDG's default base year (the year Agenda 2030 was adopted)
TARGET_YEAR = 2030  # Open SDG's default target year, used when a target has no year
ZERO = 0.001  # what Open SDG puts in place of a base value or target of 0
THRESHOLDS = ((0.95, "betydande_framsteg"), (0.6, "mattliga_framsteg"), (0.0, "begransade_framsteg"))
BELOW = "forsamring"
ACHIEVED = "malet_uppnatt"
TOO_FEW = "for_lite_data"
UNDEFINED = "ej_bedombar"
TREND_STATUS = {"förbättras": "forbattras", "försämras": "forsamras", "oförändrad": "oforandrad",
                "saknas": TOO_FEW}
STATUSES = [ACHIEVED, *(s for _, s in THRESHOLDS), BELOW, "forbattras", "forsamras",
            "oforandrad", TOO_FEW, UNDEFINED]
KINDS = ("programmal", "delmal", "sdg_mal")


def growth(latest: float, base: float, latest_year: int, base_year: int) -> float:
    """Compound annual growth rate from the base year to the latest."""
    return (latest / base) ** (1 / (latest_year - base_year)) - 1


def ratio_status(ratio: float) -> str:
    """A ratio of observed to required growth -> its progress status (Open SDG's thresholds)."""
    return next((status for floor, status in THRESHOLDS if ratio >= floor), BELOW)


def score(ratio: float | None, achieved: bool) -> float | None:
    """Open SDG's progress score, -5..5, linear between its anchors: R = -60 % -> -5,
    60 % -> 0, 130 % -> 5; a met target scores 5."""
    if achieved:
        return 5.0
    if ratio is None:
        return None
    if ratio >= 0.6:
        return min(5 * (ratio - 0.6) / 0.7, 5.0)
    return max(5 * (ratio - 0.6) / 1.2, -5.0)


def score_status(mean: float, all_achieved: bool) -> str:
    """An aggregate score -> status: Open SDG's score ranges; malet_uppnatt only when every
    key figure met its target."""
    if all_achieved:
        return ACHIEVED
    if mean >= 2.5:
        return "betydande_framsteg"
    if mean >= 0:
        return "mattliga_framsteg"
    if mean >= -2.5:
        return "begransade_framsteg"
    return BELOW


def measure(years: list[int], values: list[Any], desired: str, target: float,
            target_year: int | None = None) -> dict[str, Any]:
    """Open SDG's progress measure of one series (in any year order, missing values skipped)
    against a target: status, base and latest year and value, CAGR, required CAGR, ratio, score."""
    target_year = TARGET_YEAR if target_year is None or pd.isna(target_year) else int(target_year)
    points = sorted((int(y), float(v)) for y, v in zip(years, values, strict=True)
                    if v is not None and not pd.isna(v) and int(y) >= BASE_YEAR)
    row: dict[str, Any] = {"status": TOO_FEW, "basar": None, "basvarde": None, "senaste_ar": None,
                           "senaste_varde": None, "malar": target_year, "cagr": None,
                           "cagr_kravd": None, "kvot": None, "poang": None}
    if not points:
        return row
    (base_year, base), (latest_year, latest) = points[0], points[-1]
    row.update(basar=base_year, basvarde=base, senaste_ar=latest_year, senaste_varde=latest)
    sense = 1 if desired == "ökande" else -1
    achieved = latest >= target if sense == 1 else latest <= target
    start, goal = base or ZERO, target or ZERO
    one_sign = (start > 0 and latest >= 0 and goal > 0) or (start < 0 and latest <= 0 and goal < 0)
    if latest_year > base_year and one_sign and target_year > base_year:
        sign = -1 if start < 0 else 1
        observed = growth(latest, start, latest_year, base_year)
        required = growth(goal, start, target_year, base_year)
        ratio = sign * sense * observed / abs(required) if required else None
        row.update(cagr=round(observed, 6), cagr_kravd=round(required, 6),
                   kvot=None if ratio is None else round(ratio, 6),
                   status=BELOW if ratio is None else ratio_status(ratio))
        found = score(ratio, achieved)
        row["poang"] = -5.0 if found is None else round(found, 6)  # required 0: moved away
    elif latest_year > base_year:
        row["status"] = UNDEFINED
    if achieved:
        row.update(status=ACHIEVED, poang=5.0)
    return row


def key_figure_progress(nyckeltal: pd.DataFrame, definitions: pd.DataFrame, trends: pd.DataFrame,
                        municipality: str) -> pd.DataFrame:
    """nyckeltal_framsteg: per key figure its progress status; with a target by Open SDG's
    method (metod=mal), without one the direction of its latest change from nyckeltal_trend
    (metod=riktning)."""
    values = municipality_totals(nyckeltal, municipality)
    values = values[values["varde"].notna()]
    by_figure = series_by_figure(values)
    trend = {row.nyckeltal_id: row for row in trends.itertuples(index=False)}
    rows = []
    for definition in definitions.itertuples(index=False):
        ident = definition.nyckeltal_id
        row = {"nyckeltal_id": ident, "mal_id": definition.mal_id,
               "onskad_riktning": definition.onskad_riktning, "malvarde": None}
        if not pd.isna(definition.malvarde):
            years, found = by_figure.get(ident, ([], []))
            row.update(metod="mal", malvarde=float(definition.malvarde),
                       **measure(years, found, definition.onskad_riktning,
                                 float(definition.malvarde), definition.malar))
        else:
            latest = trend[ident]
            row.update(metod="riktning", status=TREND_STATUS[latest.trend],
                       basar=latest.foregaende_ar, basvarde=latest.foregaende_varde,
                       senaste_ar=latest.senaste_ar, senaste_varde=latest.senaste_varde)
        rows.append(row)
    columns = ["nyckeltal_id", "mal_id", "onskad_riktning", "metod", "status", "basar",
               "basvarde", "senaste_ar", "senaste_varde", "malvarde", "malar", "cagr",
               "cagr_kravd", "kvot", "poang"]
    return pd.DataFrame(rows).reindex(columns=columns)


def progress_by_goal(progress: pd.DataFrame, koppling: pd.DataFrame) -> pd.DataFrame:
    """framsteg_per_mal: per programme goal, Agenda 2030 target and goal with at least one key
    figure, its key figures counted by status and one overall status (overall_status)."""
    linked = koppling[koppling["objekttyp"] == "nyckeltal"]
    members = pd.concat([
        pd.DataFrame({"objekttyp": "programmal", "objekt_id": progress["mal_id"].astype(str),
                      "nyckeltal_id": progress["nyckeltal_id"]}),
        pd.DataFrame({"objekttyp": "delmal", "objekt_id": linked["delmal_id"].astype(str),
                      "nyckeltal_id": linked["objekt_id"]}),
        pd.DataFrame({"objekttyp": "sdg_mal", "objekt_id": linked["sdg_mal"].astype(str),
                      "nyckeltal_id": linked["objekt_id"]}),
    ]).drop_duplicates().merge(progress[["nyckeltal_id", "metod", "status", "poang"]],
                               on="nyckeltal_id")
    rows = []
    for (kind, ident), group in members.groupby(["objekttyp", "objekt_id"], sort=False):
        counts = group["status"].value_counts()
        status, method, mean = overall_status(group)
        rows.append({"objekttyp": kind, "objekt_id": ident, "antal_nyckeltal": len(group),
                     "antal_med_malvarde": int((group["metod"] == "mal").sum()),
                     **{f"antal_{s}": int(counts.get(s, 0)) for s in STATUSES},
                     "medelpoang": mean, "samlad_metod": method, "samlad_status": status})
    columns = ["objekttyp", "objekt_id", "antal_nyckeltal", "antal_med_malvarde",
               *(f"antal_{s}" for s in STATUSES), "medelpoang", "samlad_metod", "samlad_status"]
    table = pd.DataFrame(rows).reindex(columns=columns)
    order = {"objekttyp": lambda c: c.map(KINDS.index),
             "objekt_id": lambda c: c.map(_id_sort_key)}
    table = table.sort_values(["objekttyp", "objekt_id"], key=lambda c: order[c.name](c))
    return table.reset_index(drop=True)


def overall_status(group: pd.DataFrame) -> tuple[str, str | None, float | None]:
    """(status, method, mean score) of a set of key figures. Those measured against a target
    decide when there are any: Open SDG's aggregate, the mean of their scores, malet_uppnatt
    only when all met their target. Else the direction: more improving than worsening is
    forbattras, more worsening forsamras, as many oforandrad. Else for_lite_data (ej_bedombar
    when every key figure is)."""
    scored = group[(group["metod"] == "mal") & group["poang"].notna()]
    if len(scored):
        mean = round(float(scored["poang"].astype(float).mean()), 6)
        return score_status(mean, bool((scored["status"] == ACHIEVED).all())), "mal", mean
    better = int((group["status"] == "forbattras").sum())
    worse = int((group["status"] == "forsamras").sum())
    if better or worse or (group["status"] == "oforandrad").any():
        return ("forbattras" if better > worse else "forsamras" if worse > better
                else "oforandrad"), "riktning", None
    return (UNDEFINED if (group["status"] == UNDEFINED).all() else TOO_FEW), None, None


def _id_sort_key(ident: str) -> str:
    """Programme goals as they are, targets in official order, goals by number."""
    if "." in ident:
        return target_sort_key(ident)
    return f"{int(ident):02d}" if ident.isdigit() else ident
