"""The message catalogue: both languages for every key, with the same placeholders; lookups
fill placeholders and fail loudly on an unknown key."""

import pytest

from flows.core import messages
from flows.core.messages import Said, check, pick, say, t, translator


def test_every_key_has_both_languages_with_the_same_placeholders():
    assert check() == []


def test_check_names_a_key_whose_languages_differ(monkeypatch):
    monkeypatch.setattr(messages, "catalogue", lambda: {
        "x.one": {"sv": "Filen {file}", "en": "The file {path}"},
        "x.two": {"sv": "bara svenska"},
        "x.three": {"sv": "{n} rader", "en": "{n} rows"}})
    assert check() == ["x.one: sv takes ['file'], en takes ['path']",
                       "x.two: has ['sv'], needs ['sv', 'en']"]


def test_a_key_lives_in_the_file_of_its_area():
    assert all(key.split(".", 1)[0] in {p.stem for p in messages.CATALOGUE.glob("*.yaml")}
               for key in messages.catalogue())


def test_lookups_fill_placeholders_in_each_language(monkeypatch):
    monkeypatch.setattr(messages, "catalogue", lambda: {
        "x.rows": {"sv": "{n} rader i {file}", "en": "{n} rows in {file}"}})
    assert t("x.rows", "en", n=3, file="a.csv") == "3 rows in a.csv"
    said = say("x.rows", n=3, file="a.csv")
    assert said == Said("3 rader i a.csv", "3 rows in a.csv")
    assert str(said) == "3 rader i a.csv / 3 rows in a.csv"
    assert translator("sv")("x.rows", n=1, file="b") == "1 rader i b"
    with pytest.raises(KeyError):
        t("x.missing", "sv")
    with pytest.raises(KeyError):
        t("x.rows", "sv", n=3)  # a placeholder left unfilled is an error, not a "{file}"


def test_pick_takes_one_side_of_anything_bilingual():
    assert pick(Said("ja", "yes"), "en") == "yes"
    assert pick({"sv": "ja", "en": "yes", "other": 1}, "sv") == "ja"
    assert pick(("ja", "yes"), "en") == "yes"
    assert pick("Aneby", "en") == "Aneby"
