"""Keys across files: a primary key must be unique in the whole dataset, not only within one
delivered file. Rows kept from an earlier valid delivery hold their keys first; then the first
delivery (in file order) keeps a key and later rows with it are rejected. A strict report type
that loses a row this way waits whole.

The check runs on the 64-bit key hashes each verdict stores with its accepted rows (`_key`):
a sort finds the hashes seen twice, and only those few rows are compared by their values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from flows.checks.fastcheck.keys import _later_repeats
from flows.checks.verdict import (
    KEY,
    ROW,
    SUFFIX,
    ValidatedFile,
    hold_strict_file,
    read_rows,
    write_rows,
)
from flows.core.problems import Problem, problem
from flows.core.register import Register


def merge_duplicates(results: list[ValidatedFile], register: Register,
                     work: Path | None = None) -> list[ValidatedFile]:
    """`work`: where a verdict whose stored rows lose some writes the rest (else memory)."""
    ordered = sorted(results, key=lambda r: r.file)
    merged = {id(r): r for r in ordered}
    for report_type in sorted({r.report_type for r in ordered} & set(register.report_types)):
        mine = [r for r in ordered if r.report_type == report_type]
        key = list(register.schema(report_type).primary_key)
        if not key:
            continue
        for identity, rejected in _repeats(mine, key).items():
            merged[identity] = _reject(merged[identity], rejected, key,
                                       register.datasets[report_type].strict, work)
    return [merged[id(r)] for r in ordered]


def _sources(results: list[ValidatedFile]) -> list[tuple[ValidatedFile, str, str]]:
    """(verdict, which rows: kept or accepted, the name shown for them), in the order that
    gives a key to its first holder: earlier deliveries first, then file order."""
    kept = [(r, "kept", f"{r.file} (release {r.kept_from})") for r in results if r.rows_kept]
    return kept + [(r, "accepted", r.file) for r in results if r.rows_published]


def _column(result: ValidatedFile, which: str, names: list[str]) -> pa.Table:
    table = result._tables.get(which)
    if table is not None:
        return table.select(names)
    return read_rows(getattr(result, which), columns=names)


def _repeats(results: list[ValidatedFile], key: list[str]
             ) -> dict[int, list[tuple[int, str, dict[str, Any]]]]:
    """Per verdict (by id), its accepted rows whose key an earlier source holds: (row, first holder,
    key values)."""
    sources = _sources(results)
    if len(sources) < 2:
        return {}
    hashes = [_column(r, which, [KEY])[KEY].to_numpy() for r, which, _ in sources]
    everything = np.concatenate(hashes)
    twice = everything[_later_repeats(everything)]
    if not len(twice):
        return {}
    candidates = np.isin(everything, twice)
    seen: dict[tuple, str] = {}
    found: dict[int, list[tuple[int, str, dict[str, Any]]]] = {}
    start = 0
    for index, (result, which, name) in enumerate(sources):
        mine = np.flatnonzero(candidates[start:start + len(hashes[index])])
        start += len(hashes[index])
        if not len(mine):
            continue
        rows = _column(result, which, [*key, ROW]).take(pa.array(mine)).to_pylist()
        for row in rows:
            values = tuple(row[n] for n in key)
            first = seen.setdefault(values, name)
            if first != name and which == "accepted":
                found.setdefault(id(result), []).append((row[ROW], first, row))
    return found


def _reject(result: ValidatedFile, rejected: list[tuple[int, str, dict[str, Any]]],
            key: list[str], strict: bool, work: Path | None) -> ValidatedFile:
    problems: list[Problem] = []
    for row, first, values in rejected:
        shown = ", ".join(f"{n}={values[n]}" for n in key)
        problems.append(problem("primary-key", result.file, "problem.primary-key.other-file",
                                {"key": shown, "first": first},
                                row=row, field=",".join(key), value=shown))
    lines = pa.array(sorted(row for row, _, _ in rejected), pa.int64())
    table = result.accepted_table()
    kept = table.filter(pc.invert(pc.is_in(table[ROW], value_set=lines)))
    target = None if work is None else Path(work) / "merged" / f"{result.file}{SUFFIX}"
    if target is not None:  # the verdict's own rows stay as they are: it is reused later
        write_rows(target, kept)
    updated = result.copy_with(
        rows_published=kept.num_rows, accepted=target,
        rejected_rows=sorted(set(result.rejected_rows) | set(lines.to_pylist())),
        problems=result.problems + problems).with_tables(
        accepted=kept if target is None else None)
    return hold_strict_file(updated) if strict else updated
