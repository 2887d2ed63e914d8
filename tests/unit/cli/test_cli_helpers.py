"""The command's pure helpers: where a problem is, --lookup options, a setting's source, what
latest is, and each command's help (title, docstring, examples)."""

import pytest
import typer

from flows.cli import app
from flows.cli.run import latest_now
from flows.cli.settings import source
from flows.cli.show import where
from flows.cli.validate import lookups


def test_where_names_row_column_and_value_in_both_languages():
    assert where(None) == "hela filen / whole file"
    assert where(7) == "rad / row 7"
    assert where(7, "antal", "x") == "rad / row 7, kolumn / column antal, värde / value 'x'"
    assert where(3, None, 0) == "rad / row 3, värde / value '0'"


def test_lookups_are_name_equals_csv_or_exit_2():
    assert lookups(["enheter=codes.csv", "a=b=c"]) == {"enheter": "codes.csv", "a": "b=c"}
    with pytest.raises(typer.Exit) as stopped:
        lookups(["enheter"])
    assert stopped.value.exit_code == 2


def test_a_settings_source_is_said_in_both_languages():
    assert str(source("default")) == "standard / default"
    assert str(source("command line")) == "kommandoraden / command line"
    assert str(source(".env")) == "filen .env / .env"
    assert str(source("environment (OPENDATA_RAW)")) == \
        "miljön (OPENDATA_RAW) / environment (OPENDATA_RAW)"


def test_latest_now_names_the_release_or_its_absence(tmp_path):
    assert str(latest_now(tmp_path)) == (f"ingen release i {tmp_path / 'latest'} / no release "
                                         f"in {tmp_path / 'latest'}")
    (tmp_path / "releases" / "20260101T000000Z").mkdir(parents=True)
    (tmp_path / "latest").symlink_to("releases/20260101T000000Z")
    said = latest_now(tmp_path)
    assert said.sv == f"{tmp_path / 'latest'} är release 20260101T000000Z (hel)"
    assert said.en.endswith("is release 20260101T000000Z (complete)")


def test_every_command_help_is_title_docstring_and_examples_on_lines_of_their_own():
    for registered in app.registered_commands:
        parts = registered.help.split("\n\n")
        assert " / " in parts[0], registered.name  # the catalogue's title, Swedish / English
        assert parts[-1].startswith("[bold]Exempel / example:[/bold] opendata "), registered.name
        assert all("\n" not in part for part in parts[1:]), registered.name  # rewrapped
