"""`opendata settings`: the effective configuration and where each value came from."""

from __future__ import annotations

from flows.cli.common import (
    JsonOption,
    OutOption,
    RawOption,
    ReportsOption,
    StateOption,
    command,
    console,
    errors,
    load_settings,
    write_json,
)
from flows.core.messages import Said, say


@command("settings", "opendata settings --json")
def show_settings(
    raw: RawOption = None,
    out: OutOption = None,
    reports: ReportsOption = None,
    state: StateOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every setting's effective value and where it came from: the command line, the environment
    (OPENDATA_*), the .env file in the working directory, or the default. Passwords are
    masked. Exit 0, or 2 when a value is invalid (one line naming the variable)."""
    from flows.core.settings import effective, unknown_variables

    given = {"raw_dir": raw, "out_dir": out, "reports_dir": reports, "state_dir": state}
    settings = load_settings(**given)
    rows = effective(settings, {k for k, v in given.items() if v is not None})
    unknown = unknown_variables()
    if as_json:
        write_json({"settings": rows, "unknown": unknown})
        return
    for row in rows:
        console.print(f"{row['variable']}={row['value']}  [dim]({source(row['source'])})[/dim]",
                      highlight=False, soft_wrap=True)
    for name in unknown:
        errors.print(f"[yellow]{name}: {say('cli.settings.unknown')}[/yellow]", highlight=False)


SOURCES = {"default": "cli.settings.from-default", "command line": "cli.settings.from-command-line",
           ".env": "cli.settings.from-dotenv"}


def source(where: str) -> Said:
    """Where a value came from, in both languages: the default, the command line, .env or the
    environment (its variable named)."""
    if where in SOURCES:
        return say(SOURCES[where])
    return say("cli.settings.from-environment", detail=where.removeprefix("environment"))
