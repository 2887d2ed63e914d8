"""The static portal in every release: start page, a page per dataset, an Agenda 2030 page, a
page per programme goal and the follow-up reports (HTML, PDF, JSON). Jinja templates with
autoescaping; Swedish at the root, English under en/; charts are inline SVG; no script, no CDN."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from flows.core.register import Register
from flows.core.values import json_document, json_value
from flows.outputs import charts
from flows.outputs.follow_up_pdf import follow_up_pdf
from flows.tables.agenda2030 import latest_activities, series_by_figure
from flows.tables.datasets import Built
from flows.tables.derived import STATUSES
from flows.tables.follow_up import DEFAULT_PERIODS, follow_up

TEXT: dict[str, dict[str, str]] = {
    "sv": {
        "site": "Aneby kommun – öppna data om målprogrammet 2019–2022", "home": "Start",
        "datasets": "Dataset", "agenda": "Agenda 2030", "reports": "Uppföljning",
        "other_language": "English", "illustrative": "Förvaltningarnas rapporter i denna "
        "version är illustrativa exempeldata: siffrorna är påhittade och är inte Aneby kommuns "
        "statistik. Programmets perspektiv och mål återges ordagrant.",
        "programme": "Programmets perspektiv och mål", "progress": "Aktiviteter per status",
        "activities": "Aktiviteter", "key_figures": "Nyckeltal",
        "status": "Status", "year": "År", "department": "Förvaltning", "title": "Titel",
        "fields": "Fält", "field": "Fält", "type": "Typ", "description": "Beskrivning",
        "preview": "De första raderna", "downloads": "Ladda ner", "format": "Format",
        "size": "Storlek", "checksum": "SHA-256", "licence": "Licens", "updated": "Uppdaterad",
        "changes": "Ändringar sedan förra releasen", "added": "tillagda", "removed": "borttagna",
        "changed": "ändrade", "rows": "rader", "no_changes": "Inga ändringar.",
        "first_release": "Första releasen.", "targets": "Delmål i Agenda 2030",
        "contributes": "Det här i programmet bidrar", "programme_goals": "programmål",
        "links": "kopplingar", "nothing": "Inget i programmet kopplas hit ännu.",
        "trend": "Trend", "desired": "Önskad riktning", "economy": "En ekonomi i balans",
        "deviation": "Avvikelse mot budget (tkr, positiv = överskott)", "fleet": "Fordonsflottan",
        "fossil_free": "Fossilfri andel (%)", "report": "Uppföljningsrapport",
        "pdf": "PDF", "data_json": "Siffrorna som JSON", "unit": "Enhet",
        "values": "Värden", "perspective": "Perspektiv", "release": "Release",
        "planerad": "planerad", "pågående": "pågående", "genomförd": "genomförd",
        "avbruten": "avbruten", "förbättras": "förbättras", "försämras": "försämras",
        "oförändrad": "oförändrad", "saknas": "saknas", "ökande": "ökande",
        "minskande": "minskande", "source": "Källa", "see_dataset": "Se datasetet",
        "sdg_goals": "globala mål", "sdg_targets": "delmål", "touches": "Programmet berör",
        "verbatim": "", "part": "del",
    },
    "en": {
        "site": "Aneby Municipality – open data on the 2019–2022 programme", "home": "Home",
        "datasets": "Datasets", "agenda": "Agenda 2030", "reports": "Follow-up",
        "other_language": "Svenska", "illustrative": "The department reports in this version "
        "are illustrative sample data: the figures are invented and are not Aneby "
        "Municipality's statistics. The programme's perspectives and goals are quoted "
        "verbatim (in Swedish).",
        "programme": "The programme's perspectives and goals", "progress":
        "Activities by status", "activities": "Activities",
        "key_figures": "Key figures", "status": "Status", "year": "Year",
        "department": "Department", "title": "Title", "fields": "Fields", "field": "Field",
        "type": "Type", "description": "Description", "preview": "The first rows",
        "downloads": "Download", "format": "Format", "size": "Size", "checksum": "SHA-256",
        "licence": "Licence", "updated": "Updated", "changes": "Changes since the last release",
        "added": "added", "removed": "removed", "changed": "changed", "rows": "rows",
        "no_changes": "No changes.", "first_release": "First release.",
        "targets": "Agenda 2030 targets", "contributes": "What in the programme contributes",
        "programme_goals": "programme goals", "links": "links",
        "nothing": "Nothing in the programme is linked here yet.", "trend": "Trend",
        "desired": "Desired direction", "economy": "A balanced economy",
        "deviation": "Deviation from budget (kSEK, positive = surplus)", "fleet": "The fleet",
        "fossil_free": "Fossil-free share (%)", "report": "Follow-up report",
        "pdf": "PDF",
        "data_json": "The figures as JSON", "unit": "Unit", "values": "Values",
        "perspective": "Perspective", "release": "Release", "planerad": "planned",
        "pågående": "ongoing", "genomförd": "completed", "avbruten": "cancelled",
        "förbättras": "improving", "försämras": "worsening", "oförändrad": "unchanged",
        "saknas": "no trend", "ökande": "increasing", "minskande": "decreasing",
        "source": "Source", "see_dataset": "See the dataset", "sdg_goals": "goals",
        "sdg_targets": "targets", "touches": "The programme touches",
        "verbatim": "(Swedish, verbatim)", "part": "part",
    },
}


def environment() -> Environment:
    env = Environment(loader=PackageLoader("flows.outputs", "templates"),
                      autoescape=select_autoescape(["html", "svg"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["number"] = lambda v: "–" if v is None else charts.number_text(float(v))
    env.filters["size"] = lambda b: f"{b / 1024:,.1f} kB".replace(",", " ").replace(".", ",")
    return env


def _rows(frame: pd.DataFrame, limit: int) -> list[list[Any]]:
    return [[json_value(v) for v in row]
            for row in frame.head(limit).astype(object).itertuples(index=False, name=None)]


class Frames(Mapping):
    """What the pages show of each dataset, read once when first asked for: every row of a
    small dataset, the publishing municipality's rows of a large one."""

    def __init__(self, datasets: dict[str, Built]) -> None:
        self.datasets, self.read = datasets, {}

    def __getitem__(self, dataset_id: str) -> pd.DataFrame:
        if dataset_id not in self.read:
            self.read[dataset_id] = self.datasets[dataset_id].frame()
        return self.read[dataset_id]

    def __iter__(self):
        return iter(self.datasets)

    def __len__(self) -> int:
        return len(self.datasets)


