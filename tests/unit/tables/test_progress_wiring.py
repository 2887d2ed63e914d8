"""The progress datasets as the flow builds them from the shipped sample: one row per key figure,
a roll-up that adds up, and a fingerprint that follows the targets."""

from flows.tables.codelists import read_codelists
from flows.tables.datasets import build_tables

from conftest import RAW, validated


def test_the_flow_builds_progress_per_key_figure_and_per_goal(register):
    tables = build_tables(validated(RAW, register), register)
    progress = tables["nyckeltal_framsteg"].frame()
    definitions = read_codelists(register)[0]["nyckeltal_definitioner"]
    assert list(progress["nyckeltal_id"]) == list(definitions["nyckeltal_id"])
    with_target = definitions["malvarde"].notna()
    assert list(progress["metod"]) == ["mal" if t else "riktning" for t in with_target]
    trends = tables["nyckeltal_trend"].frame().set_index("nyckeltal_id")
    fallback = progress[progress["metod"] == "riktning"].set_index("nyckeltal_id")
    assert (fallback["senaste_ar"] == trends.loc[fallback.index, "senaste_ar"]).all()
    measured = progress[progress["metod"] == "mal"]
    assert measured["status"].isin(["malet_uppnatt", "betydande_framsteg", "mattliga_framsteg",
                                    "begransade_framsteg", "forsamring"]).all()

    goals = tables["framsteg_per_mal"].frame()
    programme = goals[goals["objekttyp"] == "programmal"].set_index("objekt_id")
    per_goal = definitions.groupby("mal_id").size()
    assert programme["antal_nyckeltal"].to_dict() == per_goal.to_dict()
    koppling = tables["agenda2030_koppling"].frame()
    linked = koppling[koppling["objekttyp"] == "nyckeltal"]
    targets = goals[goals["objekttyp"] == "delmal"].set_index("objekt_id")["antal_nyckeltal"]
    assert targets.to_dict() == linked.groupby("delmal_id")["objekt_id"].nunique().to_dict()
    assert set(goals.loc[goals["objekttyp"] == "sdg_mal", "objekt_id"]) == {
        str(g) for g in linked["sdg_mal"]}
    assert goals["samlad_status"].notna().all()


def test_without_any_delivery_every_status_is_too_little_data(register):
    tables = build_tables([], register)
    progress = tables["nyckeltal_framsteg"].frame()
    assert len(progress) == len(read_codelists(register)[0]["nyckeltal_definitioner"])
    assert set(progress["status"]) == {"for_lite_data"}
    goals = tables["framsteg_per_mal"].frame()
    assert set(goals["samlad_status"]) == {"for_lite_data"} and goals["medelpoang"].isna().all()
    # rebuilt when a target, a value or a link changes
    assert set(register.datasets["nyckeltal_framsteg"].sources) == {
        "nyckeltal", "nyckeltal_definitioner", "nyckeltal_trend"}
    assert "agenda2030_koppling" in register.datasets["framsteg_per_mal"].sources
