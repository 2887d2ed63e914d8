import datetime as dt

import pandas as pd

from flows.checks.delivery import ROW, ValidatedFile, stored_rows
from flows.checks.keys import merge_duplicates
from flows.tables.codelists import read_codelists, to_frame
from flows.tables.datasets import build_tables
from flows.tables.derived import activity_status, budget_deviation, fossil_free_share


def frame(register, dataset_id, rows):
    return to_frame(rows, register.schema(dataset_id))


def test_codelists_validate_and_hold_the_whole_programme(register):
    codelists, problems = read_codelists(register)
    assert problems == []
    programme = codelists["malprogram"]
    assert list(programme["mal_id"]) == ["H1", "H2", "H3", "V1", "V2", "O1", "O2"]
    assert programme.groupby("perspektiv_namn", sort=False).size().to_dict() == {
        "Den hållbara kommunen": 3, "Den växande kommunen": 2, "Den omsorgsfulla kommunen": 2}
    assert set(codelists["nyckeltal_definitioner"]["mal_id"]) == set(programme["mal_id"])


def test_duplicate_keys_across_files_keep_the_first_delivery(register):
    def result(file, ids):
        rows = [{"forvaltning_id": "social", "ar": 2020, ROW: n + 2, "antal_anstallda": i}
                for n, i in enumerate(ids)]
        return ValidatedFile(file=file, report_type="personal", department="social", year=2020,
                             rows_read=len(ids), rows_published=len(ids)).with_tables(
            accepted=stored_rows(register, "personal", rows))
    merged = merge_duplicates([result("b.csv", [2]), result("a.csv", [1])], register)
    assert [(m.file, m.rows_published, m.rows_rejected) for m in merged] == [
        ("a.csv", 1, 0), ("b.csv", 0, 1)]
    problem = merged[1].problems[0]
    assert (problem.type, problem.row, problem.file) == ("primary-key", 2, "b.csv")
    assert "a.csv" in problem.message_sv


def test_activity_status_counts_every_goal_and_year(register):
    programme = read_codelists(register)[0]["malprogram"]
    activities = frame(register, "aktiviteter", [
        {"aktivitet_id": "A001", "rapportar": 2020, "mal_id": "H1", "status": "genomförd"},
        {"aktivitet_id": "A002", "rapportar": 2020, "mal_id": "H1", "status": "pågående"},
        {"aktivitet_id": "A003", "rapportar": 2020, "mal_id": "O2", "status": "avbruten"},
        {"aktivitet_id": "A001", "rapportar": 2021, "mal_id": "H1", "status": "genomförd"},
    ])
    table = activity_status(activities, programme)
    assert len(table) == 7 * 2
    h1 = table[(table.mal_id == "H1") & (table.rapportar == 2020)].iloc[0]
    assert (h1.antal_genomford, h1.antal_pagaende, h1.antal_totalt,
            h1.andel_genomford_procent) == (1, 1, 2, 50.0)
    empty = table[(table.mal_id == "V1") & (table.rapportar == 2020)].iloc[0]
    assert empty.antal_totalt == 0 and pd.isna(empty.andel_genomford_procent)
    assert table.antal_totalt.sum() == len(activities)


def test_budget_deviation_is_budget_minus_outcome(register):
    economy = frame(register, "ekonomi", [
        {"forvaltning_id": "social", "verksamhet": "A", "ar": 2020, "budget_tkr": 100,
         "utfall_tkr": 110},
        {"forvaltning_id": "social", "verksamhet": "B", "ar": 2020, "budget_tkr": 300,
         "utfall_tkr": 250},
        {"forvaltning_id": "social", "verksamhet": "A", "ar": 2021, "budget_tkr": 100,
         "utfall_tkr": None},
    ])
    table = budget_deviation(economy)
    first = table.iloc[0]
    assert (first.budget_tkr, first.utfall_tkr, first.avvikelse_tkr,
            first.avvikelse_procent, first.antal_verksamheter) == (400, 360, 40, 10.0, 2)
    # an open year (an area without outcome) has no outcome and no deviation
    assert pd.isna(table.iloc[1].utfall_tkr) and pd.isna(table.iloc[1].avvikelse_tkr)


def test_fossil_free_share_counts_vehicles_in_service_that_year(register):
    def vehicle(ident, fuel, start, end=None, year=2020):
        return {"fordon_id": ident, "rapportar": year, "drivmedel": fuel,
                "i_trafik_fran": start, "i_trafik_till": end}
    fleet = frame(register, "fordon", [
        vehicle("F001", "el", dt.date(2020, 5, 1)),
        vehicle("F002", "diesel", dt.date(2015, 1, 1), dt.date(2020, 4, 30)),
        vehicle("F003", "elhybrid", dt.date(2020, 5, 1)),
        vehicle("F004", "biogas", dt.date(2021, 2, 1)),  # not yet in service in 2020
        vehicle("F005", "bensin", dt.date(2010, 1, 1), dt.date(2019, 6, 30)),  # left in 2019
    ])
    row = fossil_free_share(fleet).iloc[0]
    assert (row.ar, row.antal_fordon, row.antal_fossilfria, row.antal_elektrifierade) == (
        2020, 3, 1, 2)
    assert (row.andel_fossilfria_procent, row.andel_elektrifierade_procent) == (33.3, 66.7)


def test_build_tables_gives_every_dataset_its_schema_columns(register):
    tables = build_tables([], register)
    assert list(tables) == register.published
    assert "agenda2030_mappning" not in tables  # reference data, published resolved
    for dataset_id, table in tables.items():
        assert table.schema.names == register.published_schema(dataset_id).field_names


def test_small_counts_of_persons_are_suppressed_and_marked(register):
    definitions = read_codelists(register)[0]["nyckeltal_definitioner"]
    values = frame(register, "nyckeltal", [
        {"nyckeltal_id": "ANB-0004", "kommun_id": "0604", "ar": 2019, "kon": "T", "varde": 3},
        {"nyckeltal_id": "ANB-0004", "kommun_id": "0604", "ar": 2020, "kon": "T", "varde": 14},
        {"nyckeltal_id": "ANB-0004", "kommun_id": "0604", "ar": 2021, "kon": "T", "varde": 0},
        {"nyckeltal_id": "N00090", "kommun_id": "0604", "ar": 2019, "kon": "T", "varde": 3},
    ])
    from flows.tables.datasets import suppress_small_counts

    result = suppress_small_counts(values, definitions, 5).set_index(["nyckeltal_id", "ar"])
    assert pd.isna(result.loc[("ANB-0004", 2019), "varde"])
    assert result.loc[("ANB-0004", 2019), "status"] == "undertryckt"
    assert result.loc[("ANB-0004", 2020), "varde"] == 14  # enough persons
    assert result.loc[("ANB-0004", 2021), "varde"] == 0  # none is not identifying
    assert result.loc[("N00090", 2019), "varde"] == 3  # a percentage, not persons
