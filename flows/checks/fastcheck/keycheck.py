"""Unique, primary and foreign keys across the whole file, on the hash logs of keys.py, and the
order in which Frictionless reports a row's errors around them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from frictionless import Resource, Schema, errors

from flows.checks.fastcheck.keys import KeyCells, KeyLog, cells_of, key_hashes
from flows.checks.fastcheck.result import Found, flat_error
from flows.checks.fastcheck.schemas import row_schema, sibling_schema


class Keys:
    """The key logs of one file: fed batch by batch with per-field hashes, asked for the
    errors at the end."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self.pk = pk = list(schema.primary_key)
        self.unique = unique = [f.name for f in schema.fields if f.constraints.get("unique")]
        self.fks = fks = list(schema.foreign_keys)
        local = [(i, fk) for i, fk in enumerate(fks) if not fk["reference"]["resource"]]
        self.fields = {*pk, *unique, *(n for fk in fks for n in fk["fields"]),
                       *(n for _, fk in local for n in fk["reference"]["fields"])}
        self.logs: dict[str, tuple[list[str], KeyLog]] = {}
        if pk:
            self.logs["pk"] = (pk, KeyLog())
        for name in unique:
            self.logs[f"u:{name}"] = ([name], KeyLog())
        for i, fk in enumerate(fks):
            self.logs[f"fk:{i}"] = (list(fk["fields"]), KeyLog())
        for i, fk in local:
            self.logs[f"ref:{i}"] = (list(fk["reference"]["fields"]), KeyLog())

    def prepare(self, cells: dict[str, KeyCells]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Each key's log entries for some rows, from each key field's cells. A key whose
        cells are all None is not compared (Frictionless skips it). Thread-safe: the logs
        are not touched."""
        return {name: KeyLog.prepare(*key_hashes([cells[n] for n in names]))
                for name, (names, _) in self.logs.items()}

    def append(self, numbers: np.ndarray, prepared: dict[str, tuple[np.ndarray, np.ndarray]]):
        """Log prepared entries for the rows `numbers`, in file order of the pieces."""
        for name, (_, log) in self.logs.items():
            log.append(numbers, *prepared[name])

    def log(self, numbers: np.ndarray, cells: dict[str, KeyCells]) -> None:
        self.append(numbers, self.prepare(cells))

    def errors(self, lookups: dict[str, str | Path], handed: list[str]) -> list[tuple]:
        """(row number, order, error, key) of every key error, with the foreign keys to other
        resources checked against the given lookup CSVs."""
        schema, found = self.schema, []
        for order, name in enumerate(self.unique):
            for number in self.logs[f"u:{name}"][1].repeated():
                error = flat_error(errors.UniqueError, note="the same as in an earlier row",
                                   row_number=int(number), cell="", field_name=name,
                                   field_number=schema.field_names.index(name) + 1)
                found.append((int(number), order, error, f"u:{name}"))
        if self.pk:
            log = self.logs["pk"][1]
            for number in log.skipped():
                error = flat_error(errors.PrimaryKeyError, row_number=int(number),
                                   note='cells composing the primary keys are all "None"')
                found.append((int(number), 100, error, "pk"))
            for number in log.repeated():
                error = flat_error(errors.PrimaryKeyError, row_number=int(number),
                                   note="the same as in an earlier row")
                found.append((int(number), 100, error, "pk"))
        for i, fk in enumerate(self.fks):
            target = fk["reference"]["resource"]
            if target:
                if target not in lookups:
                    handed.append(f"foreign key to '{target}' not checked: give its CSV as a "
                                  "lookup")
                    continue
                reference = lookup_hashes(lookups[target], fk)
            else:
                reference = self.logs[f"ref:{i}"][1].hashes()
            for number in self.logs[f"fk:{i}"][1].missing_from(reference):
                error = flat_error(
                    errors.ForeignKeyError, row_number=int(number),
                    note=f'for "{", ".join(fk["fields"])}": values not found in the lookup table')
                found.append((int(number), 200 + i, error, f"fk:{i}"))
        return found


def lookup_hashes(path: str | Path, fk: dict) -> np.ndarray:
    """Hashes of the referenced fields in another resource, typed by its own schema
    (a CSV with a sibling <name>.schema.yaml, or inferred by Frictionless)."""
    path = Path(path)
    schema = sibling_schema(path)  # its own keys are not checked here: only its values read
    resource = Resource(path=path.name, basepath=str(path.parent.resolve()),
                        schema=None if schema is None else row_schema(schema))
    names = list(fk["reference"]["fields"])
    with resource:
        rows = [tuple(row.get(n) for n in names) for row in resource.row_stream]
    if not rows:
        return np.zeros(0, dtype=np.uint64)
    hashes, skip = key_hashes([cells_of(resource.schema.get_field(n), [r[i] for r in rows])
                               for i, n in enumerate(names)])
    return hashes[~skip]


def order_row_errors(row_errors: list[Found], number: int, keys: Keys,
                     flagged: dict[str, set[int]]) -> list[Found]:
    """Frictionless reads a row's cells lazily: its table checks touch the unique fields, then
    the primary key, then the foreign keys, and the first of those checks that fails reads the
    rest of the row. Cell errors are reported in the order the cells were read."""
    if len(row_errors) < 2:
        return row_errors
    schema, unique, pk, fks = keys.schema, keys.unique, keys.pk, keys.fks
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
