"""The comparison's arithmetic on small tables worked out by hand: the group's unweighted mean
without the members that have no value, the country's value, the rank by desired direction
(ties share the best place), the quartile and Kolada's colours."""

import pandas as pd
import pytest

from flows.tables.comparison import compare

DEFINITIONS = pd.DataFrame({"nyckeltal_id": ["UP", "DOWN"],
                            "onskad_riktning": ["ökande", "minskande"]})
GROUPS = pd.DataFrame({"grupp_id": ["G1", "G1", "G1", "G2", "G2", "G9"],
                       "grupp_namn": ["Ett", "Ett", "Ett", "Två", "Två", "Nio"],
                       "kommun_id": ["0604", "0682", "0684", "0604", "0686", "0180"]})


def values(kpi, by_code, gender="T", year=2021):
    return pd.DataFrame({"nyckeltal_id": kpi, "ar": year, "kon": gender,
                         "kommun_id": list(by_code), "varde": list(by_code.values())})


SAMPLE = {"0604": 6.0, "0682": 2.0, "0684": None, "0686": 9.0, "0114": 4.0, "0115": 6.0,
         "0117": 1.0, "0120": 8.0, "0000": 5.5, "0001": 100.0}


def test_group_means_leave_out_members_without_a_value():
    rows = compare(values("UP", SAMPLE), GROUPS, DEFINITIONS, "0604").set_index("grupp_id")
    assert list(rows.index) == ["G1", "G2"]  # G9 does not contain 0604
    # G1: 0604 = 6, 0682 = 2, 0684 has none -> (6 + 2) / 2 = 4, from 2 members
    assert (rows.loc["G1", "grupp_medel"], rows.loc["G1", "grupp_antal"]) == (4.0, 2)
    # G2: 0604 = 6, 0686 = 9 -> 7.5
    assert (rows.loc["G2", "grupp_medel"], rows.loc["G2", "grupp_antal"]) == (7.5, 2)
    assert set(rows["riket_varde"]) == {5.5} and set(rows["kommun_varde"]) == {6.0}


def test_rank_follows_the_desired_direction_and_ties_share_the_best_place():
    # municipalities with a value (not 0000, not the region 0001): 9, 8, 6, 6, 4, 2, 1 -> 7
    up = compare(values("UP", SAMPLE), GROUPS, DEFINITIONS, "0604").iloc[0]
    # higher is better: 9, 8 ahead; 6 shared by 0604 and 0115 -> place 3 of 7
    assert (up["rang"], up["antal_kommuner"]) == (3, 7)
    assert (up["kvartil"], up["farg"]) == (2, "gul")  # ceil(4 * 3 / 7) = ceil(1.71) = 2
    down = compare(values("DOWN", SAMPLE), GROUPS, DEFINITIONS, "0604").iloc[0]
    # lower is better: 1, 2, 4 ahead -> place 4 of 7, ceil(16 / 7) = 3: still the middle half
    assert (down["rang"], down["kvartil"], down["farg"]) == (4, 3, "gul")


@pytest.mark.parametrize(("own", "rank", "quartile", "colour"), [
    (9.5, 1, 1, "gron"), (8.5, 2, 2, "gul"), (3.0, 5, 3, "gul"), (1.5, 6, 4, "rod"),
    (0.5, 7, 4, "rod")])
def test_quartile_colours_as_kolada(own, rank, quartile, colour):
    # seven with a value: 0604 and 9, 8, 6, 4, 2, 1 (0684 has none) -> ceil(4 * rank / 7):
    # 1 -> 1 green, 2 -> ceil(1.14) = 2 yellow, 5 -> ceil(2.86) = 3, 6 -> ceil(3.43) = 4 red
    row = compare(values("UP", {**SAMPLE, "0604": own}), GROUPS, DEFINITIONS, "0604").iloc[0]
    assert (row["rang"], row["antal_kommuner"]) == (rank, 7)
    assert (row["kvartil"], row["farg"]) == (quartile, colour)


def test_genders_and_years_are_kept_apart_and_a_missing_value_has_no_rank():
    frame = pd.concat([values("UP", {"0604": 3.0, "0682": 1.0}, gender="K"),
                       values("UP", {"0604": 1.0, "0682": 3.0}, gender="M"),
                       values("UP", {"0604": None, "0682": 3.0}, year=2020)])
    rows = compare(frame, GROUPS, DEFINITIONS, "0604")
    g1 = rows[rows["grupp_id"] == "G1"].set_index(["ar", "kon"])
    assert (g1.loc[(2021, "K"), "rang"], g1.loc[(2021, "M"), "rang"]) == (1, 2)
    assert g1.loc[(2021, "K"), "grupp_medel"] == 2.0
    missing = g1.loc[(2020, "T")]
    assert pd.isna(missing["rang"]) and pd.isna(missing["farg"])
    assert (missing["grupp_medel"], missing["grupp_antal"]) == (3.0, 1)


def test_a_key_figure_without_a_direction_is_not_ranked():
    definitions = pd.DataFrame({"nyckeltal_id": ["UP"], "onskad_riktning": [None]})
    row = compare(values("UP", SAMPLE), GROUPS, definitions, "0604").iloc[0]
    assert pd.isna(row["rang"]) and pd.isna(row["farg"]) and row["grupp_medel"] == 4.0
