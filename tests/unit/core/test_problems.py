"""Problems are built from catalogue keys: both languages filled, bilingual parameters split."""

import pytest

from flows.core.messages import Said, catalogue
from flows.core.problems import FILE_LEVEL, PROBLEM_TYPES, message, problem, title


def test_every_problem_type_has_a_title_in_both_languages():
    for kind in PROBLEM_TYPES:
        assert title(kind).sv and title(kind).en, kind
    assert title("missing-label") == Said("Kolumn saknas", "Column missing")


def test_every_problem_title_in_the_catalogue_is_a_known_type():
    titled = {key.split(".")[1] for key in catalogue() if key.endswith(".title")
              and key.startswith("problem.")}
    assert titled == set(PROBLEM_TYPES) and FILE_LEVEL <= titled


def test_a_problem_takes_its_message_from_the_catalogue_with_its_place():
    found = problem("duplicate-label", "raw/2020/social/aktiviteter.csv",
                    "problem.duplicate-label.twice", {"column": "mal_id"}, field="mal_id",
                    value="Mal_id")
    assert (found.type, found.field, found.value, found.row, found.severity) == (
        "duplicate-label", "mal_id", "Mal_id", None, "error")
    assert found.message_sv == "Kolumnen mal_id finns två gånger. Ta bort den ena."
    assert found.message_en == "The column mal_id appears twice. Remove one of them."
    assert found.file_level


def test_a_bilingual_parameter_gives_each_language_its_side():
    said = message("problem.type-error.value",
                   {"value": "x", "column": "antal", "hint": Said("ett heltal", "a whole number")})
    assert said.sv.endswith("Skriv ett heltal.") and said.en.endswith("Write a whole number.")


def test_a_swedish_only_title_is_left_out_of_the_english_message():
    said = message("problem.missing-label.required", {"column": "mal_id", "title": "Mål"})
    assert "(Mål)" in said.sv and "Mål" not in said.en
    assert said.en == "The required column mal_id is missing. Add it to the header row."


def test_a_long_value_is_clipped_in_the_report():
    found = problem("cell-too-long", "f.csv", "problem.cell-too-long.length",
                    {"length": 5000, "limit": 4000}, row=2, value="x" * 500)
    assert len(found.value) == 200 and found.value.endswith("…")


@pytest.mark.parametrize("kind, key", [("no-such-type", "problem.no-rows.header-only"),
                                       ("no-rows", "cli.no-rows")])
def test_an_unknown_type_or_a_key_outside_problem_is_refused(kind, key):
    with pytest.raises(ValueError):
        problem(kind, "f.csv", key)


def test_a_missing_parameter_is_an_error_not_a_silent_gap():
    with pytest.raises(KeyError):
        problem("duplicate-label", "f.csv", "problem.duplicate-label.twice", {})
