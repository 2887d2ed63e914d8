"""A full disk or a folder that cannot be written, told as what it is.

A write that fails for want of space (ENOSPC, a quota, SQLite's "database or disk is full") or
for want of permission (EACCES, EPERM, a read-only file system) is not a bad release: the run
says which folder, how much space is free and, where it can be known, how much is needed, and
what to do. `check_writable` and `check_space` find the same faults before anything is written,
where that is cheap."""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flows.core.messages import LANGUAGES, Said, say, t

FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
UNWRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS}
FULL_TEXTS = ("database or disk is full", "no space left on device", "disk quota exceeded")
UNWRITABLE_TEXTS = ("permission denied", "read-only file system", "attempt to write a readonly")
MB = 2**20


class DiskFault(OSError):
    """A folder cannot take what the run must write; the message says which and what to do."""


def _chain(error: BaseException):
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def kind(error: BaseException) -> str | None:
    """'full', 'unwritable' or None, from the error or anything that caused it."""
    for link in _chain(error):
        if isinstance(link, DiskFault):
            return "known"
        number = getattr(link, "errno", None)
        text = str(link).lower()
        if number in FULL or any(t in text for t in FULL_TEXTS):
            return "full"
        if number in UNWRITABLE or any(t in text for t in UNWRITABLE_TEXTS):
            return "unwritable"
    return None


def free_bytes(folder: Path) -> int | None:
    """Free space where folder is (or would be made), None when it cannot be known."""
    place = Path(folder).absolute()
    while not place.exists() and place != place.parent:
        place = place.parent
    try:
        return shutil.disk_usage(place).free
    except OSError:
        return None


def _mb(size: int) -> str:
    return f"{size / MB:.1f} MB"


def full_message(folder: Path, needed: int | None = None) -> str:
    free = free_bytes(folder)

    def told(lang: str) -> str:
        have = (t("disk.free", lang, size=_mb(free)) if free is not None else
                t("disk.free-unknown", lang))
        need = t("disk.needed", lang, size=_mb(needed)) if needed else ""
        return t("disk.full", lang, folder=folder, free=have, needed=need)
    return str(Said(*map(told, LANGUAGES)))


def unwritable_message(folder: Path) -> str:
    return str(say("disk.unwritable", folder=folder))


def explain(error: BaseException, folder: Path, needed: int | None = None) -> str | None:
    """The bilingual message for a full disk or an unwritable folder; None for other errors."""
    found = kind(error)
    if found == "known":
        return next(str(e) for e in _chain(error) if isinstance(e, DiskFault))
    if found == "full":
        return full_message(folder, needed)
    if found == "unwritable":
        return unwritable_message(folder)
    return None


def check_writable(folder: Path) -> None:
    """Make the folder if it is missing and write a small probe file in it: DiskFault when
    that fails, before a run spends minutes on work it cannot keep."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise DiskFault(str(say("disk.not-a-folder", folder=folder)))
    probe = folder / f".opendata-probe.{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with probe.open("wb") as handle:
            handle.write(b"\0" * 4096)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        raise DiskFault(explain(error, folder) or f"{folder}: {error}") from error
    finally:
        try:
            probe.unlink(missing_ok=True)
        except OSError:
            pass


def check_space(folder: Path, needed: int) -> None:
    """DiskFault when the disk where folder is has less than `needed` bytes free."""
    free = free_bytes(folder)
    if free is not None and needed and free < needed:
        raise DiskFault(full_message(folder, needed))


@contextmanager
def writing(folder: Path, needed: int | None = None) -> Iterator[None]:
    """Around work that writes under folder: a full disk or an unwritable folder comes out as
    a DiskFault that names the folder; other errors pass unchanged."""
    try:
        yield
    except DiskFault:
        raise
    except Exception as error:
        message = explain(error, folder, needed)
        if message is None:
            raise
        raise DiskFault(message) from error
