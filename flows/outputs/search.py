"""Static search over the portal, with no server (#15): Pagefind indexes every page of both
languages (one index per `<html lang>`) into `pagefind/` inside the release, then `sok.html`
and `en/sok.html` are written with Pagefind's search box. The browser fetches the index as
files, so any static host serves it.

It runs after the portal and before the checksums, so SHA256SUMS lists the index and
`opendata verify` checks it. The index is byte-identical for the same pages (once Pagefind's
entry file is sorted). A Pagefind that is missing, fails or hangs does not stop publishing:
the run says so and the search pages say search is not available in this release."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from flows.core.messages import say, t
from flows.core.register import Register
from flows.outputs.portal import Site, environment

INDEX = "pagefind"  # the index's folder in the release
PAGE = "sok.html"
TIMEOUT = 120  # seconds; the sample's portal takes about one
# what the index leaves out: the illustrative-data notice on every page and the checksums
IGNORED = ".notice, .hash"


def pagefind_binary() -> Path | None:
    """The Pagefind binary that the pagefind-bin wheel ships, if it is installed."""
    try:
        from pagefind_bin import get_executable
        return get_executable()
    except (ImportError, FileNotFoundError):
        return None


def index_portal(folder: Path, binary: Path | None = None) -> str | None:
    """Index the portal's pages in `folder` into `folder/pagefind/`; None when it worked,
    otherwise why not (and no half-written index is left)."""
    binary = binary or pagefind_binary()
    if binary is None:
        return "pagefind-bin is not installed"
    try:
        done = subprocess.run(
            [str(binary), "--site", str(folder), "--output-subdir", INDEX, "--root-selector",
             "main", "--exclude-selectors", IGNORED, "--keep-index-url", "--silent"],
            capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        why = f"{type(error).__name__}: {error}"
    else:
        entry = folder / INDEX / "pagefind-entry.json"
        if done.returncode == 0 and entry.is_file():
            sort_entry(entry)
            return None
        why = f"exit {done.returncode}: {(done.stderr or done.stdout).strip()[-300:]}"
    shutil.rmtree(folder / INDEX, ignore_errors=True)
    return why


def sort_entry(entry: Path) -> None:
    """Pagefind lists the languages in its entry file in a different order run by run (the
    rest of the index is the same bytes for the same pages): sorted, the whole index is."""
    found = json.loads(entry.read_text(encoding="utf-8"))
    entry.write_text(json.dumps(found, sort_keys=True, ensure_ascii=False, separators=(",", ":")),
                     encoding="utf-8")


def write_search_pages(folder: Path, common: dict[str, Any], indexed: bool) -> list[str]:
    """`sok.html` and `en/sok.html`, with the portal's header and footer: Pagefind's search
    box when the index is there, a plain sentence when it is not."""
    site = Site(folder, environment(), common)
    for lang in ("sv", "en"):
        words = {name.replace("-", "_"): t(f"search.{name}", lang)
                 for name in ("title", "intro", "no-script", "unavailable")}
        site.page("search.html", PAGE, lang, s=words, indexed=indexed)
    script = site.env.loader.get_source(site.env, "search.js")[0]
    (folder / "assets" / "search.js").write_text(script, encoding="utf-8")
    return site.written


def add_search(folder: Path, register: Register, version: str, created: str,
               periods: list[tuple[int, int]], binary: Path | None = None) -> str | None:
    """The index, then the search pages (written after it, so they are not in it); returns
    what to tell the run when the release goes out without search."""
    why = index_portal(folder, binary)
    # what every portal page gets besides its own (as in portal.build_portal)
    context = {"version": version, "created": created, "register": register,
               "reports": [f"{a}-{b}" for a, b in periods], "license": register.package.license}
    write_search_pages(folder, context, indexed=why is None)
    return None if why is None else str(say("search.failed", why=why))
