"""The streaming validator: read batches with pyarrow, check cells vectorised, hand every row
that is not certainly valid to Frictionless, check keys on hashes, report like Frictionless."""

from __future__ import annotations

import csv
import io
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import yaml
from frictionless import Dialect, Package, Resource, Schema, errors, helpers

from flows.fastcheck.fields import FieldCheck, key_type, key_value
from flows.fastcheck.keys import KeyLog, hash_rows

HEADER_FIRST = Dialect(header_rows=[1])
POOL = ThreadPoolExecutor(max_workers=max(2, min(8, os.cpu_count() or 2)))  # Arrow frees the GIL
FLAT_KEYS = ("rowNumber", "fieldNumber", "fieldName", "type", "cell", "note", "message")


class Found(NamedTuple):
    """One error, compact: rendered as Frictionless's flat error only when asked for (building
    Frictionless error objects costs ~100 µs each, and a message per error adds up)."""

    kind: type
    note: str
    row: int | None
    field: str | None
    number: int | None
    cell: str | None

    def render(self, keys: tuple[str, ...] | list[str] = FLAT_KEYS) -> dict[str, Any]:
        values = {"type": self.kind.type, "title": self.kind.title,
                  "description": self.kind.description, "note": self.note,
                  "rowNumber": self.row, "fieldName": self.field, "fieldNumber": self.number,
                  "cell": self.cell, "cells": []}
        if "message" in keys:
            values["message"] = helpers.safe_format(self.kind.template, values)
        return {key: values.get(key) for key in keys}


@dataclass
class FastReport:
    valid: bool
    rows: int
    found: list[Any]  # Found, or an already rendered dict (header errors)
    seconds: float
    handed_over: list[str] = field(default_factory=list)  # what Frictionless checked instead

    def iter_errors(self, keys: tuple[str, ...] | list[str] = FLAT_KEYS):
        for item in self.found:
            yield item.render(keys) if isinstance(item, Found) else \
                {key: item.get(key) for key in keys}

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.iter_errors())

    def flatten(self, keys: tuple[str, ...] | list[str] = FLAT_KEYS) -> list[list[Any]]:
        return [[error[key] for key in keys] for error in self.iter_errors(tuple(keys))]


def flat_error(kind: type, *, note: str = "", row_number: int | None = None,
               field_name: str | None = None, field_number: int | None = None,
               cell: str | None = None) -> Found:
    return Found(kind, note, row_number, field_name, field_number, cell)


def _descriptor(error: Any, row_number: int | None = None) -> Any:
    """A Frictionless error object as a flat error, at the row's number in the file."""
    if row_number is None:
        descriptor = error.to_descriptor()
        return {key: descriptor.get(key) for key in FLAT_KEYS}
    return flat_error(type(error), note=error.note, row_number=row_number,
                      field_name=getattr(error, "field_name", None),
                      field_number=getattr(error, "field_number", None),
                      cell=getattr(error, "cell", None))


def cell_errors(field_: Any, number: int, row_number: int, cell: Any,
                notes: dict[str, str]) -> list[Found]:
    """What Frictionless's Row reports for one cell, from its own cell reader's notes."""
    if "type" in notes:
        return [flat_error(errors.TypeError, note=notes["type"], row_number=row_number,
                           field_name=field_.name, field_number=number, cell=str(cell))]
    return [flat_error(errors.ConstraintError, note=note, row_number=row_number,
                       field_name=field_.name, field_number=number, cell=str(cell))
            for note in notes.values()]


