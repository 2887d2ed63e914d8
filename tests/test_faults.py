"""Faults a nightly job meets (#16): a full disk, a folder that cannot be written, a damaged
publication. Each test checks the three guarantees: latest stays a complete release (its
checksums and its Data Package hold), the run says what happened and what to do in Swedish and
English without a traceback, and the next run after the fault is cleared publishes normally.

A full disk is a real one where the machine allows it (a small tmpfs, as root); elsewhere the
fault is injected into the writers, and the tmpfs tests skip."""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.core.diskfault import DiskFault, check_writable, explain
from flows.inputs import run_inputs, unchanged_since
from flows.outputs.release import current_release, write_release
from flows.outputs.verify import latest_damage, verify_release

from conftest import OPENDATA, RAW, copy_release, copy_site, harness_url

pytestmark = pytest.mark.slow  # crashes, kills and disk faults on a real tmpfs


# --- helpers ---------------------------------------------------------------------------------
def _mount(folder: Path, size: str, *options: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a tmpfs needs root: the fault is injected in the other tests")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join([f"size={size}", *options]),
                           "tmpfs", str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not allowed here: {done.stderr.strip()}")


def _resize(folder: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(folder)], check=True)


@pytest.fixture
def tmpfs(tmp_path):
    """mount(name, size, *options) -> a tmpfs folder under tmp_path, unmounted afterwards."""
    mounted = []

    def mount(name: str, size: str, *options: str) -> Path:
        folder = tmp_path / name
        _mount(folder, size, *options)
        mounted.append(folder)
        return folder

    yield mount
    for folder in reversed(mounted):
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def _run(tmp_path: Path, out: Path, *extra: str, prefect: Path | None = None,
         raw: Path = RAW) -> subprocess.CompletedProcess:
    """`opendata run` in its own process, on the session's Prefect test server (Prefect's
    temporary server, which costs seconds to start, has tests of its own)."""
    return subprocess.run(
        [OPENDATA, "run", "--raw", str(raw), "--out", str(out), "--reports",
         str(tmp_path / "reports"), "--state", str(tmp_path / "state"), *extra],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PREFECT_HOME": str(prefect or tmp_path / "prefect"),
             "PREFECT_API_URL": harness_url(), "COLUMNS": "200"})


def _size(release: Path) -> int:
    return sum(p.stat().st_size for p in release.rglob("*") if p.is_file())


def _intact(out: Path) -> Path:
    """Guarantee 1: latest is a whole release, nothing half-written beside it."""
    release = current_release(out)
    assert release is not None
    assert verify_release(release) == []
    assert not list((out / "releases").glob(".*.partial"))
    assert not list((out / "releases").glob(".*.work"))
    return release


def _said_once(done: subprocess.CompletedProcess, *words: str) -> str:
    """Guarantee 2: exit 1, no traceback, one red line that says it (and the log named)."""
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert any(all(w in line for w in words) for line in lines), done.stderr
    return done.stderr


# --- a full disk -----------------------------------------------------------------------------
@pytest.mark.usefixtures("prefect_harness")
def test_a_full_disk_under_published_is_said_and_the_next_run_publishes(tmp_path, tmpfs,
                                                                         shipped_release):
    size = _size(shipped_release.path) // 1024  # KiB: the release grows with the portal
    out = tmpfs("published", f"{size * 3 // 2}k")  # room for one release, not for two
    copy_release(shipped_release, out)
    before = _intact(out)

    # a second release does not fit beside the first: said before anything is written
    full = _run(tmp_path, out, "--full")
    said = _said_once(full, "Disken är full", "The disk is full", str(out), "MB needed")
    assert "validerade inte" not in said and "OperationalError" not in said
    assert _intact(out) == before
    assert [p.name for p in (out / "releases").iterdir() if not p.name.startswith(".")] == \
        [before.name]

    _resize(out, f"{size * 4}k")  # the fault is cleared
    again = _run(tmp_path, out, "--full")
    assert again.returncode == 0, again.stderr
    assert _intact(out) != before


def test_a_disk_that_fills_while_the_release_is_written_leaves_no_staging(
        tmpfs, register, shipped_tables):
    """No previous release: the space needed cannot be known; the writers meet ENOSPC."""
    out = tmpfs("published", "1m")
    tables = shipped_tables
    with pytest.raises(DiskFault) as fault:
        write_release(tables, register, out)
    assert "Disken är full" in str(fault.value) and "The disk is full" in str(fault.value)
    assert current_release(out) is None
    assert [p.name for p in (out / "releases").iterdir()] == []  # no staging, no work files
    _resize(out, "16m")
    release = write_release(tables, register, out)
    assert verify_release(release.path) == []


