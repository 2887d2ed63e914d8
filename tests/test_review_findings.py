"""Regression tests for defects a review found (each named after what went wrong)."""

import json
import shutil

import pandas as pd
import pytest

from flows.checks.earlier import keep_earlier_deliveries, save_accepted
from flows.checks.keys import merge_duplicates
from flows.core.fingerprint import code_hash
from flows.intake.discover import discover
from flows.intake.sources import SourceError, pull
from flows.outputs.release import reusable, write_release
from flows.tables.codelists import read_codelists
from flows.tables.datasets import build_tables, suppress_small_counts

from conftest import RAW, validated


def test_personal_data_in_a_required_field_rejects_the_row_not_the_release(tmp_path, register):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    target = raw / "2021" / "social" / "ekonomi.csv"
    target.write_text(target.read_text(encoding="utf-8").replace(
        "Hemtjänst", "Hemtjänst (chef: anna.svensson@aneby.se)", 1), encoding="utf-8")
    results = validated(raw, register)
    [economy] = [r for r in results if r.file == "2021/social/ekonomi.csv"]
    assert "personal-data" in {p.type for p in economy.problems}
    release = write_release(build_tables(results, register), register, tmp_path / "out")
    assert "anna.svensson" not in (release.path / "ekonomi" / "ekonomi.csv").read_text("utf-8")


def test_a_dangling_link_or_a_loop_is_a_problem_not_a_crash(tmp_path, register):
    folder = tmp_path / "raw" / "2020" / "social"
    folder.mkdir(parents=True)
    (folder / "fordon.csv").symlink_to(folder / "does-not-exist.csv")
    (folder / "loop.csv").symlink_to(folder / "loop.csv")
    found = discover(tmp_path / "raw", register)
    assert sorted((p.file, p.type) for p in found.rejected) == [
        ("2020/social/fordon.csv", "unsafe-path"), ("2020/social/loop.csv", "unsafe-path")]


def test_a_strict_file_that_loses_a_row_to_a_duplicate_key_waits_whole(tmp_path, register):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    (raw / "2021" / "social" / "ekonomi.json").write_text(json.dumps([
        {"forvaltning_id": "social", "verksamhet": "Hemtjänst", "ar": 2021, "budget_tkr": 1},
        {"forvaltning_id": "social", "verksamhet": "Ny verksamhet", "ar": 2021,
         "budget_tkr": 2}]), encoding="utf-8")
    by_file = {r.file: r for r in validated(raw, register)}
    second = by_file["2021/social/ekonomi.json"]
    assert second.rows_published == 0 and second.rows_rejected == 2
    assert second.problems[0].type == "strict-file-rejected"


def test_a_single_file_source_never_empties_the_mirror(tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(RAW, mirror)
    before = sorted(p for p in mirror.rglob("*") if p.is_file())
    with pytest.raises(SourceError):
        pull(f"file://{RAW / '2021' / 'social' / 'personal.csv'}", mirror)
    assert sorted(p for p in mirror.rglob("*") if p.is_file()) == before


def test_a_redelivery_with_every_row_rejected_keeps_the_earlier_rows(tmp_path, register):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    first = validated(raw, register)
    save_accepted(tmp_path / "state", first, "R1")
    target = raw / "2021" / "social" / "personal.csv"
    target.write_text(target.read_text(encoding="utf-8").replace(",2021,", ",2012,"),
                      encoding="utf-8")
    again = merge_duplicates(keep_earlier_deliveries(tmp_path / "state",
                                                     validated(raw, register), register), register)
    [personal] = [r for r in again if r.file == "2021/social/personal.csv"]
    assert personal.rows_published == 0 and personal.rows_kept == 1
    assert personal.kept_from == "R1"


def test_kept_rows_hold_their_keys_against_other_files(tmp_path, register):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    save_accepted(tmp_path / "state", validated(raw, register), "R1")
    target = raw / "2021" / "kommunledning" / "nyckeltal.csv"
    kept_line = target.read_text(encoding="utf-8").splitlines()[1]
    target.write_text("fel\n1\n", encoding="utf-8")  # rejected whole: its rows are kept
    other = raw / "2021" / "social" / "nyckeltal.csv"
    other.write_text(other.read_text(encoding="utf-8") + kept_line + "\n", encoding="utf-8")
    merged = merge_duplicates(keep_earlier_deliveries(tmp_path / "state",
                                                      validated(raw, register), register), register)
    [social] = [r for r in merged if r.file == "2021/social/nyckeltal.csv"]
    assert [p.type for p in social.problems] == ["primary-key"]
    write_release(build_tables(merged, register), register, tmp_path / "out")  # validates


def test_suppressed_cells_cannot_be_recovered_from_the_total(register):
    definitions = read_codelists(register)[0]["nyckeltal_definitioner"]
    from flows.tables.codelists import to_frame

    values = to_frame([{"nyckeltal_id": "ANB-0004", "kommun_id": "0604", "ar": 2021,
                        "kon": k, "varde": v} for k, v in (("T", 10), ("K", 7), ("M", 3))],
                      register.schema("nyckeltal"))
    result = suppress_small_counts(values, definitions, 5).set_index("kon")
    assert pd.isna(result.loc["M", "varde"]) and pd.isna(result.loc["K", "varde"])
    assert result.loc["T", "varde"] == 10


def test_compiled_files_do_not_change_the_code_hash(tmp_path):
    before = code_hash()
    from flows.core import settings

    cache = __import__("pathlib").Path(settings.__file__).parent / "__pycache__"
    cache.mkdir(exist_ok=True)
    marker = cache / "review-marker.cpython-311.pyc"
    marker.write_bytes(b"compiled")
    try:
        assert code_hash() == before
    finally:
        marker.unlink()


def test_full_does_not_reuse_files_of_the_previous_release(tmp_path, register):
    tables = build_tables([], register)
    first = write_release(tables, register, tmp_path)
    again = build_tables([], register, reusable=reusable(first.path))
    second = write_release(again, register, tmp_path, reuse=False)
    reused = write_release(build_tables([], register, reusable=reusable(second.path)),
                           register, tmp_path)
    csv = "forvaltningar/forvaltningar.csv"
    assert (first.path / csv).stat().st_ino != (second.path / csv).stat().st_ino
    assert (second.path / csv).stat().st_ino == (reused.path / csv).stat().st_ino