def validate_csv(path: str | Path, schema: Schema | dict | str | Path, *,
                 batch_bytes: int = 1 << 23,
                 lookups: dict[str, str | Path] | None = None) -> FastReport:
    started = time.perf_counter()
    path = Path(path)
    if not isinstance(schema, Schema):
        schema = load_schema(schema)
    resource = Resource(path=path.name, basepath=str(path.parent.resolve()))
    resource.infer()
    control = resource.dialect.get_control("csv")
    encoding = resource.encoding or "utf-8"
    labels, header_errors = _header(path, encoding, control, _row_schema(schema))
    handed: list[str] = []
    if len(labels) != len(schema.fields) or resource.format != "csv":
        handed.append("header and schema differ in width: Frictionless validated the whole file")
        return _frictionless(path, schema, started, handed, lookups or {})
    arrow_encoding = {"utf-8": "utf8", "utf-8-sig": "utf8", "ascii": "utf8"}.get(
        encoding.replace("_", "-").lower(), encoding)
    if arrow_encoding != "utf8" and not _one_byte(encoding):
        handed.append(f"the encoding {encoding} is read by Python only: Frictionless validated "
                      "the whole file")
        return _frictionless(path, schema, started, handed, lookups or {})
    if control.skip_initial_space or control.escape_char:
        handed.append("the CSV dialect (spaces after delimiters or an escape character) is "
                      "read by Python's csv module only: Frictionless validated the whole file")
        return _frictionless(path, schema, started, handed, lookups or {})

    checks = [FieldCheck(f, f.missing_values if f.has_defined("missing_values")
                         else schema.missing_values) for f in schema.fields]
    row_schema = _row_schema(schema)
    pk = list(schema.primary_key)
    unique = [f.name for f in schema.fields if f.constraints.get("unique")]
    fks = [fk for fk in schema.foreign_keys]
    key_fields = sorted({*pk, *unique, *(n for fk in fks for n in fk["fields"]),
                         *(n for fk in fks if not fk["reference"]["resource"]
                           for n in fk["reference"]["fields"])},
                        key=schema.field_names.index)
    logs = {"pk": KeyLog(), **{f"u:{n}": KeyLog() for n in unique},
            **{f"fk:{i}": KeyLog() for i in range(len(fks))},
            **{f"ref:{i}": KeyLog() for i, fk in enumerate(fks)
               if not fk["reference"]["resource"]}}
    pending: dict[int, list[Any]] = {}  # row-level errors, ordered once keys are checked
    invalid: list[tuple[int, str]] = []
    offset = [0]  # rows of the file before the piece being parsed

    def on_invalid(row: Any) -> str:
        invalid.append((offset[0] + row.number, row.text))
        return "skip"

    names = [f"c{i}" for i in range(len(labels))]
    parse = pacsv.ParseOptions(
        delimiter=control.delimiter, quote_char=control.quote_char or False,
        double_quote=control.double_quote, escape_char=False, newlines_in_values=True,
        ignore_empty_lines=False, invalid_row_handler=on_invalid)
    convert = pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                   strings_can_be_null=False, quoted_strings_can_be_null=False)
    rows_seen, next_number = 0, 2
    for first, piece in _pieces(path, encoding, batch_bytes, control.quote_char):
        # one piece at a time (pyarrow's own streaming reader ran far ahead: its memory grew
        # with the file); one thread, so that a row set aside keeps its number
        before = len(invalid)
        offset[0] = 0 if first else next_number - 1
        # one thread: only then does pyarrow say where a set-aside row stood
        table = pacsv.read_csv(pa.BufferReader(piece), read_options=pacsv.ReadOptions(
            skip_rows=1 if first else 0, column_names=names, use_threads=False,
            block_size=len(piece) + 1, encoding=arrow_encoding),
            parse_options=parse, convert_options=convert)
        set_aside = {n for n, _ in invalid[before:]}
        numbers = _numbers(next_number, table.num_rows, set_aside)
        next_number += table.num_rows + len(set_aside)
        rows_seen += table.num_rows
        for batch in table.to_batches():
            _check_batch(batch, numbers[:batch.num_rows], schema, checks, pending, logs, pk,
                         unique, fks, key_fields)
            numbers = numbers[batch.num_rows:]
    # rows pyarrow could not split into the header's width (extra or missing cells)
    if invalid:
        parsed = [next(csv.reader(io.StringIO(text), delimiter=control.delimiter,
                                  quotechar=control.quote_char or '"'), [])
                  for _, text in invalid]
        found = _frictionless_rows(row_schema, labels, parsed)
        numbers = np.array([n for n, _ in invalid], dtype=np.int64)
        empty_typed = {f.name: pa.nulls(len(invalid), key_type(f)) for f in schema.fields}
        everywhere = np.arange(len(invalid))
        overrides = {f.name: (everywhere, [key_value(f, values.get(f.name)) for _, values in found])
                     for f in schema.fields}
        for number, (row_number_errors, _) in zip(numbers, found, strict=True):
            if row_number_errors:
                pending[int(number)] = [_descriptor(e, int(number)) for e in row_number_errors]
        rows_seen += len(invalid)
        if key_fields:
            _log_keys(logs, schema, pk, unique, fks, empty_typed, overrides, numbers, key_fields)
    table_errors = _key_errors(logs, schema, pk, unique, fks, lookups or {}, handed)
    flagged: dict[str, set[int]] = {}
    for number, _, _, key in table_errors:
        flagged.setdefault(key, set()).add(number)
    row_errors = [(number, k, e) for number, found_errors in pending.items()
                  for k, e in enumerate(order_row_errors(found_errors, number, schema, unique,
                                                         pk, fks, flagged))]
    everything = [(0, 0, k, e) for k, e in enumerate(header_errors)] + \
        [(n, 1, k, e) for n, k, e in row_errors] + [(n, 2, k, e) for n, k, e, _ in table_errors]
    everything.sort(key=lambda item: (item[0], item[1], item[2]))
    found_errors = [e for *_, e in everything]
    return FastReport(valid=not found_errors, rows=rows_seen, found=found_errors,
                      seconds=time.perf_counter() - started, handed_over=handed)


