"""How a run and a file's verdict look in the terminal: the summary table, the warnings, the
rows and problems of one file."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from flows.cli.common import console
from flows.core.messages import Said, say


def print_warnings(say_to: Console, summary, reports: Path) -> None:
    """Files in motion, kept deliveries, codelist problems, faults met and mended (a damaged
    release or state file), datasets that kept their previous release and values a format
    could not hold: one line per kind, the full lists in the reports."""
    from flows.outputs.run_summary import collapsed, kept_note, release_notes

    for file in summary.files:
        for moved in (p for p in file.problems if p.type == "file-in-motion"):
            say_to.print(f"[yellow]{Said(moved.message_sv, moved.message_en)}[/yellow]",
                         highlight=False, soft_wrap=True)
        if file.kept_from:
            say_to.print(f"[yellow]{kept_note(file)}[/yellow]", highlight=False)
    for severity, line in collapsed(summary.reference_problems, str(reports / "kodlistor.md")):
        colour = "yellow" if severity == "warning" else "red"
        say_to.print(f"[{colour}]{line}[/{colour}]", highlight=False)
    for line in [*summary.warnings, *release_notes(summary.release)]:
        say_to.print(f"[yellow]{line}[/yellow]", highlight=False, soft_wrap=True)


def print_unchanged(version: str, out_dir: Path) -> None:
    console.print(str(say("cli.run.unchanged", version=version, latest=out_dir / "latest")))


def _two_lines(key: str) -> str:
    said = say(key)
    return f"{said.sv}\n{said.en}"


def print_summary(summary) -> None:
    table = Table(title=str(say("cli.summary.title")), caption=str(say("cli.summary.caption")))
    width = max([len(f.path) for f in summary.files] + [10])
    table.add_column(str(say("cli.summary.file")), min_width=width, no_wrap=True)
    for name in ("read", "published", "rejected", "errors"):
        table.add_column(_two_lines(f"cli.summary.{name}"), justify="right")
    for file in summary.files:
        style = "red" if file.file_rejected else ("yellow" if file.rows_rejected else None)
        table.add_row(file.path, str(file.rows_read), str(file.rows_published),
                      str(file.rows_rejected), str(len(file.problems)), style=style)
    table.add_section()
    table.add_row(f"{len(summary.files)} {say('cli.summary.files')}", str(summary.rows_read),
                  str(summary.rows_published), str(summary.rows_rejected),
                  str(len(summary.problems)), style="bold")
    console.print(table)


def print_file_verdict(result) -> None:
    if not result.problems:
        console.print(f"[green]✓ {result.file}[/green]: {result.rows_read} "
                      f"{say('cli.validate.rows-valid')}")
        return
    console.print(f"[red]✗ {result.file}[/red]: {result.rows_read} {say('cli.validate.rows-read')}, "
                  f"{result.rows_published} {say('cli.validate.valid')}, {result.rows_rejected} "
                  f"{say('cli.validate.rejected')}")
    for p in result.problems:
        console.print(f"  [bold]{where(p.row, p.field, p.value)}[/bold] [dim]({p.type})[/dim]",
                      highlight=False)
        console.print(f"    {p.message_sv}", highlight=False)
        console.print(f"    [dim]{p.message_en}[/dim]", highlight=False)


def where(row: int | None, field: str | None = None, value: object = None) -> str:
    """Where a problem is: its row (or the whole file), column and value, in both languages."""
    place = str(say("cli.validate.whole-file")) if row is None else f"{say('cli.row')} {row}"
    column = f", {say('cli.validate.column')} {field}" if field else ""
    shown = f", {say('cli.validate.value')} '{value}'" if value is not None else ""
    return place + column + shown
