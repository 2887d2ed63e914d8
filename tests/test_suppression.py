"""Small counts of persons are suppressed in DuckDB inside the merge (bounded memory at any
size); the rule is the one first written in pandas, kept here as the reference: random tables
get the same cells hidden by both."""

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.tables.datasets import suppress_small_counts


def reference(values: pd.DataFrame, definitions: pd.DataFrame, min_count: int) -> pd.DataFrame:
    """The pandas rule: a count of persons under min_count (but over none) is hidden, and in
    every group with a hidden cell the smallest other value too (T = K + M)."""
    persons = set(definitions.loc[definitions["raknar_personer"].fillna(False).astype(bool),
                                  "nyckeltal_id"])
    small = (values["nyckeltal_id"].isin(persons) & values["varde"].notna()
             & (values["varde"] > 0) & (values["varde"] < min_count)).fillna(False)
    if not small.any():
        return values
    # a hidden cell must not be recoverable from the others (T = K + M): in every group with a
    # hidden cell, the smallest other value is hidden too
    group = ["nyckeltal_id", "kommun_id", "ar"]
    hidden = small.copy()
    others = values[~small & values["varde"].notna()]
    others = others[pd.MultiIndex.from_frame(others[group]).isin(
        pd.MultiIndex.from_frame(values.loc[small, group]))]
    if len(others):
        smallest = others["varde"].astype(float).groupby([others[c] for c in group]).idxmin()
        hidden.loc[smallest.to_numpy()] = True
    values = values.copy()
    values.loc[hidden, "varde"] = pd.NA
    values.loc[hidden, "status"] = "undertryckt"
    return values


KPIS = ["ANB-0004", "N00090", "ANB-0001"]  # counts persons, a share, counts persons


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(KPIS), st.sampled_from(["0604", "0000"]),
                          st.sampled_from([2019, 2020]), st.sampled_from(["T", "K", "M"]),
                          st.one_of(st.none(), st.integers(0, 12).map(float))),
                min_size=1, max_size=40, unique_by=lambda r: r[:4]),
       st.integers(1, 8))
def test_suppression_hides_what_the_reference_hides(rows, min_count):
    definitions = pd.DataFrame({"nyckeltal_id": KPIS,
                                "raknar_personer": pd.Series([True, False, True],
                                                             dtype="boolean")})
    values = pd.DataFrame(rows, columns=["nyckeltal_id", "kommun_id", "ar", "kon", "varde"])
    values = values.sort_values(["nyckeltal_id", "kommun_id", "ar", "kon"]).reset_index(
        drop=True).astype({"nyckeltal_id": "string", "kommun_id": "string", "ar": "Int64",
                           "kon": "string", "varde": "Float64"})
    values["status"] = pd.Series([None] * len(values), dtype="string")
    got = suppress_small_counts(values, definitions, min_count)
    expected = reference(values, definitions, min_count)
    assert got.astype(object).where(got.notna(), None).values.tolist() == \
        expected.astype(object).where(expected.notna(), None).values.tolist()


def test_suppressed_cells_cannot_be_recovered_from_the_total(register):
    from flows.tables.codelists import read_codelists, to_frame

    definitions = read_codelists(register)[0]["nyckeltal_definitioner"]
    values = to_frame([{"nyckeltal_id": "ANB-0004", "kommun_id": "0604", "ar": 2021,
                        "kon": k, "varde": v} for k, v in (("T", 10), ("K", 7), ("M", 3))],
                      register.schema("nyckeltal"))
    result = suppress_small_counts(values, definitions, 5).set_index("kon")
    assert pd.isna(result.loc["M", "varde"]) and pd.isna(result.loc["K", "varde"])
    assert result.loc["T", "varde"] == 10