def load_schema(source: dict | str | Path) -> Schema:
    """A Table Schema from a dict or a JSON/YAML file anywhere (read here, so Frictionless's
    path-safety rule for descriptors does not refuse absolute paths the user gave us)."""
    if isinstance(source, dict):
        return Schema.from_descriptor(source)
    text = Path(source).read_text(encoding="utf-8")
    return Schema.from_descriptor(yaml.safe_load(text))  # YAML is a superset of JSON


def _check_batch(batch: pa.RecordBatch, numbers: np.ndarray, schema: Schema,
                 checks: list[FieldCheck], pending: dict[int, list[Any]], logs: dict,
                 pk: list[str], unique: list[str], fks: list[dict],
                 key_fields: list[str]) -> None:
    """Check one batch: vectorised where sure, Frictionless's cell readers where not."""
    results = list(POOL.map(lambda item: item[1].check(batch.column(item[0])),
                            enumerate(checks)))
    blank = np.logical_and.reduce([r[0] for r in results])
    typed = {f.name: r[2] for f, r in zip(schema.fields, results, strict=True)}
    overrides: dict[str, tuple[np.ndarray, list[Any]]] = {}
    for position in np.flatnonzero(blank):
        number = int(numbers[position])
        pending[number] = [flat_error(errors.BlankRowError, row_number=number)]
    for index, (field_, check) in enumerate(zip(schema.fields, checks, strict=True)):
        unsure = np.flatnonzero(~results[index][1] & ~blank)
        if not len(unsure):
            continue
        cells = batch.column(index).take(pa.array(unsure)).to_pylist()
        values = []
        for position, cell in zip(unsure, cells, strict=True):
            target, notes = check.reader(cell)
            if notes:
                number = int(numbers[position])
                pending.setdefault(number, []).extend(
                    cell_errors(field_, index + 1, number, cell, notes))
            values.append(None if notes and "type" in notes else key_value(field_, target))
        overrides[field_.name] = (unsure, values)
    if key_fields:
        _log_keys(logs, schema, pk, unique, fks, typed, overrides, numbers, key_fields)


def _one_byte(encoding: str) -> bool:
    import codecs

    try:
        return len("\n".encode(codecs.lookup(encoding).name)) == 1 and len(
            "é".encode(encoding, errors="replace")) == 1
    except LookupError:
        return False


def _pieces(path: Path, encoding: str, size: int, quote: str | None):
    """The file in pieces of about `size` bytes, each cut after a newline outside quotes (a
    quoted value may hold newlines). Byte cuts are safe for UTF-8 and one-byte encodings."""
    quote_byte = (quote or '"').encode("ascii")[0]
    carry, first = b"", True
    with path.open("rb") as handle:
        while True:
            block = handle.read(size)
            data = carry + block
            if not block:
                if data:
                    yield first, data
                return
            cut = _last_cut(data, quote_byte)
            if cut is None:
                carry = data
                continue
            yield first, data[:cut]
            first, carry = False, data[cut:]


