"""A release: every dataset in every format with a Data Package, its changes, checked with
Frictionless's verdicts, then the portal, the database, the DCAT catalogue and the whole
release as one zip - written into a staging folder by a list of steps, then made
`published/latest` in one atomic step. A failed publish leaves latest as it was.

Datasets are written batch by batch from their built rows (memory does not grow with them);
a dataset whose inputs did not change since the previous release keeps that release's files
(hard links), its database table and no changes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from frictionless import FrictionlessException, Package
from pydantic import BaseModel

from flows.checks.fastcheck import validate_csv
from flows.core.diskfault import DiskFault, check_space, explain, kind
from flows.core.fingerprint import file_hash
from flows.core.memory import give_back
from flows.core.messages import say
from flows.core.register import Register
from flows.core.settings import Settings
from flows.core.values import json_document
from flows.outputs.changes import changelog_markdown, release_changes
from flows.outputs.database import restore_tables, write_database, write_metadata
from flows.outputs.dcat import build_dcat, serialize
from flows.outputs.package import named, resource
from flows.outputs.portal import build_portal
from flows.outputs.release_zip import NAME as ZIP_NAME
from flows.outputs.release_zip import write_release_zip
from flows.outputs.search import add_search
from flows.outputs.verify import latest_damage, remember_seen
from flows.outputs.workbook_metadata import metadata_rows
from flows.outputs.writers import EXCEL_FIRST_DAY, EXCEL_MAX_ROWS, Written, write_dataset
from flows.tables.datasets import Built

LATEST = "latest"
RELEASES = "releases"


class Release(BaseModel):
    version: str
    path: Path
    created: str
    rows: dict[str, int]
    # datasets that could not be written: {id: why}; they keep the previous release's files
    # and table (or are left out when there is none)
    fallbacks: dict[str, str] = {}
    notes: list[str] = []  # values a format could not hold as they are (said, not fatal)


class PublishError(Exception):
    """The release did not validate; latest was left as it was."""

    def __init__(self, errors: list[list[Any]]) -> None:
        super().__init__(f"the release did not validate: {errors[:10]}")
        self.errors = errors


@dataclass
class Staging:
    """What the steps share while a release is written."""

    folder: Path
    version: str
    created: str
    register: Register
    settings: Settings
    datasets: dict[str, Built]
    previous: Path | None  # the release latest points at, if any
    before: dict[str, dict[str, Any]]  # its resources, by name
    inputs: str | None
    excel_max_rows: int = EXCEL_MAX_ROWS
    resources: list[dict[str, Any]] = field(default_factory=list)
    reused: set[str] = field(default_factory=set)  # datasets whose files are the previous ones
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)  # relative path -> sha256 hex
    fallbacks: dict[str, str] = field(default_factory=dict)  # dataset -> why it was not written
    notes: list[str] = field(default_factory=list)
    api_failed: dict[str, str] = field(default_factory=dict)  # tables the database could not
    needed: int | None = None  # bytes the release will take, where it can be known

    def write(self, name: str, data: bytes) -> None:
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.hashes[name] = hashlib.sha256(data).hexdigest()


def _json(value: Any) -> bytes:
    return json_document(value)


# --- the steps -----------------------------------------------------------------------------
def choose_reused(stage: Staging) -> None:
    """The datasets whose files (and database table) are the previous release's: those built
    from unchanged inputs, when the previous files are there to link."""
    stage.reused = {d for d, built in stage.datasets.items()
                    if built.reused and _linkable(stage, d)}


def check_room(stage: Staging) -> None:
    """Stop before writing when the disk cannot hold the release: about the previous release's
    size, less the datasets linked from it (hard links take no room). Without a previous
    release the size cannot be known cheaply, and the writers' own errors tell."""
    stage.needed = needed_bytes(stage.previous, stage.reused)
    check_space(stage.folder, stage.needed)


def needed_bytes(previous: Path | None, linked: set[str]) -> int | None:
    """The previous release's bytes outside the linked datasets' folders, and a tenth more.
    Its zip holds a copy of every file, linked or not; a previous release without one is
    counted again in full for the zip this release adds."""
    if previous is None:
        return None
    total = outside = 0
    for path in previous.rglob("*"):
        if path.is_file():
            size = path.stat().st_size
            total += size
            outside += size if path.relative_to(previous).parts[0] not in linked else 0
    if not (previous / ZIP_NAME).is_file():
        outside += total
    return outside + outside // 10


