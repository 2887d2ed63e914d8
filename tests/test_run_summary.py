"""What a run tells the operator: repeated warnings collapse into one line per kind, with a
count and a few examples; the full list is in reports/."""

from flows.core.problems import problem
from flows.outputs.run_summary import collapsed


def unmapped(kpi: str):
    return problem("unmapped-key-figure", "schemas/codelists/agenda2030_mappning.csv",
                   "problem.unmapped.no-link", {"id": kpi, "kind": "nyckeltal"}, value=kpi,
                   severity="warning")


def test_a_repeated_warning_is_one_line_with_a_count_and_examples():
    lines = collapsed([unmapped(f"N{n:05d}") for n in range(1152)], "reports/latest/kodlistor.md")
    assert lines == [("warning", "warning unmapped-key-figure ×1152: N00000, N00001, N00002 … – "
                                 "hela listan / full list: reports/latest/kodlistor.md")]


def test_a_few_problems_are_each_shown_and_kinds_stay_apart():
    error = problem("invalid-codelist", "schemas/codelists/malprogram.csv",
                    "problem.constraint-error.required", {"column": "mal_id", "title": "Mål"}, row=3)
    lines = collapsed([unmapped("N00001"), error, unmapped("N00002")], "r.md")
    assert [severity for severity, _ in lines] == ["warning", "warning", "error"]
    assert "N00001 saknar koppling till Agenda 2030" in lines[0][1] and "×" not in lines[0][1]


def test_what_the_release_could_not_do_is_said_and_written_to_the_reports(tmp_path):
    from pathlib import Path

    from flows.outputs.release import Release
    from flows.outputs.run_summary import RunSummary, release_notes, write_run_summary

    release = Release(version="v", path=Path("x"), created="now", rows={"kept": 3, "db": 2},
                      fallbacks={"kept": "OSError: disk", "gone": "OSError: disk",
                                 "db": "opendata.db: locked"},
                      notes=["nyckeltal: 2 oändliga tal skrivs som null i JSON / infinite "
                             "numbers are null in JSON"])
    lines = release_notes(release)
    assert [line.split(":", 1)[0] for line in lines] == ["kept", "gone", "db", "nyckeltal"]
    assert "previous release's files stay published (OSError: disk)" in lines[0]
    assert "left out of this release" in lines[1]
    assert "table in opendata.db is the previous release's" in lines[2]
    summary = RunSummary(raw_dir="raw", finished="now", published=True, release=release,
                         files=[])
    folder = write_run_summary(summary, tmp_path)
    written = (folder / "publicering.md").read_text(encoding="utf-8")
    assert all(f"- {line}\n" in written for line in lines)
    assert release_notes(None) == []