@pytest.mark.e2e
def test_a_full_state_or_report_folder_fails_the_run_cleanly(tmp_path, tmpfs, prefect_harness,
                                                             shipped_release):
    from flows.pipeline import publish_open_data

    out = tmp_path / "published"
    copy_release(shipped_release, out)
    before = _intact(out)
    state_dir = tmpfs("tiny-state", "64k")
    failed = publish_open_data(raw_dir=RAW, out_dir=out, reports_dir=tmp_path / "reports",
                               state_dir=state_dir, full=True, return_state=True)
    assert failed.is_failed()
    assert failed.message.startswith(f"Disken är full där {state_dir}")
    assert _intact(out) == before  # validation never reached the release

    reports = tmpfs("reports", "256k")
    (reports / "filler").write_bytes(b"\0" * (shutil.disk_usage(reports).free - 4096))
    partly = publish_open_data(raw_dir=RAW, out_dir=out, reports_dir=reports,
                               state_dir=tmp_path / "state", full=True, return_state=True)
    assert partly.is_failed(), partly.message
    summary = partly.result(raise_on_failure=False)
    assert summary is not None, partly.message
    summary = partly.result(raise_on_failure=False)
    assert summary.published  # the release stands; the report could not be kept
    assert f"Release {summary.release.version} publicerades, men / was published, but: " \
           f"Disken är full där {reports}" in partly.message
    assert _intact(out) == summary.release.path

    (reports / "filler").unlink()
    (raw := tmp_path / "raw").mkdir()
    shutil.copytree(RAW, raw, dirs_exist_ok=True)
    (raw / "2021" / "social" / "personal.csv").unlink()  # a change: a real release again
    done = publish_open_data(raw_dir=raw, out_dir=out, reports_dir=reports,
                             state_dir=tmp_path / "state", return_state=True)
    assert done.is_completed(), done.message
    assert (reports / "latest" / "summary.json").is_file()
    _intact(out)


def test_a_disk_fault_inside_a_writer_stops_the_release_instead_of_falling_back(
        tmp_path, register, monkeypatch, shipped_release, shipped_tables):
    """Injected where no tmpfs can be mounted: ENOSPC from a dataset writer and SQLite's
    'database or disk is full' from the database are the disk's fault, not one dataset's."""
    import flows.outputs.database as database
    import flows.outputs.release as release_module

    out = tmp_path / "published"
    before = copy_release(shipped_release, out)
    tables = shipped_tables

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(release_module, "write_dataset", no_space)
        with pytest.raises(DiskFault, match="Disken är full"):
            write_release(tables, register, out, reuse=False)
    assert current_release(out) == before and verify_release(before) == []

    def database_full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    with monkeypatch.context() as patch:
        patch.setattr(database, "_ingest", database_full)
        with pytest.raises(DiskFault, match="The disk is full"):
            write_release(tables, register, out, reuse=False)
    assert current_release(out) == before
    assert not [p for p in (out / "releases").iterdir() if p.name.startswith(".")]
    assert write_release(tables, register, out, reuse=False).path != before


def test_disk_errors_are_told_by_kind():
    full = sqlite3.OperationalError("database or disk is full")
    assert "Disken är full där /x" in explain(full, Path("/x"), needed=3 * 2**20)
    assert "about 3.0 MB needed" in explain(full, Path("/x"), needed=3 * 2**20)
    wrapped = RuntimeError("publishing failed")
    wrapped.__cause__ = OSError(errno.EDQUOT, "Disk quota exceeded")
    assert "The disk is full" in explain(wrapped, Path("/x"))
    assert "cannot be written" in explain(OSError(errno.EROFS, "Read-only file system"),
                                          Path("/x"))
    assert explain(ValueError("a bad value"), Path("/x")) is None


# --- a folder that cannot be written -----------------------------------------------------------
def test_an_unwritable_folder_is_said_before_prefect_starts(tmp_path, tmpfs):
    locked = tmpfs("readonly", "1m", "ro")
    with pytest.raises(DiskFault, match="kan inte skrivas"):
        check_writable(locked / "published")
    for option, prefect in (("--out", None), ("--state", None), (None, locked / "prefect")):
        args = [option, str(locked / "x")] if option else []
        done = subprocess.run(
            [OPENDATA, "run", "--raw", str(RAW), "--out", str(tmp_path / "published"),
             "--reports", str(tmp_path / "reports"), "--state", str(tmp_path / "state"), *args],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "PREFECT_HOME": str(prefect or tmp_path / "prefect"),
                 "COLUMNS": "250"})
        target = locked / ("prefect" if prefect else "x")
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert done.stderr.strip().splitlines() == [
            f"Körningen startade inte / the run did not start: Mappen {target} kan inte skrivas "
            "(behörighet eller skrivskyddat filsystem). Ge körningens användare skrivrätt eller "
            f"välj en annan mapp och kör igen. / The folder {target} cannot be written "
            "(permission or a read-only file system). Give the run's user write access or "
            "choose another folder and run again."]
    assert not (tmp_path / "published" / "latest").exists()


