"""The static portal in every release: start page, a page per dataset, an Agenda 2030 page, a
page per programme goal and the follow-up reports (HTML, PDF, JSON). Jinja templates with
autoescaping; Swedish at the root, English under en/; charts are inline SVG; no script, no CDN.

The view data is built once (:func:`build_view`); each language is then rendered from it
(:func:`render_language`). Text comes from the message catalogue (``portal.*`` keys); data
that carries both languages is a ``{"sv": ..., "en": ...}`` mapping, shown with ``|pick(lang)``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from flows.core.messages import LANGUAGES, pick, t, translator
from flows.core.register import Register
from flows.core.values import json_document, json_value
from flows.outputs import charts
from flows.outputs.follow_up_pdf import follow_up_pdf
from flows.outputs.key_figures import figure_views, rollups
from flows.outputs.reporting_status import reporting_status
from flows.tables.agenda2030 import latest_activities
from flows.tables.datasets import Built
from flows.tables.derived import STATUSES, municipality_totals
from flows.tables.follow_up import DEFAULT_PERIODS, follow_up


def environment() -> Environment:
    env = Environment(loader=PackageLoader("flows.outputs", "templates"),
                      autoescape=select_autoescape(["html", "svg"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["number"] = lambda v: "–" if v is None else charts.number_text(float(v))
    env.filters["size"] = lambda b: f"{b / 1024:,.1f} kB".replace(",", " ").replace(".", ",")
    env.filters["pick"] = pick
    return env


def _rows(frame: pd.DataFrame, limit: int) -> list[list[Any]]:
    return [[json_value(v) for v in row]
            for row in frame.head(limit).astype(object).itertuples(index=False, name=None)]


def both(make: Callable[[str], Any]) -> dict[str, Any]:
    """A value made once per language: ``{"sv": make("sv"), "en": make("en")}``."""
    return {lang: make(lang) for lang in LANGUAGES}


def bilingual(item: Mapping[str, Any], key: str) -> dict[str, Any]:
    """A resource's or field's ``key`` in both languages (the English under ``en``)."""
    return {"sv": item.get(key, ""), "en": (item.get("en") or {}).get(key, "")}


def status_label(lang: str) -> Callable[[str], str]:
    """An activity status in ``lang``."""
    return lambda status: t(f"portal.{status}", lang)


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


@dataclass
class View:
    """Everything the pages show, in both languages: built once, rendered twice."""

    common: dict[str, Any]
    reports: dict[str, dict[str, Any]]
    home: dict[str, Any] = field(default_factory=dict)
    resources: list[dict[str, Any]] = field(default_factory=list)
    datasets: list[dict[str, Any]] = field(default_factory=list)
    agenda: dict[str, Any] = field(default_factory=dict)
    goals: list[dict[str, Any]] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)
    sdg_names: dict[str, dict[int, str]] = field(default_factory=dict)
    diagrams: dict[str, dict[str, Any]] = field(default_factory=dict)


def build_view(tables: Frames, register: Register, resources: list[dict[str, Any]],
               changes: dict[str, Any], version: str, created: str,
               periods: list[tuple[int, int]], env: Environment) -> View:
    municipality = register.package.municipality
    reports = {f"{a}-{b}": follow_up(tables, a, b, municipality) for a, b in periods}
    view = View(common={"version": version, "created": created, "register": register,
                        "reports": list(reports), "license": register.package.license},
                reports=reports)
    activities = tables["aktiviteter"]
    latest_year = int(activities["rapportar"].max()) if len(activities) else None
    values = municipality_totals(tables["nyckeltal"], municipality)
    view.home = home_view(tables, latest_year)
    view.resources, view.datasets = dataset_views(tables.datasets, register, resources, changes)
    progress = rollups(tables["framsteg_per_mal"])
    view.agenda = agenda_view(tables, progress)
    view.goals = goal_views(tables, figure_views(
        tables, values, env.get_template("charts.html").module.line), progress)
    view.status = reporting_status(tables, values)
    sdg = tables["sdg_mal"]
    view.sdg_names = {lang: dict(zip(sdg["sdg_mal"].astype(int), sdg[column], strict=True))
                      for lang, column in (("sv", "namn"), ("en", "namn_en"))}
    view.diagrams = diagrams(view, env)
    return view


def diagrams(view: View, env: Environment) -> dict[str, dict[str, Any]]:
    """Every chart's files, by chart id: its data as CSV (one for both languages) and its
    image as a standalone SVG document, one per language where the image holds words."""
    module = env.get_template("charts.html").module
    drawn: dict[str, dict[str, Any]] = {}

    def add(chart_id: str, charted: dict[str, Any], draw) -> None:
        if charted["sv"] is None:
            return
        svg = both(lambda lang: svg_document(draw(charted[lang], chart_id, True)))
        drawn[chart_id] = {"csv": charts.chart_csv(charted["sv"]),
                           "svg": svg if svg["sv"] != svg["en"] else {"sv": svg["sv"]}}

    add("budget", view.home["budget_chart"], module.bars_svg)
    add("fleet", view.home["fleet_chart"], module.bars_svg)
    for goal in view.home["goals"]:
        add(goal["chart_id"], goal["bar"], module.status_svg)
    for goal in view.goals:
        for year in goal["yearly"]:
            add(year["chart_id"], year["bar"], module.status_svg)
        for figure in goal["figures"]:
            add(figure["id"], figure["chart"], module.line_svg)
    return drawn


def svg_document(markup: str) -> str:
    """An inline SVG drawing as a file of its own."""
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + "\n".join(
        line for line in str(markup).strip().splitlines() if line.strip()) + "\n"


def status_bars(counts: dict[str, int]) -> dict[str, dict]:
    return both(lambda lang: charts.status_bar(counts, status_label(lang)))


def home_view(tables: Frames, latest_year: int | None) -> dict[str, Any]:
    """The start page: each goal's activities by status in the latest year, the budget and
    the fleet."""
    status_table = tables["aktivitetsstatus_per_mal"]
    goals = []
    for goal in tables["malprogram"].itertuples(index=False):
        latest = status_table[(status_table["mal_id"] == goal.mal_id)
                              & (status_table["rapportar"] == latest_year)]
        counts = {s: int(latest.iloc[0][c]) if len(latest) else 0 for s, c in STATUSES.items()}
        goals.append({"goal": goal, "counts": counts, "bar": status_bars(counts),
                      "chart_id": f"status-{goal.mal_id}-{latest_year}"})
    vehicles = tables["fossilfri_andel_fordon"]
    fleet = charts.year_points(vehicles["ar"], vehicles["andel_fossilfria_procent"])
    budget = tables["budgetavvikelse"].groupby("ar")["avvikelse_tkr"].sum(min_count=1)
    budget_points = charts.year_points(budget.index, budget)
    return {"goals": goals, "latest_year": latest_year,
            "fleet_chart": both(lambda lang: charts.bar_chart(
                fleet, t("portal.fossil-free", lang), "%")),
            "budget_chart": both(lambda lang: charts.bar_chart(
                budget_points, t("portal.deviation", lang), "tkr")),
            "overview": tables["agenda2030_oversikt"]}


def dataset_views(datasets: dict[str, Built], register: Register,
                  resources: list[dict[str, Any]], changes: dict[str, Any]
                  ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The dataset list and each dataset's page: titles and descriptions in both languages,
    the schema's fields, the first rows."""
    listed, pages = [], []
    for resource in resources:
        dataset_id = resource["name"]
        named = {"name": dataset_id, "title": bilingual(resource, "title"),
                 "description": bilingual(resource, "description")}
        listed.append(named)
        schema = register.published_descriptor(dataset_id)
        preview = datasets[dataset_id].preview(10)
        pages.append({**named, "resource": resource, "schema": schema,
                      "fields": [{"field": f, "title": bilingual(f, "title"),
                                  "description": bilingual(f, "description")}
                                 for f in schema["fields"]],
                      "columns": list(preview.columns), "preview": _rows(preview, 10),
                      "rows": datasets[dataset_id].rows, "change": changes.get(dataset_id)})
    return listed, pages


