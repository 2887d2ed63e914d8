"""Step 3: validate a read report against its Frictionless Table Schema and the domain rules.

Frictionless does the checking (types, constraints, primary key, foreign keys to the codelists,
blank rows, extra and missing cells); we turn each of its errors into a located Problem, keep
every valid row (typed) and reject every other row, so rows read = published + rejected.
"""

from __future__ import annotations

from typing import Any

from frictionless import Dialect, Package, Resource, Schema
from pydantic import BaseModel

from flows.checks.explain import describe
from flows.checks.privacy import guard
from flows.checks.sdg import check_targets, targets_by_goal
from flows.core.labels import label_index, normalize_label
from flows.core.problems import Problem, problem
from flows.core.register import DatasetSpec, Register, SdgTargets
from flows.intake.cells import normalizer
from flows.intake.discover import RawFile
from flows.intake.reading import RawTable, read_delivery

ROW = "_row"  # each kept record remembers its row in the delivered file
# The header is the first row we pass. Without saying so, Frictionless guesses the header row
# from the rows' widths and can take a short first data row for it, silently dropping that row.
def header_first() -> Dialect:
    """The header is row 1, stated (a new dialect for each resource: a resource fills its
    dialect in with what it detects)."""
    return Dialect(header_rows=[1])


def codelist_resource(register: Register, name: str, rows: list[list[str]] | None = None
                      ) -> Resource:
    """A codelist as a Frictionless resource (for foreign keys and validation)."""
    return Resource(name=name, data=rows if rows is not None else register.codelist_rows(name),
                    schema=register.schema(name), dialect=header_first())


class ValidatedFile(BaseModel):
    """The verdict on one delivered file."""

    file: str
    report_type: str
    department: str | None
    year: int | None
    format: str | None = None
    encoding: str | None = None  # as detected, for CSV and JSON
    delimiter: str | None = None  # as detected, for CSV
    sheet: str | None = None  # the worksheet read, for Excel
    rows_read: int = 0
    records: list[dict[str, Any]] = []  # valid rows, typed, with ROW
    rejected_rows: list[int] = []
    problems: list[Problem] = []
    kept: list[dict[str, Any]] = []  # rows of an earlier valid delivery still published
    kept_from: str | None = None  # the release those rows were first published in

    @property
    def rows_published(self) -> int:
        return len(self.records)

    @property
    def rows_rejected(self) -> int:
        return len(self.rejected_rows)

    @property
    def file_rejected(self) -> bool:
        """Nothing of the file can be published (it waits whole for a valid delivery)."""
        return any(p.file_level for p in self.problems)


def rejected_file(name: str, report_type: str, problems: list[Problem]) -> ValidatedFile:
    """A file that could not even be classified (no year, department or format known)."""
    return ValidatedFile(file=name, report_type=report_type, department=None, year=None,
                         problems=problems)


def validate_table(raw: RawFile, table: RawTable, register: Register) -> ValidatedFile:
    spec = register.datasets[raw.report_type]
    schema = register.schema(raw.report_type)
    table, blank = drop_empty_columns(raw.name, table)
    present, header_problems = map_header(raw.name, table.header, schema)
    header_problems = blank + header_problems
    if not table.rows and not header_problems:
        header_problems = [problem(
            "no-rows", raw.name,
            "Filen har en rubrikrad men inga rader. Fyll i raderna och lämna filen igen; tills "
            "dess publiceras den senaste giltiga leveransen.",
            "The file has a header row but no rows. Fill in the rows and deliver it again; until "
            "then the last valid delivery stays published.")]
    if header_problems:
        return _result(raw, table, rejected_rows=list(table.row_numbers),
                       problems=header_problems)
    file_schema = Schema.from_descriptor({
        **schema.to_descriptor(),
        "fields": [schema.get_field(name).to_descriptor() for name in present],
    })
    cleaners = [normalizer(schema.get_field(name).type, raw.format == "xlsx") for name in present]
    data = [present] + [[clean(cell) for clean, cell in zip(cleaners, row, strict=False)]
                        + row[len(cleaners):] for row in table.rows]
    package = Package(resources=[
        *(codelist_resource(register, name) for name in _referenced(schema)),
        Resource(name=raw.report_type, data=data, schema=file_schema, dialect=header_first()),
    ])
    lookups = register.lookups(schema)
    missing = [field.name for field in schema.fields if field.name not in present]
    sdg_goals = targets_by_goal(register.codes("sdg_delmal")) if any(
        isinstance(rule, SdgTargets) for rule in spec.rules) else {}
    keys = set(schema.primary_key)
    # an emptied required or key cell would break the table: there the whole row waits
    text_fields = {f.name: "row" if f.required or f.name in keys
                   else f.to_descriptor().get("privacy", "cell") for f in file_schema.fields
                   if f.type == "string" and not {"pattern", "enum"} & set(f.constraints)}
    untrusted: dict[int, list[Problem]] = {}
    for found in table.problems:
        untrusted.setdefault(found.row, []).append(found)

    result = _result(raw, table)
    resource = package.get_resource(raw.report_type)
    with resource:
        for row in resource.row_stream:
            number = table.row_numbers[row.row_number - 2]
            delivered = dict(zip(present, table.rows[row.row_number - 2], strict=False))
            errors = consequences_dropped(row.errors)
            problems = untrusted.get(number, []) + [
                describe(error, file_schema, raw.name, number, delivered, lookups)
                for error in errors]
            record = row.to_dict()
            if not problems:
                problems = check_rules(spec, raw, number, record, sdg_goals)
            if not problems:
                withheld = withhold_personal(raw.name, number, record, text_fields)
                result.problems.extend(p for p in withheld if p.severity == "warning")
                problems = [p for p in withheld if p.severity == "error"]
            if problems:
                result.problems.extend(problems)
                result.rejected_rows.append(number)
                continue
            record.update(dict.fromkeys(missing))
            record[ROW] = number
            result.records.append(record)
    if spec.strict and result.rejected_rows:
        return hold_strict_file(result)
    return result


