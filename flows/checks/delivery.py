"""The verdict on one delivered file, a piece at a time and a column at a time.

Each piece of rows is normalised (decimal comma, thousands, midnight timestamps, cells of
only spaces), checked against the report type's Table Schema by fastcheck - vectorised where a
check is proven to agree with Frictionless, Frictionless's own cell readers for every other
cell, so the errors are Frictionless's - then against the codelists (foreign keys), the flow's
own rules (year and department of the folder, date order, Agenda 2030 target codes) and for
personal data. Accepted rows go on, typed, to the work store; every other row is rejected with
located problems, so rows read = published + rejected. Keys repeated within the file are found
at the end, on 64-bit hashes of the typed keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from frictionless import Resource, Schema, errors

from flows.checks.excel import excel_errors, excel_problem
from flows.checks.explain import describe
from flows.checks.fastcheck.fields import FieldCheck
from flows.checks.fastcheck.keycheck import Keys
from flows.checks.fastcheck.keys import canonical_type, cells_of, row_keys
from flows.checks.fastcheck.result import Found, cell_errors, flat_error, from_frictionless
from flows.checks.fastcheck.schemas import header_first, row_schema
from flows.checks.fastcheck.validator import Findings, _inspect
from flows.checks.header import map_header
from flows.checks.privacy import personal_in
from flows.checks.rules import rule_problems
from flows.checks.text import describe_finding, text_rules
from flows.checks.verdict import (
    KEY,
    ROW,
    RowWriter,
    ValidatedFile,
    filter_rows,
    hold_strict_file,
    read_rows,
    rejected_file,
)
from flows.core.labels import label_index
from flows.core.problems import Problem, problem
from flows.core.register import Register, is_free_text
from flows.intake.cells import cell_as_text, normalized
from flows.intake.discover import RawFile
from flows.intake.motion import in_motion, moved
from flows.intake.reading import MAX_CELL, Piece, Reading, Span, read_delivery, read_span

__all__ = ["ROW", "ValidatedFile", "check_file", "check_reading", "rejected_file", "stored_rows",
           "header_first", "codelist_resource", "left_in_motion"]


def codelist_resource(register: Register, name: str, rows: list[list[str]] | None = None
                      ) -> Resource:
    """A codelist as a Frictionless resource (for foreign keys and validation)."""
    return Resource(name=name, data=rows if rows is not None else register.codelist_rows(name),
                    schema=register.schema(name), dialect=header_first())


def check_file(raw: RawFile, register: Register, into: Path | None = None) -> ValidatedFile:
    """Read and validate one delivered file: what the flow does per file, and `opendata
    validate`. `into`: a Parquet file for the accepted rows (else they stay in memory)."""
    reading = read_delivery(raw, label_index(register.schema(raw.report_type)))
    if isinstance(reading, Problem):
        return _frame(raw, None, problems=[reading])
    return check_reading(raw, reading, register, into)


def check_reading(raw: RawFile, reading: Reading, register: Register,
                  into: Path | None = None, pieces: list[Piece] | None = None) -> ValidatedFile:
    """The verdict on a file already opened (`pieces`: its rows, if not the reading's own)."""
    check = DeliveryCheck(raw, reading, register, into, pieces)
    for piece in check.pieces():
        check.add(check.file.check(piece), piece.span)
    return check.verdict()


def left_in_motion(raw: RawFile, into: Path | None = None) -> ValidatedFile | None:
    """The verdict for a file that is not as it was when the run hashed it (None when it is):
    rejected whole, so no verdict of other bytes than the hashed ones, or of a half-written
    file, is ever used, and the file's last valid delivery stays published. The rows already
    written for it (`into`) are removed."""
    if not moved(raw.path, raw.stamp):
        return None
    if into is not None:
        Path(into).unlink(missing_ok=True)
    return _frame(raw, None, problems=[in_motion(raw.name)])


def _frame(raw: RawFile, reading: Reading | None, **values: Any) -> ValidatedFile:
    """The verdict's frame: what the file is and how it was read."""
    return ValidatedFile(file=raw.name, report_type=raw.report_type, department=raw.department,
                         year=raw.year, format=raw.format,
                         encoding=reading.encoding if reading else None,
                         delimiter=reading.delimiter if reading else None,
                         sheet=reading.sheet if reading else None, **values)


class Reported(NamedTuple):
    """A found error as `describe` reads it (the shape of Frictionless's error objects)."""

    type: str
    field_name: str | None
    cell: Any
    note: str
    message: str
    field_names: list[str] = []
    reference_name: str = ""

    @classmethod
    def of(cls, found: Found) -> Reported:
        flat = found.render(("type", "fieldName", "cell", "note", "message"))
        return cls(flat["type"], flat["fieldName"], flat["cell"], flat["note"] or "",
                   flat["message"])


class PieceVerdict(NamedTuple):
    """The checks' findings in one piece of a file: what the file's verdict is made of."""

    rows: int
    problems: dict[int, list[Problem]]  # by row: why it is rejected
    warnings: list[Problem]
    accepted: pa.Table  # the rows that pass, as stored (every field, _row, _key)
    logs: list[tuple[Any, dict[str, tuple[np.ndarray, np.ndarray]]]]  # key hashes by rows
    unnamed: dict[int, int]  # column without a label -> first row with a value in it


def compact(lines: np.ndarray) -> np.ndarray | tuple[int, int]:
    """Row numbers as (first, past the last) when they follow each other (most pieces: no
    line breaks in cells), else as they are: 8 bytes a row less to hold until the end."""
    if len(lines) and int(lines[-1]) - int(lines[0]) == len(lines) - 1:
        return int(lines[0]), int(lines[-1]) + 1
    return lines


class FileCheck:
    """What is fixed for one file - its columns as delivered, as a schema, the field checks,
    the codelists - and the checks of one piece of its rows (`check`), which depend on nothing
    but the piece: pieces can be checked in any order, in threads or on other machines."""

    def __init__(self, raw: RawFile, header: list[str], register: Register,
                 untrusted: list[Problem] = ()) -> None:
        self.raw, self.register = raw, register
        self.spec = register.datasets[raw.report_type]
        schema = register.schema(raw.report_type)
        self.full = schema  # every field is kept (the published ones are chosen later)
        self.header = header
        self.present, self.header_problems = map_header(raw.name, header, schema)
        self.columns = [i for i, label in enumerate(header) if label.strip()]  # named ones
        self.unnamed = [i for i, label in enumerate(header) if not label.strip()]
        # the delivered columns, in their order, as a schema (what Frictionless would check)
        descriptor = {**schema.to_descriptor(), "foreignKeys": [],
                      "fields": [schema.get_field(name).to_descriptor() for name in self.present]}
        if not set(schema.primary_key) <= set(self.present):  # a key column is missing
            descriptor.pop("primaryKey", None)
        self.schema = Schema.from_descriptor(descriptor)
        self.foreign_keys = [fk for fk in schema.foreign_keys
                             if all(n in self.present for n in fk["fields"])]
        self.lookups = register.lookups(schema)
        self.keys = Keys(self.schema)  # only its `prepare` is used here: the logs are the caller's
        self.checks = [FieldCheck(f, self.schema.missing_values, key=f.name in self.keys.fields,
                                  typed=True) for f in self.schema.fields]
        self.row_schema = row_schema(self.schema)
        keys = set(schema.primary_key)
        # an emptied required or key cell would break the table: there the whole row waits
        self.free_text = {f.name for f in self.schema.fields if is_free_text(f, schema)}
        self.text_fields = {
            f.name: "row" if f.required or f.name in keys else f.to_descriptor().get(
                "privacy", "cell") for f in self.schema.fields
            if f.type == "string" and not {"pattern", "enum"} & set(f.constraints)}
        self.untrusted: dict[int, list[Problem]] = {}
        for found in untrusted:
            self.untrusted.setdefault(found.row, []).append(found)
        self.stored_type = pa.schema(
            [(f.name, canonical_type(f)) for f in schema.fields]
            + [(ROW, pa.int64()), (KEY, pa.uint64())])

    def check(self, piece: Piece) -> PieceVerdict:
        unnamed = self._note_unnamed(piece)
        if self.header_problems:  # the file waits whole: its rows are only counted
            return PieceVerdict(piece.rows, {}, [], self.stored_type.empty_table(), [], unnamed)
        texts = self._texts(piece)
        lines = piece.lines
        problems: dict[int, list[Problem]] = {}
        warnings: list[Problem] = []
        for line in lines.tolist() + [line for line, _ in piece.odd]:
            if line in self.untrusted:
                problems[line] = list(self.untrusted[line])
        said = self._excel_errors(texts, lines, problems)  # cells whose problem is said:
        said |= self._text_rules(texts, lines, problems, warnings)  # no type error on top
        table = pa.table({f.name: texts[i] for i, f in enumerate(self.schema.fields)}) \
            if self.schema.fields else pa.table({"_": pa.nulls(len(lines), pa.string())})
        found = _inspect(table, [], self.schema, self.checks, self.keys)
        logs = [(compact(lines), found.logs)] if found.logs else []
        self._too_long(piece, texts, lines, problems)
        for position, row_errors in self._errors(found, lines).items():
            line = int(lines[position])
            problems.setdefault(line, []).extend(
                self._describe(e, line, texts, position) for e in row_errors
                if (position, e.field) not in said)
        self._non_finite(found.typed, lines, texts, problems)
        logs += self._odd_rows(piece, problems)
        typed = dict(zip(self.present, found.typed, strict=True)) if found.typed else {}
        self._foreign_keys(typed, lines, texts, problems)
        clean = ~np.isin(lines, np.fromiter(problems, dtype=np.int64, count=len(problems)))
        for position, found_problems in rule_problems(
                self.spec, self.raw, typed, lines, clean, self.register).items():
            problems.setdefault(int(lines[position]), []).extend(found_problems)
            clean[position] = False
        typed = self._withhold_personal(typed, lines, clean, problems, warnings)
        return PieceVerdict(piece.rows, problems, warnings, self._accepted(typed, lines, clean),
                            logs, unnamed)

    def _texts(self, piece: Piece) -> list[pa.Array]:
        """The delivered cells of each present field, as the schema check reads them."""
        types = [self.schema.get_field(n).type for n in self.present]
        if piece.columns is not None:
            return [normalized(piece.columns[i], kind)
                    for i, kind in zip(self.columns, types, strict=False)]
        from_excel = self.raw.format == "xlsx"
        texts = []
        for position, (i, name) in enumerate(zip(self.columns, self.present, strict=False)):
            field = self.schema.get_field(name)
            truth = (field.true_values[0], field.false_values[0]) if field.type == "boolean" \
                else ("true", "false")
            texts.append(pa.array([cell_as_text(r[i], types[position], from_excel, truth)
                                   for r in piece.records], pa.string()))
        return texts

    def _excel_errors(self, texts: list[pa.Array], lines: np.ndarray,
                      problems: dict[int, list[Problem]]) -> set[tuple[int, str]]:
        """Cells holding one of Excel's error values (#DIV/0!, #N/A, ... in English or
        Swedish) reject their row with Excel's error named: (position, field) of each."""
        found = set()
        for index, name in enumerate(self.present):
            for position, value, error in excel_errors(texts[index]):
                line = int(lines[position])
                problems.setdefault(line, []).append(excel_problem(
                    self.raw.name, line, name, value, error))
                found.add((position, name))
        return found

    def _text_rules(self, texts: list[pa.Array], lines: np.ndarray,
                    problems: dict[int, list[Problem]], warnings: list[Problem]
                    ) -> set[tuple[int, str]]:
        """NFC, control characters, bidi controls and invisible characters (checks/text):
        -> (position, field) of the cells that reject their row."""
        rejected = set()
        for index, name in enumerate(self.present):
            if self.schema.get_field(name).type != "string":
                continue
            code = name not in self.free_text
            texts[index], findings = text_rules(texts[index], code)
            for position, found in findings.items():
                line = int(lines[position])
                for finding in found:
                    item = describe_finding(finding, self.raw.name, line, name,
                                            texts[index][position].as_py(), code)
                    if finding.reject:
                        problems.setdefault(line, []).append(item)
                        rejected.add((position, name))
                    else:
                        warnings.append(item)
        return rejected

    def _non_finite(self, typed: list[pa.Array] | None, lines: np.ndarray,
                    texts: list[pa.Array], problems: dict[int, list[Problem]]) -> None:
        """NaN and infinite numbers (INF, -INF, 1e309...) are not published: most programs
        cannot read them (they are not JSON) unless a field allows them (allowNonFinite)."""
        for index, name in enumerate(self.present):
            field = self.schema.get_field(name)
            if field.type != "number" or typed is None or field.to_descriptor().get(
                    "allowNonFinite"):
                continue
            column = typed[index]
            odd = pc.and_(pc.is_valid(column), pc.invert(pc.is_finite(column)))
            for position in np.flatnonzero(pc.fill_null(odd, False).to_numpy(
                    zero_copy_only=False)).tolist():
                line = int(lines[position])
                value = texts[index][position].as_py()
                problems.setdefault(line, []).append(problem(
                    "not-finite", self.raw.name, "problem.not-finite.value",
                    {"value": value, "column": name}, row=line, field=name, value=value))

    def _note_unnamed(self, piece: Piece) -> dict[int, int]:
        """A column without a label is dropped when empty; with values the file waits."""
        found = {}
        for index in self.unnamed:
            if piece.columns is not None:
                column = normalized(piece.columns[index], "string")
                used = np.flatnonzero(pc.not_equal(column, "").to_numpy(zero_copy_only=False))
            else:
                used = np.flatnonzero([r[index] is not None for r in piece.records])
            lines = [int(piece.lines[u]) for u in used[:1]]
            lines += [line for line, cells in piece.odd if index < len(cells) and
                      cells[index] not in (None, "") and str(cells[index]).strip()]
            if lines:
                found[index] = min(lines)
        return found

    def _too_long(self, piece: Piece, texts: list[pa.Array], lines: np.ndarray,
                  problems: dict[int, list[Problem]]) -> None:
        """Cells longer than MAX_CELL characters: the row is rejected, the cell cut in reports."""
        columns = piece.columns if piece.columns is not None else [
            pa.array([c if isinstance(c, str) else None for c in column], pa.string())
            for column in zip(*piece.records, strict=False)] if piece.records else []
        header = self.header
        for index, column in enumerate(columns):
            long = np.flatnonzero(pc.fill_null(pc.greater(pc.utf8_length(column), MAX_CELL),
                                               False).to_numpy(zero_copy_only=False))
            for position in long.tolist():
                cell = column[position].as_py()
                line = int(lines[position])
                problems.setdefault(line, []).append(self._cell_too_long(
                    line, header[index] if index < len(header) else None, cell))
        for line, cells in piece.odd:
            for index, cell in enumerate(cells):
                if isinstance(cell, str) and len(cell) > MAX_CELL:
                    problems.setdefault(line, []).append(self._cell_too_long(
                        line, header[index] if index < len(header) else None, cell))

    def _cell_too_long(self, line: int, field: str | None, cell: str) -> Problem:
        return problem("cell-too-long", self.raw.name, "problem.cell-too-long.length",
                       {"length": len(cell), "limit": MAX_CELL}, row=line, field=field,
                       value=cell[:40])

    def _errors(self, found: Findings, lines: np.ndarray) -> dict[int, list[Found]]:
        """Frictionless's errors in the piece, by position: blank rows, then cells."""
        by_position: dict[int, list[Found]] = {}
        for position in found.blank.tolist():
            by_position[position] = [flat_error(errors.BlankRowError,
                                                row_number=int(lines[position]))]
        fields = self.schema.fields
        for position, index, cell, notes in found.cells:
            by_position.setdefault(position, []).extend(
                cell_errors(fields[index], index + 1, int(lines[position]), cell, notes))
        for position, index, cell in found.too_large:
            by_position.setdefault(position, []).append(flat_error(
                errors.ConstraintError, row_number=int(lines[position]),
                field_name=fields[index].name, field_number=index + 1, cell=str(cell),
                note='constraint "maximum" is "9223372036854775807"'))
        return by_position

    def _describe(self, found: Found, line: int, texts: list[pa.Array], position: int
                  ) -> Problem:
        cells = {name: texts[i][position].as_py() for i, name in enumerate(self.present)}
        return describe(Reported.of(found), self.schema, self.raw.name, line, cells,
                        self.lookups)

    def _odd_rows(self, piece: Piece, problems: dict[int, list[Problem]]) -> list[Any]:
        """Rows of another width than the header: Frictionless judges them, row by row (->
        their key log entries)."""
        if not piece.odd:
            return []
        parsed = [self._odd_cells(cells, piece.columns is not None) for _, cells in piece.odd]
        resource = Resource(data=[list(self.present), *parsed], schema=self.row_schema,
                            dialect=header_first())
        lines = [line for line, _ in piece.odd]
        typed_rows = []
        with resource:
            for line, cells, row in zip(lines, parsed, resource.row_stream, strict=True):
                delivered = dict(zip(self.present, cells, strict=False))
                problems.setdefault(line, []).extend(
                    describe(Reported.of(from_frictionless(e, line)), self.schema,
                             self.raw.name, line, delivered, self.lookups)
                    for e in consequences_dropped(row.errors))
                typed_rows.append(row.to_dict())
        if not self.keys.fields:
            return []
        return [(np.array(lines, dtype=np.int64), self.keys.prepare({
            name: cells_of(self.schema.get_field(name), [r.get(name) for r in typed_rows])
            for name in self.keys.fields}))]

    def _odd_cells(self, cells: list[Any], from_csv: bool) -> list[Any]:
        """An odd row's cells as the schema check reads them: the named columns' cells,
        normalised for their fields, then any cells beyond the header (None when empty)."""
        width = len(self.header)
        named = [cells[i] for i in self.columns if i < len(cells)]
        found = []
        for cell, name in zip(named, self.present, strict=False):
            kind = self.schema.get_field(name).type
            if from_csv:
                text = normalized(pa.array([cell], pa.string()), kind)[0].as_py()
            else:
                text = cell_as_text(cell, kind, self.raw.format == "xlsx")
            found.append(text or None)
        extra = cells[width:]
        return found + [c if not isinstance(c, str) or c.strip() else None for c in extra]

    def _foreign_keys(self, typed: dict[str, pa.Array], lines: np.ndarray,
                      texts: list[pa.Array], problems: dict[int, list[Problem]]) -> None:
        """Codes that are not in the codelist a foreign key names."""
        for fk in self.foreign_keys:
            [name] = fk["fields"][:1]
            reference = fk["reference"]["resource"]
            codes = pa.array(self.lookups.get(reference, []), pa.string())
            column = typed.get(name)
            if column is None:
                continue
            missing = pc.and_(pc.is_valid(column), pc.invert(pc.is_in(
                pc.cast(column, pa.string()), value_set=codes)))
            for position in np.flatnonzero(pc.fill_null(missing, False).to_numpy(
                    zero_copy_only=False)).tolist():
                line = int(lines[position])
                error = Reported("foreign-key", None, None, "", "", list(fk["fields"]),
                                 reference)
                cells = {n: texts[i][position].as_py() for i, n in enumerate(self.present)}
                problems.setdefault(line, []).append(describe(
                    error, self.schema, self.raw.name, line, cells, self.lookups))

    def _withhold_personal(self, typed: dict[str, pa.Array], lines: np.ndarray,
                           clean: np.ndarray, problems: dict[int, list[Problem]],
                           warnings: list[Problem]) -> dict[str, pa.Array]:
        """Personal data is never published: the cell is emptied (a warning), or - where the
        schema says `privacy: row` - the row is rejected (an error)."""
        for name, whole in self.text_fields.items():
            column = typed.get(name)
            if column is None:
                continue
            hits = {p: found for p, found in personal_in(column).items() if clean[p]}
            emptied = []
            for position, found in hits.items():
                line = int(lines[position])
                for kind, masked in found:
                    item = problem(
                        "personal-data", self.raw.name,
                        "problem.personal-data.row" if whole == "row" else
                        "problem.personal-data.value",
                        {"column": name, "kind": kind, "masked": masked}, row=line, field=name,
                        value=masked, severity="error" if whole == "row" else "warning")
                    if whole == "row":
                        problems.setdefault(line, []).append(item)
                    else:
                        warnings.append(item)
                if whole == "row":
                    clean[position] = False
                else:
                    emptied.append(position)
            if emptied:
                mask = np.zeros(len(column), dtype=bool)
                mask[emptied] = True
                typed[name] = pc.if_else(pa.array(mask), pa.scalar(None, column.type), column)
        return typed

    def _accepted(self, typed: dict[str, pa.Array], lines: np.ndarray, clean: np.ndarray
                  ) -> pa.Table:
        keep = pa.array(clean)
        rows = int(clean.sum())
        columns = [typed[f.name].filter(keep) if f.name in typed else
                   pa.nulls(rows, canonical_type(f)) for f in self.full.fields]
        key = [columns[self.full.field_names.index(n)] for n in self.full.primary_key]
        return pa.Table.from_arrays(columns + [pa.array(lines[clean], pa.int64()),
                                               pa.array(row_keys(key), pa.uint64())],
                                    schema=self.stored_type)


class DeliveryCheck:
    """One file's verdict, made of its pieces' findings taken in file order."""

    def __init__(self, raw: RawFile, reading: Reading, register: Register,
                 into: Path | None, pieces: list[Piece] | None = None,
                 check: FileCheck | None = None) -> None:
        self.raw, self.reading, self.into = raw, reading, into
        self.given = pieces
        self.file = check or FileCheck(raw, reading.header, register, reading.problems)
        self.keys = Keys(self.file.schema)
        self.rows = 0
        self.problems: dict[int, list[Problem]] = {}  # by row: why it is rejected
        self.warnings: list[Problem] = []
        self.unnamed: dict[int, int] = {}
        self.accepted = 0
        self.tables: list[pa.Table] = []
        self.writer: RowWriter | None = None
        self.spans: list[Span | None] = []  # where each piece was read

    def pieces(self):
        return iter(self.given) if self.given is not None else self.reading.pieces()

    def add(self, found: PieceVerdict, span: Span | None = None) -> None:
        """A piece's findings, in file order (`span`: where it was read, if in place)."""
        self.spans.append(span)
        self.rows += found.rows
        for index, line in found.unnamed.items():
            self.unnamed[index] = min(line, self.unnamed.get(index, line))
        for line, problems in found.problems.items():
            self.problems.setdefault(line, []).extend(problems)
        self.warnings += found.warnings
        for lines, prepared in found.logs:
            lines = np.arange(lines[0], lines[1], dtype=np.int64) if isinstance(lines, tuple) \
                else lines
            self.keys.append(lines, prepared)
        self.accepted += found.accepted.num_rows
        if self.into is None:
            self.tables.append(found.accepted)
            return
        if self.writer is None:
            self.writer = RowWriter(self.into, self.file.stored_type)
        self.writer.write(found.accepted)

    # -- at the end ----------------------------------------------------------------------------
    def verdict(self) -> ValidatedFile:
        if self.writer is not None:
            self.writer.close()
        file_problems = list(self.file.header_problems)
        for index, first in sorted(self.unnamed.items()):
            file_problems.append(problem("blank-label", self.raw.name, "problem.blank-label.values",
                                         {"column": index + 1, "row": first},
                                         field=str(index + 1)))
        if not self.rows and not file_problems:
            file_problems = [problem("no-rows", self.raw.name, "problem.no-rows.header-only")]
        if file_problems:
            self._discard()
            return _frame(self.raw, self.reading, rows_read=self.rows, problems=file_problems)
        repeated = self._key_errors()
        if repeated:
            self._drop_accepted(repeated)
        lines = sorted(self.problems)
        result = _frame(self.raw, self.reading, rows_read=self.rows,
                        rows_published=self.accepted, rejected_rows=lines,
                        problems=[p for line in lines for p in self.problems[line]]
                        + self.warnings,
                        accepted=self.into if self.into is not None and self.accepted else None)
        if self.into is None:
            result.with_tables(accepted=self._accepted_rows())
        if self.file.spec.strict and lines:
            self._discard()
            return hold_strict_file(result)
        if self.into is not None and not self.accepted:
            self._discard()
        return result

    def _key_errors(self) -> set[int]:
        """Keys repeated within the file (and unique values): the later rows are rejected.
        Such a row is reported with that error alone, as Frictionless would (the rules and
        the privacy check are not its problem until its key is right)."""
        if not self.keys.pk and not self.keys.unique:
            return set()
        by_line: dict[int, list[Found]] = {}
        for number, _, error, _ in self.keys.errors({}, []):
            by_line.setdefault(number, []).append(error)
        delivered = self._delivered(set(by_line)) if by_line else {}
        file = self.file
        for line, found in by_line.items():
            own = [p for p in self.problems.get(line, []) if p.type in SCHEMA_TYPES]
            if any(p.type == "blank-row" for p in own):
                continue
            cells = delivered.get(line, {})
            self.problems[line] = own + [
                describe(Reported.of(f)._replace(cell=cells.get(f.field)), file.schema,
                         self.raw.name, line, cells, file.lookups) for f in found]
        return set(by_line)

    def _delivered(self, lines: set[int]) -> dict[int, dict[str, Any]]:
        """The delivered cells of some rows, by row (a second pass over the file: only for the
        few rows whose key repeats)."""
        found: dict[int, dict[str, Any]] = {}
        file = self.file
        for piece in self._pieces_holding(lines):
            wanted = np.flatnonzero(np.isin(piece.lines, list(lines)))
            if len(wanted):
                texts = file._texts(piece)
                for position in wanted.tolist():
                    found[int(piece.lines[position])] = {
                        n: texts[i][position].as_py() for i, n in enumerate(file.present)}
            for line, cells in piece.odd:
                if line in lines:
                    found[line] = dict(zip(file.present, file._odd_cells(
                        cells, piece.columns is not None), strict=False))
        return found

    def _pieces_holding(self, lines: set[int]):
        """The pieces that hold some of the rows, read again: only their spans where the
        file was read in place, else the whole file."""
        spans = self.spans
        if not spans or None in spans or not self.reading.in_place:
            yield from self.pieces()
            return
        ends = [s.line for s in spans[1:]] + [2**62]
        for span, end in zip(spans, ends, strict=True):
            if any(span.line <= line < end for line in lines):
                yield from read_span(self.raw.path, span, len(self.file.header),
                                     self.reading.delimiter or ",")

    def _accepted_rows(self) -> pa.Table | None:
        if self.into is None:
            return pa.concat_tables(self.tables) if self.tables else \
                self.file.stored_type.empty_table()
        return read_rows(self.into) if self.into.is_file() else None

    def _drop_accepted(self, lines: set[int]) -> None:
        """Take rows rejected at the end (repeated keys) out of the accepted ones (a stored
        file is copied batch by batch without them: memory stays bounded)."""
        dropped = pa.array(sorted(lines), pa.int64())
        if self.into is None:
            table = self._accepted_rows()
            kept = table.filter(pc.invert(pc.is_in(table[ROW], value_set=dropped)))
            self.tables, self.accepted = [kept], kept.num_rows
            return
        if not self.into.is_file():
            return
        self.accepted = filter_rows(self.into, dropped)

    def _discard(self) -> None:
        self.tables, self.accepted = [], 0
        if self.into is not None and self.into.is_file():
            self.into.unlink()


SCHEMA_TYPES = {"type-error", "constraint-error", "blank-row", "missing-cell", "extra-cell",
                "unique-error", "foreign-key", "cell-too-long", "merged-cells",
                "formula-without-value"}


def consequences_dropped(errors: list[Any]) -> list[Any]:
    """Frictionless also reports what follows from a structural error (a blank row breaks the
    primary key, a missing cell breaks 'required'); the department needs only the cause."""
    if any(error.type == "blank-row" for error in errors):
        return [error for error in errors if error.type == "blank-row"]
    missing = {error.field_name for error in errors if error.type == "missing-cell"}
    return [error for error in errors
            if not (error.type == "constraint-error" and error.field_name in missing)]


def stored_rows(register: Register, report_type: str, records: list[dict[str, Any]]
                ) -> pa.Table:
    """Typed records (with `_row`) as a verdict stores its accepted rows: every field of the
    report type in its canonical type, `_row` and the key hash `_key`."""
    schema = register.schema(report_type)
    columns = [pa.array([r.get(f.name) for r in records], canonical_type(f))
               for f in schema.fields]
    key = [columns[schema.field_names.index(n)] for n in schema.primary_key]
    return pa.table(columns + [pa.array([r[ROW] for r in records], pa.int64()),
                               pa.array(row_keys(key), pa.uint64())],
                    names=[*schema.field_names, ROW, KEY])