def _last_cut(data: bytes, quote: int) -> int | None:
    """Just after the last newline outside quotes (quote parity from the piece's start, which
    is outside quotes), or None."""
    position = len(data)
    quotes = bytes([quote])
    for _ in range(64):
        position = data.rfind(b"\n", 0, position)
        if position < 0:
            return None
        if data.count(quotes, 0, position) % 2 == 0:
            return position + 1
    raw = np.frombuffer(data, dtype=np.uint8)  # many quoted newlines: all at once
    inside = (np.cumsum(raw == quote, dtype=np.uint8) & 1).astype(bool)
    cuts = np.flatnonzero((raw == 10) & ~inside)
    return int(cuts[-1]) + 1 if len(cuts) else None


def _numbers(start: int, count: int, invalid: set[int]) -> np.ndarray:
    """The next `count` row numbers from `start`, skipping the rows pyarrow set aside."""
    skipped = sorted(n for n in invalid if n >= start)
    numbers = np.arange(start, start + count + len(skipped), dtype=np.int64)
    if skipped:
        numbers = numbers[~np.isin(numbers, skipped)]
    return numbers[:count]


def _header(path: Path, encoding: str, control: Any, schema: Schema):
    with path.open(encoding=encoding, newline="") as handle:
        labels = next(csv.reader(handle, delimiter=control.delimiter,
                                 quotechar=control.quote_char or '"'), [])
    if encoding.replace("_", "-").lower() in ("utf-8-sig",) and labels:
        labels[0] = labels[0].lstrip("\ufeff")
    probe = Resource(data=[labels], schema=schema, dialect=HEADER_FIRST)
    with probe:
        header_errors = [_descriptor(e) for e in probe.header.errors]
    return labels, header_errors


def _row_schema(schema: Schema) -> Schema:
    """The schema without what is checked across rows (keys, unique): Frictionless checks each
    handed-over row on its own."""
    descriptor = schema.to_descriptor()
    descriptor.pop("primaryKey", None)
    descriptor.pop("foreignKeys", None)
    for item in descriptor["fields"]:
        item.get("constraints", {}).pop("unique", None)
    return Schema.from_descriptor(descriptor)


def _frictionless_rows(schema: Schema, labels: list[str], rows: list[list[Any]]):
    """Frictionless's own row-level errors and typed values for each given row."""
    resource = Resource(data=[labels, *rows], schema=schema, dialect=HEADER_FIRST)
    found = []
    with resource:
        for row in resource.row_stream:
            found.append((row.errors, row.to_dict()))
    return found


def order_row_errors(row_errors: list[Any], number: int, schema: Schema, unique: list[str],
                     pk: list[str], fks: list[dict], flagged: dict[str, set[int]]) -> list[Any]:
    """Frictionless reads a row's cells lazily: its table checks touch the unique fields, then
    the primary key, then the foreign keys, and the first of those checks that fails reads the
    rest of the row. Cell errors are reported in the order the cells were read."""
    order: list[str] = []

    def touch(names: list[str]) -> None:
        order.extend(n for n in names if n not in order)

    def finish() -> list[str]:
        touch(schema.field_names)
        return order

    done = False
    for name in unique:
        touch([name])
        if number in flagged.get(f"u:{name}", ()):
            done = bool(finish())
            break
    if not done and pk:
        touch(pk)
        done = number in flagged.get("pk", ()) and bool(finish())
    if not done:
        for i, fk in enumerate(fks):
            touch(list(fk["fields"]))
            if number in flagged.get(f"fk:{i}", ()):
                break
    finish()
    in_cells = [e for e in row_errors if e.kind.type in ("type-error", "constraint-error")]
    others = [e for e in row_errors if e.kind.type not in ("type-error", "constraint-error")]
    in_cells.sort(key=lambda e: order.index(e.field))
    return in_cells + others


