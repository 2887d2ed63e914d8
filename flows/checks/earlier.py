"""The last valid delivery of every file, kept so that a broken re-delivery never erases what
an earlier valid delivery published: the earlier rows stay until a valid replacement arrives.

Written after a successful publish only, under the state folder (internal, git-ignored):
<state>/accepted/<raw path>.parquet holds the typed rows (every field, with `_row`), and
<raw path>.json beside it the release they went into and the rows' sha256. Rows that do not
match their note (cut off, swapped, garbage) are never published again: they are removed and
named in the run's warnings, and the file counts as having no earlier delivery.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from flows.checks.delivery import check_reading
from flows.checks.store import damaged_state
from flows.checks.verdict import KEY, ROW, SUFFIX, ValidatedFile, read_rows, write_rows
from flows.core.fingerprint import file_hash
from flows.core.messages import say
from flows.core.register import Register
from flows.core.statefiles import (
    Damaged,
    check_digest,
    discard,
    make_folder,
    present,
    readable_file,
    replace,
    write_atomic,
)
from flows.intake.discover import RawFile
from flows.intake.reading import Piece, Reading


def _path(state_dir: Path, name: str) -> Path:
    return Path(state_dir) / "accepted" / f"{name}{SUFFIX}"


def save_accepted(state_dir: Path, results: list[ValidatedFile], release: str,
                  damaged: list[str] | None = None) -> None:
    """Remember each file that was published from its own rows (not from an earlier delivery).
    Stored rows of the same verdict stay (their first release with them) when they are whole;
    damaged ones are written again and named in `damaged`."""
    for result in results:
        if result.kept_from is not None or not result.rows_published:
            continue
        target = _path(state_dir, result.file)
        note = target.with_suffix(".json")
        source = result.accepted.name if result.accepted is not None else None
        stored = _note(note)
        same = bool(source) and stored.get("source") == source
        if same and "sha256" in stored:
            try:
                check_digest(target, stored["sha256"])
                continue  # the same verdict's rows are kept already (their first release stays)
            except Damaged as damage:
                _warn(damaged, damage)
        elif present(note) and not stored:
            _warn(damaged, damaged_state(note, "cut-off"))
        first = stored.get("release", release) if same else release
        for damage in make_folder(target.parent, Path(state_dir)):
            _warn(damaged, damage)
        _write(target, result, {"file": result.file, "release": first, "source": source})


def _warn(damaged: list[str] | None, damage: Damaged) -> None:
    if damaged is not None:
        damaged.append(damage.note)


def _write(target: Path, result: ValidatedFile, note: dict) -> None:
    """The rows, then the note with their sha256: each whole or not at all."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    if result.accepted is not None:
        shutil.copyfile(result.accepted, temporary)
    else:
        write_rows(temporary, result.accepted_table())
    digest = file_hash(temporary)
    replace(temporary, target)
    write_atomic(target.with_suffix(".json"),
                 json.dumps({**note, "sha256": digest}, ensure_ascii=False).encode())


def _note(path: Path) -> dict:
    """A stored note ({} when it cannot be read: cut off, garbage, not an object)."""
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def keep_earlier_deliveries(state_dir: Path, results: list[ValidatedFile], register: Register,
                            work: Path | None = None, damaged: list[str] | None = None
                            ) -> list[ValidatedFile]:
    """A delivery of which nothing can be published (rejected whole, or every row rejected)
    falls back to the file's last valid delivery, if there is one. The kept rows are checked
    again against today's schemas and codelists; rows that no longer pass are reported.
    `work`: where the kept rows go (else they stay in memory). A damaged earlier delivery is
    none: the rejection stands, and `damaged` gets the warning."""
    kept = []
    for result in results:
        nothing = not result.rows_published and (result.file_rejected or result.rows_read > 0)
        earlier = _earlier(state_dir, result.file, damaged) if nothing else None
        if earlier is None:
            kept.append(result)
            continue
        table, release = earlier
        raw = RawFile(path=_path(state_dir, result.file), name=result.file, year=result.year,
                      department=result.department, report_type=result.report_type,
                      format="csv")
        into = None if work is None else Path(work) / "kept" / f"{result.file}{SUFFIX}"
        reading, pieces = _as_delivery(table, register, result.report_type)
        again = check_reading(raw, reading, register, into=into, pieces=pieces)
        note = say("checks.earlier.note", release=release)
        problems = [p.model_copy(update={"message_sv": note.sv + p.message_sv,
                                         "message_en": note.en + p.message_en})
                    for p in again.problems]
        kept.append(result.copy_with(
            rows_kept=again.rows_published, kept=again.accepted, kept_from=release,
            problems=result.problems + problems).with_tables(kept=again.accepted_table()
                                                             if again.accepted is None else None))
    return kept


def _earlier(state_dir: Path, name: str, damaged: list[str] | None
             ) -> tuple[pa.Table, str] | None:
    """The rows of a file's last valid delivery and the release they went into; None when
    there is none, or when they are damaged (then they are removed and warned about)."""
    stored = _path(state_dir, name)
    note = stored.with_suffix(".json")
    if not present(stored) and not present(note):
        return None
    try:
        return _read_earlier(stored, note)
    except Damaged as damage:
        if damaged is not None:
            damaged.append(damage.warning(say("checks.earlier.damaged", name=name)))
        discard(stored, note)
        return None


def _read_earlier(stored: Path, note: Path) -> tuple[pa.Table, str]:
    """Only rows that are what was written: the note whole, the rows' sha256 as noted (a note
    from before the sha256 was kept: rows that read), the rows' own columns there."""
    found = _note(note)
    if not isinstance(found.get("release"), str):
        raise damaged_state(note, "cut-off-or-missing")
    if "sha256" in found:
        check_digest(stored, found["sha256"])
    else:
        readable_file(stored)
    try:
        table = read_rows(stored)
    except (OSError, pa.ArrowException):
        raise damaged_state(stored, "cut-off") from None
    if ROW not in table.column_names:
        raise damaged_state(stored, "not-rows")
    return table, found["release"]


def _as_delivery(table: pa.Table, register: Register, report_type: str
                 ) -> tuple[Reading, list[Piece]]:
    """Stored typed rows as a delivery to check again: each value as text the schema reads."""
    schema = register.schema(report_type)
    names = [n for n in table.column_names if n not in (ROW, KEY) and n in schema.field_names]
    columns = []
    for name in names:
        field, column = schema.get_field(name), table[name].combine_chunks()
        if field.type == "boolean":
            text = pc.if_else(column, field.true_values[0], field.false_values[0])
        else:
            text = pc.cast(column, pa.string())
        columns.append(pc.fill_null(text, ""))
    lines = table[ROW].to_numpy() if table.num_rows else np.zeros(0, dtype=np.int64)
    return Reading(header=names), [Piece(columns, None, lines, [])]
