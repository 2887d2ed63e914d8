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

from conftest import RAW, publish_raw, serve_folder

SCREENSHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots"


@pytest.fixture(scope="module")
def release(tmp_path_factory, register):
    tmp = tmp_path_factory.mktemp("portal")
    raw = tmp / "raw"
    shutil.copytree(RAW, raw)
    target = raw / "2021" / "social" / "aktiviteter.csv"
    text = target.read_text(encoding="utf-8")
    # a title that tries to run a script must show as text
    target.write_text(text.replace("Uppstart av Hälsocenter",
                                   "Uppstart av Hälsocenter <script>alert(1)</script>", 1),
                      encoding="utf-8")
    return publish_raw(raw, tmp / "out", register)


@pytest.fixture(scope="module")
def server(release):
    yield from serve_folder(release.path)


def pages(release) -> list[str]:
    return sorted(p.relative_to(release.path).as_posix()
                  for p in release.path.rglob("*.html"))


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
