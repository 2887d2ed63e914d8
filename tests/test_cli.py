import json

import pytest
from typer.testing import CliRunner

from flows.cli import app

runner = CliRunner()
GOOD = ("aktivitet_id,rapportar,mal_id,titel,beskrivning,forvaltning_id,status,startdatum,"
        "slutdatum,kostnad_tkr\nA020,2020,O1,Uppstart av Hälsocenter,Text,social,pågående,"
        "2020-02-01,,120\n")


@pytest.mark.parametrize("command", ["run", "validate"])
def test_every_command_has_help_with_an_example(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "opendata " + command in result.output
    assert "Exempel" in result.output


def test_validate_a_good_file_exits_0(deliver):
    path = deliver("2020/social/aktiviteter.csv", GOOD)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 rader giltiga" in result.output


def test_validate_a_bad_file_exits_1_and_says_where_and_how(deliver):
    path = deliver("2020/social/aktiviteter.csv", GOOD + "A021,2020,O1,Titel,T,social,klar,"
                   "2020-01-01,,1\n")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "rad / row 3" in result.output and "status" in result.output
    assert "Tillåtna värden" in result.output and "Allowed" in result.output


def test_validate_json_output_for_machines(deliver):
    path = deliver("2020/kommunledning/aktiviteter.csv", GOOD)
    result = runner.invoke(app, ["validate", "--json", str(path)])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["valid"] is False
    [file] = payload["files"]
    assert (file["rows_read"], file["rows_valid"], file["rows_rejected"]) == (1, 0, 1)
    assert [(e["row"], e["field"], e["type"]) for e in file["errors"]] == [
        (2, "forvaltning_id", "department-mismatch")]


def test_validate_a_file_outside_the_layout_with_options(tmp_path):
    path = tmp_path / "min-rapport.csv"
    path.write_text(GOOD, encoding="utf-8")
    result = runner.invoke(app, ["validate", "--type", "aktiviteter", "--year", "2021",
                                 "--department", "social", "--json", str(path)])
    errors = json.loads(result.stdout)["files"][0]["errors"]
    assert [e["type"] for e in errors] == ["year-mismatch"]


def test_validate_unknown_report_type_is_reported(tmp_path):
    path = tmp_path / "budget.csv"
    path.write_text("a\n1\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", "--json", str(path)])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["files"][0]["errors"][0]["type"] == "unknown-report-type"


def test_usage_errors_exit_2(tmp_path):
    assert runner.invoke(app, ["validate", str(tmp_path / "missing.csv")]).exit_code == 2
    assert runner.invoke(app, ["run", "--raw", str(tmp_path / "nope")]).exit_code == 2
    assert runner.invoke(app, ["frobnicate"]).exit_code == 2


def test_validate_does_not_import_prefect(deliver):
    import subprocess
    import sys

    path = deliver("2020/social/aktiviteter.csv", GOOD)
    code = (f"import sys; from flows.cli import app; sys.argv=['opendata','validate',{str(path)!r}]\n"
            "try:\n    app()\nexcept SystemExit:\n    pass\n"
            "assert 'prefect' not in sys.modules, 'validate imported prefect'")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_validate_any_csv_against_any_schema_fast(tmp_path):
    schema = tmp_path / "schema.json"
    schema.write_text('{"fields": [{"name": "id", "type": "integer"}, '
                      '{"name": "when", "type": "date"}], "primaryKey": ["id"]}', "utf-8")
    data = tmp_path / "data.csv"
    data.write_text("id,when\n1,2020-01-01\n1,2020-02-30\nx,\n", "utf-8")
    result = runner.invoke(app, ["validate", str(data), "--schema", str(schema), "--json"])
    assert result.exit_code == 1
    [task] = json.loads(result.stdout)["tasks"]
    assert [(e["rowNumber"], e["fieldName"], e["type"]) for e in task["errors"]] == [
        (3, "when", "type-error"), (3, None, "primary-key"), (4, "id", "type-error"),
        (4, None, "primary-key")]  # as Frictionless: a key of only None is an error too
    assert task["stats"]["rows"] == 3 and task["handedOver"] == []
    assert "message" in task["errors"][0]
    human = runner.invoke(app, ["validate", str(data), "--schema", str(schema)])
    assert human.exit_code == 1 and "rad / row 3" in human.output
    good = tmp_path / "good.csv"
    good.write_text("id,when\n1,2020-01-01\n", "utf-8")
    assert runner.invoke(app, ["validate", str(good), "--schema", str(schema)]).exit_code == 0
