"""`opendata browse`: the latest release in Datasette."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from flows.cli.common import OutOption, command, console, errors, helped, load_settings
from flows.core.messages import say


@command("browse", "opendata browse --port 8001")
def browse(
    out: OutOption = None,
    host: Annotated[str, typer.Option(help=helped("cli.browse.host"))] = "127.0.0.1",
    port: Annotated[int, typer.Option(help=helped("cli.browse.port"))] = 8001,
) -> None:
    """JSON API, SQL queries and CSV export over published/latest/opendata.db, with the datasets'
    titles, descriptions and licence."""
    settings = load_settings(out_dir=out)
    latest = settings.out_dir / "latest"
    database = latest / "opendata.db"
    if not database.is_file():
        errors.print(f"[red]{say('cli.browse.no-release', latest=latest)}[/red] "
                     f"{say('cli.browse.run')}: opendata run")
        raise typer.Exit(1)
    console.print(f"Datasette: http://{host}:{port}/opendata", highlight=False)
    sys.stdout.flush()
    sys.stderr.flush()
    # This process becomes Datasette: signals reach it directly (SIGTERM and Ctrl-C shut it
    # down gracefully), a supervisor's pid is the server's, and there is no child to orphan.
    # immutable: the release never changes, so Datasette may count and cache freely
    os.execv(sys.executable, [
        sys.executable, "-m", "datasette", "serve", "--immutable", str(database),
        "--metadata", str(latest / "datasette.json"), "--host", host, "--port", str(port)])
