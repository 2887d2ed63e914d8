"""A client for Kolada's open API (v3): key-figure values per municipality and year, the
municipalities and the municipality groups. Pages are followed (`next_url`, or v2's
`next_page`); requests time out; transient errors (network, 429, 5xx) are retried with growing
waits (Retry-After honoured). With a `ResponseCache`, every answer is kept by its content, and
an API that stays unreachable after the retries is answered from the last answer kept.

The shape is the API's own: `{"count", "values": [{"kpi", "municipality", "period", "values":
[{"gender", "count", "status", "value"}]}], "next_url"}`, which the flow reads as a delivery."""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from flows.core.messages import say

API = "https://api.kolada.se/v3"
PER_PAGE = 5000  # the API's largest page
CHUNK = 25  # ids per request: longer lists are split (as rKolada does)
MAX_PAGES = 10_000
TRANSIENT = (429, 500, 502, 503, 504)


class KoladaError(Exception):
    """A permanent error from the API (bad request, not found): retrying will not help."""


class ResponseCache:
    """Every answer kept by its content (`<sha256>.json`), and which answer each URL gave last
    (`index.json`): the same answers write nothing new."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.index_path = self.folder / "index.json"
        self.stale: list[str] = []  # URLs answered from the cache because the API was down

    def _index(self) -> dict[str, str]:
        try:
            return json.loads(self.index_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def keep(self, url: str, body: bytes) -> None:
        digest = hashlib.sha256(body).hexdigest()
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{digest}.json"
        if not path.is_file():
            path.write_bytes(body)
        index = self._index()
        if index.get(url) != digest:
            index[url] = digest
            self.index_path.write_text(json.dumps(index, indent=1, sort_keys=True) + "\n",
                                       encoding="utf-8")

    def recall(self, url: str) -> bytes | None:
        digest = self._index().get(url)
        try:
            return (self.folder / f"{digest}.json").read_bytes() if digest else None
        except OSError:
            return None


def get_json(url: str, *, timeout: float = 30, attempts: int = 5, backoff: float = 1.0,
             sleep: Callable[[float], None] = time.sleep,
             cache: ResponseCache | None = None) -> dict[str, Any]:
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                body = response.read()
            if cache is not None:
                cache.keep(url, body)
            return json.loads(body.decode("utf-8"))
        except urllib.error.HTTPError as error:
            if error.code not in TRANSIENT:
                raise KoladaError(str(say("kolada.refused", code=error.code, url=url))) from error
            if attempt == attempts:
                return _from_cache(url, cache, error)
            wait = float(error.headers.get("Retry-After") or backoff * 2 ** (attempt - 1))
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            if attempt == attempts:
                return _from_cache(url, cache, error)
            wait = backoff * 2 ** (attempt - 1)
        sleep(min(wait, 60))
    raise AssertionError("unreachable")


def _from_cache(url: str, cache: ResponseCache | None, error: Exception) -> dict[str, Any]:
    kept = cache.recall(url) if cache is not None else None
    if kept is None:
        raise KoladaError(str(say("kolada.unreachable", url=url, error=error))) from error
    cache.stale.append(url)
    return json.loads(kept.decode("utf-8"))


def with_page_size(url: str, per_page: int) -> str:
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query.setdefault("per_page", str(per_page))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def fetch_all(url: str, *, per_page: int = PER_PAGE, **options: Any) -> list[dict[str, Any]]:
    """Every item of every page, following `next_url` (v3) or `next_page` (v2)."""
    items: list[dict[str, Any]] = []
    next_url: str | None = with_page_size(url, per_page)
    for _ in range(MAX_PAGES):
        page = get_json(next_url, **options)
        items.extend(page.get("values", []))
        next_url = page.get("next_url") or page.get("next_page")
        if not next_url:
            return items
    raise KoladaError(str(say("kolada.too-many-pages", url=url)))


def chunks(ids: Iterable[str], size: int = CHUNK) -> list[list[str]]:
    listed = list(ids)
    return [listed[i:i + size] for i in range(0, len(listed), size)]


def fetch_values(kpis: list[str], municipalities: list[str], years: list[int], *,
                 api: str = API, **options: Any) -> dict[str, Any]:
    """All values for the key figures, municipalities and years, every page followed, in
    requests of at most CHUNK key figures and CHUNK municipalities."""
    values: list[dict[str, Any]] = []
    for kpi_part in chunks(kpis):
        for municipality_part in chunks(municipalities):
            values += fetch_all(
                f"{api.rstrip('/')}/data/kpi/{','.join(kpi_part)}/municipality/"
                f"{','.join(municipality_part)}/year/{','.join(str(y) for y in years)}",
                **options)
    return {"count": len(values), "values": values}


def fetch_municipalities(*, api: str = API, **options: Any) -> list[dict[str, Any]]:
    """Every area Kolada knows: `{"id", "title", "type"}`, type K a municipality, L a region."""
    return fetch_all(f"{api.rstrip('/')}/municipality", **options)


def fetch_groups_containing(municipality: str, *, api: str = API,
                            **options: Any) -> list[dict[str, Any]]:
    """The municipality groups that have `municipality` as a member: `{"id", "title",
    "members": [{"id", "title"}]}`."""
    groups = fetch_all(f"{api.rstrip('/')}/municipality_groups", **options)
    return [g for g in groups
            if any(str(m.get("id")) == municipality for m in g.get("members") or [])]
