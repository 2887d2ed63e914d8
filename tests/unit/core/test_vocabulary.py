"""The activity statuses are spelled out once, and they are the schema's enum."""

import yaml

from flows.core.settings import PROJECT_ROOT
from flows.core.vocabulary import ACTIVITY_STATUSES, ascii_name, status_columns


def test_the_statuses_are_the_enum_of_aktiviteter_status_in_its_order():
    schema = yaml.safe_load((PROJECT_ROOT / "schemas" / "aktiviteter.schema.yaml")
                            .read_text(encoding="utf-8"))
    status = next(f for f in schema["fields"] if f["name"] == "status")
    assert tuple(status["constraints"]["enum"]) == ACTIVITY_STATUSES


def test_status_columns_are_ascii_and_keep_the_order():
    assert status_columns("antal") == {"planerad": "antal_planerad", "pågående": "antal_pagaende",
                                       "genomförd": "antal_genomford", "avbruten": "antal_avbruten"}
    assert all(column.isascii() for column in status_columns("aktiviteter").values())
    assert ascii_name("Åöä") == "Aoa"
