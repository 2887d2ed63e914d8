"""Damaged internal state (#16): cut-off, garbage, empty or swapped files under state/, and a
folder where the run reports' `latest` link belongs. Each is made for real on a published
site, then the real flow runs: it completes, `published/latest` is a whole release (every
checksum holds, the Data Package validates), the warning names the damaged file, the file is
rebuilt, and the next run publishes without a warning. An earlier delivery is never
republished from damaged state."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from frictionless import Package
from typer.testing import CliRunner

from flows.checks.store import VerdictStore
from flows.checks.verdict import read_rows
from flows.cli import app

from conftest import RAW

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_harness")]

SOCIAL = "2020/social/aktiviteter.csv"  # whose verdict is damaged
OTHER = "2020/kommunledning/aktiviteter.csv"  # whose rows are swapped in
TOUCHED = "2020/kommunledning/fordon.csv"  # changed between runs, so that a run does work
ECONOMY = "2020/social/ekonomi.xlsx"  # re-delivered broken, its earlier delivery damaged


def run(site: Path):
    from flows.pipeline import publish_open_data

    state = publish_open_data(raw_dir=site / "raw", out_dir=site / "published",
                              reports_dir=site / "reports", state_dir=site / "state",
                              return_state=True)
    return state, state.result(raise_on_failure=False)


def opendata_run(site: Path):
    return CliRunner().invoke(app, ["run", "--raw", str(site / "raw"),
                                    "--out", str(site / "published"),
                                    "--reports", str(site / "reports"),
                                    "--state", str(site / "state")])


def touch(site: Path) -> None:
    """A new delivery of the same rows (other line endings): the inputs change."""
    path = site / "raw" / TOUCHED
    data = path.read_bytes()
    path.write_bytes(data.replace(b"\r\n", b"\n") if b"\r\n" in data
                     else data.replace(b"\n", b"\r\n"))


def assert_latest_whole(site: Path) -> None:
    latest = (site / "published" / "latest").resolve()
    assert latest.is_dir() and latest.parent.name == "releases"
    listed = {}
    for line in (latest / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((latest / name).read_bytes()).hexdigest() == digest, name
        listed[name] = digest
    on_disk = {p.relative_to(latest).as_posix() for p in latest.rglob("*") if p.is_file()}
    assert set(listed) == on_disk - {"SHA256SUMS"}
    report = Package(str(latest / "datapackage.json")).validate()
    assert report.valid, report.flatten(["type", "note"])[:5]


def published(site: Path, dataset_id: str) -> pd.DataFrame:
    folder = site / "published" / "latest" / dataset_id
    return pd.read_csv(folder / f"{dataset_id}.csv", dtype=str, keep_default_na=False)


def report(site: Path) -> dict:
    return json.loads((site / "reports" / "latest" / "summary.json").read_text("utf-8"))


def published_normally(site: Path) -> None:
    """The next run after the fault: a release, no warning about state."""
    touch(site)
    state, summary = run(site)
    assert state.is_completed(), state.message
    assert summary.published and summary.warnings == []
    assert_latest_whole(site)


@pytest.fixture(scope="module")
def first(tmp_path_factory, prefect_harness):
    """The 2020 reports published once: raw/, published/, reports/ and state/."""
    site = tmp_path_factory.mktemp("first")
    shutil.copytree(RAW / "2020", site / "raw" / "2020")
    state, summary = run(site)
    assert state.is_completed(), state.message
    return site, summary


@pytest.fixture
def site(first, tmp_path) -> Path:
    """A copy of the published site to damage (links stay links)."""
    copy = tmp_path / "site"
    shutil.copytree(first[0], copy, symlinks=True)
    return copy


def verdict_key(site: Path, name: str) -> str:
    for note in (site / "state" / "verdicts").glob("*.json"):
        stored = json.loads(note.read_text("utf-8"))
        if stored.get("verdict", stored)["file"] == name:
            return note.stem
    raise AssertionError(f"no stored verdict for {name}")


def cut_off(path: Path) -> Path:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


def garbage(path: Path) -> Path:
    path.write_bytes(b"\x00\xffnot what was written{")
    return path


def emptied(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def folder(path: Path) -> Path:
    path.unlink()
    (path / "inside").mkdir(parents=True)
    return path


def swapped_with(other: Path):
    def swap(path: Path) -> Path:
        shutil.copyfile(other, path)
        return path
    return swap


VERDICT_DAMAGE = {
    "cut-off parquet": ("parquet", cut_off),
    "garbage json": ("json", garbage),
    "empty parquet": ("parquet", emptied),
    "folder for the parquet": ("parquet", folder),
    "swapped parquet": ("parquet", None),  # another file's rows: made in the test
}


@pytest.mark.parametrize("kind", VERDICT_DAMAGE)
def test_a_damaged_verdict_is_checked_again(site, first, kind):
    suffix, damage = VERDICT_DAMAGE[kind]
    key, store = verdict_key(site, SOCIAL), VerdictStore(site / "state" / "verdicts")
    damage = damage or swapped_with(store.rows(verdict_key(site, OTHER)))
    damaged = damage(site / "state" / "verdicts" / f"{key}.{suffix}")
    before = published(site, "aktiviteter")
    touch(site)

    state, summary = run(site)

    assert state.is_completed(), state.message
    assert summary.published
    assert_latest_whole(site)
    assert [str(damaged) in line for line in summary.warnings] == [True]
    assert "Tillståndsfilen" in summary.warnings[0]
    assert "The state file" in summary.warnings[0]
    assert report(site)["warnings"] == summary.warnings
    assert str(damaged) in (site / "reports" / "latest" / "varningar.md").read_text("utf-8")
    rebuilt = store.load(key)  # whole again: the note's sha256 holds for the new rows
    assert rebuilt is not None and store.damaged == []
    assert read_rows(rebuilt.accepted).num_rows == rebuilt.rows_published > 0
    social = {f.path: f for f in summary.files}[SOCIAL]
    assert (social.rows_read, social.rows_published) == (rebuilt.rows_read,
                                                         rebuilt.rows_published)
    assert published(site, "aktiviteter").equals(before)  # the same rows, none swapped in
    published_normally(site)


ACCEPTED_DAMAGE = {
    "cut-off parquet": ("parquet", cut_off),
    "garbage json": ("json", garbage),
    "swapped parquet": ("parquet", None),  # another year's rows of the same report type
}


@pytest.mark.parametrize("kind", ACCEPTED_DAMAGE)
def test_a_damaged_earlier_delivery_is_never_republished(site, kind):
    suffix, damage = ACCEPTED_DAMAGE[kind]
    accepted = site / "state" / "accepted"
    stored = accepted / f"{ECONOMY}.parquet"
    assert stored.is_file()
    damage = damage or swapped_with(accepted / "2020" / "kommunledning" / "ekonomi.csv.parquet")
    damaged = damage(stored.with_suffix(f".{suffix}"))
    good = (site / "raw" / ECONOMY).read_bytes()
    (site / "raw" / ECONOMY).write_bytes(b"not a workbook")  # rejected whole

    result = opendata_run(site)

    assert result.exit_code == 0, result.output
    assert str(damaged) in result.output  # the console names the damaged file
    assert "Traceback" not in result.output
    assert_latest_whole(site)
    written = report(site)
    economy = {f["path"]: f for f in written["files"]}[ECONOMY]
    assert economy["file_rejected"] and economy["problems"]  # the rejection is reported
    assert (economy["rows_kept"], economy["kept_from"]) == (0, None)
    assert [str(damaged) in line for line in written["warnings"]] == [True]
    rows = published(site, "ekonomi")
    assert rows[(rows.forvaltning_id == "social") & (rows.ar == "2020")].empty
    assert not stored.exists() and not stored.with_suffix(".json").exists()

    (site / "raw" / ECONOMY).write_bytes(good)  # a valid delivery again
    published_normally(site)
    rows = published(site, "ekonomi")
    assert len(rows[(rows.forvaltning_id == "social") & (rows.ar == "2020")]) == 4
    note = json.loads(stored.with_suffix(".json").read_text("utf-8"))  # stored anew, whole
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == note["sha256"]


def test_a_file_or_folder_in_the_wrong_place_is_replaced(site):
    """A file where a state folder belongs (the verdicts, a department's earlier deliveries)
    and a folder where the reports' `latest` link belongs (moved aside: it may be someone's)."""
    verdicts, department = site / "state" / "verdicts", site / "state" / "accepted" / "2020" / "social"
    for path in (verdicts, department):
        shutil.rmtree(path)
        path.write_bytes(b"not a folder")
    link = site / "reports" / "latest"
    link.unlink()
    link.mkdir()
    (link / "notes.md").write_text("made by hand\n", encoding="utf-8")
    touch(site)

    state, summary = run(site)

    assert state.is_completed(), state.message
    assert summary.published
    assert_latest_whole(site)
    assert link.is_symlink() and (link / "summary.json").is_file()
    aside = [p for p in link.parent.glob("latest.*") if p.is_dir()]
    assert [(p / "notes.md").read_text("utf-8") for p in aside] == ["made by hand\n"]
    named = [[str(path) in line for line in summary.warnings]
             for path in (verdicts, department, aside[0])]
    assert named == [[True, False, False], [False, True, False], [False, False, True]]
    assert report(site)["warnings"] == summary.warnings
    assert VerdictStore(verdicts).load(verdict_key(site, SOCIAL)) is not None
    assert (department / "ekonomi.xlsx.parquet").is_file()
    published_normally(site)


def test_prefect_results_are_never_read_back(site):
    """Prefect's result store is not state the flow reads: every task runs without a cache
    and nothing persists a result, so only a failed run's exception lands in
    PREFECT_HOME/storage, and no later run reads it. Damaged files there change nothing."""
    from prefect import Flow, Task
    from prefect.cache_policies import NO_CACHE

    import flows.pipeline as pipeline

    tasks = [t for t in vars(pipeline).values() if isinstance(t, Task)]
    assert len(tasks) >= 8
    for task in tasks:
        assert task.cache_policy == NO_CACHE and task.persist_result is not True, task.name
    assert all(f.persist_result is not True for f in vars(pipeline).values()
               if isinstance(f, Flow))
    storage = Path(os.environ["PREFECT_HOME"]) / "storage"
    storage.mkdir(exist_ok=True)  # other tests' results stay as they are
    (storage / "damaged-cut-off").write_bytes(b"\x80\x04\x95")  # a pickle, cut off
    (storage / "damaged-garbage").write_bytes(b"\x00\xffnot a result")
    published_normally(site)
