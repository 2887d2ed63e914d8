"""What every command shares: the app, the consoles, the one Settings, the folder options and
the way a command's help is put together (catalogue title, docstring, examples)."""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from flows.core.messages import say
from flows.core.settings import Settings, SettingsError

about = say("cli.about")
app = typer.Typer(help=f"{about.sv}\n\n{about.en}", no_args_is_help=True, add_completion=False,
                  rich_markup_mode="rich", pretty_exceptions_show_locals=False)
console = Console()
errors = Console(stderr=True)


def helped(key: str) -> str:
    """An option's help: the catalogue's ``key``, Swedish / English."""
    return str(say(key))


def command(name: str, *examples: str, **options: Any) -> Callable:
    """Register `opendata <name>`: its help is the catalogue's ``cli.<name>.title``, the
    function's docstring (each paragraph rewrapped to the terminal), and each example on a line
    of its own."""
    def register(function: Callable) -> Callable:
        about = inspect.cleandoc(function.__doc__ or "").split("\n\n")
        parts = [f"{say(f'cli.{name}.title')}", *(" ".join(p.split()) for p in about),
                 *(f"[bold]{say('cli.example')}:[/bold] {example}" for example in examples)]
        return app.command(name, help="\n\n".join(p for p in parts if p), **options)(function)
    return register


def load_settings(**given: object) -> Settings:
    """The command's one Settings: the options given over the environment, .env and the
    defaults. An invalid value is one red line naming its variable, exit 2."""
    try:
        return Settings.from_env(**given)
    except SettingsError as error:
        errors.print(f"[red]{error}[/red]", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def fail(message: object, code: int) -> typer.Exit:
    """One red line on standard error; the exit to raise."""
    errors.print(f"[red]{message}[/red]", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def write_json(payload: object, default: Callable | None = None) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, default=default) + "\n")


# the folders every command that runs or shows the flow takes
RawOption = Annotated[Path | None, typer.Option(help=helped("cli.option.raw"))]
OutOption = Annotated[Path | None, typer.Option(help=helped("cli.option.out"))]
ReportsOption = Annotated[Path | None, typer.Option(help=helped("cli.option.reports"))]
StateOption = Annotated[Path | None, typer.Option(help=helped("cli.option.state"))]
# who is told how a run went (run and serve); checked by Settings like OPENDATA_NOTIFY_*
NotifyOption = Annotated[str | None, typer.Option(help=helped("cli.option.notify"))]
NotifyOnOption = Annotated[str | None, typer.Option(help=helped("cli.option.notify-on"))]
JsonOption = Annotated[bool, typer.Option("--json", help=helped("cli.option.json"))]
