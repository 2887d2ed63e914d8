"""The progress measure against hand-computed cases from Open SDG's documentation and tests.

Sources (quoted in the README, "Framsteg mot mål"):
- [method] open-sdg/open-sdg docs/progress-methodology.md (Statistics Canada's method), the
  thresholds tables, the score anchors (Figure 2), the aggregation example, the replacement of a
  zero base or target by 0.001 and the minimum data requirements;
- [fixture] open-sdg/sdg-build tests/assets/progress-calculation/: data/indicator_3-3-3.csv with
  indicator-config/3-3-3.yml, and data/indicator_1-1-1.csv with indicator-config/1-1-1.yml.
Every expected number below is worked out by hand in the comment above it.
"""

from pathlib import Path

import pandas as pd
import pytest
import yaml

from flows.core.messages import catalogue
from flows.tables.agenda2030 import key_figure_trends
from flows.tables.codelists import read_codelists
from flows.tables.progress import (
    STATUSES,
    key_figure_progress,
    measure,
    progress_by_goal,
    ratio_status,
    score,
    score_status,
)

SCHEMAS = Path(__file__).parents[3] / "schemas"


def test_fixture_3_3_3_target_zero_deteriorates():
    # [fixture] indicator_3-3-3.csv, headline rows; 3-3-3.yml: direction negative, target 0;
    # Open SDG's defaults: base year 2015, target year 2030. 2010-2014 lie before the base year.
    years = list(range(2010, 2020))
    values = [1.51, 1.51, 1.38, 1.4, 1.27, 1.55, 1.69, 1.65, 1.62, 1.82]
    found = measure(years, values, "minskande", 0.0)
    # CAGR = (1.82 / 1.55) ** (1/4) - 1 = 1.174194 ** 0.25 - 1 = 0.040962
    # target 0 -> 0.001: CAGR_T = (0.001 / 1.55) ** (1/15) - 1
    #   = exp((ln 0.001 - ln 1.55) / 15) - 1 = exp((-6.907755 - 0.438255) / 15) - 1
    #   = exp(-0.489734) - 1 = 0.612789 - 1 = -0.387211
    # R = -1 * 0.040962 / 0.387211 = -0.10579 < 0: deterioration
    # score = 5 * (R - 0.6) / 1.2 = 5 * -0.70579 / 1.2 = -2.9408
    assert (found["basar"], found["basvarde"], found["senaste_ar"], found["malar"]) == (
        2015, 1.55, 2019, 2030)
    assert found["cagr"] == pytest.approx(0.040962, abs=1e-6)
    assert found["cagr_kravd"] == pytest.approx(-0.387211, abs=1e-6)
    assert found["kvot"] == pytest.approx(-0.10579, abs=1e-5)
    assert found["poang"] == pytest.approx(-2.9408, abs=1e-4)
    assert found["status"] == "forsamring"


def test_fixture_1_1_1_without_target_falls_back_to_the_direction(register):
    # [fixture] indicator_1-1-1.csv headline 2020 = 100, 2021 = 120; 1-1-1.yml sets no target
    # and no direction, so Open SDG takes direction negative: CAGR = 120/100 - 1 = 0.2, the
    # progress value -0.2 < 0 is deterioration. Without a target we assess the direction of
    # change: a key figure that should fall (N00090, minskande) rose from 100 to 120.
    definitions = read_codelists(register)[0]["nyckeltal_definitioner"]
    definitions = definitions[definitions["nyckeltal_id"] == "N00090"].assign(malvarde=None)
    values = pd.DataFrame({"nyckeltal_id": "N00090", "kommun_id": "0604", "ar": [2020, 2021],
                           "kon": "T", "varde": [100.0, 120.0]})
    trends = key_figure_trends(values, definitions, "0604")
    found = key_figure_progress(values, definitions, trends, "0604").iloc[0]
    assert (found["metod"], found["status"], found["basar"], found["senaste_ar"]) == (
        "riktning", "forsamras", 2020, 2021)
    # the same series with a target (90 by 2030) is measured: base 2020, the first year after 2015
    measured = measure([2020, 2021], [100.0, 120.0], "minskande", 90.0)
    assert (measured["basar"], measured["cagr"], measured["status"]) == (2020, 0.2, "forsamring")


# [method] the thresholds table: R >= 95 % on track (substantial), 60 % <= R < 95 % moderate,
# 0 % <= R < 60 % limited, R < 0 % deterioration.
@pytest.mark.parametrize("ratio, status", [
    (0.95, "betydande_framsteg"), (1.4, "betydande_framsteg"), (0.9499, "mattliga_framsteg"),
    (0.6, "mattliga_framsteg"), (0.5999, "begransade_framsteg"), (0.0, "begransade_framsteg"),
    (-0.0001, "forsamring"), (-3.0, "forsamring")])
