"""A client for Kolada's open API (v2 data endpoint): key-figure values per municipality and
year, following `next_page` links, with timeouts and retries with back-off on transient errors
(network, 429, 5xx; Retry-After honoured). The result is Kolada's own response shape, which the
flow reads as a `nyckeltal` delivery (`raw/<år>/<förvaltning>/nyckeltal.json`)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

API = "https://api.kolada.se/v2"


class KoladaError(Exception):
    """A permanent error from the API (bad request, not found): retrying will not help."""


def get_json(url: str, *, timeout: float = 30, attempts: int = 5, backoff: float = 1.0,
             sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            if error.code not in (429, 500, 502, 503, 504) or attempt == attempts:
                raise KoladaError(f"Kolada svarade {error.code} för {url} / Kolada answered "
                                  f"{error.code}") from error
            wait = float(error.headers.get("Retry-After") or backoff * 2 ** (attempt - 1))
        except (urllib.error.URLError, TimeoutError, ConnectionError):
            if attempt == attempts:
                raise
            wait = backoff * 2 ** (attempt - 1)
        sleep(min(wait, 60))
    raise AssertionError("unreachable")


def fetch_values(kpis: list[str], municipalities: list[str], years: list[int], *,
                 api: str = API, **options: Any) -> dict[str, Any]:
    """All values for the key figures, municipalities and years, every page followed."""
    url = (f"{api.rstrip('/')}/data/kpi/{','.join(kpis)}/municipality/"
           f"{','.join(municipalities)}/year/{','.join(str(y) for y in years)}")
    values: list[dict[str, Any]] = []
    pages = 0
    while url:
        page = get_json(url, **options)
        values.extend(page.get("values", []))
        pages += 1
        url = page.get("next_page")
        if pages > 10_000:
            raise KoladaError("för många sidor / too many pages")
    return {"count": len(values), "values": values}