def _log_keys(logs, schema, pk, unique, fks, typed, overrides, numbers, key_fields) -> None:
    columns = {}
    for name in key_fields:
        field_ = schema.get_field(name)
        column = typed[name]
        if column.type != key_type(field_):
            column = pc.cast(column, key_type(field_))
        if name in overrides:
            positions, values = overrides[name]
            mask = np.zeros(len(column), dtype=bool)
            mask[positions] = True
            column = pc.replace_with_mask(column, pa.array(mask),
                                          pa.array(values, key_type(field_)))
        columns[name] = column

    def add(log: KeyLog, names: list[str], skip_all_none: bool) -> None:
        arrays = [columns[n] for n in names]
        nulls = np.logical_and.reduce([a.is_null().to_numpy(zero_copy_only=False)
                                       for a in arrays])
        log.add(numbers, hash_rows(arrays), nulls if skip_all_none else np.zeros_like(nulls))

    if pk:
        add(logs["pk"], pk, skip_all_none=True)
    for name in unique:
        add(logs[f"u:{name}"], [name], skip_all_none=True)
    for i, fk in enumerate(fks):
        add(logs[f"fk:{i}"], list(fk["fields"]), skip_all_none=True)
        if not fk["reference"]["resource"]:
            add(logs[f"ref:{i}"], list(fk["reference"]["fields"]), skip_all_none=True)


def _key_errors(logs, schema, pk, unique, fks, lookups, handed) -> list[tuple]:
    found: list[tuple] = []
    for order, name in enumerate(unique):
        for number in logs[f"u:{name}"].repeated():
            error = flat_error(errors.UniqueError, note="the same as in an earlier row",
                               row_number=int(number), cell="", field_name=name,
                               field_number=schema.field_names.index(name) + 1)
            found.append((int(number), order, error, f"u:{name}"))
    if pk:
        for number in logs["pk"].skipped():
            error = flat_error(errors.PrimaryKeyError, row_number=int(number),
                               note='cells composing the primary keys are all "None"')
            found.append((int(number), 100, error, "pk"))
        for number in logs["pk"].repeated():
            error = flat_error(errors.PrimaryKeyError, row_number=int(number),
                               note="the same as in an earlier row")
            found.append((int(number), 100, error, "pk"))
    for i, fk in enumerate(fks):
        target = fk["reference"]["resource"]
        if target:
            if target not in lookups:
                handed.append(f"foreign key to '{target}' not checked: give its CSV as a lookup")
                continue
            reference = _lookup_hashes(lookups[target], fk)
        else:
            reference = logs[f"ref:{i}"].hashes()
        for number in logs[f"fk:{i}"].missing_from(reference):
            error = flat_error(
                errors.ForeignKeyError, row_number=int(number),
                note=f'for "{", ".join(fk["fields"])}": values not found in the lookup table')
            found.append((int(number), 200 + i, error, f"fk:{i}"))
    return found


def _lookup_hashes(path: str | Path, fk: dict) -> np.ndarray:
    """Hashes of the referenced fields in another resource, typed by its own schema
    (a CSV with a sibling <name>.schema.yaml, or inferred by Frictionless)."""
    path = Path(path)
    schema_path = path.with_suffix("").with_suffix(".schema.yaml")
    resource = Resource(path=path.name, basepath=str(path.parent.resolve()),
                        schema=load_schema(schema_path) if schema_path.exists() else None)
    names = list(fk["reference"]["fields"])
    with resource:
        rows = [tuple(row.get(n) for n in names) for row in resource.row_stream]
    rows = [r for r in rows if set(r) != {None}]
    fields = [resource.schema.get_field(n) for n in names]
    arrays = [pa.array([key_value(f, r[i]) for r in rows], key_type(f))
              for i, f in enumerate(fields)]
    return hash_rows(arrays) if rows else np.zeros(0, dtype=np.uint64)


def _frictionless(path: Path, schema: Schema, started: float, handed: list[str],
                  lookups: dict[str, str | Path]) -> FastReport:
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
        schema_path = lookup.with_suffix("").with_suffix(".schema.yaml")
        resources.append(Resource(
            name=name, path=str(lookup.relative_to(base)) if lookup.is_relative_to(base)
            else lookup.name, basepath=str(base if lookup.is_relative_to(base) else lookup.parent),
            schema=load_schema(schema_path) if schema_path.exists() else None))
    resources.append(Resource(name="data", path=path.name, basepath=str(base),
                              schema=Schema.from_descriptor(descriptor),
                              dialect=Dialect(header_rows=[1])))
    package = Package(resources=resources, basepath=str(base))
    report = package.get_resource("data").validate(limit_errors=10**12)
    task = report.tasks[0]
    found = [_descriptor(e) for e in task.errors]
    return FastReport(valid=report.valid, rows=task.stats.get("rows") or 0, found=found,
                      seconds=time.perf_counter() - started, handed_over=handed)
