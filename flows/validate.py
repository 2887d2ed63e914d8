"""Step 3: validate a read report against its Frictionless Table Schema and the domain rules.

Frictionless does the checking (types, constraints, primary key, foreign keys to the codelists,
blank rows, extra and missing cells); we turn each of its errors into a located Problem, keep
every valid row (typed) and reject every other row, so rows read = published + rejected.
"""

from __future__ import annotations

import re
from typing import Any

from frictionless import Package, Resource, Schema
from pydantic import BaseModel

from flows.agenda2030 import check_targets, targets_by_goal
from flows.catalog import Catalog, DatasetSpec, SdgTargets
from flows.discover import RawFile
from flows.errors import Problem, problem
from flows.ingest import RawTable, read_report
from flows.messages import describe

ROW = "_row"  # each kept record remembers its row in the delivered file


class ValidatedFile(BaseModel):
    """The verdict on one delivered file."""

    file: str
    report_type: str
    department: str | None
    year: int | None
    rows_read: int = 0
    records: list[dict[str, Any]] = []  # valid rows, typed, with ROW
    rejected_rows: list[int] = []
    problems: list[Problem] = []

    @property
    def rows_published(self) -> int:
        return len(self.records)

    @property
    def rows_rejected(self) -> int:
        return len(self.rejected_rows)

    @property
    def file_rejected(self) -> bool:
        return any(p.file_level for p in self.problems)


def normalize_label(label: Any) -> str:
    return re.sub(r"\s+", "_", str(label).strip().lower())


def rejected_file(raw: RawFile | None, name: str, report_type: str, problems: list[Problem],
                  rows: int = 0, numbers: list[int] | None = None) -> ValidatedFile:
    return ValidatedFile(
        file=name, report_type=report_type,
        department=raw.department if raw else None, year=raw.year if raw else None,
        rows_read=rows, rejected_rows=numbers or [], problems=problems)


def validate_table(raw: RawFile, table: RawTable, catalog: Catalog) -> ValidatedFile:
    spec = catalog.datasets[raw.report_type]
    schema = catalog.schema(raw.report_type)
    present, header_problems = map_header(raw.name, table.header, schema)
    if header_problems:
        return rejected_file(raw, raw.name, raw.report_type, header_problems, len(table.rows),
                             list(table.row_numbers))
    file_schema = Schema.from_descriptor({
        **schema.to_descriptor(),
        "fields": [schema.get_field(name).to_descriptor() for name in present],
    })
    string_fields = {i for i, name in enumerate(present)
                     if schema.get_field(name).type == "string"}
    data = [present] + [[_as_text(cell) if i in string_fields else cell
                         for i, cell in enumerate(row)] for row in table.rows]
    package = Package(resources=[
        *(Resource(name=name, data=catalog.codelist_rows(name), schema=catalog.schema(name))
          for name in _referenced(schema)),
        Resource(name=raw.report_type, data=data, schema=file_schema),
    ])
    lookups = {fk["reference"]["resource"]: catalog.codes(fk["reference"]["resource"],
                                                          fk["reference"]["fields"][0])
               for fk in schema.foreign_keys}
    missing = [field.name for field in schema.fields if field.name not in present]
    sdg_goals = targets_by_goal(catalog.codes("sdg_delmal")) if any(
        isinstance(rule, SdgTargets) for rule in spec.rules) else {}

    result = ValidatedFile(file=raw.name, report_type=raw.report_type,
                           department=raw.department, year=raw.year, rows_read=len(table.rows))
    resource = package.get_resource(raw.report_type)
    with resource:
        for row in resource.row_stream:
            number = table.row_numbers[row.row_number - 2]
            delivered = dict(zip(present, table.rows[row.row_number - 2], strict=False))
            errors = row.errors
            if any(error.type == "blank-row" for error in errors):
                errors = [error for error in errors if error.type == "blank-row"]
            problems = [describe(error, file_schema, raw.name, number, delivered, lookups)
                        for error in errors]
            record = row.to_dict()
            if not problems:
                problems = check_rules(spec, raw, number, record, sdg_goals)
            if problems:
                result.problems.extend(problems)
                result.rejected_rows.append(number)
                continue
            record.update(dict.fromkeys(missing))
            record[ROW] = number
            result.records.append(record)
    return result