def target_labels(tables: Frames) -> dict[str, dict[str, str]]:
    """Each Agenda 2030 target's label in both languages, by its code."""
    targets = tables["sdg_delmal"]
    return {code: {"sv": sv, "en": en} for code, sv, en in zip(
        targets["delmal_id"], targets["etikett"], targets["etikett_en"], strict=True)}


def agenda_view(tables: Frames, progress: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """The Agenda 2030 page: a tile per goal with what in the programme links to it, and the
    progress of its key figures per goal and per target."""
    links = tables["agenda2030_koppling"]
    english = dict(zip(tables["sdg_mal"]["sdg_mal"], tables["sdg_mal"]["namn_en"], strict=True))
    tiles = []
    for row in tables["agenda2030_oversikt"].itertuples(index=False):
        goal_links = links[links["sdg_mal"] == row.sdg_mal]
        tiles.append({"row": row, "ink": charts.text_colour(row.farg),
                      "name": {"sv": row.namn, "en": english[row.sdg_mal]},
                      "targets": sorted(set(goal_links["delmal_id"])),
                      "goals": sorted(set(goal_links.loc[goal_links["objekttyp"] ==
                                                         "programmal", "objekt_id"]))})
    return {"tiles": tiles, "targets": target_labels(tables), "progress": progress}


def goal_views(tables: Frames, figures: dict[str, list[dict[str, Any]]],
               progress: dict[str, dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """A page per programme goal: its activities, its status by year, its key figures with
    their progress rolled up, and the Agenda 2030 targets it is linked to with theirs."""
    activities = tables["aktiviteter"]
    status_table = tables["aktivitetsstatus_per_mal"]
    links = tables["agenda2030_koppling"]
    labels = target_labels(tables)
    goals = []
    for goal in tables["malprogram"].itertuples(index=False):
        yearly = status_table[status_table["mal_id"] == goal.mal_id]
        codes = sorted(set(links.loc[(links["objekttyp"] == "programmal")
                                     & (links["objekt_id"] == goal.mal_id), "delmal_id"]))
        goals.append({
            "goal": goal,
            "activities": latest_activities(activities[activities["mal_id"] == goal.mal_id]),
            "yearly": [{"year": int(r.rapportar), "bar": status_bars(
                {s: int(getattr(r, c)) for s, c in STATUSES.items()}),
                "chart_id": f"status-{goal.mal_id}-{int(r.rapportar)}"}
                for r in yearly.itertuples(index=False)],
            "figures": figures.get(goal.mal_id, []),
            "rollup": progress.get("programmal", {}).get(goal.mal_id),
            "target_progress": progress.get("delmal", {}),
            "goal_targets": [(code, labels[code]) for code in codes]})
    return goals


class Site:
    """Writes pages into the release folder, Swedish at the root and English under en/."""

    def __init__(self, folder: Path, env: Environment, common: dict[str, Any]) -> None:
        self.folder, self.env, self.common = folder, env, common
        self.written: list[str] = []

    def page(self, template: str, path: str, lang: str, **context: Any) -> None:
        actual = localised(path, lang)
        root = "../" * actual.count("/")
        other = "en" if lang == "sv" else "sv"
        html = self.env.get_template(template).render(
            t=translator(lang), lang=lang, other_lang=other, root=root,
            switch=(f"{root}en/{path}" if lang == "sv" else f"{root}{path}"),
            home=f"{root}{'' if lang == 'sv' else 'en/'}", **self.common, **context)
        target = self.folder / actual
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
        self.written.append(actual)


def render_language(site: Site, view: View, lang: str) -> None:
    """Every page of one language, from the view data."""
    site.page("index.html", "index.html", lang, **view.home)
    site.page("datasets.html", "datasets/index.html", lang, resources=view.resources)
    for dataset in view.datasets:
        site.page("dataset.html", f"datasets/{dataset['name']}.html", lang, **dataset)
    site.page("agenda2030.html", "agenda2030.html", lang, **view.agenda)
    site.page("rapporteringsstatus.html", "rapporteringsstatus.html", lang, status=view.status)
    site.page("framsteg.html", "framsteg.html", lang)
    for goal in view.goals:
        site.page("goal.html", f"mal/{goal['goal'].mal_id}.html", lang, **goal)
    for name, report in view.reports.items():
        site.page("report.html", f"rapport/uppfoljning-{name}.html", lang, report=report,
                  name=name)


def write_reports(folder: Path, view: View) -> None:
    """Each follow-up report's numbers as JSON, and the report as PDF in Swedish (rapport/)
    and in English (en/rapport/)."""
    for lang in LANGUAGES:
        (folder / localised("rapport", lang)).mkdir(parents=True, exist_ok=True)
    for name, report in view.reports.items():
        (folder / "rapport" / f"uppfoljning-{name}.json").write_bytes(json_document(report))
        for lang in LANGUAGES:
            (folder / localised(f"rapport/uppfoljning-{name}.pdf", lang)).write_bytes(
                follow_up_pdf(report, lang, view.sdg_names[lang]))


def write_diagrams(folder: Path, drawn: dict[str, dict[str, Any]]) -> None:
    """diagram/<id>.csv and diagram/<id>.svg; en/diagram/<id>.svg where the image has words."""
    for lang in LANGUAGES:
        (folder / localised("diagram", lang)).mkdir(parents=True, exist_ok=True)
    for chart_id, files in drawn.items():
        (folder / "diagram" / f"{chart_id}.csv").write_bytes(files["csv"])
        for lang, svg in files["svg"].items():
            (folder / localised(f"diagram/{chart_id}.svg", lang)).write_text(svg, encoding="utf-8")


def localised(path: str, lang: str) -> str:
    """Where a file in ``lang`` goes: Swedish at the root, English under en/."""
    return path if lang == "sv" else f"en/{path}"


def write_assets(folder: Path, env: Environment) -> None:
    (folder / "assets").mkdir(exist_ok=True)
    for asset in ("style.css", "favicon.svg"):
        (folder / "assets" / asset).write_text(env.loader.get_source(env, asset)[0],
                                               encoding="utf-8")


def build_portal(folder: Path, datasets: dict[str, Built], register: Register,
                 resources: list[dict[str, Any]], changes: dict[str, Any], version: str,
                 created: str, periods: list[tuple[int, int]] = DEFAULT_PERIODS) -> list[str]:
    """Write every page of the portal into the release folder; returns the pages written."""
    env = environment()
    view = build_view(Frames(datasets), register, resources, changes, version, created,
                      periods, env)
    write_reports(folder, view)
    write_diagrams(folder, view.diagrams)
    site = Site(folder, env, view.common)
    for lang in LANGUAGES:
        render_language(site, view, lang)
    write_assets(folder, env)
    return site.written