def consequences_dropped(errors: list[Any]) -> list[Any]:
    """Frictionless also reports what follows from a structural error (a blank row breaks the
    primary key, a missing cell breaks 'required'); the department needs only the cause."""
    if any(error.type == "blank-row" for error in errors):
        return [error for error in errors if error.type == "blank-row"]
    missing = {error.field_name for error in errors if error.type == "missing-cell"}
    return [error for error in errors
            if not (error.type == "constraint-error" and error.field_name in missing)]


def _result(raw: RawFile, table: RawTable | None, **values: Any) -> ValidatedFile:
    """The verdict's frame: what the file is and how it was read."""
    return ValidatedFile(file=raw.name, report_type=raw.report_type, department=raw.department,
                         year=raw.year, format=raw.format,
                         encoding=table.encoding if table else None,
                         delimiter=table.delimiter if table else None,
                         sheet=table.sheet if table else None,
                         rows_read=len(table.rows) if table else 0, **values)


def hold_strict_file(result: ValidatedFile) -> ValidatedFile:
    """A strict report type is published whole or not at all: one bad row holds the file."""
    bad = len(result.rejected_rows)
    held = problem(
        "strict-file-rejected", result.file,
        f"Rapporttypen {result.report_type} publiceras bara hel: {bad} rad(er) har fel, så hela "
        "filen väntar. Rätta raderna nedan och lämna filen igen.",
        f"The report type {result.report_type} is published whole or not at all: {bad} row(s) "
        "have errors, so the whole file waits. Correct the rows below and deliver it again.")
    every_row = sorted(result.rejected_rows + [r[ROW] for r in result.records])
    return result.model_copy(update={"records": [], "rejected_rows": every_row,
                                     "problems": [held, *result.problems]})


def drop_empty_columns(file: str, table: RawTable) -> tuple[RawTable, list[Problem]]:
    """A column without a label is dropped when it is empty (a stray delimiter, an empty Excel
    column) and is a file-level problem when it holds values."""
    keep, problems = [], []
    for index, label in enumerate(table.header):
        if label.strip():
            keep.append(index)
            continue
        used = [n for n, r in zip(table.row_numbers, table.rows, strict=True)
                if index < len(r) and r[index] is not None]
        if used:
            problems.append(problem(
                "blank-label", file,
                f"Kolumn {index + 1} saknar rubrik men har värden (t.ex. rad {used[0]}). Skriv "
                "kolumnens namn i rubrikraden eller ta bort kolumnen.",
                f"Column {index + 1} has no header but holds values (e.g. row {used[0]}). Write "
                "the column's name in the header row or remove the column.", field=str(index + 1)))
    if len(keep) == len(table.header) or problems:
        return table, problems
    width = len(table.header)
    rows = [[r[i] for i in keep if i < len(r)] + r[width:] for r in table.rows]
    return table.model_copy(update={"header": [table.header[i] for i in keep],
                                    "rows": rows}), []


def _referenced(schema: Schema) -> list[str]:
    return sorted({fk["reference"]["resource"] for fk in schema.foreign_keys
                   if fk["reference"]["resource"]})


def map_header(file: str, header: list[str], schema: Schema) -> tuple[list[str], list[Problem]]:
    """Delivered labels -> field names through names, titles and aliases (case, spacing and
    å/ä/ö do not matter). Any unknown, duplicate or missing required column makes the whole
    file wait: one problem per column."""
    names = schema.field_names
    by_label = label_index(schema)
    problems: list[Problem] = []
    present: list[str] = []
    for label in header:
        if not label.strip():
            continue  # a column without a label: drop_empty_columns decides
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


def withhold_personal(file: str, row: int, record: dict[str, Any],
                      text_fields: dict[str, str]) -> list[Problem]:
    """Personal data is never published: the cell is emptied (a warning), or - where the
    schema says `privacy: row` - the row is rejected (an error)."""
    found = []
    for name, kind, masked in guard(record, text_fields):
        whole_row = text_fields[name] == "row"
        if not whole_row:
            record[name] = None
        found.append(problem(
            "personal-data", file,
            f"Kolumnen {name} innehåller ett {kind} ({masked}); "
            f"{'raden' if whole_row else 'värdet'} publiceras inte. Ta bort personuppgifter ur "
            "rapporten.",
            f"Column {name} holds a {kind} ({masked}); the {'row' if whole_row else 'value'} "
            "is not published. Remove personal data from the report.",
            row=row, field=name, value=masked, severity="error" if whole_row else "warning"))
    return found


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


def check_file(raw: RawFile, register: Register) -> ValidatedFile:
    """Read and validate one delivered file: what the flow does per file, and `opendata validate`."""
    table = read_delivery(raw, label_index(register.schema(raw.report_type)))
    if isinstance(table, Problem):
        return _result(raw, None, problems=[table])
    return validate_table(raw, table, register)
