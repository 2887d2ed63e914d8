"""The internal state a run reads back from the state folder: the verdicts already reached
(`verdicts/`) and the last valid delivery of every file (`accepted/`).

State is only a memory of what the deliveries and the code already said, so a damaged state
file - cut off by a crash or a full disk, garbage, empty, a folder where a file belongs,
another file's bytes - is never trusted and never stops a run: it is removed, named in the
run's warnings and rebuilt from the deliveries. Each file is written whole or not at all (a
temporary file and a rename), and the rows beside a note carry their sha256 in the note, so
a file that does not match what was written is found before it is read.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from flows.core.fingerprint import file_hash
from flows.core.messages import Said, say, t


class Damaged(Exception):
    """A state file is not what was written: `why` says how, in both languages."""

    def __init__(self, path: Path, why: Said) -> None:
        super().__init__(f"{path}: {why.en}")
        self.path, self.why = Path(path), why

    @property
    def note(self) -> str:
        """The run's warning: which file, what was wrong, what happens and what to do."""
        return self.warning(say("disk.state-rebuilt"))

    def warning(self, then: Said) -> str:
        return str(Said(*(t("disk.state-damaged", lang, path=self.path, why=self.why[lang],
                            then=then[lang]) for lang in ("sv", "en"))))


def present(path: Path) -> bool:
    """Something is at `path` (a file, a folder, or a link, even a broken one)."""
    return path.exists() or path.is_symlink()


def discard(*paths: Path) -> None:
    """Remove whatever is at each path: a file, a link or a whole folder."""
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        elif present(path):
            path.unlink(missing_ok=True)


def make_folder(path: Path, root: Path) -> list[Damaged]:
    """`path` as a folder, made with its parents from `root` (the state folder) down; a file
    or broken link where one of them belongs is removed (-> what was wrong, to warn about).
    Nothing above `root` is touched, and a link to a folder stays."""
    path, root = Path(path), Path(root)
    parts = path.relative_to(root).parts
    found = []
    for folder in [root / Path(*parts[:n]) for n in range(len(parts) + 1)]:
        if present(folder) and not folder.is_dir():
            found.append(Damaged(folder, say("disk.damaged.file-for-folder")))
            discard(folder)
    path.mkdir(parents=True, exist_ok=True)
    return found


def write_atomic(path: Path, data: bytes) -> None:
    """`path` holds `data` whole, or what it held before (a crash leaves no half file); a
    folder or link in its place is replaced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    replace(temporary, path)


def replace(source: Path, target: Path) -> None:
    """Rename `source` over `target`, which may be a folder left where a file belongs."""
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    os.replace(source, target)


def readable_file(path: Path) -> None:
    """Raise Damaged unless `path` is a regular, non-empty file."""
    if not path.is_file():
        raise Damaged(path, say("disk.damaged.missing"))
    if path.stat().st_size == 0:
        raise Damaged(path, say("disk.damaged.empty"))


def check_digest(path: Path, expected: object) -> None:
    """Raise Damaged unless `path` is a file whose sha256 is `expected`."""
    readable_file(path)
    if not isinstance(expected, str) or file_hash(path) != expected:
        raise Damaged(path, say("disk.damaged.digest"))
