"""Accessibility measured (#15): axe-core (the copy inside the selenium-axe-python wheel, no CDN)
runs in the real Chromium on every page of the sample release, both languages, and finds no
violation of serious or critical impact. The full axe report of each page goes to
build/axe/<page>.json with a summary in build/axe/summary.md, and a screenshot of each page to
build/screenshots/pages/. A page broken on purpose shows the check can fail."""

from __future__ import annotations

import json
import shutil
import time

import pytest

from conftest import BUILD, RAW, publish_raw, serve_folder

pytestmark = pytest.mark.browser

AXE = BUILD / "axe"
SHOTS = BUILD / "screenshots" / "pages"
BLOCKING = ("serious", "critical")


@pytest.fixture(scope="module")
def release(tmp_path_factory, register):
    return publish_raw(RAW, tmp_path_factory.mktemp("accessibility") / "out", register)


@pytest.fixture(scope="module")
def server(release):
    yield from serve_folder(release.path)


def axe_results(browser) -> dict:
    """axe-core's full results for the page the browser shows."""
    from selenium_axe_python import Axe

    axe = Axe(browser)
    axe.inject()
    return axe.run()


def blocking(results: dict) -> list[tuple[str, str, int]]:
    """(rule, impact, nodes) of each violation of serious or critical impact."""
    return [(v["id"], v["impact"], len(v["nodes"])) for v in results["violations"]
            if v["impact"] in BLOCKING]


def file_name(page: str) -> str:
    return page.removesuffix(".html").replace("/", "__")


def test_every_page_has_no_serious_or_critical_violation(release, server, browser):
    pages = sorted(p.relative_to(release.path).as_posix() for p in release.path.glob("**/*.html"))
    assert {"index.html", "en/index.html", "sok.html", "en/sok.html"} <= set(pages)
    shutil.rmtree(AXE, ignore_errors=True)
    shutil.rmtree(SHOTS, ignore_errors=True)
    AXE.mkdir(parents=True)
    SHOTS.mkdir(parents=True)
    started = time.monotonic()
    found, rows = {}, []
    for page in pages:
        browser.get(server + page)
        results = axe_results(browser)
        (AXE / f"{file_name(page)}.json").write_text(json.dumps(results, indent=1),
                                                     encoding="utf-8")
        assert browser.save_screenshot(str(SHOTS / f"{file_name(page)}.png"))
        assert results["passes"], page  # axe ran its rules here
        if blocking(results):
            found[page] = blocking(results)
        impacts = [v["impact"] for v in results["violations"]]
        rows.append(f"| {page} | {len(results['passes'])} | "
                    + " | ".join(str(impacts.count(i)) for i in ("critical", "serious",
                                                                 "moderate", "minor")) + " |")
    summary = [f"# axe-core {results['testEngine']['version']} on {len(pages)} pages",
               f"({time.monotonic() - started:.1f} s in Chromium)", "",
               "| page | rules passed | critical | serious | moderate | minor |",
               "| --- | --- | --- | --- | --- | --- |", *rows, ""]
    (AXE / "summary.md").write_text("\n".join(summary), encoding="utf-8")
    assert found == {}, found
    browser.get_log("browser")  # nothing of these pages is left for the next test to read


def test_the_search_finds_pages_of_its_language_with_no_serious_or_critical_violation(
        release, server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    for page, query in (("sok.html", "budget"), ("en/sok.html", "budget")):
        browser.get(f"{server}{page}?q={query}")
        WebDriverWait(browser, 20).until(
            lambda b: b.find_elements(By.CSS_SELECTOR, ".pagefind-ui__result"))
        found = [a.get_attribute("href") for a in browser.find_elements(
            By.CSS_SELECTOR, ".pagefind-ui__result-link")]
        assert server + ("en/" if page.startswith("en/") else "") + \
            "datasets/budgetavvikelse.html" in found, found
        for href in found:  # every hit is a page of the release, in the page's language
            assert href.startswith(server) and (release.path / href[len(server):]).is_file()
            assert href[len(server):].startswith("en/") == page.startswith("en/"), href
        results = axe_results(browser)
        (AXE / f"{file_name(page)}-results.json").write_text(json.dumps(results, indent=1),
                                                             encoding="utf-8")
        assert blocking(results) == [], (page, blocking(results))
    for url in serve_folder(release.path.parent):  # served below a folder: hits stay inside it
        browser.get(f"{url}{release.version}/en/sok.html?q=budget")
        WebDriverWait(browser, 20).until(
            lambda b: b.find_elements(By.CSS_SELECTOR, ".pagefind-ui__result-link"))
        assert all(a.get_attribute("href").startswith(f"{url}{release.version}/en/")
                   for a in browser.find_elements(By.CSS_SELECTOR, ".pagefind-ui__result-link"))


BROKEN = """<!doctype html>
<html><head><meta charset="utf-8"><title>Trasig / broken</title></head>
<body><main>
<h1>Trasig sida</h1>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<p style="color:#d8d8d8;background:#ffffff">Text som knappt syns.</p>
<input type="text">
</main></body></html>
"""


def test_a_page_broken_on_purpose_is_caught(tmp_path, browser):
    (tmp_path / "broken.html").write_text(BROKEN, encoding="utf-8")
    for url in serve_folder(tmp_path):
        browser.get(url + "broken.html")
        found = {rule: impact for rule, impact, _ in blocking(axe_results(browser))}
    assert found == {"image-alt": "critical", "color-contrast": "serious",
                     "html-has-lang": "serious", "label": "critical"}
