"""One header detection for the flow's checks and for fastcheck: row 1 is the header."""

from frictionless import Resource, Schema

from flows.checks import delivery
from flows.checks.fastcheck import validator
from flows.checks.fastcheck.schemas import header_first


def test_both_checks_use_the_one_header_rule():
    assert delivery.header_first is header_first and validator.header_first is header_first


def test_a_short_first_data_row_is_not_taken_for_the_header():
    schema = Schema.from_descriptor({"fields": [{"name": "a", "type": "string"},
                                                {"name": "b", "type": "string"}]})
    rows = [["a", "b"], ["x", None], ["y", "z"]]
    with Resource(data=rows, schema=schema, dialect=header_first()) as resource:
        assert resource.header.labels == ["a", "b"]
        assert [row.to_list() for row in resource.read_rows()] == [["x", None], ["y", "z"]]
    assert header_first() is not header_first()  # a fresh dialect for each resource
