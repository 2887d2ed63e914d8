"""Pulling the reports from a source: a folder URL or HTTP served on loopback, with retries on
transient errors and a clear failure on permanent ones."""

import functools
import http.server
import itertools
import shutil
import threading

import pytest

from flows.intake.sources import SourceError, pull

from conftest import RAW, copy_site


def test_pull_mirrors_a_folder_url(tmp_path):
    source = tmp_path / "share"
    shutil.copytree(RAW, source)
    mirror = tmp_path / "mirror"
    first = pull(f"file://{source}", mirror)
    assert first.files == len([p for p in source.rglob("*") if p.is_file()])
    assert len(first.updated) == first.files
    again = pull(f"file://{source}", mirror)
    assert again.updated == [] and again.removed == []
    (source / "2019" / "social" / "personal.csv").unlink()
    (source / "2021" / "social" / "ekonomi.csv").write_text("changed\n", encoding="utf-8")
    third = pull(f"file://{source}", mirror)
    assert third.removed == ["2019/social/personal.csv"]
    assert third.updated == ["2021/social/ekonomi.csv"]
    assert (mirror / "2021" / "social" / "ekonomi.csv").read_text(encoding="utf-8") == "changed\n"


def test_a_missing_source_is_a_clear_permanent_error(tmp_path):
    with pytest.raises(SourceError, match="finns inte"):
        pull(f"file://{tmp_path / 'nowhere'}", tmp_path / "mirror")


