"""The run summary: every file delivered or noted has a summary, read = published + rejected
holds per file and for the run, and one report per department lists its files' problems."""

from flows.checks.delivery import ValidatedFile
from flows.core.problems import Problem
from flows.intake.discover import Discovery
from flows.outputs.run_summary import RunSummary, collapsed, department_summaries, file_summaries


def trouble(file: str, kind: str = "type-error", row: int | None = 2,
            severity: str = "error", value: str | None = None) -> Problem:
    return Problem(type=kind, severity=severity, file=file, row=row, value=value,
                   message_sv="Fel.", message_en="Wrong.")


def verdict(file: str, read: int, published: int, problems=()) -> ValidatedFile:
    year, department, _ = file.split("/")
    return ValidatedFile(file=file, report_type="aktiviteter", department=department,
                         year=int(year), rows_read=read, rows_published=published,
                         problems=list(problems))


def summary() -> RunSummary:
    results = [verdict("2021/social/aktiviteter.csv", 10, 8, [trouble("2021/social/aktiviteter.csv")]),
               verdict("2021/teknik/aktiviteter.csv", 5, 5)]
    discovery = Discovery(files=[], rejected=[trouble("2021/social/lista.txt", "unknown-report", None)])
    noted = [trouble("2021/teknik/fordon.csv", "file-in-motion", None),
             trouble("2021/teknik/aktiviteter.csv", "file-in-motion", None)]
    return RunSummary(raw_dir="raw", finished="2021-06-01T00:00:00Z", published=True,
                      files=file_summaries(discovery, results, noted))


def test_every_file_is_summarised_and_read_is_published_plus_rejected():
    run = summary()
    assert [(f.path, f.rows_read, f.rows_published, f.rows_rejected, f.file_rejected)
            for f in run.files] == [
        ("2021/social/aktiviteter.csv", 10, 8, 2, False),
        ("2021/social/lista.txt", 0, 0, 0, True),
        ("2021/teknik/aktiviteter.csv", 5, 5, 0, False),
        ("2021/teknik/fordon.csv", 0, 0, 0, True)]
    assert (run.rows_read, run.rows_published, run.rows_rejected) == (15, 13, 2)
    assert run.rows_read == run.rows_published + run.rows_rejected


def test_a_noted_problem_goes_to_its_files_summary_or_to_a_file_of_its_own():
    by_path = {f.path: f for f in summary().files}
    assert [p.type for p in by_path["2021/teknik/aktiviteter.csv"].problems] == ["file-in-motion"]
    alone = by_path["2021/teknik/fordon.csv"]
    assert (alone.department, alone.year, [p.type for p in alone.problems]) == (
        "teknik", 2021, ["file-in-motion"])


def test_a_noted_file_outside_the_layout_has_no_department():
    [alone] = file_summaries(Discovery(files=[], rejected=[]), [],
                             [trouble("lost.csv", "file-in-motion", None)])
    assert (alone.department, alone.year, alone.file_rejected) == (None, None, True)


def test_each_department_has_a_report_with_its_files_and_problems():
    reports = department_summaries(summary())
    assert sorted(reports) == ["okand", "social", "teknik"]  # a file rejected by discovery: okand
    assert "2021/social/lista.txt" in reports["okand"]
    assert "| 2021/social/aktiviteter.csv | 10 | 8 | 2 |" in reports["social"]
    assert "**type-error** (rad 2): Fel." in reports["social"]
    assert "2021/social" not in reports["teknik"]


def test_a_long_problem_list_shows_the_first_and_says_where_the_rest_is():
    file = "2021/social/aktiviteter.csv"
    run = RunSummary(raw_dir="raw", finished="t", published=True, files=file_summaries(
        Discovery(files=[], rejected=[]),
        [verdict(file, 9, 4, [trouble(file, row=n) for n in range(2, 7)])]))
    lines = department_summaries(run, shown=2)["social"].splitlines()
    assert sum(line.startswith("- **type-error**") for line in lines) == 2
    assert "- … 3 fler / more: social.md" in lines


def test_warnings_collapse_per_kind_and_severity():
    problems = [trouble("a.csv", "unmapped-key-figure", None, "warning", value=f"N{n}")
                for n in range(5)] + [trouble("b.csv", "unmapped-key-figure", 3)]
    lines = collapsed(problems, "r.md")
    assert lines[0] == ("warning", "warning unmapped-key-figure ×5: N0, N1, N2 … – hela listan / "
                                   "full list: r.md")
    assert lines[1] == ("error", "error unmapped-key-figure b.csv: Fel.")
    assert collapsed([], "r.md") == []