def test_the_documented_thresholds(ratio, status):
    assert ratio_status(ratio) == status


# Hand-computed with a required rate of exactly 10 %: base 100 in 2020, target 121 in 2022,
# CAGR_T = (121/100) ** (1/2) - 1 = 0.1; one year later CAGR = latest/100 - 1, R = CAGR / 0.1.
@pytest.mark.parametrize("latest, ratio, status", [
    (110.0, 1.0, "betydande_framsteg"),  # 0.10 / 0.1
    (107.0, 0.7, "mattliga_framsteg"),  # 0.07 / 0.1
    (103.0, 0.3, "begransade_framsteg"),  # 0.03 / 0.1
    (98.0, -0.2, "forsamring"),  # -0.02 / 0.1
])
def test_an_increasing_series_against_its_target(latest, ratio, status):
    found = measure([2020, 2021], [100.0, latest], "ökande", 121.0, 2022)
    assert found["cagr_kravd"] == pytest.approx(0.1)
    assert (found["kvot"], found["status"]) == (pytest.approx(ratio), status)


@pytest.mark.parametrize("latest, ratio, status", [
    (90.0, 1.0, "betydande_framsteg"),  # CAGR -0.1, CAGR_T (81/100) ** 0.5 - 1 = -0.1: -1 * -0.1 / 0.1
    (95.0, 0.5, "begransade_framsteg"),  # -1 * -0.05 / 0.1
    (105.0, -0.5, "forsamring"),  # -1 * 0.05 / 0.1
])
def test_a_decreasing_series_against_its_target(latest, ratio, status):
    found = measure([2020, 2021], [100.0, latest], "minskande", 81.0, 2022)
    assert (found["kvot"], found["status"]) == (pytest.approx(ratio), status)


def test_a_met_target_is_achieved_whatever_the_trend():
    # [method] "Indicators that achieve the target are automatically assigned a score of 5"
    found = measure([2020, 2021], [130.0, 125.0], "ökande", 121.0, 2022)
    assert (found["status"], found["poang"]) == ("malet_uppnatt", 5.0)
    assert found["kvot"] < 0  # it fell, but is still above the target
    assert measure([2021], [60.0], "minskande", 70.0)["status"] == "malet_uppnatt"


# [method] Figure 2: R <= -60 % scores -5, 60 % scores 0, >= 130 % scores 5, linear between;
# so R = 95 % scores 5 * 0.35 / 0.7 = 2.5 and R = 0 scores 5 * -0.6 / 1.2 = -2.5.
@pytest.mark.parametrize("ratio, expected", [
    (-1.0, -5.0), (-0.6, -5.0), (0.0, -2.5), (0.6, 0.0), (0.95, 2.5), (1.3, 5.0), (2.0, 5.0)])
def test_the_documented_score_anchors(ratio, expected):
    assert score(ratio, False) == pytest.approx(expected)


def test_the_documented_aggregation_example():
    # [method] "the aggregate progress status for an indicator with an overall score of +1 is
    # 'Progress made but acceleration needed'" (moderate progress)
    assert score_status(1.0, False) == "mattliga_framsteg"
    assert [score_status(s, False) for s in (2.5, 0.0, -2.5, -2.51)] == [
        "betydande_framsteg", "mattliga_framsteg", "begransade_framsteg", "forsamring"]
    assert score_status(5.0, True) == "malet_uppnatt"


def test_a_zero_base_is_replaced_by_0_001():
    # [method] "If the base value is zero, it is replaced by 0.001": base 0 in 2020, 0.002 in
    # 2021, target 0.004 in 2022: CAGR = 0.002/0.001 - 1 = 1, CAGR_T = (0.004/0.001) ** 0.5 - 1
    # = 1, R = 1: substantial. The published base value stays 0.
    found = measure([2020, 2021], [0.0, 0.002], "ökande", 0.004, 2022)
    assert (found["basvarde"], found["cagr"], found["kvot"], found["status"]) == (
        0.0, 1.0, 1.0, "betydande_framsteg")


def test_an_all_negative_series_has_its_direction_flipped():
    # [method] "If all values are negative, the desired direction of progress is flipped":
    # -100 -> -90 -> target -81 (higher is better): CAGR = 0.9 - 1 = -0.1, CAGR_T = 0.9 - 1 =
    # -0.1, R = sign(-1) * d(+1) * -0.1 / 0.1 = 1: substantial.
    found = measure([2020, 2021], [-100.0, -90.0], "ökande", -81.0, 2022)
    assert (found["kvot"], found["status"]) == (pytest.approx(1.0), "betydande_framsteg")