def write_datasets(stage: Staging) -> None:
    """Every format of every dataset (or the previous release's files, linked), its schema and
    its resource in the Data Package."""
    for dataset_id, built in list(stage.datasets.items()):
        if dataset_id in stage.reused:
            files = _linked(stage, dataset_id)
        else:
            try:
                files = write_dataset(held_as_they_can(built, stage.notes), stage.folder,
                                      dataset_id, built.rows, schema=built.schema,
                                      excel_max_rows=stage.excel_max_rows,
                                      metadata=metadata_rows(stage.register, dataset_id,
                                                             stage.version))
            except Exception as error:  # this dataset only (a full disk is not): the others go on
                if kind(error):
                    raise
                files, built = _fall_back(stage, dataset_id, built, error)
                if files is None:
                    continue
        for item in files:
            stage.hashes[item.path] = item.hash.split(":", 1)[1]
        stage.write(f"{dataset_id}/{dataset_id}.schema.json",
                    _json(stage.register.published_descriptor(dataset_id)))
        stage.resources.append(resource(stage.register, built, files))


def _fall_back(stage: Staging, dataset_id: str, built: Built, error: Exception
               ) -> tuple[list[Written] | None, Built]:
    """A dataset that could not be written keeps the previous release's files (its rows and
    fingerprint with them); without one it is left out. Either way the run says so."""
    shutil.rmtree(stage.folder / dataset_id, ignore_errors=True)
    why = f"{type(error).__name__}: {error}"
    if not _linkable(stage, dataset_id):
        stage.fallbacks[dataset_id] = why
        del stage.datasets[dataset_id]
        return None, built
    stage.fallbacks[dataset_id] = why
    before = stage.before[dataset_id]
    [parquet] = [a["path"] for a in before.get("alternates", []) if a["format"] == "parquet"]
    kept = replace(built, rows=before.get("rows", built.rows), held=None, reused=True,
                   parquet=stage.previous / parquet,
                   fingerprint=before.get("fingerprint", built.fingerprint))
    stage.datasets[dataset_id] = kept
    return _linked(stage, dataset_id), kept


def held_as_they_can(built: Built, notes: list[str]):
    """The dataset's batches, noting values a format cannot hold as they are: JSON has no
    infinity (null is written), a sheet no date before 1900 (text is written)."""
    infinite = early = 0
    for batch in built.batches():
        for column in batch.columns:
            if pa.types.is_floating(column.type):
                infinite += pc.sum(pc.is_inf(column)).as_py() or 0
            elif pa.types.is_date(column.type):
                early += pc.sum(pc.less(column, pa.scalar(EXCEL_FIRST_DAY, pa.date32()))
                                ).as_py() or 0
        yield batch
    if infinite:
        notes.append(f"{built.id}: {say('release.infinite-as-null', count=infinite)}")
    if early:
        notes.append(f"{built.id}: {say('release.early-dates-as-text', count=early)}")


def _linkable(stage: Staging, dataset_id: str) -> bool:
    """Whether the previous release holds the dataset's files with the same schema."""
    before = stage.before.get(dataset_id)
    if stage.previous is None or before is None or before.get("schema") != \
            stage.register.published_descriptor(dataset_id):
        return False
    return all((stage.previous / i["path"]).is_file()
               for i in [before, *before.get("alternates", [])])


