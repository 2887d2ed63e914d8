"""The whole release as one zip file, hela-releasen.zip at the release's root: every published
file but the zip itself and SHA256SUMS, under the same paths as in the release.

SHA256SUMS lists the zip, so the zip cannot hold it (it would hold its own hash); the sums of
the files inside are the same lines of SHA256SUMS, so `sha256sum -c --ignore-missing` checks an
unpacked zip. The bytes are reproducible: entries in path order, each with a fixed time and
permissions, compressed at a fixed level (files that are compressed already are stored)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

NAME = "hela-releasen.zip"
LEFT_OUT = {NAME, "SHA256SUMS"}
FIXED_TIME = (2000, 1, 1, 0, 0, 0)  # inside the zip, instead of the files' times
LEVEL = 1  # fastest deflate: at 10M rows 9.5 s for 398 MB, where level 6 took 43 s for 335 MB
STORED = {".xlsx", ".parquet", ".pdf", ".zip", ".png", ".gz"}  # compressed already
BLOCK = 1 << 20


def zipped_files(folder: Path) -> list[str]:
    """What the zip holds: the release's files as relative POSIX paths, in sorted order."""
    return sorted(name for path in folder.rglob("*") if path.is_file()
                  and (name := path.relative_to(folder).as_posix()) not in LEFT_OUT)


def write_release_zip(folder: Path) -> Path:
    """<folder>/hela-releasen.zip from the release's files, streamed (memory stays flat)."""
    target = folder / NAME
    with zipfile.ZipFile(target, "w", allowZip64=True) as bundle:
        for name in zipped_files(folder):
            path = folder / name
            with path.open("rb") as source, bundle.open(_entry(name), "w",
                                                        force_zip64=_large(path)) as entry:
                shutil.copyfileobj(source, entry, BLOCK)
    return target


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.create_system = 3  # Unix, whichever system writes it
    info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
    stored = Path(name).suffix in STORED
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    if not stored:
        if hasattr(info, "compress_level"):  # Python 3.13
            info.compress_level = LEVEL
        else:
            info._compresslevel = LEVEL
    return info


def _large(path: Path) -> bool:
    return path.stat().st_size > zipfile.ZIP64_LIMIT // 2
