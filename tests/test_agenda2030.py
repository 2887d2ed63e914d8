import pandas as pd
import pytest

from flows.checks.sdg import explain_target, parse_targets, targets_by_goal
from flows.core.problems import message
from flows.tables.agenda2030 import check_mapping, key_figure_trends, links, overview
from flows.tables.codelists import read_codelists, to_frame


@pytest.fixture(scope="module")
def codelists(register):
    return read_codelists(register)[0]


@pytest.fixture(scope="module")
def goals(register):
    return targets_by_goal(register.codes("sdg_delmal"))


def test_target_codes_are_split_on_semicolon_comma_or_space():
    assert parse_targets(" 11.2; 3.6,4.a  17.17 ") == ["11.2", "3.6", "4.a", "17.17"]
    assert parse_targets(None) == [] and parse_targets(pd.NA) == [] and parse_targets("") == []


@pytest.mark.parametrize("code, sv, en", [
    ("11.12", "Delmålet 11.12 finns inte. Närmast: 11.2, 11.1", "Goal 11 has the targets 11.1, 11.2"),
    ("18.1", "Det finns inget globalt mål 18; målen är 1–17", "the goals are 1–17"),
    ("11-2", "Skriv delmålet som 11.2", "Write the target as 11.2"),
    ("7.x", "Mål 7 har delmålen 7.1, 7.2, 7.3, 7.a, 7.b", "Goal 7 has the targets 7.1"),
    ("elva", "'elva' är ingen delmålskod", "is not a target code"),
])
def test_invalid_target_codes_are_explained_with_the_nearest_valid_ones(goals, code, sv, en):
    explained = message(*explain_target(code, goals))
    assert sv in explained.sv and en in explained.en


def test_valid_target_codes_pass(goals):
    assert all(explain_target(code, goals) is None for code in ("1.1", "4.a", "17.19", "11.c"))


def activities(register, rows):
    return to_frame(rows, register.schema("aktiviteter"))


def test_activities_inherit_their_goals_links_add_their_own_or_replace_them(register, codelists):
    table = activities(register, [
        {"aktivitet_id": "A001", "rapportar": 2020, "mal_id": "V2", "status": "pågående"},
        {"aktivitet_id": "A002", "rapportar": 2020, "mal_id": "V2", "status": "planerad",
         "sdg_delmal": "4.a; 11.1"},
        {"aktivitet_id": "A003", "rapportar": 2020, "mal_id": "V2", "status": "planerad",
         "sdg_delmal": "4.1", "sdg_endast_egna": True},
        # the latest reporting year decides
        {"aktivitet_id": "A003", "rapportar": 2019, "mal_id": "V2", "status": "planerad"},
    ])
    mapping = codelists["agenda2030_mappning"]
    result = links(mapping, table, codelists["sdg_delmal"])
    v2 = sorted(mapping.loc[mapping["objekt_id"] == "V2", "delmal_id"])

    def of(activity):
        rows = result[(result.objekttyp == "aktivitet") & (result.objekt_id == activity)]
        return {r.delmal_id: (bool(r.primar), None if pd.isna(r.arvd_fran) else r.arvd_fran)
                for r in rows.itertuples()}

    assert sorted(of("A001")) == v2 and all(src == "V2" for _, src in of("A001").values())
    assert of("A002")["4.a"] == (True, None)  # own: primary, not inherited
    assert of("A002")["11.1"] == (True, None)  # own wins over the inherited duplicate
    assert sorted(of("A002")) == sorted({"4.a", *v2})
    assert of("A003") == {"4.1": (True, None)}
    assert not result.duplicated(["objekttyp", "objekt_id", "delmal_id"]).any()
    assert result["sdg_mal"].notna().all()