def _linked(stage: Staging, dataset_id: str) -> list[Written]:
    """The previous release's files of a dataset, hard-linked (same bytes, no work)."""
    before = stage.before[dataset_id]
    items = [before, *before.get("alternates", [])]
    rows = before.get("rows", 0)
    found = []
    for item in items:
        target = stage.folder / item["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(stage.previous / item["path"], target)
        found.append(Written(item["path"], item.get("format", "csv"), item["mediatype"],
                             item["bytes"], item["hash"], item.get("rows", rows),
                             item.get("part"), item.get("parts")))
    return found


def write_package(stage: Staging) -> None:
    spec = stage.register.package
    descriptor = {
        **named(spec.name, spec),
        "version": stage.version,
        "created": stage.created,
        "illustrative": spec.illustrative,
        "licenses": [spec.license],
        "sources": spec.sources,
        "contributors": [{"title": spec.publisher, "role": "publisher"}],
        "keywords": spec.keywords,
        "resources": stage.resources,
    }
    if stage.inputs:
        descriptor["inputs"] = stage.inputs  # sha256 of what the release was made from
    stage.write("datapackage.json", _json(descriptor))


def write_changes(stage: Staging) -> None:
    previous = stage.previous.name if stage.previous else None
    stage.changes = release_changes(
        stage.previous, stage.folder,
        {d: list(stage.register.schema(d).primary_key) for d in stage.datasets},
        stage.reused, {d: b.rows for d, b in stage.datasets.items()},
        stage.folder.parent / f".{stage.version}.work")
    stage.write("changes.json", _json({"version": stage.version, "previous": previous,
                                       "datasets": stage.changes}))
    stage.write("CHANGELOG.md", changelog_markdown(stage.version, previous, stage.changes)
                .encode("utf-8"))


def check_data(stage: Staging) -> None:
    """Frictionless's verdict on every dataset written in this release (types, constraints,
    keys, foreign keys to the other resources), at scale through fastcheck; reused ones were
    checked in the release that made them. The Data Package descriptor is checked too."""
    try:
        Package(str(stage.folder / "datapackage.json"))
    except FrictionlessException as error:
        raise PublishError([["datapackage.json", None, None, "package-error", str(error)]]
                           ) from error
    found: list[list[Any]] = []
    for dataset_id in stage.datasets:
        if dataset_id in stage.reused:
            continue
        schema = stage.register.published_descriptor(dataset_id)
        lookups = {fk["reference"]["resource"]: stage.folder / fk["reference"]["resource"] /
                   f"{fk['reference']['resource']}.csv" for fk in schema.get("foreignKeys", [])
                   if fk["reference"]["resource"] in stage.datasets}  # not one left out
        result = validate_csv(stage.folder / dataset_id / f"{dataset_id}.csv", schema,
                              lookups=lookups)
        found += [[dataset_id, *error] for error in result.flatten(
            ["rowNumber", "fieldName", "type", "note"])]
    if found:
        raise PublishError(found)


def write_portal(stage: Staging) -> None:
    build_portal(stage.folder, stage.datasets, stage.register, stage.resources, stage.changes,
                 stage.version, stage.created, stage.settings.periods)


def write_search(stage: Staging) -> None:
    """Pagefind's index of the portal and its search pages (#15); a release whose index
    could not be built goes out without search, and the run says so."""
    note = add_search(stage.folder, stage.register, stage.version, stage.created,
                      stage.settings.periods)
    if note:
        stage.notes.append(note)


def write_api(stage: Staging) -> None:
    """opendata.db for Datasette: the previous release's tables kept where reused (needs
    only the built datasets: it runs beside the other steps)."""
    previous = stage.previous / "opendata.db" if stage.previous and stage.reused else None
    stage.api_failed = write_database(stage.folder / "opendata.db", dict(stage.datasets),
                                      stage.register, previous,
                                      stage.reused if previous else None)
    write_metadata(stage.folder / "datasette.json", stage.register, stage.version)


def reconcile_api(stage: Staging) -> None:
    """A dataset that fell back to the previous release's files gets its previous table too,
    so the API serves what the files hold; a table the database could not write is said."""
    database = stage.folder / "opendata.db"
    previous = stage.previous / "opendata.db" if stage.previous else None
    restore_tables(database, previous, set(stage.fallbacks) - set(stage.api_failed))
    for dataset_id, why in stage.api_failed.items():
        stage.fallbacks.setdefault(dataset_id, f"opendata.db: {why}")


def write_dcat(stage: Staging) -> None:
    graph = build_dcat(stage.register, stage.settings.base_url, stage.version, stage.created,
                       stage.resources, stage.settings.contact_email)
    for name, data in serialize(graph).items():
        stage.write(name, data)


def write_zip(stage: Staging) -> None:
    """hela-releasen.zip: every file written so far (all but SHA256SUMS, which lists it)."""
    write_release_zip(stage.folder)


def write_checksums(stage: Staging) -> None:
    """SHA256SUMS in the format `sha256sum -c` reads: every file of the release but itself
    (the data files' hashes were taken while writing them)."""
    lines = []
    for path in sorted(stage.folder.rglob("*")):
        name = path.relative_to(stage.folder).as_posix()
        if path.is_file() and name != "SHA256SUMS":
            lines.append(f"{stage.hashes.get(name) or file_hash(path)}  {name}")
    (stage.folder / "SHA256SUMS").write_text("\n".join(lines) + "\n", encoding="utf-8")


# Writing a release is these steps, in order, over one Staging: adding an output is adding a
# step (a function `step(stage) -> None` that writes into stage.folder, with stage.write for
# bytes it holds). The data is checked before anything is built on it.
STEPS: list[Callable[[Staging], None]] = [
    choose_reused,  # first: the steps beside need to know which datasets are the previous ones
    check_room,
    write_datasets,
    write_package,
    write_changes,
    check_data,
    write_portal,
    write_search,  # steps that read the written portal go after it
    write_dcat,
]
# beside the steps, on a thread of its own: SQLite's bulk ingest runs without the GIL, so on
# two cores the database costs little more than the files
BESIDE: list[Callable[[Staging], None]] = [write_api]
# once every file but these is written
LAST: list[Callable[[Staging], None]] = [reconcile_api, write_zip, write_checksums]


# --- the release ---------------------------------------------------------------------------
def write_release(datasets: dict[str, Built], register: Register, out_dir: Path,
                  keep: int = 5, now: dt.datetime | None = None,
                  settings: Settings | None = None, inputs: str | None = None,
                  reuse: bool = True, excel_max_rows: int = EXCEL_MAX_ROWS) -> Release:
    settings = settings or Settings.defaults()  # the run passes its own
    out_dir = Path(out_dir)
    releases = out_dir / RELEASES
    releases.mkdir(parents=True, exist_ok=True)
    now = now or dt.datetime.now(dt.UTC)
    version = new_version(releases, now)
    for stale in releases.glob(".*.partial"):  # left by a publish that was killed
        shutil.rmtree(stale, ignore_errors=True)
    for stale in releases.glob(".*.work"):
        shutil.rmtree(stale, ignore_errors=True)
    # a release damaged since it was published is not built on: nothing linked, compared
    # or restored from it (the run says so)
    previous = None if latest_damage(out_dir) else current_release(out_dir)
    package = read_package(previous)
    stage = Staging(folder=releases / f".{version}.partial", version=version,
                    created=now.strftime("%Y-%m-%dT%H:%M:%SZ"), register=register,
                    settings=settings, datasets=dict(datasets), previous=previous,
                    before={r["name"]: r for r in package.get("resources", [])} if reuse else {},
                    inputs=inputs, excel_max_rows=excel_max_rows)
    final = releases / version
    try:
        stage.folder.mkdir(parents=True)
        _run_steps(stage)
        stage.folder.rename(final)
        switch_latest(out_dir, final)
    except BaseException as error:  # latest stays as it was; nothing half-written is left
        shutil.rmtree(stage.folder, ignore_errors=True)
        if final.is_dir() and current_release(out_dir) != final.resolve():
            shutil.rmtree(final, ignore_errors=True)
        message = explain(error, out_dir, stage.needed) if isinstance(error, Exception) else None
        if message:
            raise DiskFault(message) from error
        raise
    finally:
        shutil.rmtree(releases / f".{version}.work", ignore_errors=True)
    prune(releases, keep)
    remember_seen(out_dir, final)
    return Release(version=version, path=final, created=stage.created,
                   rows={dataset_id: built.rows for dataset_id, built in stage.datasets.items()},
                   fallbacks=stage.fallbacks, notes=stage.notes)


def _run_steps(stage: Staging) -> None:
    """The steps in order, with the BESIDE ones on threads once the reused datasets are
    known; every thread is waited for before the release is finished or given up."""
    first, *rest = STEPS
    first(stage)
    with ThreadPoolExecutor(max_workers=len(BESIDE)) as pool:
        beside = [pool.submit(step, stage) for step in BESIDE]
        try:
            for step in rest:
                step(stage)
                give_back()
        finally:
            wait(beside)
        for future in beside:
            future.result()  # its error, if any
    for step in LAST:
        step(stage)


def new_version(releases: Path, now: dt.datetime) -> str:
    base = now.strftime("%Y%m%dT%H%M%SZ")
    version, n = base, 1
    while (releases / version).exists():
        n += 1
        version = f"{base}-{n}"
    return version


def current_release(out_dir: Path) -> Path | None:
    link = Path(out_dir) / LATEST
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def read_package(release: Path | None) -> dict[str, Any]:
    """A release's datapackage.json ({} when there is none)."""
    try:
        package = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    except (TypeError, OSError, ValueError):  # none, or damaged: latest_damage says which
        return {}
    return package if isinstance(package, dict) else {}


def reusable(release: Path | None) -> dict[str, tuple[str, Path]]:
    """Dataset id -> (fingerprint, Parquet file) of a release: what the next build may reuse."""
    found = {}
    for item in read_package(release).get("resources", []):
        parquet = [a for a in item.get("alternates", []) if a.get("format") == "parquet"]
        if item.get("fingerprint") and parquet:
            found[item["name"]] = (item["fingerprint"], release / parquet[0]["path"])
    return found


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
