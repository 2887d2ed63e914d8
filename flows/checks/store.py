"""The verdicts already reached, kept by content: a file's verdict depends only on its name,
its bytes, the schemas and the code (the validation key), so a run reuses the verdict of every
file that did not change instead of checking it again. Under <state>/verdicts/: <key>.json (the
verdict) and <key>.parquet (its accepted rows). A verdict whose files are missing or damaged
is treated as absent and reached again."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from flows.checks.verdict import SUFFIX, ValidatedFile


class VerdictStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def rows(self, key: str) -> Path:
        return self.root / f"{key}{SUFFIX}"

    def load(self, key: str) -> ValidatedFile | None:
        note = self.root / f"{key}.json"
        try:
            verdict = ValidatedFile.model_validate_json(note.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if verdict.rows_published and (verdict.accepted is None or not verdict.accepted.is_file()):
            return None
        return verdict

    def save(self, key: str, verdict: ValidatedFile) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        note = self.root / f"{key}.json"
        temporary = note.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(verdict.model_dump_json(), encoding="utf-8")
        os.replace(temporary, note)

    def prune(self, keep: set[str]) -> None:
        """Forget the verdicts of files no longer delivered as they were."""
        if not self.root.is_dir():
            return
        for path in self.root.iterdir():
            if path.name.split(".", 1)[0] not in keep:
                path.unlink(missing_ok=True)


def fresh_folder(path: Path) -> Path:
    """An empty folder (what a run writes for itself: merged and kept rows)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    return path



