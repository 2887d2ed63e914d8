"""The streaming validator: read batches with pyarrow, check cells vectorised, hand every row
that is not certainly valid to Frictionless, check keys on hashes, report like Frictionless."""

from __future__ import annotations

import csv
import gc
import io
import os
import time
from concurrent.futures import ThreadPoolExecutor
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from frictionless import Package, Resource, Schema, errors

from flows.checks.fastcheck.fields import MISSING, UNSURE, FieldCheck
from flows.checks.fastcheck.keycheck import Keys, order_row_errors
from flows.checks.fastcheck.keys import canonical_type, cells_of, fits, typed_array
from flows.checks.fastcheck.result import FastResult, Found, cell_errors, flat_error, from_frictionless
from flows.checks.fastcheck.schemas import header_first, load_schema, row_schema, sibling_schema
from flows.intake.pieces import Piece, in_order, numbers_from, one_byte, parse_piece, pieces

# pieces are parsed and checked in threads (pyarrow and numpy free the GIL), in order
WORKERS = max(2, min(8, os.cpu_count() or 2))
POOL = ThreadPoolExecutor(max_workers=WORKERS)
AHEAD = WORKERS + 1


def validate_csv(path: str | Path, schema: Schema | dict | str | Path, *,
                 batch_bytes: int = 1 << 23,
                 lookups: dict[str, str | Path] | None = None,
                 strategy: str = "auto") -> FastResult:
    """Frictionless's verdict on a CSV file and a Table Schema, read in pieces of about
    `batch_bytes`. `strategy` forces how cells are checked ("dictionary": once per distinct
    value, "direct": cell by cell; "auto" picks per column) - the verdict is the same.

    Python's cycle collector is paused meanwhile: each of its full passes walks every object
    of the process, and thousands of small error records would set off several (the
    validator makes no reference cycles)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _validate(path, schema, batch_bytes, lookups, strategy)
    finally:
        if collecting:
            gc.enable()


def _validate(path: str | Path, schema: Schema | dict | str | Path, batch_bytes: int,
              lookups: dict[str, str | Path] | None, strategy: str) -> FastResult:
    started = time.perf_counter()
    path, lookups = Path(path), lookups or {}
    if not isinstance(schema, Schema):
        schema = load_schema(schema)
    if not path.is_file():  # a pipe, a device: read once, by Frictionless
        return _frictionless(path, schema, started, ["not a regular file: Frictionless "
                                                      "validated it"], lookups)
    # encoding and dialect from a sample; with the schema given, no schema is inferred
    per_row = row_schema(schema)
    resource = Resource(path=path.name, basepath=str(path.parent.resolve()), schema=per_row)
    resource.infer()
    handed: list[str] = []
    if resource.format != "csv":
        handed.append(f"not a CSV file by its name (format {resource.format!r}): Frictionless "
                      "validated it")
        return _frictionless(path, schema, started, handed, lookups)
    control = resource.dialect.get_control("csv")
    encoding = resource.encoding or "utf-8"
    labels, header_errors = _header(path, encoding, control, per_row)
    if len(labels) != len(schema.fields):
        handed.append("header and schema differ in width: Frictionless validated the whole file")
        return _frictionless(path, schema, started, handed, lookups)
    arrow_encoding = {"utf-8": "utf8", "utf-8-sig": "utf8", "ascii": "utf8"}.get(
        encoding.replace("_", "-").lower(), encoding)
    if arrow_encoding != "utf8" and not one_byte(encoding):
        handed.append(f"the encoding {encoding} is read by Python only: Frictionless validated "
                      "the whole file")
        return _frictionless(path, schema, started, handed, lookups)
    if control.skip_initial_space or control.escape_char:
        handed.append("the CSV dialect (spaces after delimiters or an escape character) is "
                      "read by Python's csv module only: Frictionless validated the whole file")
        return _frictionless(path, schema, started, handed, lookups)

    keys = Keys(schema)
    checks = [FieldCheck(f, f.missing_values if f.has_defined("missing_values")
                         else schema.missing_values, key=f.name in keys.fields, strategy=strategy)
              for f in schema.fields]
    pending: dict[int, list[Any]] = {}  # row-level errors, ordered once keys are checked
    names = [f"c{i}" for i in range(len(labels))]
    parse = dict(delimiter=control.delimiter, quote_char=control.quote_char or False,
                 double_quote=control.double_quote, escape_char=False, newlines_in_values=True,
                 ignore_empty_lines=False)
    convert = dict(column_types={n: pa.string() for n in names}, strings_can_be_null=False,
                   quoted_strings_can_be_null=False)
    rows_seen, next_number = 0, 2
    invalid: list[tuple[int, str]] = []

    def inspect(piece: Piece) -> Findings:  # in a worker thread
        table, set_aside = parse_piece(piece, names, arrow_encoding, parse, convert)
        return _inspect(table, set_aside, schema, checks, keys)

    source = pieces(path, batch_bytes, control.quote_char, control.delimiter)
    try:
        for found in in_order(inspect, source, POOL, AHEAD):
            offset = next_number - 1  # pyarrow counts a piece's rows from 1
            set_aside = [(offset + number, text) for number, text in found.set_aside]
            invalid.extend(set_aside)
            numbers = numbers_from(next_number, found.rows, {n for n, _ in set_aside})
            next_number += found.rows + len(set_aside)
            rows_seen += found.rows
            _record(found, numbers, schema, pending, keys)
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        # bytes that are not text in the detected encoding, past the sample it was detected
        # from: Frictionless reports that its own way (an encoding error for the file)
        handed.append(f"pyarrow could not read the file as {encoding} ({error}): "
                      "Frictionless validated the whole file")
        return _frictionless(path, schema, started, handed, lookups)
    # rows pyarrow could not split into the header's width (extra or missing cells)
    if invalid:
        parsed = [next(csv.reader(io.StringIO(text), delimiter=control.delimiter,
                                  quotechar=control.quote_char or '"'), [])
                  for _, text in invalid]
        found = _frictionless_rows(per_row, labels, parsed)
        numbers = np.array([n for n, _ in invalid], dtype=np.int64)
        for number, (row_number_errors, _) in zip(numbers, found, strict=True):
            if row_number_errors:
                pending[int(number)] = [from_frictionless(e, int(number)) for e in row_number_errors]
        rows_seen += len(invalid)
        if keys.fields:
            keys.log(numbers, {name: cells_of(schema.get_field(name),
                                              [values.get(name) for _, values in found])
                               for name in keys.fields})
    table_errors = keys.errors(lookups, handed)
    flagged: dict[str, set[int]] = {}
    for number, _, _, key in table_errors:
        flagged.setdefault(key, set()).add(number)
    row_errors = [(number, k, e) for number, found_errors in pending.items()
                  for k, e in enumerate(order_row_errors(found_errors, number, keys, flagged))]
    everything = [(0, 0, k, e) for k, e in enumerate(header_errors)] + \
        [(n, 1, k, e) for n, k, e in row_errors] + [(n, 2, k, e) for n, k, e, _ in table_errors]
    everything.sort(key=itemgetter(0, 1, 2))
    found_errors = [e for *_, e in everything]
    return FastResult(valid=not found_errors, rows=rows_seen, found=found_errors,
                      seconds=time.perf_counter() - started, handed_over=handed)


class Findings(NamedTuple):
    """What the checks found in one piece, by position in the piece (its row numbers are
    known only once the pieces before it are counted)."""

    rows: int
    set_aside: list[tuple[int, str]]  # rows pyarrow could not split: (number in piece, text)
    blank: np.ndarray  # positions of blank rows
    cells: list[tuple[int, int, Any, dict]]  # (position, field index, cell, notes)
    logs: dict[str, tuple[np.ndarray, np.ndarray]]  # key log entries, prepared
    typed: list[pa.Array] | None = None  # the typed values, per field, when the checks want them
    too_large: list[tuple[int, int, Any]] = []  # (position, field index, cell): no 64-bit int


def _inspect(table: pa.Table, set_aside: list[tuple[int, str]], schema: Schema,
             checks: list[FieldCheck], keys: Keys) -> Findings:
    """Check one parsed piece: vectorised where sure, Frictionless's cell readers on every
    cell that is not, blank rows, and the key hashes. Runs in a worker thread."""
    rows = table.num_rows
    if not rows:
        return Findings(0, set_aside, np.zeros(0, dtype=np.int64), [], {},
                        [pa.array([], canonical_type(f)) for f in schema.fields]
                        if checks and checks[0].typed else None)
    columns = [c.chunk(0) if c.num_chunks == 1 else c.combine_chunks() for c in table.columns]
    results = [check.check(column) for check, column in zip(checks, columns, strict=True)]
    blank = np.bitwise_and.reduce([found.status for found in results]) & MISSING != 0
    cells, key_cells, typed, too_large = [], {}, [], []
    for index, (field_, check) in enumerate(zip(schema.fields, checks, strict=True)):
        found = results[index]
        unsure = np.flatnonzero((found.status & UNSURE != 0) & ~blank)
        values = []
        for position, cell in zip(unsure.tolist(),
                                  columns[index].take(pa.array(unsure)).to_pylist(), strict=True):
            target, notes = check.read(cell)
            if notes:
                cells.append((position, index, cell, notes))
            elif not fits(field_, target):
                too_large.append((position, index, cell))
            values.append(None if notes and "type" in notes else target)
        field_cells = found.cells
        if field_cells is not None:
            if len(unsure):  # Frictionless's typed value, as the key check would see it
                field_cells = field_cells.put(unsure, cells_of(field_, values))
            key_cells[field_.name] = field_cells
        if found.typed is not None:
            column = found.typed
            if len(unsure):
                column = _put(column, unsure, typed_array(field_, values))
            typed.append(column)
    return Findings(rows, set_aside, np.flatnonzero(blank), cells,
                    keys.prepare(key_cells) if keys.fields else {},
                    typed if typed else None, too_large)


def _put(column: pa.Array, positions: np.ndarray, values: pa.Array) -> pa.Array:
    """The column with `values` at `positions` (few: the cells Frictionless read)."""
    where = np.zeros(len(column), dtype=bool)
    where[positions] = True
    spread = np.zeros(len(column), dtype=np.int64)
    spread[positions] = np.arange(len(positions))
    return pc.if_else(pa.array(where), values.take(pa.array(spread)), column)


def _record(found: Findings, numbers: np.ndarray, schema: Schema,
            pending: dict[int, list[Found]], keys: Keys) -> None:
    """A piece's findings at their row numbers: errors and key logs."""
    for position in found.blank.tolist():
        number = int(numbers[position])
        pending[number] = [flat_error(errors.BlankRowError, row_number=number)]
    fields = schema.fields
    for position, index, cell, notes in found.cells:
        number = int(numbers[position])
        pending.setdefault(number, []).extend(
            cell_errors(fields[index], index + 1, number, cell, notes))
    if found.logs:
        keys.append(numbers, found.logs)


