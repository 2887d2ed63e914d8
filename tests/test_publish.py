import csv
import datetime as dt
import hashlib
import io
import json

import pandas as pd
import pytest
from frictionless import Package

from flows.outputs.release import PublishError, write_release
from flows.tables.datasets import build_tables

from conftest import written

pytestmark = pytest.mark.slow  # whole releases, and a publish killed midway


def test_csv_is_rfc4180_with_iso_dates_and_point_decimals(tmp_path):
    table = pd.DataFrame({
        "text": pd.Series(['has "quotes", commas', None], dtype="string"),
        "number": pd.Series([1.5, 2.0], dtype="Float64"),
        "count": pd.Series([3, None], dtype="Int64"),
        "date": [dt.date(2020, 3, 31), None],
    })
    data = written(table, tmp_path)["csv"]
    assert data == (b'text,number,count,date\r\n"has ""quotes"", commas",1.5,3,2020-03-31\r\n'
                    b",2,,\r\n")
    assert list(csv.reader(io.StringIO(data.decode()))) == [
        ["text", "number", "count", "date"], ['has "quotes", commas', "1.5", "3", "2020-03-31"],
        ["", "2", "", ""]]


def test_json_has_typed_values_and_nulls(tmp_path):
    table = pd.DataFrame({"a": pd.Series([1.5, None], dtype="Float64"),
                          "d": [dt.date(2020, 1, 2), None]})
    assert json.loads(written(table, tmp_path)["json"]) == [{"a": 1.5, "d": "2020-01-02"},
                                             {"a": None, "d": None}]


