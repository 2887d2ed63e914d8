"""Lints over the schemas and codelists: the contract users rely on."""

import csv
import re

import pytest

from conftest import SHARED

LANGUAGE_KEYS = ("title", "description")


def test_every_dataset_has_a_schema_and_every_schema_a_dataset(register):
    on_disk = {p.name.removesuffix(".schema.yaml")
               for p in register.schemas_dir.rglob("*.schema.yaml")}
    assert on_disk == set(register.datasets)
    for dataset_id in register.datasets:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", dataset_id), "ids are Swedish snake_case ASCII"


def test_every_field_has_swedish_and_english_title_and_description(register):
    for dataset_id in register.datasets:
        for field in register.schema_descriptor(dataset_id)["fields"]:
            where = f"{dataset_id}.{field['name']}"
            for key in LANGUAGE_KEYS:
                assert field.get(key), f"{where} has no Swedish {key}"
                assert field.get("en", {}).get(key), f"{where} has no English {key}"


def test_every_schema_has_a_primary_key_and_report_foreign_keys_resolve(register):
    for dataset_id in register.datasets:
        schema = register.schema(dataset_id)
        assert schema.primary_key, dataset_id
        for fk in schema.foreign_keys:
            target = fk["reference"]["resource"]
            assert register.datasets[target].kind == "codelist"
            assert set(fk["reference"]["fields"]) <= set(register.schema(target).field_names)


def test_report_rules_name_real_fields(register):
    for spec in register.of_kind("report"):
        names = register.schema(spec.id).field_names
        assert spec.department_field in (None, *names)
        # a report without a year column (Kolada's group membership) takes its folder's year
        assert spec.year_field in (None, *names)
        for rule in spec.rules:
            used = {rule.field} if rule.type == "sdg-targets" else {rule.start, rule.end}
            assert used <= set(names)


def test_key_figure_ids_are_kolada_or_local(register):
    for kpi in register.codes("nyckeltal_definitioner"):
        assert re.fullmatch(r"[NU]\d{5}|ANB-\d{4}", kpi)


def test_kolada_ids_exist_in_kolada():
    metadata = SHARED / "reference" / "kolada" / "kpi_metadata.csv"
    if not metadata.exists():
        pytest.skip("../shared/reference/kolada is not here")
    with metadata.open(encoding="utf-8") as handle:
        kolada = {row["id"]: row["title"] for row in csv.DictReader(handle)}
    from flows.core.register import load_register
    for kpi in load_register().codes("nyckeltal_definitioner"):
        if not kpi.startswith("ANB-"):
            assert kpi in kolada, f"{kpi} is not a Kolada key figure"


def test_programme_goals_are_the_coalitions_words_verbatim(register):
    seed = SHARED / "seed" / "alliansen-i-aneby-halvtid-2020.txt"
    if not seed.exists():
        pytest.skip("../shared/seed is not here")
    text = seed.read_text(encoding="utf-8")
    header, *rows = register.codelist_rows("malprogram")
    for row in rows:
        record = dict(zip(header, row, strict=True))
        assert f"\n{record['perspektiv_namn']}\n" in text
        assert f"  {record['mal_nummer']}. {record['mal_text']}\n" in text


def test_sdg_goals_are_the_17_with_official_colours(register):
    header, *rows = register.codelist_rows("sdg_mal")
    assert [int(r[0]) for r in rows] == list(range(1, 18))
    colours = {int(r[0]): r[3] for r in rows}
    assert (colours[1], colours[11], colours[17]) == ("#E5243B", "#FD9D24", "#19486A")


def test_sdg_targets_are_exactly_the_official_169(register):
    reference = SHARED / "reference" / "sdg" / "global_targets.yml"
    if not reference.exists():
        pytest.skip("../shared/reference/sdg is not here")
    import yaml

    official = {key.removesuffix("-title").replace("-", ".")
                for key in yaml.safe_load(reference.read_text(encoding="utf-8"))}
    ours = register.codes("sdg_delmal")
    assert len(official) == 169
    assert len(ours) == len(set(ours)) == 169
    assert set(ours) == official


def test_sdg_target_labels_are_short_and_in_both_languages(register):
    header, *rows = register.codelist_rows("sdg_delmal")
    for code, goal, label, label_en in rows:
        assert code.split(".")[0] == goal
        assert 0 < len(label) <= 80 and 0 < len(label_en) <= 80, code


def test_never_published_fields_are_not_keys(register):
    for dataset_id in register.datasets:
        descriptor = register.schema_descriptor(dataset_id)
        hidden = {f["name"] for f in descriptor["fields"] if not f.get("published", True)}
        keys = set(descriptor.get("primaryKey", []))
        keys |= {n for fk in descriptor.get("foreignKeys", []) for n in fk["fields"]}
        assert not hidden & keys, dataset_id
