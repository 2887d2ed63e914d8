"""Where department reports come from: the local raw/ folder, or any fsspec URL (a shared
folder, s3://, sftp://, http(s):// with directory listings, memory://), pulled into a local
mirror that the flow then reads. Transient source errors are retried by the task; permanent
ones (not found, no access, not a folder) fail with a clear message."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from pydantic import BaseModel


class SourceError(Exception):
    """The source cannot be used as it is: retrying will not help."""


class Pulled(BaseModel):
    source: str
    mirror: Path
    files: int
    updated: list[str]
    removed: list[str]


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
    """Make the mirror hold exactly the files under source (same relative paths)."""
    import fsspec

    mirror = Path(mirror)
    try:
        fs, root = fsspec.core.url_to_fs(source, timeout=30) if source.startswith("http") \
            else fsspec.core.url_to_fs(source)
        root = root.rstrip("/")
        info = fs.info(root)  # FileNotFoundError when missing; a 5xx raises, to be retried
        if info.get("type") not in ("directory", None) and not source.startswith("http"):
            raise SourceError(f"Källan {source} är ingen mapp / the source is not a folder")
        found = fs.find(root)
    except FileNotFoundError as error:
        raise SourceError(f"Källan {source} finns inte / the source does not exist") from error
    except PermissionError as error:
        raise SourceError(f"Ingen åtkomst till {source} / no access to the source") from error
    except Exception as error:
        if is_transient(error):
            raise
        raise SourceError(f"Källan {source} kan inte läsas / cannot be read: {error}") from error
    if not found:
        raise SourceError(f"Källan {source} är tom eller ingen mapp / empty or not a folder")
    wanted, updated = set(), []
    for path in sorted(found):
        relative = path[len(root):].lstrip("/")
        if not relative or ".." in Path(relative).parts:
            continue
        target = mirror / relative
        wanted.add(target.resolve())
        data = fs.cat_file(path)
        if target.is_file() and target.stat().st_size == len(data) and \
                target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.part")
        temporary.write_bytes(data)
        os.replace(temporary, target)
        updated.append(relative)
    removed = []
    if not wanted:
        raise SourceError(f"Källan {source} gav inga filer / the source gave no files")
    if mirror.is_dir():
        for existing in sorted(p for p in mirror.rglob("*") if p.is_file()):
            if existing.resolve() not in wanted and not existing.name.startswith("."):
                existing.unlink()
                removed.append(existing.relative_to(mirror).as_posix())
    return Pulled(source=source, mirror=mirror, files=len(wanted), updated=updated,
                  removed=removed)
