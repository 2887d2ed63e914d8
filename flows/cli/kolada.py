"""`opendata kolada`: key figures from Kolada's API, as a nyckeltal delivery."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from flows.cli.common import command, console, fail, helped
from flows.core.messages import say


@command("kolada", "opendata kolada --kpi N00090 --years 2019-2022 --out k.json")
def kolada(
    kpi: Annotated[list[str], typer.Option(help=helped("cli.kolada.kpi"))],
    out: Annotated[Path, typer.Option(help=helped("cli.kolada.out"))],
    municipality: Annotated[list[str] | None, typer.Option(
        help=helped("cli.kolada.municipality"))] = None,
    years: Annotated[str, typer.Option(help=helped("cli.kolada.years"))] = "2019-2022",
    api: Annotated[str, typer.Option(help=helped("cli.kolada.api"))] =
        "https://api.kolada.se/v3",
) -> None:
    """Writes Kolada's response shape, which the flow reads as a nyckeltal delivery, e.g. to
    raw/2021/kommunledning/nyckeltal.json. Pages are followed; transient errors retried."""
    from flows.intake.kolada import KoladaError, fetch_values

    start, _, end = years.partition("-")
    try:
        result = fetch_values(kpi, municipality or ["0604"],
                              list(range(int(start), int(end or start) + 1)), api=api)
    except (KoladaError, OSError) as error:
        raise fail(error, 1) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    console.print(f"{result['count']} {say('cli.kolada.values')} -> {out}", highlight=False)