def test_series_that_cannot_be_measured():
    # [method] "valid only when all values are positive or all values are negative":
    # -1250 -> 2600 has no growth rate
    assert measure([2019, 2021], [-1250.0, 2600.0], "ökande", 3000.0, 2022)["status"] == \
        "ej_bedombar"
    # [method] "At least two years of data is required"; missing values and years before the
    # base year do not count
    assert measure([2021], [5.0], "ökande", 9.0)["status"] == "for_lite_data"
    assert measure([2019, 2020, 2021], [None, float("nan"), 5.0], "ökande", 9.0)["status"] == \
        "for_lite_data"
    assert measure([2012, 2014], [1.0, 2.0], "ökande", 9.0)["status"] == "for_lite_data"
    assert measure([], [], "ökande", 9.0)["basar"] is None
    # a target year not after the base year gives no required rate
    assert measure([2020, 2021], [1.0, 2.0], "ökande", 9.0, 2020)["status"] == "ej_bedombar"


def test_a_target_equal_to_the_base_value_left_behind_is_deterioration():
    # CAGR_T = (100/100) ** (1/2) - 1 = 0: no ratio; not met, so the series moved away from it
    found = measure([2020, 2021], [100.0, 95.0], "ökande", 100.0, 2022)
    assert (found["kvot"], found["status"], found["poang"]) == (None, "forsamring", -5.0)


def progress_rows(*rows):
    return pd.DataFrame(rows, columns=["nyckeltal_id", "mal_id", "metod", "status", "poang"])


def test_the_roll_up_counts_and_overall_status():
    progress = progress_rows(
        ("A", "H1", "mal", "malet_uppnatt", 5.0),
        ("B", "H1", "mal", "forsamring", -3.0),  # mean (5 - 3) / 2 = 1: moderate
        ("C", "H1", "riktning", "forbattras", None),  # no say when a target exists
        ("D", "H2", "mal", "malet_uppnatt", 5.0),  # every one met: achieved
        ("E", "H3", "riktning", "forbattras", None),
        ("F", "H3", "riktning", "forsamras", None),  # 1 - 1: unchanged
        ("G", "O1", "riktning", "for_lite_data", None),
        ("H", "O2", "mal", "ej_bedombar", None))
    koppling = pd.DataFrame({"objekttyp": ["nyckeltal", "nyckeltal", "nyckeltal", "programmal"],
                             "objekt_id": ["A", "A", "E", "H1"],
                             "delmal_id": ["4.10", "4.a", "11.2", "16.6"],
                             "sdg_mal": [4, 4, 11, 16]})
    table = progress_by_goal(progress, koppling).set_index(["objekttyp", "objekt_id"])
    h1 = table.loc[("programmal", "H1")]
    assert (h1["antal_nyckeltal"], h1["antal_med_malvarde"], h1["antal_malet_uppnatt"],
            h1["antal_forsamring"], h1["antal_forbattras"]) == (3, 2, 1, 1, 1)
    assert (h1["medelpoang"], h1["samlad_metod"], h1["samlad_status"]) == (
        1.0, "mal", "mattliga_framsteg")
    assert table.loc[("programmal", "H2"), "samlad_status"] == "malet_uppnatt"
    assert table.loc[("programmal", "H3"), "samlad_status"] == "oforandrad"
    assert table.loc[("programmal", "O1"), "samlad_status"] == "for_lite_data"
    assert table.loc[("programmal", "O2"), "samlad_status"] == "ej_bedombar"
    assert pd.isna(table.loc[("programmal", "O1"), "samlad_metod"])
    # a key figure linked to two targets of one goal counts once for the goal
    assert table.loc[("sdg_mal", "4"), "antal_nyckeltal"] == 1
    assert table.loc[("delmal", "11.2"), "samlad_status"] == "forbattras"
    counts = table[[f"antal_{s}" for s in STATUSES]].sum(axis=1)
    assert (counts == table["antal_nyckeltal"]).all()
    # programme goals, then targets in official order (4.10 before 4.a), then goals by number
    assert list(table.index) == [
        ("programmal", "H1"), ("programmal", "H2"), ("programmal", "H3"), ("programmal", "O1"),
        ("programmal", "O2"), ("delmal", "4.10"), ("delmal", "4.a"), ("delmal", "11.2"),
        ("sdg_mal", "4"), ("sdg_mal", "11")]


def test_every_status_is_in_the_schemas_and_the_catalogue_in_both_languages():
    for dataset_id, field in (("nyckeltal_framsteg", "status"), ("framsteg_per_mal",
                                                                  "samlad_status")):
        schema = yaml.safe_load((SCHEMAS / f"{dataset_id}.schema.yaml").read_text("utf-8"))
        enum = next(f for f in schema["fields"] if f["name"] == field)["constraints"]["enum"]
        assert enum == STATUSES
    for key in [*STATUSES, "mal", "riktning"]:
        texts = catalogue()[f"progress.{key}"]
        assert texts["sv"] and texts["en"] and texts["sv"] != texts["en"], key
