"""Derived tables: the municipality's totals and the activity counts per status."""

import pandas as pd

from flows.tables.derived import STATUSES, activity_status, municipality_totals


def test_municipality_totals_keeps_only_this_municipality_for_all_genders():
    values = pd.DataFrame({"kommun_id": ["0604", "0604", "0604", "0680"],
                           "kon": ["T", "K", "T", "T"], "ar": [2019, 2019, 2020, 2019],
                           "varde": [1.0, 2.0, 3.0, 4.0]})
    kept = municipality_totals(values, "0604")
    assert kept["varde"].tolist() == [1.0, 3.0]
    assert municipality_totals(values, "9999").empty


def test_activity_status_counts_each_status_in_its_column_with_zeros_for_none():
    activities = pd.DataFrame({"mal_id": ["M1", "M1", "M1"], "rapportar": [2020, 2020, 2020],
                               "status": ["pågående", "pågående", "genomförd"]})
    goals = pd.DataFrame({"perspektiv_id": ["P1", "P1"], "mal_id": ["M1", "M2"]})
    table = activity_status(activities, goals)
    first = table[table["mal_id"] == "M1"].iloc[0]
    assert [int(first[c]) for c in STATUSES.values()] == [0, 2, 1, 0]
    assert int(first["antal_totalt"]) == 3 and float(first["andel_genomford_procent"]) == 33.3
    assert int(table[table["mal_id"] == "M2"].iloc[0]["antal_totalt"]) == 0
