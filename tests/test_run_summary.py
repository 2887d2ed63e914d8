"""What a run tells the operator: repeated warnings collapse into one line per kind, with a
count and a few examples; the full list is in reports/."""

from flows.core.problems import problem
from flows.outputs.run_summary import collapsed


def unmapped(kpi: str):
    return problem("unmapped-key-figure", "schemas/codelists/agenda2030_mappning.csv",
                   f"{kpi} saknar koppling.", f"{kpi} has no link.", value=kpi,
                   severity="warning")


def test_a_repeated_warning_is_one_line_with_a_count_and_examples():
    lines = collapsed([unmapped(f"N{n:05d}") for n in range(1152)], "reports/latest/kodlistor.md")
    assert lines == [("warning", "warning unmapped-key-figure ×1152: N00000, N00001, N00002 … – "
                                 "hela listan / full list: reports/latest/kodlistor.md")]


def test_a_few_problems_are_each_shown_and_kinds_stay_apart():
    error = problem("invalid-codelist", "schemas/codelists/malprogram.csv", "Fel.", "Wrong.",
                    row=3)
    lines = collapsed([unmapped("N00001"), error, unmapped("N00002")], "r.md")
    assert [severity for severity, _ in lines] == ["warning", "warning", "error"]
    assert lines[0][1].endswith("N00001 saknar koppling.") and "×" not in lines[0][1]
