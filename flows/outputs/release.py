"""Step 5: write a complete release (CSV, JSON, datapackage.json), validate it with Frictionless,
then switch published/latest to it in one atomic step. A failed publish leaves latest as it was."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
from frictionless import Package
from pydantic import BaseModel

from flows.core.fingerprint import code_hash
from flows.core.register import Register
from flows.core.settings import Settings
from flows.outputs.changes import changelog_markdown, release_changes
from flows.outputs.database import write_database, write_metadata
from flows.outputs.dcat import build_dcat, serialize
from flows.outputs.formats import RELEASE_FORMATS, render
from flows.outputs.portal import build_portal

LATEST = "latest"
RELEASES = "releases"


class Release(BaseModel):
    version: str
    path: Path
    created: str
    rows: dict[str, int]


class PublishError(Exception):
    """The release did not validate; latest was left as it was."""

    def __init__(self, errors: list[list[Any]]) -> None:
        super().__init__(f"the release did not validate: {errors[:10]}")
        self.errors = errors


def _digest(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def _write(path: Path, data: bytes, digest: str | None = None) -> dict[str, Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"bytes": len(data), "hash": digest or _digest(data)}


def new_version(releases: Path, now: dt.datetime) -> str:
    base = now.strftime("%Y%m%dT%H%M%SZ")
    version, n = base, 1
    while (releases / version).exists():
        n += 1
        version = f"{base}-{n}"
    return version


def package_descriptor(register: Register, version: str, created: str,
                       resources: list[dict[str, Any]]) -> dict[str, Any]:
    spec = register.package
    return {
        "name": spec.name,
        "title": spec.title.sv,
        "description": spec.description.sv,
        "en": {"title": spec.title.en, "description": spec.description.en},
        "version": version,
        "created": created,
        "illustrative": spec.illustrative,
        "licenses": [spec.license],
        "sources": spec.sources,
        "contributors": [{"title": spec.publisher, "role": "publisher"}],
        "keywords": spec.keywords,
        "resources": resources,
    }


def write_release(tables: dict[str, pd.DataFrame], register: Register, out_dir: Path,
                  keep: int = 5, now: dt.datetime | None = None,
                  settings: Settings | None = None, inputs: str | None = None,
                  reuse: bool = True) -> Release:
    settings = settings or Settings.from_env()
    out_dir = Path(out_dir)
    releases = out_dir / RELEASES
    releases.mkdir(parents=True, exist_ok=True)
    now = now or dt.datetime.now(dt.UTC)
    created = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    version = new_version(releases, now)
    staging = releases / f".{version}.partial"
    for stale in releases.glob(".*.partial"):  # left by a publish that was killed
        shutil.rmtree(stale, ignore_errors=True)
    previous = current_release(out_dir)
    code = code_hash()
    # files of the previous release are reused only when made by this very code
    package = read_package(previous)
    before = {r["name"]: r for r in package.get("resources", [])} \
        if reuse and package.get("code") == code else {}
    try:
        resources, csv_data, changed = [], {}, []
        for dataset_id, frame in tables.items():
            spec = register.datasets[dataset_id]
            files = {}
            plain = render("csv", frame, dataset_id)
            digest = _digest(plain)
            reused = _reuse(previous, before.get(dataset_id), digest, staging, register,
                            dataset_id)
            if reused is None:
                changed.append(dataset_id)
            for format_id, (suffix, mediatype) in RELEASE_FORMATS.items():
                path = f"{dataset_id}/{dataset_id}{suffix}"
                stats = reused[format_id] if reused else _write(
                    staging / path, plain, digest) if format_id == "csv" else _write(
                    staging / path, render(format_id, frame, dataset_id))
                files[format_id] = {"path": path, "format": format_id, "mediatype": mediatype,
                                    **stats}
            _write(staging / dataset_id / f"{dataset_id}.schema.json", (json.dumps(
                register.published_descriptor(dataset_id), ensure_ascii=False, indent=2)
                + "\n").encode("utf-8"))
            csv_data[dataset_id] = plain
            resources.append({
                "name": dataset_id,
                "title": spec.title.sv,
                "description": spec.description.sv,
                "en": {"title": spec.title.en, "description": spec.description.en},
                "kind": spec.kind,
                "path": f"{dataset_id}/{dataset_id}.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                **{k: files["csv"][k] for k in ("bytes", "hash")},
                "alternates": [files[f] for f in RELEASE_FORMATS if f != "csv"],
                "schema": register.published_descriptor(dataset_id),
            })
        descriptor = package_descriptor(register, version, created, resources)
        if inputs:
            descriptor["inputs"] = inputs  # sha256 of what the release was made from
        descriptor["code"] = code  # sha256 of the code that made it
        _write(staging / "datapackage.json",
               (json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
        changes = release_changes(previous, csv_data, {
            d: list(register.schema(d).primary_key) for d in tables})
        _write(staging / "changes.json", (json.dumps(
            {"version": version, "previous": previous.name if previous else None,
             "datasets": changes}, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
        _write(staging / "CHANGELOG.md", changelog_markdown(
            version, previous.name if previous else None, changes).encode("utf-8"))
        check_release(staging, changed if before else None)  # before building on it
        build_portal(staging, tables, register, resources, changes, version, created,
                     settings.periods)
        write_database(staging / "opendata.db", tables, register,
                       previous / "opendata.db" if previous and before else None, changed)
        write_metadata(staging / "datasette.json", register, version)
        graph = build_dcat(register, settings.base_url, version, created, resources,
                              settings.contact_email)
        for name, data in serialize(graph).items():
            _write(staging / name, data)
        write_checksums(staging)
        final = releases / version
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    switch_latest(out_dir, final)
    prune(releases, keep)
    return Release(version=version, path=final, created=created,
                   rows={dataset_id: len(frame) for dataset_id, frame in tables.items()})


def current_release(out_dir: Path) -> Path | None:
    link = Path(out_dir) / LATEST
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def write_checksums(folder: Path) -> None:
    """SHA256SUMS in the format `sha256sum -c` reads: every file of the release but itself."""
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(folder).as_posix()}"
             for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "SHA256SUMS"]
    (folder / "SHA256SUMS").write_text("\n".join(lines) + "\n", encoding="utf-8")


def check_release(folder: Path, only: list[str] | None = None) -> None:
    """Frictionless validates the Data Package (types, keys, foreign keys, bytes, hash): all of
    it, or the resources that changed since the previous, already validated, release (their
    foreign keys are still checked against the whole package)."""
    package = Package(str(folder / "datapackage.json"))
    if only is None:
        reports = [package.validate(limit_errors=10**9)]  # never truncate at 1000
    else:
        reports = [package.get_resource(name).validate(limit_errors=10**9) for name in only]
    for report in reports:
        if not report.valid:
            raise PublishError(report.flatten(["taskName", "rowNumber", "fieldName", "type",
                                               "note"]))


def read_package(release: Path | None) -> dict[str, Any]:
    """A release's datapackage.json ({} when there is none)."""
    if release is None or not (release / "datapackage.json").is_file():
        return {}
    return json.loads((release / "datapackage.json").read_text(encoding="utf-8"))


