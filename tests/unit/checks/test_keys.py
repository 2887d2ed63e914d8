"""Duplicate primary keys across files: a strict file (every row or none) that loses a row to
a key another file already holds waits whole for a corrected delivery."""

import json
import shutil

from conftest import RAW, validated


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
    assert by_file["2021/social/ekonomi.csv"].rows_published > 0  # the first holder keeps its rows
