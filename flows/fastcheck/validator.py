"""The streaming validator: read batches with pyarrow, check cells vectorised, hand every row
that is not certainly valid to Frictionless, check keys on hashes, report like Frictionless."""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import yaml
from frictionless import Dialect, Package, Resource, Schema, errors

from flows.fastcheck.fields import FieldCheck, key_type, key_value
from flows.fastcheck.keys import KeyLog, hash_rows

HEADER_FIRST = Dialect(header_rows=[1])
FLAT_KEYS = ("rowNumber", "fieldNumber", "fieldName", "type", "cell", "note", "message")


@dataclass
class FastReport:
    valid: bool
    rows: int
    errors: list[dict[str, Any]]
    seconds: float
    handed_over: list[str] = field(default_factory=list)  # what Frictionless checked instead

    def flatten(self, keys: tuple[str, ...] | list[str] = FLAT_KEYS) -> list[list[Any]]:
        return [[error.get(key) for key in keys] for error in self.errors]


def _descriptor(error: Any, row_number: int | None = None) -> dict[str, Any]:
    """The error as Frictionless's flattened report has it; for a row Frictionless checked on
    its own, with the row's number in the file (and the message rebuilt with it)."""
    descriptor = error.to_descriptor()
    if row_number is not None and descriptor.get("rowNumber") != row_number:
        descriptor["rowNumber"] = row_number
        descriptor = type(error).from_descriptor(descriptor).to_descriptor()
    return {key: descriptor.get(key) for key in FLAT_KEYS}


def validate_csv(path: str | Path, schema: Schema | dict | str | Path, *,
                 batch_bytes: int = 1 << 22,
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

    def on_invalid(row: Any) -> str:
        invalid.append((row.number, row.text))
        return "skip"

    names = [f"c{i}" for i in range(len(labels))]
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(skip_rows=1, column_names=names, use_threads=False,
                                       block_size=batch_bytes, encoding=encoding),
        parse_options=pacsv.ParseOptions(
            delimiter=control.delimiter, quote_char=control.quote_char or False,
            double_quote=control.double_quote, escape_char=control.escape_char or False,
            newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False,
            quoted_strings_can_be_null=False))
    rows_seen, next_number, invalid_seen = 0, 2, set()
    for batch in reader:
        invalid_seen.update(n for n, _ in invalid)
        count = batch.num_rows
        numbers = _numbers(next_number, count, invalid_seen)
        next_number = int(numbers[-1]) + 1 if count else next_number
        rows_seen += count
        results = [check.check(batch.column(i)) for i, check in enumerate(checks)]
        blank = np.logical_and.reduce([r[0] for r in results])
        clean = np.logical_and.reduce([r[1] for r in results]) & ~blank
        typed = {f.name: r[2] for f, r in zip(schema.fields, results, strict=True)}
        suspicious = np.flatnonzero(~clean)
        overrides: dict[int, dict[str, Any]] = {}
        if len(suspicious):
            cells = batch.take(pa.array(suspicious)).to_pylist()
            found = _frictionless_rows(row_schema, labels, [list(c.values()) for c in cells])
            for position, (row_number_errors, values) in zip(suspicious, found, strict=True):
                if row_number_errors:
                    pending[int(numbers[position])] = row_number_errors
                overrides[int(position)] = values
        if key_fields:
            _log_keys(logs, schema, pk, unique, fks, typed, overrides, numbers, key_fields)
    # rows pyarrow could not split into the header's width (extra or missing cells)
    if invalid:
        parsed = [next(csv.reader(io.StringIO(text), delimiter=control.delimiter,
                                  quotechar=control.quote_char or '"'), [])
                  for _, text in invalid]
        found = _frictionless_rows(row_schema, labels, parsed)
        numbers = np.array([n for n, _ in invalid], dtype=np.int64)
        empty_typed = {f.name: pa.nulls(len(invalid), key_type(f)) for f in schema.fields}
        overrides = {}
        for position, (number, (row_number_errors, values)) in enumerate(
                zip(numbers, found, strict=True)):
            if row_number_errors:
                pending[int(number)] = row_number_errors
            overrides[position] = values
        rows_seen += len(invalid)
        if key_fields:
            _log_keys(logs, schema, pk, unique, fks, empty_typed, overrides, numbers, key_fields)
    table_errors = _key_errors(logs, schema, pk, unique, fks, lookups or {}, handed)
    flagged: dict[str, set[int]] = {}
    for number, _, error in table_errors:
        flagged.setdefault(error["_key"], set()).add(number)
    row_errors = [(number, k, _descriptor(e, number))
                  for number, found_errors in pending.items()
                  for k, e in enumerate(order_row_errors(found_errors, number, schema, unique,
                                                         pk, fks, flagged))]
    for _, _, error in table_errors:
        error.pop("_key")
    everything = [(0, 0, k, e) for k, e in enumerate(header_errors)] + \
        [(n, 1, k, e) for n, k, e in row_errors] + [(n, 2, k, e) for n, k, e in table_errors]
    everything.sort(key=lambda item: (item[0], item[1], item[2]))
    found_errors = [e for *_, e in everything]
    return FastReport(valid=not found_errors, rows=rows_seen, errors=found_errors,
                      seconds=time.perf_counter() - started, handed_over=handed)