def _reuse(previous: Path | None, resource: dict[str, Any] | None, digest: str,
           staging: Path, register: Register, dataset_id: str) -> dict[str, dict] | None:
    """A dataset whose rows and schema did not change since the previous release keeps its
    files (hard links: same bytes, no work); None when it must be written."""
    if previous is None or resource is None or resource.get("schema") != \
            register.published_descriptor(dataset_id) or \
            resource.get("hash") != digest:
        return None
    items = {"csv": resource, **{a["format"]: a for a in resource.get("alternates", [])}}
    if set(items) != set(RELEASE_FORMATS) or not all((previous / i["path"]).is_file()
                                             for i in items.values()):
        return None
    (staging / dataset_id).mkdir(parents=True, exist_ok=True)
    for item in items.values():
        os.link(previous / item["path"], staging / item["path"])
    return {format_id: {"bytes": item["bytes"], "hash": item["hash"]}
            for format_id, item in items.items()}


def switch_latest(out_dir: Path, release: Path) -> None:
    """Point out_dir/latest at the release with one rename (atomic on POSIX)."""
    link = out_dir / LATEST
    temporary = out_dir / f".{LATEST}.{os.getpid()}"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    temporary.symlink_to(release.relative_to(out_dir), target_is_directory=True)
    os.replace(temporary, link)


def prune(releases: Path, keep: int) -> None:
    done = sorted(p for p in releases.iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in done[:-keep]:
        shutil.rmtree(old)