# --- a damaged publication -------------------------------------------------------------------
def _damage(release: Path, how: str) -> None:
    if how == "changed":
        with (release / "aktiviteter" / "aktiviteter.csv").open("a", encoding="utf-8") as f:
            f.write("x,y\n")
    elif how == "missing":
        (release / "nyckeltal" / "nyckeltal.parquet").unlink()
    elif how == "added":
        (release / "extra.html").write_text("<p>added</p>", encoding="utf-8")
    elif how == "deleted":
        shutil.rmtree(release)


def _publish(site: Path):
    from flows.pipeline import publish_open_data

    return publish_open_data(raw_dir=RAW, out_dir=site / "published",
                             reports_dir=site / "reports", state_dir=site / "state",
                             return_state=True)


@pytest.mark.e2e
@pytest.mark.parametrize("how", ["changed", "deleted"])
def test_a_damaged_latest_is_published_afresh_not_called_unchanged(tmp_path, shipped_site,
                                                                   how):
    def run():
        return _publish(tmp_path)

    first = shipped_site[2]
    first_path = copy_site(shipped_site, tmp_path)  # as if published here by the flow
    out = tmp_path / "published"
    settings = _settings()
    inputs = run_inputs(RAW, settings.schemas_dir, settings).inputs
    assert unchanged_since(out, inputs) == first.release.version
    _damage(first_path, how)
    assert latest_damage(out) and unchanged_since(out, inputs) is None

    state = run()
    summary = state.result()
    assert state.is_completed() and summary.published and not summary.unchanged_since
    assert summary.release.version != first.release.version
    assert len(summary.warnings) == 1 and "var skadad" in summary.warnings[0] \
        and "was damaged" in summary.warnings[0]
    fresh = _intact(out)
    assert not [p for p in fresh.rglob("*") if p.is_file() and first_path.exists()
                and (first_path / p.relative_to(fresh)).exists()
                and os.path.samefile(p, first_path / p.relative_to(fresh))]  # no links
    assert run().result().unchanged_since == summary.release.version  # then normal again


def _settings():
    from flows.core.settings import Settings

    return Settings.from_env()


def test_opendata_verify_says_intact_or_damaged_with_exit_codes(tmp_path, shipped_release):
    out = tmp_path / "published"
    release = copy_release(shipped_release, out)
    runner = CliRunner()
    ok = runner.invoke(app, ["verify", "--out", str(out)])
    assert ok.exit_code == 0 and "hel / intact" in ok.output
    for how in ("changed", "missing", "added"):
        _damage(release, how)
    damaged = runner.invoke(app, ["verify", str(release), "--json"])
    assert damaged.exit_code == 1
    report = json.loads(damaged.stdout)
    assert not report["intact"]
    assert {(d["file"], d["type"]) for d in report["damage"]} == {
        ("aktiviteter/aktiviteter.csv", "checksum-mismatch"),
        ("nyckeltal/nyckeltal.parquet", "missing-file"),
        ("extra.html", "unlisted-file"),
        ("aktiviteter/aktiviteter.csv", "data-error")}  # 'x,y' is no activity
    said = runner.invoke(app, ["verify", str(release)])
    assert said.exit_code == 1 and "skadad / damaged" in said.output
    gone = runner.invoke(app, ["verify", str(tmp_path / f"no-{uuid.uuid4().hex}")])
    assert gone.exit_code == 1 and "releasen finns inte / the release does not exist" \
        in gone.output


def test_the_quick_check_hashes_only_what_changed(tmp_path, shipped_release, monkeypatch):
    import flows.outputs.verify as verify

    out = tmp_path / "published"
    release = copy_release(shipped_release, out)
    hashed = []
    real = verify.file_hash
    monkeypatch.setattr(verify, "file_hash", lambda p: hashed.append(p.name) or real(p))
    assert latest_damage(out) == [] and hashed == []  # a stat per file, no hashing
    os.utime(release / "index.html")  # touched, same bytes: hashed, found whole
    assert latest_damage(out) == [] and hashed == ["index.html"]
    (out / ".latest.seen.json").unlink()
    assert latest_damage(out) == [] and len(hashed) > 50  # no list: every file hashed