def test_key_figure_trend_follows_the_desired_direction(register, codelists):
    values = to_frame([
        {"nyckeltal_id": "N00090", "kommun_id": "0604", "ar": 2019, "kon": "T", "varde": 8.0},
        {"nyckeltal_id": "N00090", "kommun_id": "0604", "ar": 2020, "kon": "T", "varde": 7.5},
        {"nyckeltal_id": "N00090", "kommun_id": "0000", "ar": 2021, "kon": "T", "varde": 9.0},
        {"nyckeltal_id": "U00200", "kommun_id": "0604", "ar": 2019, "kon": "T", "varde": 70},
        {"nyckeltal_id": "U00200", "kommun_id": "0604", "ar": 2020, "kon": "T", "varde": None},
        {"nyckeltal_id": "U00200", "kommun_id": "0604", "ar": 2021, "kon": "T", "varde": 68},
        {"nyckeltal_id": "N01951", "kommun_id": "0604", "ar": 2021, "kon": "K", "varde": 1},
    ], register.schema("nyckeltal"))
    trends = key_figure_trends(values, codelists["nyckeltal_definitioner"], "0604").set_index(
        "nyckeltal_id")
    assert trends.loc["N00090", "trend"] == "förbättras"  # sick leave down: better
    assert (trends.loc["U00200", "foregaende_ar"], trends.loc["U00200", "trend"]) == (
        2019, "försämras")  # the year without a value is skipped
    assert trends.loc["N01951", "trend"] == "saknas"  # only gender K: no total trend
    assert len(trends) == len(codelists["nyckeltal_definitioner"])


def test_overview_has_17_rows_that_add_up_to_the_links(register, codelists):
    table = activities(register, [
        {"aktivitet_id": "A001", "rapportar": 2021, "mal_id": "O2", "status": "genomförd"},
        {"aktivitet_id": "A002", "rapportar": 2021, "mal_id": "H1", "status": "avbruten",
         "sdg_delmal": "8.6"},
    ])
    result = links(codelists["agenda2030_mappning"], table, codelists["sdg_delmal"])
    empty = to_frame([], register.schema("nyckeltal"))
    trends = key_figure_trends(empty, codelists["nyckeltal_definitioner"], "0604")
    view = overview(result, codelists["sdg_mal"], table, trends)
    assert list(view["sdg_mal"]) == list(range(1, 18))
    assert view["antal_kopplingar"].sum() == len(result)
    goal8 = view.set_index("sdg_mal").loc[8]
    assert goal8.antal_aktiviteter == 2
    assert (goal8.aktiviteter_genomford, goal8.aktiviteter_avbruten) == (1, 1)
    assert goal8.antal_nyckeltal == goal8.nyckeltal_utan_trend > 0
    for row in view.itertuples():
        assert row.antal_aktiviteter == sum(getattr(row, f"aktiviteter_{s}") for s in
                                            ("planerad", "pagaende", "genomford", "avbruten"))


def test_mapping_problems_are_reported(codelists):
    mapping = pd.concat([codelists["agenda2030_mappning"], pd.DataFrame([
        {"objekttyp": "programmal", "objekt_id": "X9", "delmal_id": "1.1", "primar": True,
         "motivering": "x"}])], ignore_index=True)
    mapping = mapping[mapping["objekt_id"] != "O1"]
    found = check_mapping(mapping, codelists["malprogram"], codelists["nyckeltal_definitioner"],
                          "m.csv")
    assert [(p.type, p.severity, p.value) for p in found] == [
        ("unknown-mapped-object", "error", "X9"), ("unmapped-goal", "warning", "O1")]


def test_a_bad_target_code_in_a_report_rejects_the_row_with_its_code(tmp_path, register):
    from flows.checks.delivery import check_file
    from flows.intake.discover import RawFile

    header = "aktivitet_id,rapportar,mal_id,titel,forvaltning_id,status,sdg_delmal"
    body = ["A020,2020,O1,Hälsocenter,social,pågående,3.4",
            "A021,2020,O1,Trygghetslarm,social,pågående,3.8; 11-2",
            "A022,2020,O1,Nattkameror,social,pågående,18.1"]
    path = tmp_path / "aktiviteter.csv"
    path.write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
    raw = RawFile(path=path, name="2020/social/aktiviteter.csv", year=2020, department="social",
                  report_type="aktiviteter", format="csv")
    result = check_file(raw, register)
    assert [(p.row, p.field, p.value, p.type) for p in result.problems] == [
        (3, "sdg_delmal", "11-2", "unknown-sdg-target"),
        (4, "sdg_delmal", "18.1", "unknown-sdg-target")]
    assert [r["aktivitet_id"] for r in result.records] == ["A020"]