def test_release_is_complete_valid_and_becomes_latest(tmp_path, register):
    tables = build_tables([], register)
    release = write_release(tables, register, tmp_path / "out",
                            now=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
    latest = tmp_path / "out" / "latest"
    assert release.version == "20260102T030405Z"
    assert latest.resolve() == release.path.resolve()
    descriptor = json.loads((latest / "datapackage.json").read_text(encoding="utf-8"))
    assert [r["name"] for r in descriptor["resources"]] == register.published
    assert descriptor["licenses"][0]["name"] == "CC0-1.0"
    assert descriptor["illustrative"] is True and "illustrativa" in descriptor["description"]
    for resource in descriptor["resources"]:
        data = (latest / resource["path"]).read_bytes()
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        assert resource["bytes"] == len(data)
        assert (latest / resource["alternates"][0]["path"]).is_file()
    assert Package(str(latest / "datapackage.json")).validate().valid


def test_a_release_that_does_not_validate_leaves_latest_as_it_was(tmp_path, register):
    out = tmp_path / "out"
    tables = build_tables([], register)
    first = write_release(tables, register, out)
    broken = dict(tables)
    broken["forvaltningar"] = tables["forvaltningar"].replaced(pd.DataFrame(
        {"forvaltning_id": ["a", "a"], "namn": ["x", "y"], "namn_en": ["x", "y"]},
        dtype="string"))  # duplicate primary key
    with pytest.raises(PublishError) as raised:
        write_release(broken, register, out)
    assert any("primary-key" in str(error) for error in raised.value.errors)
    assert (out / "latest").resolve() == first.path.resolve()
    assert sorted(p.name for p in (out / "releases").iterdir()) == [first.version]


def test_old_releases_are_pruned_to_the_configured_number(tmp_path, register):
    tables = build_tables([], register)
    made = [write_release(tables, register, tmp_path, keep=2,
                          now=dt.datetime(2026, 1, 1, 0, 0, n, tzinfo=dt.UTC)) for n in range(4)]
    assert sorted(p.name for p in (tmp_path / "releases").iterdir()) == [
        made[2].version, made[3].version]


def test_same_tables_give_byte_identical_data_files(tmp_path, register):
    """Every format of every dataset repeats byte for byte; a workbook names the release it was
    written in, so in another release only that differs."""
    import zipfile

    tables = build_tables([], register)
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    first = write_release(tables, register, tmp_path / "a", now=now)
    second = write_release(tables, register, tmp_path / "b", now=now)
    later = write_release(tables, register, tmp_path / "c", now=now + dt.timedelta(days=1))
    data = sorted(p.relative_to(first.path) for dataset_id in register.published
                  for p in (first.path / dataset_id).iterdir())  # every format of every dataset
    assert data
    for relative in data:
        assert (first.path / relative).read_bytes() == (second.path / relative).read_bytes(), relative
    for relative in data:
        if relative.suffix != ".xlsx":
            assert (first.path / relative).read_bytes() == (later.path / relative).read_bytes()
            continue
        with zipfile.ZipFile(first.path / relative) as one, zipfile.ZipFile(later.path / relative) as two:
            assert one.namelist() == two.namelist()
            for name in one.namelist():
                assert one.read(name).replace(first.version.encode(), later.version.encode()) == \
                    two.read(name), (relative, name)


def test_the_changelog_counts_rows_added_removed_and_changed_by_key(tmp_path, register):
    tables = build_tables([], register)
    write_release(tables, register, tmp_path)
    changed = dict(tables)
    frame = tables["forvaltningar"].frame().copy()
    frame.loc[frame.forvaltning_id == "social", "namn"] = "Omsorgsförvaltningen"
    frame = frame[frame.forvaltning_id != "kommunledning"]
    frame = pd.concat([frame, pd.DataFrame({"forvaltning_id": ["kultur"], "namn": ["K"],
                                            "namn_en": ["C"]})], ignore_index=True)
    changed["forvaltningar"] = tables["forvaltningar"].replaced(frame.astype("string"))
    # keep the package valid: nothing else refers to kommunledning in an empty release
    second = write_release(changed, register, tmp_path)
    changes = json.loads((second.path / "changes.json").read_text(encoding="utf-8"))
    entry = changes["datasets"]["forvaltningar"]
    assert (entry["added"], entry["removed"], entry["changed"]) == (1, 1, 1)
    assert entry["keys"]["changed"] == [{"forvaltning_id": "social"}]
    assert changes["datasets"]["malprogram"]["changed"] == 0
    assert "forvaltningar | 4 | 1 | 1 | 1" in (second.path / "CHANGELOG.md").read_text("utf-8")


def test_killing_a_publish_midway_leaves_latest_complete_and_unchanged(tmp_path, register):
    import hashlib
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    first = write_release(build_tables([], register), register, out)
    code = ("from flows.core.register import load_register\nfrom flows.outputs.release import write_release\n"
            "from flows.tables.datasets import build_tables\nc = load_register()\n"
            f"write_release(build_tables([], c), c, {str(out)!r})\n")
    midway = 0
    for delay in (0.0, 0.05, 0.2, 0.5):
        child = subprocess.Popen([sys.executable, "-c", code])
        deadline = time.monotonic() + 60
        while not list((out / "releases").glob(".*.partial")) and child.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(delay)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        latest = (out / "latest").resolve()
        if latest == first.path.resolve():
            midway += 1
        else:  # the child finished before the kill: fine too
            first = type(first)(version=latest.name, path=latest, created="", rows={})
        for line in (latest / "SHA256SUMS").read_text("utf-8").splitlines():
            digest, name = line.split("  ", 1)
            assert hashlib.sha256((latest / name).read_bytes()).hexdigest() == digest
        assert Package(str(latest / "datapackage.json")).validate().valid
    assert midway, "no kill landed while the release was being written"


def test_a_dataset_too_large_for_one_excel_sheet_has_no_xlsx_and_excel_csv_in_parts(
        tmp_path, register):
    """(Excel's sheet limit, 1,048,575 rows, made 40 here.) The metadata, the catalogue and
    the portal say so, and the package still validates."""
    release = write_release(build_tables([], register), register, tmp_path, excel_max_rows=40)
    package = json.loads((release.path / "datapackage.json").read_text(encoding="utf-8"))
    [targets] = [r for r in package["resources"] if r["name"] == "sdg_delmal"]  # 169 rows
    formats = [a["format"] for a in targets["alternates"]]
    assert "xlsx" not in formats and targets["xlsx"]["available"] is False
    parts = [a for a in targets["alternates"] if a["format"] == "excel-csv"]
    assert [p["part"] for p in parts] == [1, 2, 3, 4, 5] and {p["parts"] for p in parts} == {5}
    rows = 0
    for part in parts:
        text = (release.path / part["path"]).read_bytes().decode("utf-8-sig")
        lines = text.splitlines()
        assert lines[0].startswith("delmal_id;") and len(lines) - 1 <= 40
        rows += len(lines) - 1
    assert rows == targets["rows"] == 169
    [small] = [r for r in package["resources"] if r["name"] == "sdg_mal"]  # 17 rows
    assert "xlsx" in [a["format"] for a in small["alternates"]] and "xlsx" not in small
    page = (release.path / "datasets" / "sdg_delmal.html").read_text(encoding="utf-8")
    assert "del 5/5" in page and targets["xlsx"]["reason"]["sv"] in page
    assert "dataset/sdg_delmal/excel-csv-del05" in (release.path / "catalog.ttl").read_text(
        encoding="utf-8")
    assert Package(str(release.path / "datapackage.json")).validate().valid


def test_changes_of_a_dataset_larger_than_memory_are_counted_in_bounded_memory(tmp_path,
                                                                               monkeypatch):
    """The per-key join runs on disk in bounded memory: 1M rows (60 MB of CSV a side) with
    a 64 MB limit."""
    from flows.outputs import changes

    monkeypatch.setattr(changes, "MEMORY_LIMIT", "64MB")
    rows = [f"K{n:07d},{n % 7},text number {n} with some more words" for n in range(1_000_000)]
    before, now = tmp_path / "before.csv", tmp_path / "now.csv"
    before.write_text("id,a,b\r\n" + "\r\n".join(rows) + "\r\n", encoding="utf-8")
    rows[10] = "K0000010,99,changed"
    del rows[20]
    rows.append("K9999999,1,new")
    now.write_text("id,a,b\r\n" + "\r\n".join(rows) + "\r\n", encoding="utf-8")
    found = changes.diff(before, now, ["id"], tmp_path / "work")
    assert (found["rows"], found["added"], found["removed"], found["changed"]) == (
        1_000_000, 1, 1, 1)
    assert found["keys"] == {"added": [{"id": "K9999999"}], "removed": [{"id": "K0000020"}],
                             "changed": [{"id": "K0000010"}]}
    assert not list((tmp_path / "work").iterdir())  # its database is gone


def test_a_dataset_that_cannot_be_written_keeps_its_previous_release_and_the_rest_publishes(
        tmp_path, register, monkeypatch):
    from flows.outputs import release as releases

    first = write_release(build_tables([], register), register, tmp_path)
    written = releases.write_dataset

    def failing(batches, folder, dataset_id, *args, **kwargs):
        if dataset_id in ("sdg_mal", "budgetavvikelse"):
            list(batches)
            raise OSError("the disk said no")
        return written(batches, folder, dataset_id, *args, **kwargs)

    monkeypatch.setattr(releases, "write_dataset", failing)
    second = write_release(build_tables([], register), register, tmp_path)
    assert set(second.fallbacks) == {"sdg_mal", "budgetavvikelse"}
    assert "the disk said no" in second.fallbacks["sdg_mal"]
    for dataset_id, kept in (("sdg_mal", True), ("sdg_delmal", False)):
        same = (first.path / dataset_id / f"{dataset_id}.csv").stat().st_ino == \
            (second.path / dataset_id / f"{dataset_id}.csv").stat().st_ino
        assert same == kept, dataset_id
    assert Package(str(second.path / "datapackage.json")).validate().valid
    import sqlite3

    with sqlite3.connect(second.path / "opendata.db") as database:
        assert database.execute("SELECT count(*) FROM sdg_mal").fetchone() == (17,)


def metadata_of(path):
    """The Metadata sheet of a workbook: {label: (sv, en)} and {field: its row}."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    rows = [tuple("" if v is None else v for v in row)
            for row in book["Metadata"].iter_rows(values_only=True)]
    sheets = book.sheetnames
    book.close()
    blank = rows.index(("",) * len(rows[0]))
    return sheets, {r[0]: r[1:3] for r in rows[1:blank]}, {r[0]: r for r in rows[blank + 2:]}


def test_every_workbook_describes_every_field_its_license_source_and_release(tmp_path, register):
    from flows.outputs.release import reusable

    from strictness import check_file

    first = write_release(build_tables([], register), register, tmp_path,
                          now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    license_url = register.package.license["path"]
    for dataset_id in register.published:
        path = first.path / dataset_id / f"{dataset_id}.xlsx"
        check_file(path)
        sheets, about, fields = metadata_of(path)
        spec = register.datasets[dataset_id]
        assert sheets == [dataset_id[:31], "Metadata"]
        assert about["Dataset / Dataset"] == (dataset_id, dataset_id)
        assert about["Titel / Title"] == (spec.title.sv, spec.title.en)
        assert about["Beskrivning / Description"] == (spec.description.sv, spec.description.en)
        assert about["Skriven i release / Written in release"] == (first.version,) * 2
        assert about["Licensens adress / License URL"] == (license_url,) * 2
        assert register.package.publisher in about["Utgivare / Publisher"]
        assert "https://www.kolada.se" in about["Källor / Sources"][0]
        published = register.published_descriptor(dataset_id)["fields"]
        assert list(fields) == [f["name"] for f in published]
        for field in published:
            assert fields[field["name"]][1:6] == (
                field["type"], field["title"], field["en"]["title"], field["description"],
                field["en"]["description"]), (dataset_id, field["name"])
    # an unchanged dataset keeps its workbook, which names the release it was written in
    again = build_tables([], register, reusable=reusable(first.path))
    second = write_release(again, register, tmp_path, now=dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
    kept = second.path / "sdg_mal" / "sdg_mal.xlsx"
    assert kept.stat().st_ino == (first.path / "sdg_mal" / "sdg_mal.xlsx").stat().st_ino
    assert metadata_of(kept)[1]["Skriven i release / Written in release"] == (first.version,) * 2


def test_the_whole_release_is_one_reproducible_zip_that_verifies(tmp_path, register):
    import shutil
    import zipfile

    from flows.core.fingerprint import file_hash
    from flows.outputs.release_zip import write_release_zip
    from flows.outputs.verify import latest_damage, read_sums, verify_release

    release = write_release(build_tables([], register), register, tmp_path)
    bundle_path = release.path / "hela-releasen.zip"
    files = sorted(p.relative_to(release.path).as_posix() for p in release.path.rglob("*")
                   if p.is_file())
    with zipfile.ZipFile(bundle_path) as bundle:
        assert bundle.testzip() is None
        assert bundle.namelist() == [n for n in files if n not in ("hela-releasen.zip", "SHA256SUMS")]
        for name in bundle.namelist():
            assert bundle.read(name) == (release.path / name).read_bytes(), name
        assert {i.date_time for i in bundle.infolist()} == {(2000, 1, 1, 0, 0, 0)}
    sums = read_sums(release.path)
    assert sums["hela-releasen.zip"] == file_hash(bundle_path)
    assert verify_release(release.path) == [] and latest_damage(tmp_path) == []
    copy = tmp_path / "copy"
    shutil.copytree(release.path, copy)
    (copy / "hela-releasen.zip").unlink()
    assert write_release_zip(copy).read_bytes() == bundle_path.read_bytes()


def test_a_full_release_writes_every_file_anew_and_a_later_one_reuses_them(tmp_path, register):
    from flows.outputs.release import reusable

    first = write_release(build_tables([], register), register, tmp_path)
    again = build_tables([], register, reusable=reusable(first.path))
    second = write_release(again, register, tmp_path, reuse=False)
    reused = write_release(build_tables([], register, reusable=reusable(second.path)),
                           register, tmp_path)
    csv_file = "forvaltningar/forvaltningar.csv"
    assert (first.path / csv_file).stat().st_ino != (second.path / csv_file).stat().st_ino
    assert (second.path / csv_file).stat().st_ino == (reused.path / csv_file).stat().st_ino
