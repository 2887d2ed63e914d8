"""The verdicts already reached, kept by content: a file's verdict depends only on its name,
its bytes, the schemas and the code (the validation key), so a run reuses the verdict of every
file that did not change instead of checking it again. Under <state>/verdicts/: <key>.json (the
verdict, and the sha256 of its rows) and <key>.parquet (its accepted rows). A verdict whose
files are missing is absent; one whose files are damaged (see flows.core.statefiles) is
removed, named in `damaged` and reached again."""

from __future__ import annotations

import json
from pathlib import Path

from flows.checks.verdict import SUFFIX, ValidatedFile
from flows.core.fingerprint import file_hash
from flows.core.messages import say
from flows.core.statefiles import (
    Damaged,
    check_digest,
    discard,
    make_folder,
    present,
    write_atomic,
)


class VerdictStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.damaged: list[str] = []  # the warnings about damaged verdicts, for the run

    def ready(self) -> None:
        """The store's folder (inside the state folder) is a folder: a file there goes."""
        self.damaged += [d.note for d in make_folder(self.root, self.root.parent)]

    def rows(self, key: str) -> Path:
        return self.root / f"{key}{SUFFIX}"

    def note(self, key: str) -> Path:
        return self.root / f"{key}.json"

    def load(self, key: str) -> ValidatedFile | None:
        """The stored verdict, or None: absent, or damaged (then removed and warned about)."""
        if not present(self.note(key)):
            return None
        try:
            return self._read(key)
        except Damaged as damage:
            self.damaged.append(damage.note)
            self.forget(key)
            return None

    def _read(self, key: str) -> ValidatedFile:
        note = self.note(key)
        try:
            stored = json.loads(note.read_text(encoding="utf-8"))
            verdict = ValidatedFile.model_validate(stored["verdict"])
            digest = stored["rows_sha256"]
        except (OSError, ValueError, KeyError, TypeError):
            raise damaged_state(note, "cut-off") from None
        if verdict.accepted is None and not verdict.rows_published:
            return verdict
        check_digest(self.rows(key), digest)
        # its rows are where the store keeps them, wherever the state folder was then
        return verdict.model_copy(update={"accepted": self.rows(key)})

    def save(self, key: str, verdict: ValidatedFile) -> None:
        """The verdict and the sha256 of its rows, written whole (the rows are written already)."""
        digest = None if verdict.accepted is None else file_hash(verdict.accepted)
        write_atomic(self.note(key), json.dumps(
            {"verdict": verdict.model_dump(mode="json"), "rows_sha256": digest}).encode())

    def forget(self, key: str) -> None:
        """Remove a verdict's files, whatever they are (before it is reached again)."""
        discard(self.note(key), self.rows(key))

    def prune(self, keep: set[str]) -> None:
        """Forget the verdicts of files no longer delivered as they were."""
        if not self.root.is_dir():
            return
        for path in self.root.iterdir():
            if path.name.split(".", 1)[0] not in keep:
                discard(path)


def fresh_folder(path: Path) -> Path:
    """An empty folder (what a run writes for itself: merged and kept rows); a file or link in
    its place goes too."""
    discard(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def damaged_state(path: Path, reason: str) -> Damaged:
    """A damaged state file, with why (checks.damaged.<reason>) in both languages."""
    return Damaged(path, say(f"checks.damaged.{reason}"))