def _as_text(cell: Any) -> Any:
    """Excel and JSON give numbers where the schema wants text (a code such as 0604)."""
    if cell is None or isinstance(cell, str):
        return cell
    return str(cell)


def _referenced(schema: Schema) -> list[str]:
    return sorted({fk["reference"]["resource"] for fk in schema.foreign_keys
                   if fk["reference"]["resource"]})


def map_header(file: str, header: list[str], schema: Schema) -> tuple[list[str], list[Problem]]:
    """Delivered labels -> field names (case and spacing do not matter). Any unknown,
    duplicate or missing required column makes the whole file wait: one problem per column."""
    names = schema.field_names
    by_label = {normalize_label(name): name for name in names}
    problems: list[Problem] = []
    present: list[str] = []
    for label in header:
        name = by_label.get(normalize_label(label))
        if name is None:
            problems.append(problem(
                "extra-label", file,
                f"Kolumnen '{label}' finns inte i rapporttypen. Ta bort den eller byt namn till "
                f"en av: {', '.join(names)}.",
                f"The column '{label}' is not part of the report type. Remove it or rename it "
                f"to one of: {', '.join(names)}.", field=str(label), value=label))
        elif name in present:
            problems.append(problem(
                "duplicate-label", file,
                f"Kolumnen {name} finns två gånger. Ta bort den ena.",
                f"The column {name} appears twice. Remove one of them.", field=name, value=label))
        else:
            present.append(name)
    for field in schema.fields:
        if field.name not in present and field.required:
            problems.append(problem(
                "missing-label", file,
                f"Den obligatoriska kolumnen {field.name} ({field.title}) saknas. Lägg till den "
                "i rubrikraden.",
                f"The required column {field.name} is missing. Add it to the header row.",
                field=field.name))
    return present, problems


def check_rules(spec: DatasetSpec, raw: RawFile, row: int, record: dict[str, Any],
                sdg_goals: dict[int, list[str]]) -> list[Problem]:
    """The domain rules that Table Schema cannot say: the row belongs to its folder, declared
    date pairs are in order, Agenda 2030 target codes exist."""
    found: list[Problem] = []
    dept_field, year_field = spec.department_field, spec.year_field
    if dept_field and raw.department and record.get(dept_field) != raw.department:
        value = record.get(dept_field)
        found.append(problem(
            "department-mismatch", raw.name,
            f"Raden anger förvaltningen '{value}' men filen ligger i mappen för {raw.department}. "
            "Rätta värdet eller lämna raden i rätt förvaltnings mapp.",
            f"The row names department '{value}' but the file is in the folder of "
            f"{raw.department}. Correct the value or deliver the row in the right folder.",
            row=row, field=dept_field, value=value))
    if year_field and raw.year and record.get(year_field) != raw.year:
        value = record.get(year_field)
        found.append(problem(
            "year-mismatch", raw.name,
            f"Raden avser år {value} men filen ligger i mappen för {raw.year}. Rätta året eller "
            "lämna raden i rätt års mapp.",
            f"The row refers to {value} but the file is in the folder of {raw.year}. Correct the "
            "year or deliver the row in the right year's folder.",
            row=row, field=year_field, value=value))
    for rule in spec.rules:
        if isinstance(rule, SdgTargets):
            found += check_targets(raw.name, row, rule.field, record.get(rule.field), sdg_goals)
            continue
        start, end = record.get(rule.start), record.get(rule.end)
        if start is not None and end is not None and end < start:
            found.append(problem(
                "date-order", raw.name,
                f"{rule.end} ({end}) är före {rule.start} ({start}). Rätta datumen.",
                f"{rule.end} ({end}) is before {rule.start} ({start}). Correct the dates.",
                row=row, field=rule.end, value=end))
    return found


def check_file(raw: RawFile, catalog: Catalog) -> ValidatedFile:
    """Read and validate one delivered file: what the flow does per file, and `opendata validate`."""
    table = read_report(raw)
    if isinstance(table, Problem):
        return rejected_file(raw, raw.name, raw.report_type, [table])
    return validate_table(raw, table, catalog)
