"""Keys across files: a primary key must be unique in the whole dataset, not only within one
delivered file. The first delivery (in file order) keeps a key; rows kept from an earlier valid
delivery hold their keys before any new one."""

from __future__ import annotations

from typing import Any

from flows.checks.delivery import ROW, ValidatedFile, hold_strict_file
from flows.core.problems import problem
from flows.core.register import Register


def merge_duplicates(results: list[ValidatedFile], register: Register) -> list[ValidatedFile]:
    """Primary keys must be unique across all files of a report type, not only within one.
    Rows kept from an earlier valid delivery hold their keys first; then the first delivery
    (in file order) keeps a key and later rows with it are rejected. A strict report type
    that loses a row this way waits whole."""
    seen: dict[tuple[str, tuple[Any, ...]], str] = {}
    ordered = sorted(results, key=lambda r: r.file)
    for result in ordered:
        if result.kept:
            key_fields = list(register.schema(result.report_type).primary_key)
            for record in result.kept:
                key = (result.report_type, tuple(record[name] for name in key_fields))
                seen.setdefault(key, f"{result.file} (release {result.kept_from})")
    merged: list[ValidatedFile] = []
    for result in ordered:
        if not result.records:
            merged.append(result)
            continue
        key_fields = list(register.schema(result.report_type).primary_key)
        kept, rejected, problems = [], list(result.rejected_rows), list(result.problems)
        for record in result.records:
            key = (result.report_type, tuple(record[name] for name in key_fields))
            first = seen.setdefault(key, result.file)
            if first == result.file:
                kept.append(record)
                continue
            shown = ", ".join(f"{n}={record[n]}" for n in key_fields)
            problems.append(problem(
                "primary-key", result.file,
                f"Nyckeln ({shown}) finns redan i {first}. Varje rad får bara lämnas av en fil: "
                "ta bort dubbletten i den ena filen.",
                f"The key ({shown}) is already delivered in {first}. Each row may come from one "
                "file only: remove the duplicate from one of them.",
                row=record[ROW], field=",".join(key_fields), value=shown))
            rejected.append(record[ROW])
        updated = result.model_copy(update={
            "records": kept, "rejected_rows": sorted(rejected), "problems": problems})
        if register.datasets[result.report_type].strict and len(kept) < len(result.records):
            updated = hold_strict_file(updated)
        merged.append(updated)
    return merged
