"""A rejected redelivery does not unpublish a file's rows: the last valid delivery's rows stay,
named with the release they came from, and they keep their keys against other files."""

import shutil

import pytest

from flows.checks.earlier import keep_earlier_deliveries, save_accepted
from flows.checks.keys import merge_duplicates
from flows.outputs.release import write_release
from flows.tables.datasets import build_tables

from conftest import RAW, validated


def test_a_redelivery_with_every_row_rejected_keeps_the_earlier_rows(tmp_path, register):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    save_accepted(tmp_path / "state", validated(raw, register), "R1")
    target = raw / "2021" / "social" / "personal.csv"
    target.write_text(target.read_text(encoding="utf-8").replace(",2021,", ",2012,"),
                      encoding="utf-8")
    again = merge_duplicates(keep_earlier_deliveries(tmp_path / "state",
                                                     validated(raw, register), register), register)
    [personal] = [r for r in again if r.file == "2021/social/personal.csv"]
    assert personal.rows_published == 0 and personal.rows_kept == 1
    assert personal.kept_from == "R1"


@pytest.mark.slow  # writes a whole release
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
