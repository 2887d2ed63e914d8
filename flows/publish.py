"""Step 5: write a complete release (CSV, JSON, datapackage.json), validate it with Frictionless,
then switch published/latest to it in one atomic step. A failed publish leaves latest as it was."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
from frictionless import Package
from pydantic import BaseModel

from flows.catalog import Catalog

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


def cell_text(value: Any) -> str:
    """One canonical text per value: ISO dates, '.' decimals, integral numbers without '.0'."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def json_value(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return json_value(value.item())
    return value


def records(frame: pd.DataFrame) -> list[list[Any]]:
    return [list(row) for row in frame.astype(object).itertuples(index=False, name=None)]


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """RFC 4180: UTF-8, comma, CRLF, quotes only where needed, header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(frame.columns)
    writer.writerows([cell_text(v) for v in row] for row in records(frame))
    return buffer.getvalue().encode("utf-8")


def json_bytes(frame: pd.DataFrame) -> bytes:
    columns = list(frame.columns)
    rows = [dict(zip(columns, (json_value(v) for v in row), strict=True))
            for row in records(frame)]
    return (json.dumps(rows, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _write(path: Path, data: bytes) -> dict[str, Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"bytes": len(data), "hash": f"sha256:{hashlib.sha256(data).hexdigest()}"}


def new_version(releases: Path, now: dt.datetime) -> str:
    base = now.strftime("%Y%m%dT%H%M%SZ")
    version, n = base, 1
    while (releases / version).exists():
        n += 1
        version = f"{base}-{n}"
    return version


def package_descriptor(catalog: Catalog, version: str, created: str,
                       resources: list[dict[str, Any]]) -> dict[str, Any]:
    spec = catalog.package
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


def write_release(tables: dict[str, pd.DataFrame], catalog: Catalog, out_dir: Path,
                  keep: int = 5, now: dt.datetime | None = None) -> Release:
    out_dir = Path(out_dir)
    releases = out_dir / RELEASES
    releases.mkdir(parents=True, exist_ok=True)
    now = now or dt.datetime.now(dt.UTC)
    created = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    version = new_version(releases, now)
    staging = releases / f".{version}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        resources = []
        for dataset_id, frame in tables.items():
            spec = catalog.datasets[dataset_id]
            stats = _write(staging / dataset_id / f"{dataset_id}.csv", csv_bytes(frame))
            json_stats = _write(staging / dataset_id / f"{dataset_id}.json", json_bytes(frame))
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
                **stats,
                "alternates": [{"path": f"{dataset_id}/{dataset_id}.json", "format": "json",
                                "mediatype": "application/json", **json_stats}],
                "schema": catalog.schema_descriptor(dataset_id),
            })
        descriptor = package_descriptor(catalog, version, created, resources)
        _write(staging / "datapackage.json",
               (json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
        check_release(staging)
        final = releases / version
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    switch_latest(out_dir, final)
    prune(releases, keep)
    return Release(version=version, path=final, created=created,
                   rows={dataset_id: len(frame) for dataset_id, frame in tables.items()})


def check_release(folder: Path) -> None:
    """Frictionless validates the whole Data Package (types, keys, foreign keys, bytes, hash)."""
    package = Package(str(folder / "datapackage.json"))
    report = package.validate(limit_errors=10**9)  # never truncate at the default 1000
    if not report.valid:
        raise PublishError(report.flatten(["taskName", "rowNumber", "fieldName", "type", "note"]))


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
