"""The portal and the follow-up report, in a real browser (Debian's Chromium, driven by
chromedriver): every page renders with no console error and no dead link, the report's numbers
equal the published datasets', text from data is escaped, and screenshots are saved to
build/screenshots/ for review."""

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from conftest import RAW, serve_folder, validated

pytestmark = pytest.mark.slow  # a whole release and its portal

SCREENSHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots"


@pytest.fixture(scope="module")
def tables(tmp_path_factory, register):
    from flows.tables.datasets import build_tables

    raw = tmp_path_factory.mktemp("portal-raw") / "raw"
    shutil.copytree(RAW, raw)
    target = raw / "2021" / "social" / "aktiviteter.csv"
    text = target.read_text(encoding="utf-8")
    # a title that tries to run a script must show as text
    target.write_text(text.replace("Uppstart av Hälsocenter",
                                   "Uppstart av Hälsocenter <script>alert(1)</script>", 1),
                      encoding="utf-8")
    return build_tables(validated(raw, register), register)


@pytest.fixture(scope="module")
def release(tmp_path_factory, tables, register):
    from flows.outputs.release import write_release

    return write_release(tables, register, tmp_path_factory.mktemp("portal") / "out")


@pytest.fixture(scope="module")
def server(release):
    yield from serve_folder(release.path)


def pages(release) -> list[str]:
    return sorted(p.relative_to(release.path).as_posix()
                  for p in release.path.rglob("*.html"))


@pytest.mark.browser
def test_every_page_renders_without_console_errors_or_dead_links(release, server, browser):
    from selenium.webdriver.common.by import By

    found = pages(release)
    assert "index.html" in found and "en/index.html" in found and "agenda2030.html" in found
    assert len(found) >= 2 * (3 + len(release.rows) + 7 + 2)
    dead = []
    for page in found:
        browser.get(server + page)
        severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert severe == [], (page, severe)
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") in ("sv", "en")
        assert browser.title
        for link in browser.find_elements(By.CSS_SELECTOR, "a[href], link[href]"):
            href = link.get_attribute("href")
            if href.startswith(server):
                target = release.path / href[len(server):].split("#")[0]
                if not target.exists():
                    dead.append((page, href))
    assert dead == []


@pytest.mark.browser
def test_pages_are_accessible(release, server, browser):
    from selenium.webdriver.common.by import By

    for page in pages(release):
        browser.get(server + page)
        levels = [int(h.tag_name[1]) for h in browser.find_elements(
            By.CSS_SELECTOR, "h1, h2, h3, h4, h5, h6")]
        assert levels[0] == 1 and levels.count(1) == 1, page
        assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), (page, levels)
        for image in browser.find_elements(By.TAG_NAME, "img"):
            assert image.get_attribute("alt"), page
        for svg in browser.find_elements(By.CSS_SELECTOR, "svg"):
            assert svg.get_attribute("role") == "img", page
            assert svg.find_element(By.TAG_NAME, "title").get_attribute("textContent"), page
        for link in browser.find_elements(By.TAG_NAME, "a"):
            assert link.get_attribute("href"), page  # focusable with the keyboard