class Flaky(http.server.SimpleHTTPRequestHandler):
    failures = 0
    fail_first = 0

    def do_GET(self):  # noqa: N802 - the http.server API
        if Flaky.failures < Flaky.fail_first:
            Flaky.failures += 1
            self.send_error(503, "busy")
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "served"
    shutil.copytree(RAW, root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Flaky, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.mark.e2e
@pytest.mark.usefixtures("prefect_harness")
def test_the_flow_pulls_over_http_and_retries_a_transient_error(tmp_path, served):
    from flows.pipeline import publish_open_data

    Flaky.failures, Flaky.fail_first = 0, 1  # the first request answers 503
    state = publish_open_data(raw_dir=tmp_path / "mirror", out_dir=tmp_path / "published",
                              reports_dir=tmp_path / "reports", state_dir=tmp_path / "state",
                              source=served, return_state=True)
    assert state.is_completed(), state.message
    assert Flaky.failures == 1
    assert (tmp_path / "published" / "latest" / "datapackage.json").is_file()

    state = publish_open_data(raw_dir=tmp_path / "mirror2", out_dir=tmp_path / "published2",
                              reports_dir=tmp_path / "reports", state_dir=tmp_path / "state2",
                              source=served + "finns-inte/", return_state=True)
    assert state.is_failed() and "Källan" in state.message


# A source in motion (#16): a report still being written while it is pulled or read.

MOVING = "2020/social/aktiviteter.csv"
ROWS = itertools.count(900)


def row() -> str:
    """One more valid activity, as a department adds it while saving."""
    return (f"A{next(ROWS)},2020,O1,Ny aktivitet,Sparas just nu.,social,pågående,2020-01-01,"
            "2020-12-31,10,,\n")


def writer_appends(monkeypatch, source, times: int) -> dict:
    """A writer still saving MOVING at the source: while each of the first `times` copies of it
    is read, a row is added to it (the copy gets the file as it was, the source moves on)."""
    from fsspec.implementations.local import LocalFileSystem

    original, seen = LocalFileSystem.cat_file, {"copies": 0}

    def cat_file(self, path, *args, **kwargs):
        data = original(self, path, *args, **kwargs)
        if str(path).endswith(MOVING):
            seen["copies"] += 1
            if seen["copies"] <= times:
                with (source / MOVING).open("a", encoding="utf-8") as handle:
                    handle.write(row())
        return data

    monkeypatch.setattr(LocalFileSystem, "cat_file", cat_file)
    monkeypatch.setattr("flows.intake.sources.SETTLE_SECONDS", 0)
    return seen


def no_part_files(mirror) -> bool:
    return not [p for p in mirror.rglob("*") if p.name.endswith(".part")]


def test_a_file_that_settles_is_pulled_again_and_whole(tmp_path, monkeypatch):
    source, mirror = tmp_path / "share", tmp_path / "mirror"
    shutil.copytree(RAW, source)
    seen = writer_appends(monkeypatch, source, times=2)
    pulled = pull(f"file://{source}", mirror)
    assert seen["copies"] == 3 and pulled.moving == []
    assert (mirror / MOVING).read_bytes() == (source / MOVING).read_bytes()
    assert (mirror / MOVING).read_text(encoding="utf-8").count("Sparas just nu.") == 2
    assert no_part_files(mirror)


def test_a_file_that_never_settles_is_left_out_and_never_half_copied(tmp_path, monkeypatch):
    source, mirror = tmp_path / "share", tmp_path / "mirror"
    shutil.copytree(RAW, source)
    writer_appends(monkeypatch, source, times=10**6)
    pulled = pull(f"file://{source}", mirror)
    assert (pulled.moving, pulled.kept) == ([MOVING], [])
    assert not (mirror / MOVING).exists() and no_part_files(mirror)
    assert pulled.files == len([p for p in source.rglob("*") if p.is_file()]) - 1

    monkeypatch.undo()  # the writer is done: the next pull takes the file
    again = pull(f"file://{source}", mirror)
    assert again.moving == [] and MOVING in again.updated
    stable = (mirror / MOVING).read_bytes()
    assert stable == (source / MOVING).read_bytes()

    writer_appends(monkeypatch, source, times=10**6)  # saved again, and again...
    third = pull(f"file://{source}", mirror)
    assert (third.moving, third.kept) == ([MOVING], [MOVING])
    assert (mirror / MOVING).read_bytes() == stable  # the last whole copy stays
    assert MOVING not in third.removed and no_part_files(mirror)


def test_a_local_file_that_changes_while_hashed_is_not_validated(raw_copy, register,
                                                                 monkeypatch):
    from flows import inputs
    from flows.checks.delivery import left_in_motion
    from flows.core.settings import Settings

    hashed = inputs.file_hash

    def file_hash(path):
        digest = hashed(path)
        if str(path).endswith(MOVING):
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(row())
        return digest

    monkeypatch.setattr(inputs, "file_hash", file_hash)
    given = inputs.run_inputs(raw_copy, register.schemas_dir, Settings.from_env())
    assert given.digests[MOVING].startswith("in-motion")
    files = {f.name: f for f in given.found.files}
    verdict = left_in_motion(files[MOVING])
    assert verdict.file_rejected and [p.type for p in verdict.problems] == ["file-in-motion"]
    assert "ändrades medan körningen läste den" in verdict.problems[0].message_sv
    assert left_in_motion(files["2020/social/fordon.csv"]) is None
    monkeypatch.undo()
    again = inputs.run_inputs(raw_copy, register.schemas_dir, Settings.from_env())
    assert not again.digests[MOVING].startswith("in-motion")
    assert left_in_motion({f.name: f for f in again.found.files}[MOVING]) is None


@pytest.mark.e2e
@pytest.mark.usefixtures("prefect_harness")
def test_the_flow_publishes_the_rest_while_a_file_moves(tmp_path, raw_copy, monkeypatch,
                                                        shipped_site):
    """A file saved again while the run reads it is not validated as that delivery: its last
    valid delivery stays published, the rest is published, and the next run takes it."""
    import pandas as pd

    from flows import pipeline

    def run(**options):
        return pipeline.publish_open_data(
            raw_dir=raw_copy, out_dir=tmp_path / "published", reports_dir=tmp_path / "reports",
            state_dir=tmp_path / "state", return_state=True, **options)

    def activities():
        return pd.read_csv(tmp_path / "published/latest/aktiviteter/aktiviteter.csv", dtype=str)

    copy_site(shipped_site, tmp_path)  # the flow's first run of the shipped reports, copied
    first = shipped_site[2]
    before = activities()
    with (raw_copy / MOVING).open("a", encoding="utf-8") as handle:  # saved again ...
        handle.write(row())
    checked = pipeline.check_file

    def check_file(raw, register, into=None):  # ... and again while the run reads it
        result = checked(raw, register, into=into)
        if raw.name == MOVING:
            with raw.path.open("a", encoding="utf-8") as handle:
                handle.write(row())
        return result

    monkeypatch.setattr(pipeline, "check_file", check_file)
    state = run()
    assert state.is_completed(), state.message
    second = state.result()
    files = {f.path: f for f in second.files}
    moving = files[MOVING]
    assert moving.file_rejected and moving.problems[0].type == "file-in-motion"
    assert moving.rows_kept == first_rows(first, MOVING) and moving.kept_from
    assert second.release.version != first.release.version
    assert activities().equals(before)  # the last valid delivery, not the half-saved one
    assert second.rows_read == second.rows_published + second.rows_rejected
    report = (tmp_path / "reports/latest/social.md").read_text(encoding="utf-8")
    assert "file-in-motion" in report and MOVING in report

    monkeypatch.undo()  # saved: the next run publishes it
    third = run().result()
    assert third.published and not [p for p in third.problems if p.type == "file-in-motion"]
    assert first_rows(third, MOVING) == first_rows(first, MOVING) + 2
    assert len(activities()) == len(before) + 2


def first_rows(summary, path: str) -> int:
    return {f.path: f for f in summary.files}[path].rows_published


@pytest.mark.e2e
@pytest.mark.usefixtures("prefect_harness")
def test_the_flow_names_a_file_left_out_of_the_pull(tmp_path, monkeypatch, capsys):
    from rich.console import Console

    from flows.cli import print_warnings
    from flows.pipeline import publish_open_data

    source = tmp_path / "share"
    shutil.copytree(RAW, source)
    writer_appends(monkeypatch, source, times=10**6)
    state = publish_open_data(raw_dir=tmp_path / "mirror", out_dir=tmp_path / "published",
                              reports_dir=tmp_path / "reports", state_dir=tmp_path / "state",
                              source=f"file://{source}", return_state=True)
    assert state.is_completed(), state.message
    summary = state.result()
    files = {f.path: f for f in summary.files}
    assert files[MOVING].file_rejected and files[MOVING].department == "social"
    assert [p.type for p in files[MOVING].problems] == ["file-in-motion"]
    assert summary.rows_read == summary.rows_published + summary.rows_rejected
    assert len(files) == len([p for p in source.rglob("*.*") if p.name != "README.md"])
    assert (tmp_path / "published/latest/datapackage.json").is_file()
    print_warnings(Console(file=None, width=400), summary, tmp_path / "reports/latest")
    said = capsys.readouterr().out
    assert f"Filen {MOVING} ändrades medan den hämtades och är inte med i denna körning" in said
    assert "is left out of this run; it is pulled again next time" in said


def test_a_single_file_source_is_refused_and_never_empties_the_mirror(tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(RAW, mirror)
    before = sorted(p for p in mirror.rglob("*") if p.is_file())
    with pytest.raises(SourceError):
        pull(f"file://{RAW / '2021' / 'social' / 'personal.csv'}", mirror)
    assert sorted(p for p in mirror.rglob("*") if p.is_file()) == before
