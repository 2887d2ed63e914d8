"""The last valid delivery of every file, kept so that a broken re-delivery never erases what
an earlier valid delivery published: the earlier rows stay until a valid replacement arrives.

Written after a successful publish only, under the state folder (internal, git-ignored):
<state>/accepted/<raw path>.parquet holds the typed rows (every field, with `_row`), and
<raw path>.json beside it the release they went into.
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
from flows.checks.verdict import KEY, ROW, SUFFIX, ValidatedFile, read_rows, write_rows
from flows.core.register import Register
from flows.intake.discover import RawFile
from flows.intake.reading import Piece, Reading


def _path(state_dir: Path, name: str) -> Path:
    return Path(state_dir) / "accepted" / f"{name}{SUFFIX}"


def save_accepted(state_dir: Path, results: list[ValidatedFile], release: str) -> None:
    """Remember each file that was published from its own rows (not from an earlier delivery)."""
    for result in results:
        if result.kept_from is not None or not result.rows_published:
            continue
        target = _path(state_dir, result.file)
        note = target.with_suffix(".json")
        source = result.accepted.name if result.accepted is not None else None
        if source and target.is_file() and _note(note).get("source") == source:
            continue  # the same verdict's rows are kept already (its first release stays)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(f".{os.getpid()}.tmp")
        if result.accepted is not None:
            shutil.copyfile(result.accepted, temporary)
        else:
            write_rows(temporary, result.accepted_table())
        os.replace(temporary, target)
        note.write_text(json.dumps({"file": result.file, "release": release,
                                    "source": source}), encoding="utf-8")


def _note(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def keep_earlier_deliveries(state_dir: Path, results: list[ValidatedFile], register: Register,
                            work: Path | None = None) -> list[ValidatedFile]:
    """A delivery of which nothing can be published (rejected whole, or every row rejected)
    falls back to the file's last valid delivery, if there is one. The kept rows are checked
    again against today's schemas and codelists; rows that no longer pass are reported.
    `work`: where the kept rows go (else they stay in memory)."""
    kept = []
    for result in results:
        stored = _path(state_dir, result.file)
        nothing = not result.rows_published and (result.file_rejected or result.rows_read > 0)
        if not nothing or not stored.is_file():
            kept.append(result)
            continue
        release = json.loads(stored.with_suffix(".json").read_text(encoding="utf-8"))["release"]
        raw = RawFile(path=stored, name=result.file, year=result.year,
                      department=result.department, report_type=result.report_type,
                      format="csv")
        into = None if work is None else Path(work) / "kept" / f"{result.file}{SUFFIX}"
        reading, pieces = _as_delivery(read_rows(stored), register, result.report_type)
        again = check_reading(raw, reading, register, into=into, pieces=pieces)
        note = f"Tidigare leverans (release {release}): "
        note_en = f"Earlier delivery (release {release}): "
        problems = [p.model_copy(update={"message_sv": note + p.message_sv,
                                         "message_en": note_en + p.message_en})
                    for p in again.problems]
        kept.append(result.copy_with(
            rows_kept=again.rows_published, kept=again.accepted, kept_from=release,
            problems=result.problems + problems).with_tables(kept=again.accepted_table()
                                                             if again.accepted is None else None))
    return kept


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