@pytest.mark.browser
def test_text_from_data_is_escaped(release, server, browser):
    from selenium.webdriver.common.by import By

    for page in ("mal/O1.html", "datasets/aktiviteter.html", "en/mal/O1.html"):
        browser.get(server + page)  # an alert would make the next call fail
        assert browser.execute_script("return document.scripts.length") == 0
    html = (release.path / "mal" / "O1.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    browser.get(server + "mal/O1.html")
    assert "<script>alert(1)</script>" in browser.find_element(By.TAG_NAME, "main").text


def test_no_page_shows_a_python_object_instead_of_a_text(release):
    """`t.values` in a template is the dict's method, not the label: every label must read."""
    for page in release.path.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "built-in method" not in html and "object at 0x" not in html, page


def test_agenda_tiles_have_readable_contrast(release):
    html = (release.path / "agenda2030.html").read_text(encoding="utf-8")
    tiles = re.findall(r'background: (#[0-9A-F]{6}); color: (#[0-9a-f]{6})', html)
    assert len(tiles) == 17

    def luminance(colour):
        def channel(pair):
            c = int(pair, 16) / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
        r, g, b = (channel(colour[i:i + 2]) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    for background, ink in tiles:
        light, dark = sorted([luminance(background), luminance(ink)], reverse=True)
        assert (light + 0.05) / (dark + 0.05) >= 3.0, background  # large bold text


@pytest.mark.browser
def test_screenshots_are_saved_for_review(release, server, browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for page, name in (("index.html", "start"), ("datasets/aktiviteter.html", "dataset"),
                       ("agenda2030.html", "agenda2030")):
        browser.get(server + page)
        assert browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000


def read(release, dataset_id):
    return pd.read_csv(release.path / dataset_id / f"{dataset_id}.csv", keep_default_na=False)


@pytest.mark.parametrize("period", ["2019-2020", "2019-2022"])
def test_the_reports_numbers_equal_the_published_datasets(release, period):
    start, end = (int(y) for y in period.split("-"))
    report = json.loads((release.path / "rapport" / f"uppfoljning-{period}.json").read_text(
        encoding="utf-8"))
    activities = read(release, "aktiviteter")
    window = activities[(activities.rapportar >= start) & (activities.rapportar <= end)]
    latest = window.sort_values("rapportar").groupby("aktivitet_id").tail(1)
    assert report["aktiviteter_totalt"] == {
        s: int((latest.status == s).sum()) for s in ("planerad", "pågående", "genomförd",
                                                      "avbruten")}
    for perspective in report["perspektiv"]:
        for goal in perspective["mal"]:
            mine = latest[latest.mal_id == goal["mal_id"]]
            assert sum(goal["status"].values()) == len(mine)
            assert sorted(a["aktivitet_id"] for a in goal["aktiviteter"]) == sorted(
                mine.aktivitet_id)
            for figure in goal["nyckeltal"]:
                values = read(release, "nyckeltal")
                series = values[(values.nyckeltal_id == figure["nyckeltal_id"])
                                & (values.kommun_id == 604) & (values.kon == "T")
                                & (values.ar >= start) & (values.ar <= end)
                                & (values.varde != "")]
                assert figure["varden"] == {str(int(r.ar)): round(float(r.varde), 1)
                                            for r in series.itertuples()}
    budget = read(release, "budgetavvikelse")
    for year in report["ekonomi"]:
        rows = budget[budget.ar == year["ar"]]
        assert year["budget_tkr"] == round(rows.budget_tkr.sum(), 1)
        assert year["avvikelse_tkr"] == round(pd.to_numeric(rows.avvikelse_tkr).sum(), 1)
    fleet = read(release, "fossilfri_andel_fordon")
    assert [f["andel_fossilfria_procent"] for f in report["fordon"]] == [
        round(float(v), 1) for v in fleet[(fleet.ar >= start) & (fleet.ar <= end)]
        .andel_fossilfria_procent]
    overview = read(release, "agenda2030_oversikt")
    assert report["agenda2030"]["mal_berorda"] == int((overview.antal_kopplingar > 0).sum())
    html = (release.path / "rapport" / f"uppfoljning-{period}.html").read_text("utf-8")
    for year in report["ekonomi"]:
        shown = f"{year['avvikelse_tkr']:,.0f}".replace(",", " ") if year["avvikelse_tkr"] \
            is not None and float(year["avvikelse_tkr"]).is_integer() else None
        if shown:
            assert shown in html
    pdf = (release.path / "rapport" / f"uppfoljning-{period}.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000


def test_the_reporting_status_adds_up_to_the_published_datasets(release):
    """Each count on the reporting-status page, recomputed from the published CSV files."""
    activities, values = read(release, "aktiviteter"), read(release, "nyckeltal")
    links, definitions = read(release, "agenda2030_koppling"), read(release, "nyckeltal_definitioner")
    overview = read(release, "agenda2030_oversikt")
    progress = read(release, "nyckeltal_framsteg")
    targeted = set(progress[progress.metod == "mal"].nyckeltal_id)
    assessed = set(progress[~progress.status.isin(["for_lite_data", "ej_bedombar"])].nyckeltal_id)
    values = values[(values.kommun_id == 604) & (values.kon == "T") & (values.varde != "")]
    year = max(activities.rapportar.max(), values.ar.max())
    reported = set(activities[activities.rapportar == year].aktivitet_id)
    valued = set(values[values.ar == year].nyckeltal_id)
    with_data = {r.delmal_id for r in links.itertuples()
                 if (r.objekttyp, r.objekt_id) in {("aktivitet", a) for a in reported}
                 | {("nyckeltal", k) for k in valued}}

    def counts(ids, present):
        return (len(set(ids) & present), len(set(ids)))

    expected = {}
    for goal in overview.itertuples():
        mine = links[links.sdg_mal == goal.sdg_mal]
        expected[f"sdg-{goal.sdg_mal}"] = {
            "targets": counts(mine.delmal_id, with_data),
            "key_figures": counts(mine[mine.objekttyp == "nyckeltal"].objekt_id, valued),
            "with_target": counts(mine[mine.objekttyp == "nyckeltal"].objekt_id, targeted),
            "assessed": counts(mine[mine.objekttyp == "nyckeltal"].objekt_id, assessed),
            "activities": counts(mine[mine.objekttyp == "aktivitet"].objekt_id, reported)}
        assert (expected[f"sdg-{goal.sdg_mal}"]["targets"][1],
                expected[f"sdg-{goal.sdg_mal}"]["key_figures"][1],
                expected[f"sdg-{goal.sdg_mal}"]["activities"][1]) == (
            goal.antal_delmal, goal.antal_nyckeltal, goal.antal_aktiviteter)
    for goal in read(release, "malprogram").itertuples():
        acts = set(activities[activities.mal_id == goal.mal_id].aktivitet_id)
        kpis = set(definitions[definitions.mal_id == goal.mal_id].nyckeltal_id)
        mine = links[((links.objekttyp == "programmal") & (links.objekt_id == goal.mal_id))
                     | ((links.objekttyp == "aktivitet") & links.objekt_id.isin(acts))
                     | ((links.objekttyp == "nyckeltal") & links.objekt_id.isin(kpis))]
        expected[goal.mal_id] = {"targets": counts(mine.delmal_id, with_data),
                                 "key_figures": counts(kpis, valued),
                                 "with_target": counts(kpis, targeted),
                                 "assessed": counts(kpis, assessed),
                                 "activities": counts(acts, reported)}
    rolled = {("sdg-" if r.objekttyp == "sdg_mal" else "") + str(r.objekt_id): r
              for r in read(release, "framsteg_per_mal").itertuples() if r.objekttyp != "delmal"}
    for row_id, row in expected.items():  # the page adds up to framsteg_per_mal too
        found = rolled.get(row_id)
        assert (row["key_figures"][1], row["with_target"][0], row["assessed"][0]) == (
            (found.antal_nyckeltal, found.antal_med_malvarde,
             found.antal_nyckeltal - found.antal_for_lite_data - found.antal_ej_bedombar)
            if found else (0, 0, 0)), row_id
    for page in ("rapporteringsstatus.html", "en/rapporteringsstatus.html"):
        html = (release.path / page).read_text(encoding="utf-8")
        shown = {row_id: {kind: (int(have), int(total)) for kind, have, total in re.findall(
            r'data-kind="(\w+)" data-have="(\d+)" data-total="(\d+)"', cells)}
            for row_id, cells in re.findall(r'<tr data-id="([^"]+)">(.*?)</tr>', html, re.S)}
        assert shown == expected, page
        assert len([k for k in shown if k.startswith("sdg-")]) == 17
    goals = [v for k, v in expected.items() if not k.startswith("sdg-")]
    assert sum(g["activities"][1] for g in goals) == activities.aktivitet_id.nunique()
    assert sum(g["key_figures"][1] for g in goals) == len(definitions)
    assert sum(g["with_target"][0] for g in goals) == (definitions.malvarde != "").sum() > 0
    missing = {k for k in definitions.nyckeltal_id if k not in valued}
    html = (release.path / "rapporteringsstatus.html").read_text(encoding="utf-8")
    assert all(f"<code>{k}</code>" in html for k in missing)
    assert f"för {year}" in html


def chart_links(html: str) -> list[str]:
    return re.findall(r'href="((?:\.\./)*(?:en/)?diagram/[^"]+)"', html)


def test_every_chart_offers_its_data_and_its_image(release):
    from xml.etree import ElementTree

    from strictness import check_file, rfc4180

    for page in ("index.html", "en/index.html", "mal/O1.html", "en/mal/H1.html"):
        html = (release.path / page).read_text(encoding="utf-8")
        linked = chart_links(html)
        assert len(linked) == 2 * html.count('<svg class="chart"'), page  # a CSV and an SVG each
        for href in linked:
            assert ((release.path / page).parent / href).resolve().is_file(), (page, href)
    for path in sorted((release.path / "diagram").iterdir()) + sorted(
            (release.path / "en" / "diagram").iterdir()):
        check_file(path)
        if path.suffix == ".svg":
            root = ElementTree.fromstring(path.read_bytes())
            assert root.tag == "{http://www.w3.org/2000/svg}svg", path
            assert root.get("viewBox") and root.find("{http://www.w3.org/2000/svg}title").text
        else:
            assert path.read_bytes().endswith(b"\r\n") and b"\n" not in path.read_bytes(
                ).replace(b"\r\n", b"")
    english = (release.path / "en" / "diagram" / "budget.svg").read_text(encoding="utf-8")
    assert "Deviation from budget" in english and "Avvikelse" in (
        release.path / "diagram" / "budget.svg").read_text(encoding="utf-8")
    assert not (release.path / "en" / "diagram" / "kpi-ANB-0001.svg").exists()  # no words
    status = read(release, "aktivitetsstatus_per_mal")
    row = status[(status.mal_id == "O1") & (status.rapportar == 2020)].iloc[0]
    assert rfc4180((release.path / "diagram" / "status-O1-2020.csv").read_bytes().decode()) == [
        ["status", "antal"], ["planerad", str(row.antal_planerad)],
        ["pågående", str(row.antal_pagaende)], ["genomförd", str(row.antal_genomford)],
        ["avbruten", str(row.antal_avbruten)]]


def pdf_text(data: bytes) -> str:
    """The text the PDF's (deflated) content streams show."""
    import zlib

    shown = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            shown.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            continue
    return "\n".join(shown)


@pytest.mark.parametrize("period", ["2019-2020", "2019-2022"])
def test_the_follow_up_report_is_a_pdf_in_english_too(release, period):
    swedish = pdf_text((release.path / "rapport" / f"uppfoljning-{period}.pdf").read_bytes())
    english_pdf = (release.path / "en" / "rapport" / f"uppfoljning-{period}.pdf").read_bytes()
    english = pdf_text(english_pdf)
    start, end = period.split("-")
    assert f"Uppföljning av målprogrammet {start}-{end}" in swedish
    assert f"Follow-up of the programme {start}-{end}" in english and "Uppföljning" not in english
    assert "Swedish, verbatim" in english  # the perspectives are marked as quoted
    assert "Vehicles" in english and "Fordonsflottan" not in english and "Fordonsflottan" in swedish
    assert "Den hållbara kommunen" in english  # the programme's words stay as written
    assert b"/Lang (en)" in english_pdf
    html = (release.path / "en" / "rapport" / f"uppfoljning-{period}.html").read_text("utf-8")
    assert f'href="../../en/rapport/uppfoljning-{period}.pdf"' in html


def test_the_start_page_and_dataset_list_link_the_whole_release_and_the_status_page(release):
    for page, text in (("index.html", "Ladda ner allt (zip)"),
                       ("datasets/index.html", "Ladda ner allt (zip)"),
                       ("en/index.html", "Download everything (zip)"),
                       ("en/datasets/index.html", "Download everything (zip)")):
        html = (release.path / page).read_text(encoding="utf-8")
        prefix = "../" * page.count("/")
        assert f'<a href="{prefix}hela-releasen.zip" type="application/zip">{text}</a>' in html
        assert "rapporteringsstatus.html" in html  # in the navigation


def number(text) -> float | None:
    return None if text == "" else float(text)


def test_each_key_figure_chart_is_the_municipality_its_groups_the_country_and_the_target(release):
    """The chart's CSV has the municipality (nyckeltal), each group's mean and the country
    (nyckeltal_jamforelse, gender T) and the target (nyckeltal_definitioner); the target line
    is drawn where there is a target and not otherwise."""
    from strictness import rfc4180

    values = read(release, "nyckeltal")
    values = values[(values.kommun_id == 604) & (values.kon == "T") & (values.varde != "")]
    compared = read(release, "nyckeltal_jamforelse")
    compared = compared[compared.kon == "T"]
    definitions = read(release, "nyckeltal_definitioner")
    assert set(compared.nyckeltal_id) == {k for k in definitions.nyckeltal_id
                                          if not k.startswith("ANB-")}
    for kpi in definitions.itertuples():
        header, *rows = rfc4180((release.path / "diagram" / f"kpi-{kpi.nyckeltal_id}.csv")
                                .read_bytes().decode("utf-8"))
        mine = compared[compared.nyckeltal_id == kpi.nyckeltal_id]
        assert header == ["ar", "varde", *(f"grupp_{g}" for g in sorted(set(mine.grupp_id))),
                          *(["riket"] if len(mine) else []),
                          *(["mal"] if kpi.malvarde != "" else [])], kpi.nyckeltal_id
        table = {int(row[0]): dict(zip(header[1:], row[1:], strict=True)) for row in rows}
        own = values[values.nyckeltal_id == kpi.nyckeltal_id]
        assert {year: number(c["varde"]) for year, c in table.items() if c["varde"] != ""} == {
            int(r.ar): float(r.varde) for r in own.itertuples()}
        for r in mine.itertuples():
            assert number(table[int(r.ar)][f"grupp_{r.grupp_id}"]) == number(r.grupp_medel)
            assert number(table[int(r.ar)]["riket"]) == number(r.riket_varde)
        if kpi.malvarde != "":
            assert {number(c["mal"]) for c in table.values()} == {float(kpi.malvarde)}
        for folder, label in (("diagram", "Målvärde"), ("en/diagram", "Target")):
            path = release.path / folder / f"kpi-{kpi.nyckeltal_id}.svg"
            svg = path.read_text(encoding="utf-8") if path.exists() else ""
            drawn = re.search(rf'<line [^>]*stroke-dasharray="4 4"><title>{label} {kpi.malar}:', svg)
            assert bool(drawn) == (kpi.malvarde != ""), (path, kpi.malvarde)
            if len(mine) and path.exists():
                assert all(name in svg for name in set(mine.grupp_namn))


def section_of(html: str, ident: str) -> tuple[str, str]:
    found = re.search(rf'<section class="figure" id="nyckeltal-{re.escape(ident)}" '
                      r'data-status="(\w*)">(.*?)</section>', html, re.S)
    assert found, ident
    return found.group(1), found.group(2)


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_key_figure_shows_its_progress_and_its_comparison(release, lang):
    from markupsafe import escape

    from flows.core.messages import t
    from flows.outputs.charts import number_text

    progress = read(release, "nyckeltal_framsteg").set_index("nyckeltal_id")
    compared = read(release, "nyckeltal_jamforelse")
    sizes = read(release, "kolada_jamforelsegrupper").groupby("grupp_id").size()
    prefix = "" if lang == "sv" else "en/"
    for kpi in read(release, "nyckeltal_definitioner").itertuples():
        html = (release.path / f"{prefix}mal/{kpi.mal_id}.html").read_text(encoding="utf-8")
        status, body = section_of(html, kpi.nyckeltal_id)
        row = progress.loc[kpi.nyckeltal_id]
        assert status == row.status
        assert (f"<strong>{escape(t('progress.' + row.status, lang))}</strong> · "
                f"{escape(t('progress.' + row.metod, lang))}") in body
        assert f"{row.senaste_ar}: {number_text(float(row.senaste_varde))}" in body
        if row.metod == "mal":
            assert f"{row.malar}: {number_text(float(row.malvarde))}" in body
        mine = compared[compared.nyckeltal_id == kpi.nyckeltal_id]
        if not len(mine):
            assert str(escape(t("portal.no-comparison-own", lang))) in body
            assert 'class="comparison"' not in body
            continue
        year = mine.ar.max()
        assert f'<table class="comparison" data-year="{year}">' in body
        for kon, latest in mine[mine.ar == year].groupby("kon"):
            cells = re.search(rf'<tr data-kon="{kon}">(.*?)</tr>', body, re.S).group(1)
            first = latest.iloc[0]
            assert t("portal.rank-of", lang, rank=first.rang, total=first.antal_kommuner) in cells
            assert t(f"portal.quartile-{first.farg}", lang) in cells
            for group in latest.itertuples():
                members = t("portal.members-with-value", lang, have=group.grupp_antal,
                            size=sizes[group.grupp_id])
                assert (f'{number_text(float(group.grupp_medel))} <span class="legend">'
                        f"({members})") in cells


def test_the_statuses_roll_up_on_the_goal_and_agenda_pages(release):
    rolled = read(release, "framsteg_per_mal")
    for prefix in ("", "en/"):
        agenda = (release.path / f"{prefix}agenda2030.html").read_text(encoding="utf-8")
        for r in rolled.itertuples():
            shown = (f'<p class="rollup" data-status="{r.samlad_status}" data-total='
                     f'"{r.antal_nyckeltal}" data-with-target="{r.antal_med_malvarde}">')
            if r.objekttyp == "programmal":
                assert shown in (release.path / f"{prefix}mal/{r.objekt_id}.html").read_text("utf-8")
            elif r.objekttyp == "sdg_mal":
                section = re.search(rf'<section id="mal-{r.objekt_id}">(.*?)</section>', agenda, re.S)
                assert shown in section.group(1)
            else:
                assert re.search(rf'<strong>{re.escape(str(r.objekt_id))}</strong>[^<]*<span class='
                                 rf'"target-status" data-status="{r.samlad_status}">', agenda)
        assert agenda.count('class="rollup"') == (rolled.objekttyp == "sdg_mal").sum()
        assert agenda.count('class="target-status"') == (rolled.objekttyp == "delmal").sum()
        method = (release.path / f"{prefix}framsteg.html").read_text(encoding="utf-8")
        assert "open-sdg.readthedocs.io" in method and 'href="' in agenda and "framsteg.html" in agenda


def test_the_portal_is_byte_reproducible(tables, register, release, tmp_path):
    """Same tables, same version: the same bytes in every file the portal writes."""
    from flows.outputs.portal import build_portal

    resources = json.loads((release.path / "datapackage.json").read_text("utf-8"))["resources"]
    built = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        build_portal(folder, tables, register, resources, {}, "v1", "2026-01-01T00:00:00Z")
        built.append({p.relative_to(folder).as_posix(): p.read_bytes()
                      for p in sorted(folder.rglob("*")) if p.is_file()})
    assert sorted(built[0]) == sorted(built[1]) and len(built[0]) > 100
    assert [name for name in built[0] if built[0][name] != built[1][name]] == []