def build_portal(folder: Path, datasets: dict[str, Built], register: Register,
                 resources: list[dict[str, Any]], changes: dict[str, Any], version: str,
                 created: str, periods: list[tuple[int, int]] = DEFAULT_PERIODS) -> list[str]:
    """Write every page of the portal into the release folder; returns the pages written."""
    tables = Frames(datasets)
    env = environment()
    municipality = register.package.municipality
    reports = {f"{a}-{b}": follow_up(tables, a, b, municipality) for a, b in periods}
    programme = tables["malprogram"]
    activities = tables["aktiviteter"]
    latest_year = int(activities["rapportar"].max()) if len(activities) else None
    status_table = tables["aktivitetsstatus_per_mal"]
    trend = tables["nyckeltal_trend"].set_index("nyckeltal_id")
    values = tables["nyckeltal"]
    values = values[(values["kommun_id"] == municipality) & (values["kon"] == "T")]
    written: list[str] = []
    common = {"version": version, "created": created, "register": register,
              "reports": list(reports), "license": register.package.license}

    def page(template: str, path: str, lang: str, **context: Any) -> None:
        actual = path if lang == "sv" else f"en/{path}"
        depth = actual.count("/")
        root = "../" * depth
        html = env.get_template(template).render(
            t=TEXT[lang], lang=lang, root=root,
            switch=(f"{root}en/{path}" if lang == "sv" else f"{root}{path}"),
            home=f"{root}{'' if lang == 'sv' else 'en/'}", **common, **context)
        target = folder / actual
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
        written.append(actual)

    for name, report in reports.items():
        (folder / "rapport").mkdir(exist_ok=True)
        (folder / "rapport" / f"uppfoljning-{name}.json").write_bytes(json_document(report))
        (folder / "rapport" / f"uppfoljning-{name}.pdf").write_bytes(follow_up_pdf(report))

    previews: dict[str, pd.DataFrame] = {}
    charted: dict[str, list[dict[str, Any]]] = {}
    line = env.get_template("charts.html").module.line

    def figures_of(goal_id: str) -> list[dict[str, Any]]:
        """A goal's key figures with their charts (the same in both languages): one pass
        over the values, not one filter per key figure."""
        if not charted:
            series = series_by_figure(values)
            definitions = tables["nyckeltal_definitioner"]
            for kpi in definitions.itertuples(index=False):
                years, found = series.get(kpi.nyckeltal_id, ([], []))
                points = {int(y): json_value(v) for y, v in zip(years, found, strict=True)}
                chart = charts.line_chart(points, kpi.namn, kpi.enhet)
                charted.setdefault(kpi.mal_id, []).append({
                    "kpi": kpi, "chart": chart,
                    "svg": line(chart, f"kpi-{kpi.nyckeltal_id}"),  # drawn once, for both
                    "trend": trend.loc[kpi.nyckeltal_id, "trend"]
                    if kpi.nyckeltal_id in trend.index else "saknas"})
        return charted.get(goal_id, [])

    for lang in ("sv", "en"):
        goals = []
        for goal in programme.itertuples(index=False):
            latest = status_table[(status_table["mal_id"] == goal.mal_id)
                                  & (status_table["rapportar"] == latest_year)]
            counts = {s: int(latest.iloc[0][c]) if len(latest) else 0
                      for s, c in STATUSES.items()}
            goals.append({"goal": goal, "counts": counts,
                          "bar": charts.status_bar(counts, TEXT[lang])})
        fleet = tables["fossilfri_andel_fordon"]
        budget = tables["budgetavvikelse"].groupby("ar")["avvikelse_tkr"].sum(min_count=1)
        page("index.html", "index.html", lang, goals=goals, latest_year=latest_year,
             fleet_chart=charts.bar_chart(
                 {int(r.ar): json_value(r.andel_fossilfria_procent) for r in
                  fleet.itertuples(index=False)}, TEXT[lang]["fossil_free"], "%"),
             budget_chart=charts.bar_chart(
                 {int(y): json_value(v) for y, v in budget.items()}, TEXT[lang]["deviation"],
                 "tkr"),
             overview=tables["agenda2030_oversikt"])
        page("datasets.html", "datasets/index.html", lang, resources=resources)
        for resource in resources:
            dataset_id = resource["name"]
            preview = previews.setdefault(dataset_id, datasets[dataset_id].preview(10))
            page("dataset.html", f"datasets/{dataset_id}.html", lang, resource=resource,
                 schema=register.published_descriptor(dataset_id), columns=list(preview.columns),
                 preview=_rows(preview, 10), rows=datasets[dataset_id].rows,
                 change=changes.get(dataset_id))
        overview = tables["agenda2030_oversikt"]
        links = tables["agenda2030_koppling"]
        targets = tables["sdg_delmal"].set_index("delmal_id")
        tiles = []
        english = dict(zip(tables["sdg_mal"]["sdg_mal"], tables["sdg_mal"]["namn_en"],
                           strict=True))
        for row in overview.itertuples(index=False):
            goal_links = links[links["sdg_mal"] == row.sdg_mal]
            tiles.append({"row": row, "ink": charts.text_colour(row.farg),
                          "name": row.namn if lang == "sv" else english[row.sdg_mal],
                          "targets": sorted(set(goal_links["delmal_id"])),
                          "goals": sorted(set(goal_links.loc[goal_links["objekttyp"] ==
                                                             "programmal", "objekt_id"]))})
        page("agenda2030.html", "agenda2030.html", lang, tiles=tiles, targets=targets)
        for goal in programme.itertuples(index=False):
            mine = activities[activities["mal_id"] == goal.mal_id]
            current = latest_activities(mine)  # sorted by aktivitet_id
            yearly = status_table[status_table["mal_id"] == goal.mal_id]
            figures = figures_of(goal.mal_id)
            page("goal.html", f"mal/{goal.mal_id}.html", lang, goal=goal, activities=current,
                 yearly=[{"year": int(r.rapportar), "bar": charts.status_bar(
                     {s: int(getattr(r, c)) for s, c in STATUSES.items()}, TEXT[lang])}
                     for r in yearly.itertuples(index=False)],
                 figures=figures,
                 goal_targets=[(code, targets.loc[code]) for code in sorted(set(
                     links.loc[(links["objekttyp"] == "programmal")
                               & (links["objekt_id"] == goal.mal_id), "delmal_id"]))])
        for name, report in reports.items():
            page("report.html", f"rapport/uppfoljning-{name}.html", lang, report=report,
                 name=name)
    (folder / "assets").mkdir(exist_ok=True)
    for asset in ("style.css", "favicon.svg"):
        (folder / "assets" / asset).write_text(env.loader.get_source(env, asset)[0],
                                               encoding="utf-8")
    return written
