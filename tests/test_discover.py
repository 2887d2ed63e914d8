from pathlib import Path

from flows.intake.discover import classify, discover, programme_years


def test_programme_period_comes_from_the_codelist(register):
    assert list(programme_years(register)) == [2019, 2020, 2021, 2022]


def test_files_in_the_layout_are_classified(deliver, register):
    deliver("2020/social/aktiviteter.csv", "x")
    deliver("2021/kommunledning/nyckeltal.json", "[]")
    deliver("README.md", "docs are not deliveries")
    deliver("2020/.DS_Store", "hidden files are ignored")
    found = discover(deliver.root, register)
    assert found.rejected == []
    assert [(f.name, f.year, f.department, f.report_type, f.format) for f in found.files] == [
        ("2020/social/aktiviteter.csv", 2020, "social", "aktiviteter", "csv"),
        ("2021/kommunledning/nyckeltal.json", 2021, "kommunledning", "nyckeltal", "json"),
    ]


def test_files_outside_the_layout_get_one_clear_error_each(deliver, register):
    deliver("aktiviteter.csv", "x")
    deliver("2020/aktiviteter.csv", "x")
    deliver("2020/social/budget.csv", "x")
    deliver("2020/ekonomiavd/ekonomi.csv", "x")
    deliver("2031/social/ekonomi.csv", "x")
    deliver("2020/social/ekonomi.pdf", "x")
    deliver("tjugo/social/ekonomi.csv", "x")
    found = discover(deliver.root, register)
    assert found.files == []
    assert sorted((p.file, p.type) for p in found.rejected) == [
        ("2020/aktiviteter.csv", "bad-path"),
        ("2020/ekonomiavd/ekonomi.csv", "unknown-department"),
        ("2020/social/budget.csv", "unknown-report-type"),
        ("2020/social/ekonomi.pdf", "unsupported-format"),
        ("2031/social/ekonomi.csv", "year-outside-programme"),
        ("aktiviteter.csv", "bad-path"),
        ("tjugo/social/ekonomi.csv", "bad-path"),
    ]
    by_file = {p.file: p for p in found.rejected}
    assert "raw/<år>/<förvaltning>/<rapporttyp>" in by_file["aktiviteter.csv"].message_sv
    assert "raw/<year>/<department>/<report type>" in by_file["aktiviteter.csv"].message_en
    # the known report types and departments are named in the fix
    assert "aktiviteter, nyckeltal, ekonomi, fordon, personal" in by_file[
        "2020/social/budget.csv"].message_sv
    assert "kommunledning, barn_utbildning, social, samhallsbyggnad" in by_file[
        "2020/ekonomiavd/ekonomi.csv"].message_sv


def test_missing_raw_folder_is_a_problem_not_a_crash(tmp_path, register):
    found = discover(tmp_path / "nowhere", register)
    assert [p.type for p in found.rejected] == ["bad-path"]


def test_a_file_outside_the_layout_can_still_be_self_checked(register, tmp_path):
    path = tmp_path / "aktiviteter.csv"
    found = classify(path, "aktiviteter.csv", register, strict_layout=False)
    assert (found.report_type, found.year, found.department) == ("aktiviteter", None, None)
    found = classify(Path("x/min-fil.csv"), "min-fil.csv", register, strict_layout=False,
                     report_type="fordon", department="social", year=2020)
    assert (found.report_type, found.year, found.department) == ("fordon", 2020, "social")


def test_a_dangling_link_or_a_loop_is_a_problem_not_a_crash(tmp_path, register):
    folder = tmp_path / "raw" / "2020" / "social"
    folder.mkdir(parents=True)
    (folder / "fordon.csv").symlink_to(folder / "does-not-exist.csv")
    (folder / "loop.csv").symlink_to(folder / "loop.csv")
    found = discover(tmp_path / "raw", register)
    assert sorted((p.file, p.type) for p in found.rejected) == [
        ("2020/social/fordon.csv", "unsafe-path"), ("2020/social/loop.csv", "unsafe-path")]
