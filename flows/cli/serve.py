"""`opendata serve`: the publish deployment on a schedule (flows.serving starts, keeps and
stops the Prefect server; this only says what happens)."""

from __future__ import annotations

from typing import Annotated

import typer

from flows.cli.common import (
    NotifyOnOption,
    NotifyOption,
    OutOption,
    RawOption,
    command,
    console,
    fail,
    helped,
    load_settings,
)
from flows.core.messages import say


@command("serve", 'opendata serve --cron "0 2 * * *"')
def serve(
    raw: RawOption = None,
    out: OutOption = None,
    cron: Annotated[str, typer.Option(help=helped("cli.serve.cron"))] = "0 2 * * *",
    timezone: Annotated[str, typer.Option(help=helped("cli.serve.timezone"))] =
        "Europe/Stockholm",
    host: Annotated[str, typer.Option(help=helped("cli.serve.host"))] = "127.0.0.1",
    port: Annotated[int, typer.Option(help=helped("cli.serve.port"))] = 4200,
    name: Annotated[str, typer.Option(help=helped("cli.serve.name"))] = "nattlig-publicering",
    notify: NotifyOption = None,
    notify_on: NotifyOnOption = None,
) -> None:
    """Starts a local Prefect server (SQLite under PREFECT_HOME; PostgreSQL when
    PREFECT_API_DATABASE_CONNECTION_URL is set) unless PREFECT_API_URL points at one, and
    serves the publish deployment on the cron schedule (default nightly at 02:00,
    Europe/Stockholm). A server that dies is started again (up to 3 times an hour; then exit
    1, for systemd to restart serve). Stop with Ctrl-C or SIGTERM (or SIGHUP): runs in
    progress are stopped, then the Prefect server; exit 0."""
    from flows.serving import ServerDidNotStart, serve_publishing

    settings = load_settings(raw_dir=raw, out_dir=out, notify_url=notify, notify_on=notify_on)

    def tell(line: str) -> None:
        console.print(line, highlight=False, soft_wrap=True)

    try:
        gave_up = serve_publishing(
            settings, name=name, cron=cron, timezone=timezone, host=host, port=port,
            notify=notify, say=tell,
            starting=lambda api: tell(f"{say('cli.serve.starting')}: {api}"))
    except ServerDidNotStart:
        raise fail(say("cli.serve.did-not-start"), 1) from None
    if gave_up is not None:
        raise fail(say("cli.serve.gave-up", code=gave_up), 1)
    console.print(str(say("cli.serve.stopped")), highlight=False)
