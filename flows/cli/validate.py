"""`opendata validate`: the flow's checks on files before they are delivered, or any CSV
against any Table Schema (--schema)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flows.cli.common import JsonOption, command, console, fail, helped, load_settings, write_json
from flows.cli.show import print_file_verdict, where
from flows.core.messages import say


@command("validate", "opendata validate raw/2020/social/aktiviteter.csv",
         "opendata validate data.csv --schema schema.yaml --json")
def validate(
    paths: Annotated[list[Path], typer.Argument(help=helped("cli.validate.paths"))],
    report_type: Annotated[str | None, typer.Option(
        "--type", help=helped("cli.validate.type"))] = None,
    department: Annotated[str | None, typer.Option(help=helped("cli.validate.department"))
                          ] = None,
    year: Annotated[int | None, typer.Option(help=helped("cli.validate.year"))] = None,
    as_json: JsonOption = False,
    schema: Annotated[Path | None, typer.Option(help=helped("cli.validate.schema"))] = None,
    lookup: Annotated[list[str] | None, typer.Option(help=helped("cli.validate.lookup"))
                      ] = None,
) -> None:
    """Runs the same checks as the flow. The year and department come from the folders
    (<år>/<förvaltning>/<rapporttyp>.csv) or from --year/--department. Exit 0 when every row
    is valid, 1 otherwise, 2 on usage errors.

    With --schema, validates any CSV against any Frictionless Table Schema at the speed of
    reading the file, with the same errors as `frictionless validate` (all of them, no limit)."""
    if schema is not None:
        validate_with_schema(paths, schema, lookup or [], as_json)
        return
    results = check_deliveries(paths, report_type, department, year)
    valid = all(not r.problems for r in results)
    if as_json:
        write_json({"valid": valid, "files": [{
            "path": r.file, "report_type": r.report_type, "department": r.department,
            "year": r.year, "rows_read": r.rows_read, "rows_valid": r.rows_published,
            "rows_rejected": r.rows_rejected,
            "errors": [p.model_dump() for p in r.problems]} for r in results]})
    else:
        for result in results:
            print_file_verdict(result)
    raise typer.Exit(0 if valid else 1)


def check_deliveries(paths: list[Path], report_type: str | None, department: str | None,
                     year: int | None) -> list:
    """Each file's verdict as the flow would give it, duplicates across files merged."""
    from flows.checks.delivery import check_file, rejected_file
    from flows.checks.keys import merge_duplicates
    from flows.core.problems import Problem
    from flows.core.register import load_register
    from flows.intake.discover import classify

    register = load_register(load_settings().schemas_dir)
    results = []
    for path in existing(paths):
        name = path.as_posix()
        found = classify(path, name, register, strict_layout=False, report_type=report_type,
                         department=department, year=year)
        if isinstance(found, Problem):
            results.append(rejected_file(name, report_type or path.stem, [found]))
        else:
            results.append(check_file(found, register))
    return merge_duplicates(results, register)


def existing(paths: list[Path]) -> list[Path]:
    """The paths, every one a file: else a red line naming the first that is not, exit 2."""
    for path in paths:
        if not path.is_file():
            raise fail(say("cli.no-file", path=path), 2)
    return paths


def lookups(items: list[str]) -> dict[str, str]:
    """--lookup NAME=CSV options as a mapping: else a red line naming the bad one, exit 2."""
    resources = {}
    for item in items:
        name, _, target = item.partition("=")
        if not name or not target:
            raise fail(f"{say('cli.validate.bad-lookup')}: {item}", 2)
        resources[name] = target
    return resources


def validate_with_schema(paths: list[Path], schema: Path, lookup: list[str],
                         as_json: bool) -> None:
    from flows.checks.fastcheck import validate_csv

    if not schema.is_file():
        raise fail(say("cli.validate.no-schema", schema=schema), 2)
    resources = lookups(lookup)
    reports = [(path, validate_csv(path, schema, lookups=resources)) for path in existing(paths)]
    valid = all(report.valid for _, report in reports)
    if as_json:
        write_json({"valid": valid, "tasks": [{
            "name": path.stem, "path": str(path), "valid": report.valid,
            "stats": {"rows": report.rows, "errors": len(report.found),
                      "seconds": round(report.seconds, 3)},
            "handedOver": report.handed_over, "errors": report.errors} for path, report in reports]},
            default=str)
    else:
        for path, report in reports:
            print_schema_verdict(path, report)
    raise typer.Exit(0 if valid else 1)


def print_schema_verdict(path: Path, report) -> None:
    mark = "[green]✓[/green]" if report.valid else "[red]✗[/red]"
    console.print(f"{mark} {path}: {report.rows} {say('cli.validate.rows')}, {len(report.found)} "
                  f"{say('cli.validate.errors')}, {report.seconds:.2f} s", highlight=False)
    for note in report.handed_over:
        console.print(f"  [yellow]{note}[/yellow]", highlight=False)
    for error in report.iter_errors():
        place = where(error["rowNumber"]) if error["rowNumber"] else "header"
        column = f", {error['fieldName']}" if error.get("fieldName") else ""
        console.print(f"  {place}{column} [dim]({error['type']})[/dim] {error['message']}",
                      highlight=False)