def _header(path: Path, encoding: str, control: Any, schema: Schema):
    with path.open(encoding=encoding, newline="") as handle:
        labels = next(csv.reader(handle, delimiter=control.delimiter,
                                 quotechar=control.quote_char or '"'), [])
    if encoding.replace("_", "-").lower() in ("utf-8-sig",) and labels:
        labels[0] = labels[0].lstrip("\ufeff")
    if labels == schema.field_names and "" not in labels and len(set(labels)) == len(labels):
        return labels, []  # the labels are the fields' names: nothing for Frictionless to say
    probe = Resource(data=[labels], schema=schema, dialect=header_first())
    with probe:
        header_errors = [from_frictionless(e) for e in probe.header.errors]
    return labels, header_errors


def _frictionless_rows(schema: Schema, labels: list[str], rows: list[list[Any]]):
    """Frictionless's own row-level errors and typed values for each given row."""
    resource = Resource(data=[labels, *rows], schema=schema, dialect=header_first())
    found = []
    with resource:
        for row in resource.row_stream:
            found.append((row.errors, row.to_dict()))
    return found


def _frictionless(path: Path, schema: Schema, started: float, handed: list[str],
                  lookups: dict[str, str | Path]) -> FastResult:
    """Frictionless itself, on the whole file (foreign keys against the given lookups)."""
    descriptor = schema.to_descriptor()
    targets = {fk["reference"]["resource"] for fk in schema.foreign_keys} - {""}
    missing = sorted(targets - set(lookups))
    if missing:
        handed.append(f"foreign keys to {', '.join(missing)} not checked: give them as lookups")
        descriptor["foreignKeys"] = [fk for fk in schema.foreign_keys
                                     if fk["reference"]["resource"] not in missing]
    base = path.parent.resolve()
    resources = []
    for name in sorted(targets - set(missing)):
        lookup = Path(lookups[name]).resolve()
        resources.append(Resource(
            name=name, path=str(lookup.relative_to(base)) if lookup.is_relative_to(base)
            else lookup.name, basepath=str(base if lookup.is_relative_to(base) else lookup.parent),
            schema=sibling_schema(lookup)))
    resources.append(Resource(name="data", path=path.name, basepath=str(base),
                              schema=Schema.from_descriptor(descriptor),
                              dialect=header_first()))
    package = Package(resources=resources, basepath=str(base))
    report = package.get_resource("data").validate(limit_errors=10**12)
    task = report.tasks[0]
    found = [from_frictionless(e) for e in task.errors]
    return FastResult(valid=report.valid, rows=task.stats.get("rows") or 0, found=found,
                      seconds=time.perf_counter() - started, handed_over=handed)