def load_schema(source: dict | str | Path) -> Schema:
    """A Table Schema from a dict or a JSON/YAML file anywhere (read here, so Frictionless's
    path-safety rule for descriptors does not refuse absolute paths the user gave us)."""
    if isinstance(source, dict):
        return Schema.from_descriptor(source)
    text = Path(source).read_text(encoding="utf-8")
    return Schema.from_descriptor(yaml.safe_load(text))  # YAML is a superset of JSON


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
    cell_errors = [e for e in row_errors if e.type in ("type-error", "constraint-error")]
    others = [e for e in row_errors if e.type not in ("type-error", "constraint-error")]
    cell_errors.sort(key=lambda e: order.index(e.field_name))
    return cell_errors + others


def _log_keys(logs, schema, pk, unique, fks, typed, overrides, numbers, key_fields) -> None:
    columns = {}
    for name in key_fields:
        field_ = schema.get_field(name)
        column = typed[name]
        if column.type != key_type(field_):
            column = pc.cast(column, key_type(field_))
        if overrides:
            values = column.to_pylist()
            for position, row_values in overrides.items():
                values[position] = key_value(field_, row_values.get(name))
            column = pa.array(values, key_type(field_))
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


def _key_errors(logs, schema, pk, unique, fks, lookups, handed) -> list[tuple[int, int, dict]]:
    found: list[tuple[int, int, dict]] = []
    for order, name in enumerate(unique):
        for number in logs[f"u:{name}"].repeated():
            error = errors.UniqueError(note="the same as in an earlier row", cells=[],
                                       row_number=int(number), cell="", field_name=name,
                                       field_number=schema.field_names.index(name) + 1)
            found.append((int(number), order, {**_descriptor(error), "_key": f"u:{name}"}))
    if pk:
        rows, _, skip = logs["pk"].arrays()
        for number in rows[skip]:
            error = errors.PrimaryKeyError(
                note='cells composing the primary keys are all "None"', cells=[],
                row_number=int(number))
            found.append((int(number), 100, {**_descriptor(error), "_key": "pk"}))
        for number in logs["pk"].repeated():
            error = errors.PrimaryKeyError(note="the same as in an earlier row", cells=[],
                                           row_number=int(number))
            found.append((int(number), 100, {**_descriptor(error), "_key": "pk"}))
    for i, fk in enumerate(fks):
        target = fk["reference"]["resource"]
        if target:
            if target not in lookups:
                handed.append(f"foreign key to '{target}' not checked: give its CSV as a lookup")
                continue
            reference = _lookup_hashes(lookups[target], fk)
        else:
            _, ref_hashes, ref_skip = logs[f"ref:{i}"].arrays()
            reference = ref_hashes[~ref_skip]
        rows, hashes, skip = logs[f"fk:{i}"].arrays()
        missing = ~np.isin(hashes, reference) & ~skip
        for number in rows[missing]:
            error = errors.ForeignKeyError(
                note=f'for "{", ".join(fk["fields"])}": values not found in the lookup table',
                cells=[], row_number=int(number), field_names=list(fk["fields"]),
                field_cells=[], reference_name=target,
                reference_field_names=list(fk["reference"]["fields"]))
            found.append((int(number), 200 + i, {**_descriptor(error), "_key": f"fk:{i}"}))
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
    return FastReport(valid=report.valid, rows=task.stats.get("rows") or 0, errors=found,
                      seconds=time.perf_counter() - started, handed_over=handed)
