"""Where department reports come from: the local raw/ folder, or any fsspec URL (a shared
folder, s3://, sftp://, http(s):// with directory listings, memory://), pulled into a local
mirror that the flow then reads. Transient source errors are retried by the task; permanent
ones (not found, no access, not a folder) fail with a clear message."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from flows.core.messages import say


class SourceError(Exception):
    """The source cannot be used as it is: retrying will not help."""


class Pulled(BaseModel):
    source: str
    mirror: Path
    files: int
    updated: list[str]
    removed: list[str]
    moving: list[str] = []  # changed while they were pulled: left out of this run
    kept: list[str] = []  # of those, the ones whose earlier copy in the mirror is validated


TRANSIENT_NAMES = {"ClientConnectorError", "ServerDisconnectedError", "ClientOSError",
                   "ServerTimeoutError", "TimeoutError", "ConnectionResetError",
                   "ConnectionRefusedError"}


def is_transient(error: BaseException) -> bool:
    """Network trouble and 5xx answers are worth another try; the rest is final."""
    status = getattr(error, "status", None) or getattr(error, "code", None)
    if isinstance(status, int):
        return status >= 500 or status == 429
    return type(error).__name__ in TRANSIENT_NAMES or isinstance(
        error, (TimeoutError, ConnectionError, asyncio.TimeoutError))


def pull(source: str, mirror: Path) -> Pulled:
    """Make the mirror hold exactly the files under source (same relative paths) - except a
    file that keeps changing while it is copied: it is left out of this run (see `copy_whole`),
    and the mirror keeps the copy it had of it, if any."""
    mirror = Path(mirror)
    fs, root, found = _listing(source)
    wanted, updated, moving, kept = set(), [], [], []
    for path, listed in sorted(found.items()):
        relative = path[len(root):].lstrip("/")
        if not relative or ".." in Path(relative).parts:
            continue
        target = mirror / relative
        data = copy_whole(fs, path, listed)
        if data is None:  # still being written: never a half-copied file in the mirror
            moving.append(relative)
            if target.is_file():
                kept.append(relative)
                wanted.add(target.resolve())
            continue
        wanted.add(target.resolve())
        if target.is_file() and target.stat().st_size == len(data) and \
                target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.part")
        temporary.write_bytes(data)
        os.replace(temporary, target)
        updated.append(relative)
    if not wanted and not moving:
        raise SourceError(str(say("intake.source.no-files", source=source)))
    removed = []
    if mirror.is_dir():
        for existing in sorted(p for p in mirror.rglob("*") if p.is_file()):
            if existing.resolve() not in wanted and not existing.name.startswith("."):
                existing.unlink()
                removed.append(existing.relative_to(mirror).as_posix())
    return Pulled(source=source, mirror=mirror, files=len(wanted), updated=updated,
                  removed=removed, moving=moving, kept=kept)


def _listing(source: str) -> tuple[Any, str, dict[str, dict]]:
    """The source's filesystem, its root and every file under it with what the listing says
    of it (size, and mtime or an ETag where the filesystem gives them)."""
    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(source, timeout=30) if source.startswith("http") \
            else fsspec.core.url_to_fs(source)
        root = root.rstrip("/")
        info = fs.info(root)  # FileNotFoundError when missing; a 5xx raises, to be retried
        if info.get("type") not in ("directory", None) and not source.startswith("http"):
            raise SourceError(str(say("intake.source.not-a-folder", source=source)))
        found = fs.find(root, detail=True)
    except FileNotFoundError as error:
        raise SourceError(str(say("intake.source.missing", source=source))) from error
    except PermissionError as error:
        raise SourceError(str(say("intake.source.no-access", source=source))) from error
    except Exception as error:
        if is_transient(error):
            raise
        raise SourceError(str(say("intake.source.unreadable", source=source,
                                              error=error))) from error
    if not found:
        raise SourceError(str(say("intake.source.empty", source=source)))
    return fs, root, {path: dict(info or {}) for path, info in found.items()}


TRIES = 3  # copies of a file that changes while it is copied, before it is left out
SETTLE_SECONDS = 1.0  # the wait before the second copy (twice that before the third)
SIGNS = ("size", "mtime", "LastModified", "last_modified", "modified", "ETag", "etag")


def copy_whole(fs: Any, path: str, listed: dict) -> bytes | None:
    """The file's bytes, when the copy is whole: as long as the listing said, and the source
    shows the same size and mtime (or ETag) after the copy as before it. A file that changed
    is listed and copied again, up to TRIES times with a short wait; None when it never held
    still. Only what the filesystem tells is compared (HTTP listings often give no size)."""
    for attempt in range(TRIES):
        if attempt:
            time.sleep(SETTLE_SECONDS * attempt)
            listed = fs.info(path)
        data = fs.cat_file(path)
        after = fs.info(path)
        if _same(listed, after) and _same({"size": len(data)}, after) and \
                _same(listed, {"size": len(data)}):
            return data
    return None


def _same(before: dict, after: dict) -> bool:
    return all(before[k] == after[k] for k in SIGNS
               if before.get(k) is not None and after.get(k) is not None)
