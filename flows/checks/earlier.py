"""The last valid delivery of every file, kept so that a broken re-delivery never erases what
an earlier valid delivery published: the earlier rows stay until a valid replacement arrives.

Written after a successful publish only, under the state folder (internal, git-ignored):
<state>/accepted/<raw path>.json with the typed rows and the release they went into.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from flows.checks.delivery import ROW, ValidatedFile, validate_table
from flows.core.register import Register
from flows.core.values import cell_text
from flows.intake.discover import RawFile
from flows.intake.reading import RawTable


def _path(state_dir: Path, name: str) -> Path:
    return Path(state_dir) / "accepted" / f"{name}.json"


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def save_accepted(state_dir: Path, results: list[ValidatedFile], release: str) -> None:
    """Remember each file that was published from its own rows (not from an earlier delivery)."""
    for result in results:
        if result.kept_from is not None or not result.records:
            continue
        target = _path(state_dir, result.file)
        target.parent.mkdir(parents=True, exist_ok=True)
        payload = {"file": result.file, "release": release,
                   "records": [{k: _plain(v) for k, v in r.items()} for r in result.records]}
        temporary = target.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, target)


def keep_earlier_deliveries(state_dir: Path, results: list[ValidatedFile],
                            register: Register) -> list[ValidatedFile]:
    """A delivery of which nothing can be published (rejected whole, or every row rejected)
    falls back to the file's last valid delivery, if there is one. The kept rows are checked
    again against today's schemas and codelists; rows that no longer pass are reported."""
    kept = []
    for result in results:
        stored = _path(state_dir, result.file)
        nothing = not result.records and (result.file_rejected or result.rows_read > 0)
        if not nothing or not stored.is_file():
            kept.append(result)
            continue
        payload = json.loads(stored.read_text(encoding="utf-8"))
        schema = register.schema(result.report_type)
        rows = payload["records"]  # JSON values; validated again below, as text
        names = [field.name for field in schema.fields]
        table = RawTable(header=names, row_numbers=[r.get(ROW, 0) for r in rows],
                         rows=[[cell_text(r.get(n)) or None for n in names] for r in rows])
        raw = RawFile(path=stored, name=result.file, year=result.year,
                      department=result.department, report_type=result.report_type,
                      format="csv")
        again = validate_table(raw, table, register)
        note = f"Tidigare leverans (release {payload['release']}): "
        note_en = f"Earlier delivery (release {payload['release']}): "
        problems = [p.model_copy(update={"message_sv": note + p.message_sv,
                                         "message_en": note_en + p.message_en})
                    for p in again.problems]
        kept.append(result.model_copy(update={
            "kept": again.records, "kept_from": payload["release"],
            "problems": result.problems + problems}))
    return kept
