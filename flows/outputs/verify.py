"""Whether a release is still what it was published as: every file listed in SHA256SUMS is
there with its hash, no file was added, and its data still passes Frictionless's verdict on
its own Data Package (through fastcheck).

A run must not say "nothing changed" about a release that was damaged since, nor link its
files into the next one. Hashing a national-scale release costs seconds, so each release
gets a list of its files' sizes, times and inodes when it becomes latest
(published/.latest.seen.json); a run compares those, which costs a stat per file, and
hashes only a file whose entry differs (or every file when the list is missing)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from flows.checks.fastcheck import validate_csv
from flows.core.fingerprint import file_hash
from flows.core.messages import Said, say

SUMS = "SHA256SUMS"


class Damage(BaseModel):
    """One way a release differs from what was published."""

    file: str
    type: str  # missing-release, missing-checksums, missing-file, checksum-mismatch,
    # unlisted-file, package-error, data-error
    message_sv: str
    message_en: str

    @property
    def message(self) -> str:
        return f"{self.file}: {Said(self.message_sv, self.message_en)}"


def read_sums(release: Path) -> dict[str, str] | None:
    """SHA256SUMS as {relative path: sha256 hex}; None when it is missing or unreadable."""
    try:
        lines = (release / SUMS).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    sums = {}
    for line in lines:
        digest, _, name = line.partition("  ")
        if name:
            sums[name] = digest
    return sums


def _files(release: Path) -> list[str]:
    return sorted(p.relative_to(release).as_posix() for p in release.rglob("*")
                  if p.is_file() and p.name != SUMS)


def check_files(release: Path, only: set[str] | None = None) -> list[Damage]:
    """The files against SHA256SUMS (`only`: hash just these; the others are checked to be
    there and listed)."""
    sums = read_sums(release)
    if sums is None:
        return [Damage(file=SUMS, type="missing-checksums",
                       message_sv="kontrollsummorna saknas eller kan inte läsas",
                       message_en="the checksums are missing or cannot be read")]
    found, damage = set(_files(release)), []
    for name, digest in sums.items():
        if name not in found:
            damage.append(Damage(file=name, type="missing-file", message_sv="filen saknas",
                                 message_en="the file is missing"))
        elif (only is None or name in only) and file_hash(release / name) != digest:
            damage.append(Damage(file=name, type="checksum-mismatch",
                                 message_sv="filens innehåll stämmer inte med SHA256SUMS",
                                 message_en="the file's content does not match SHA256SUMS"))
    damage += [Damage(file=name, type="unlisted-file", message_sv="filen finns inte i SHA256SUMS",
                      message_en="the file is not listed in SHA256SUMS")
               for name in sorted(found - set(sums))]
    return damage


def check_package(release: Path) -> list[Damage]:
    """Frictionless's verdict on each CSV resource against the schema in datapackage.json,
    with its foreign keys to the other resources."""
    try:
        package = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
        resources = {r["name"]: r for r in package["resources"]}
    except (OSError, ValueError, KeyError, TypeError) as error:
        return [Damage(file="datapackage.json", type="package-error",
                       message_sv=f"Data Package kan inte läsas ({error})",
                       message_en=f"the Data Package cannot be read ({error})")]
    damage = []
    for item in resources.values():
        path = release / item.get("path", "")
        if item.get("format") != "csv" or not path.is_file():
            continue  # a missing file is said by check_files
        lookups = _lookups(release, resources, item.get("schema", {}))
        result = validate_csv(path, item.get("schema", {}), lookups=lookups)
        found = result.flatten(["rowNumber", "fieldName", "type"])
        if found:
            shown = ", ".join(f"{row or '-'}/{field or '-'}: {kind}" for row, field, kind
                              in found[:3])
            damage.append(Damage(
                file=item["path"], type="data-error",
                message_sv=f"{len(found)} fel mot sitt schema (rad/kolumn: {shown})",
                message_en=f"{len(found)} errors against its schema (row/column: {shown})"))
    return damage


def _lookups(release: Path, resources: dict[str, Any], schema: dict[str, Any]) -> dict:
    found = {}
    for key in schema.get("foreignKeys", []):
        name = key["reference"]["resource"]
        if name in resources:
            found[name] = release / resources[name]["path"]
    return found


def verify_release(release: Path) -> list[Damage]:
    """Everything that differs from what was published: files first, then the data."""
    if not release.is_dir():
        return [Damage(file=str(release), type="missing-release",
                       message_sv="releasen finns inte", message_en="the release does not exist")]
    damage = check_files(release)
    if not any(d.type in ("missing-checksums", "missing-file", "checksum-mismatch")
               and d.file in ("datapackage.json", SUMS) for d in damage):
        damage += check_package(release)
    return damage


# --- the quick check before a run trusts the latest release --------------------------------
def _seen_path(out_dir: Path) -> Path:
    return Path(out_dir) / ".latest.seen.json"


def _stats(release: Path) -> dict[str, list[int]]:
    found = {}
    for name in [*_files(release), SUMS]:
        try:
            info = (release / name).stat()
        except OSError:
            continue
        found[name] = [info.st_size, info.st_mtime_ns, info.st_ino]
    return found


def remember_seen(out_dir: Path, release: Path) -> None:
    """The files of the release that just became latest, for `latest_damage`."""
    target = _seen_path(out_dir)
    temporary = target.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"release": release.name, "files": _stats(release)}),
                         encoding="utf-8")
    os.replace(temporary, target)


def latest_damage(out_dir: Path, latest: str = "latest") -> list[Damage]:
    """How the release `latest` points at was damaged since it was published (empty: intact).
    Only files whose size, time or inode changed are hashed."""
    link = Path(out_dir) / latest
    if not link.is_symlink():
        return []
    release = link.resolve()
    if not release.is_dir():
        return [Damage(file=latest, type="missing-release",
                       message_sv=f"pekar på {os.readlink(link)}, som inte finns",
                       message_en=f"points at {os.readlink(link)}, which does not exist")]
    try:
        seen = json.loads(_seen_path(out_dir).read_text(encoding="utf-8"))
        seen = seen["files"] if seen.get("release") == release.name else None
    except (OSError, ValueError, AttributeError, KeyError):
        seen = None
    now = _stats(release)
    if now == seen:
        return []
    if not isinstance(seen, dict) or now.get(SUMS) != seen.get(SUMS):
        return check_files(release)  # nothing to compare with: hash every file
    return check_files(release, only={name for name in set(now) | set(seen)
                                      if now.get(name) != seen.get(name)})


def damage_note(damage: list[Damage], version: str | None) -> str:
    """One bilingual line for the run's warnings."""
    shown = "; ".join(d.message for d in damage[:3]) + (
        f" (+{len(damage) - 3})" if len(damage) > 3 else "")
    return f"{say('verify.latest-damaged', version=version or '')}: {shown}"
