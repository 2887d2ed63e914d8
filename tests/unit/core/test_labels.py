"""Column labels as people type them find their field: case, spacing, punctuation and
å/ä/ö/é do not matter, and every name, Swedish or English title and alias is a label."""

import pytest
from frictionless import Schema

from flows.core.labels import label_index, normalize_label


@pytest.mark.parametrize("label", ["Rapport år", "RAPPORTÅR", "rapportar", " rapport-år ",
                                   "Rapport_Ar", "rapport.år"])
def test_spellings_of_one_label_are_the_same(label):
    assert normalize_label(label) == "rapportar"


def test_accents_are_dropped_and_other_labels_stay_apart():
    assert normalize_label("Förvaltning (é)") == "forvaltninge"
    assert normalize_label("kön") != normalize_label("kod")
    assert normalize_label(2021) == "2021"


def schema() -> Schema:
    return Schema.from_descriptor({"fields": [
        {"name": "ar", "type": "integer", "title": "År", "en": {"title": "Year"},
         "aliases": ["Rapportår", "verksamhetsår"]},
        {"name": "kon", "type": "string", "title": "Kön"},
        {"name": "varde", "type": "number"},
    ]})


def test_every_name_title_and_alias_finds_its_field():
    index = label_index(schema())
    assert {label: index[normalize_label(label)] for label in
            ["ar", "ÅR", "Year", "rapport år", "Verksamhetsår", "KÖN", "kon", "Värde"]} == {
        "ar": "ar", "ÅR": "ar", "Year": "ar", "rapport år": "ar", "Verksamhetsår": "ar",
        "KÖN": "kon", "kon": "kon", "Värde": "varde"}


def test_a_label_no_field_declares_is_not_found():
    assert normalize_label("Kommentar") not in label_index(schema())


def test_a_label_two_fields_share_belongs_to_the_first():
    shared = Schema.from_descriptor({"fields": [
        {"name": "a", "type": "string", "aliases": ["Belopp"]},
        {"name": "b", "type": "string", "title": "belopp"}]})
    assert label_index(shared)["belopp"] == "a"
