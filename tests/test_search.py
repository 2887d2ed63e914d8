"""Static search (#15): Pagefind indexes the portal of every release in both languages, the
index is in SHA256SUMS and `verify` checks it, the same pages give the same bytes, and a
Pagefind that fails or hangs leaves a release without search, never no release. (The search
working in the browser is in test_accessibility.py.)"""

from __future__ import annotations

import json
import shutil
import time

import pytest

from flows.outputs import search
from flows.outputs.release import write_release
from flows.outputs.verify import read_sums, verify_release
from flows.tables.datasets import build_tables

pytestmark = pytest.mark.skipif(search.pagefind_binary() is None, reason="pagefind-bin is absent")


@pytest.fixture(scope="module")
def release(tmp_path_factory, register):
    return write_release(build_tables([], register), register, tmp_path_factory.mktemp("search"))


def test_the_portal_is_indexed_in_both_languages_and_checksummed(release):
    entry = json.loads((release.path / "pagefind" / "pagefind-entry.json").read_text("utf-8"))
    assert set(entry["languages"]) == {"sv", "en"}
    assert all(language["page_count"] > 5 for language in entry["languages"].values())
    sums = read_sums(release.path)
    index = [p.relative_to(release.path).as_posix()
             for p in (release.path / "pagefind").rglob("*") if p.is_file()]
    assert index and set(index) <= set(sums)
    assert {"sok.html", "en/sok.html", "assets/search.js"} <= set(sums)
    assert verify_release(release.path) == []
    for page in ("sok.html", "en/sok.html"):
        html = (release.path / page).read_text("utf-8")
        assert "pagefind/pagefind-ui.js" in html and "assets/search.js" in html
    assert release.notes == []


def test_the_search_pages_are_not_in_the_index(release):
    fragments = (release.path / "pagefind" / "fragment").iterdir()
    assert not [f for f in fragments if b"sok.html" in _inflate(f.read_bytes())]


def test_the_same_pages_give_a_byte_identical_index(release, tmp_path):
    started = time.monotonic()
    copies = []
    for name in ("a", "b", "c", "d"):  # Pagefind alone varies its entry file run by run
        site = tmp_path / name
        shutil.copytree(release.path, site, ignore=shutil.ignore_patterns("pagefind", "sok.html"))
        assert search.index_portal(site) is None
        copies.append({p.relative_to(site).as_posix(): p.read_bytes()
                       for p in (site / "pagefind").rglob("*") if p.is_file()})
    assert all(copy == copies[0] for copy in copies) and len(copies[0]) > 10
    assert time.monotonic() - started < 30


FAKES = {"fails": "#!/bin/sh\necho 'Error: no pages' >&2\nmkdir -p \"$2/pagefind\"\nexit 3\n",
         "hangs": "#!/bin/sh\nexec sleep 60\n"}


def fake_pagefind(tmp_path, monkeypatch, how: str) -> None:
    fake = tmp_path / "pagefind"
    fake.write_text(FAKES.get(how, ""), encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setattr(search, "pagefind_binary", lambda: None if how == "absent" else fake)
    monkeypatch.setattr(search, "TIMEOUT", 2)


def test_a_failing_pagefind_publishes_the_release_without_search(tmp_path, register, monkeypatch):
    fake_pagefind(tmp_path, monkeypatch, "fails")
    made = write_release(build_tables([], register), register, tmp_path / "out")
    assert (tmp_path / "out" / "latest").resolve() == made.path
    assert not (made.path / "pagefind").exists()  # nothing half-written
    [note] = made.notes
    assert note.startswith("sökindexet kunde inte byggas") and "without search" in note
    assert "exit 3: Error: no pages" in note
    html = (made.path / "sok.html").read_text("utf-8")
    assert "Sökningen finns inte i den här releasen" in html and "<script" not in html
    assert verify_release(made.path) == []


@pytest.mark.parametrize("how", ["hangs", "absent"])
def test_a_hanging_or_absent_pagefind_is_said(release, tmp_path, register, monkeypatch, how):
    site = tmp_path / "site"
    shutil.copytree(release.path, site, ignore=shutil.ignore_patterns("pagefind"))
    fake_pagefind(tmp_path, monkeypatch, how)
    started = time.monotonic()
    note = search.add_search(site, register, "v", "2026-01-01T00:00:00Z", [(2019, 2022)])
    assert time.monotonic() - started < 15
    assert {"hangs": "TimeoutExpired", "absent": "pagefind-bin is not installed"}[how] in note
    assert not (site / "pagefind").exists()
    assert "Search is not available" in (site / "en" / "sok.html").read_text("utf-8")


def _inflate(data: bytes) -> bytes:
    import gzip

    return gzip.decompress(data)
