"""A key figure as the goal pages show it, from small tables built here: the chart's lines
(municipality, each group's mean, the country) and target, its CSV columns, the comparison
table of the latest year, the progress numbers and the statuses rolled up."""

from types import SimpleNamespace

import pandas as pd

from flows.outputs.charts import chart_csv
from flows.outputs.key_figures import (
    comparison_by_figure,
    comparison_table,
    figure_chart,
    progress_view,
    rollups,
    target_of,
    without_comparison,
)
from flows.tables.progress import STATUSES


def comparison() -> pd.DataFrame:
    rows = [  # nyckeltal_id, ar, kon, grupp_id, grupp_namn, kommun, medel, antal, riket, rang, N, farg
        ("N1", 2021, "M", "G2", "Länet", 4.0, 5.0, 3, 6.0, 1, 4, "gron"),
        ("N1", 2021, "T", "G2", "Länet", 7.0, 8.0, 3, 7.5, 3, 290, "gul"),
        ("N1", 2021, "T", "G1", "Höglandet", 7.0, 6.5, 2, 7.5, 3, 290, "gul"),
        ("N1", 2020, "T", "G1", "Höglandet", 8.0, None, 0, 8.5, 290, 290, "rod"),
        ("N1", 2020, "T", "G2", "Länet", 8.0, 9.0, 3, 8.5, 290, 290, "rod"),
    ]
    frame = pd.DataFrame(rows, columns=[
        "nyckeltal_id", "ar", "kon", "grupp_id", "grupp_namn", "kommun_varde", "grupp_medel",
        "grupp_antal", "riket_varde", "rang", "antal_kommuner", "farg"])
    return frame.astype({"grupp_medel": "Float64"})


def kpi(target=None, year=None):
    return SimpleNamespace(nyckeltal_id="N1", namn="Sjukfrånvaro", enhet="%",
                           malvarde=float("nan") if target is None else target,
                           malar=float("nan") if year is None else year)


def test_the_chart_has_the_municipality_each_group_the_country_and_the_target():
    rows = comparison_by_figure(comparison())["N1"]
    chart = figure_chart(kpi(6.0, 2022), {2020: 8.0, 2021: 7.0}, rows, "en")
    assert [line["label"] for line in chart["lines"]] == [
        "Aneby", "Höglandet", "Länet", "Sweden (country)"]
    assert [item["label"] for item in chart["legend"]] == [
        "Aneby", "Höglandet", "Länet", "Sweden (country)", "Target 2022"]
    assert len({(line["colour"], line["dash"]) for line in chart["lines"]}) == 4  # not colour alone
    assert chart_csv(chart) == (b"ar,varde,grupp_G1,grupp_G2,riket,mal\r\n"
                                b"2020,8,,9,8.5,6\r\n2021,7,6.5,8,7.5,6\r\n")
    assert "Target 2022: 6 %" in chart["text"] and "Länet: 2020 9 %, 2021 8 %" in chart["text"]
    assert figure_chart(kpi(6.0, 2022), {2021: 7.0}, rows, "sv")["lines"][-1]["label"] == "Riket"


def test_without_a_target_or_a_comparison_the_chart_is_the_municipality_alone():
    empty = comparison().iloc[0:0]
    chart = figure_chart(kpi(), {2020: 3.0, 2021: 4.0}, empty, "sv")
    assert chart["target"] is None and chart["legend"] == [] and len(chart["lines"]) == 1
    assert chart_csv(chart) == b"ar,varde\r\n2020,3\r\n2021,4\r\n"
    assert target_of(kpi(), "sv") is None
    assert target_of(kpi(50.0), "sv").label == "Målvärde"  # no target year
    assert without_comparison("ANB-0001") == "portal.no-comparison-own"
    assert without_comparison("N00090") == "portal.no-comparison-kolada"


def test_the_comparison_table_is_the_latest_year_by_gender_with_members_counted():
    table = comparison_table(comparison_by_figure(comparison())["N1"], {"G1": 5, "G2": 13})
    assert table["year"] == 2021
    assert table["groups"] == [("G1", "Höglandet"), ("G2", "Länet")]
    assert [row["kon"] for row in table["rows"]] == ["T", "M"]  # T first, then K, M
    total, men = table["rows"]
    assert (total["value"], total["country"], total["rank"], total["of"], total["colour"]) == (
        7, 7.5, 3, 290, "gul")
    assert total["groups"] == [{"mean": 6.5, "have": 2, "size": 5},
                               {"mean": 8, "have": 3, "size": 13}]
    assert men["groups"][0] == {"mean": None, "have": 0, "size": 5}  # no row for the group


def test_the_progress_numbers_and_the_ratio_as_a_percentage():
    row = SimpleNamespace(metod="mal", status="forsamring", basar=2019, basvarde=6.9,
                          senaste_ar=2021, senaste_varde=7.2, malvarde=6.0, malar=2022,
                          kvot=-0.472505)
    shown = progress_view(row)
    assert shown["percent"] == -47.3 and shown["status"] == "forsamring" and shown["malar"] == 2022
    assert progress_view(SimpleNamespace(**{**vars(row), "kvot": pd.NA}))["percent"] is None


def test_rollups_keep_the_overall_status_and_the_non_zero_counts():
    row = {"objekttyp": "sdg_mal", "objekt_id": "8", "antal_nyckeltal": 3,
           "antal_med_malvarde": 2, **{f"antal_{s}": 0 for s in STATUSES},
           "medelpoang": -1.5, "samlad_metod": "mal", "samlad_status": "begransade_framsteg"}
    row.update(antal_forsamring=1, antal_malet_uppnatt=1, antal_forbattras=1)
    found = rollups(pd.DataFrame([row]))
    assert found["sdg_mal"]["8"] == {
        "status": "begransade_framsteg", "method": "mal", "mean": -1.5, "total": 3,
        "with_target": 2, "counts": [("malet_uppnatt", 1), ("forsamring", 1), ("forbattras", 1)]}
