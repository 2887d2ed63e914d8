"""One Settings (#14): built once from the command line, the environment, .env and the
defaults, validated with one clear line, documented, and passed down - no step reads the
environment itself."""

import json
import os
import pickle
import re

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.core.settings import PROJECT_ROOT, Settings, SettingsError, env_name
from flows.inputs import run_inputs
from flows.intake.discover import discover

runner = CliRunner()
README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
FLOWS = PROJECT_ROOT / "flows"
# Where the environment may be touched, and why: settings.py builds Settings (pydantic-settings
# reads OPENDATA_* and .env there), names each value's source and sets Prefect's own
# environment; the command sets PREFECT_LOGGING_LEVEL for its run log (cli/run.py), and
# serving.py sets PREFECT_API_URL for its server and hands `serve --notify` to the served runs
# as OPENDATA_NOTIFY_URL (kept out of Prefect's UI).
ENVIRONMENT_ALLOWED = {"flows/core/settings.py", "flows/cli/run.py", "flows/serving.py"}
# Where a Settings is built: the command (once per command), the flow's start (once per run)
# and the flow's notification hook (from the run's parameters). Steps get theirs passed down.
BUILDING_ALLOWED = {"flows/core/settings.py", "flows/cli/common.py", "flows/pipeline.py"}


@pytest.fixture
def clean(monkeypatch, tmp_path):
    """No OPENDATA_ variable and no .env: each test says what it sets."""
    for name in [n for n in os.environ if n.upper().startswith("OPENDATA_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def _settings_paragraph() -> str:
    start = README.index("Inställningar / settings:")
    return README[start:README.index("\n## ", start)]


def test_every_setting_is_documented_in_the_readmes_settings_list():
    documented = _settings_paragraph()
    missing = [env_name(f) for f in Settings.model_fields if f"`{env_name(f)}`" not in documented]
    assert not missing, f"not in the README's settings paragraph: {missing}"
    assert all(field.description for field in Settings.model_fields.values())


def test_defaults_environment_dotenv_and_overrides_in_that_order(clean, tmp_path):
    (tmp_path / ".env").write_text("OPENDATA_MIN_COUNT=7\nOPENDATA_SPLIT_MB=3\n"
                                   "PREFECT_LOGGING_LEVEL=DEBUG\n", encoding="utf-8")
    clean.setenv("OPENDATA_SPLIT_MB", "9")
    clean.setenv("OPENDATA_CONTACT", "mailto:a@aneby.example")  # the older name, an alias
    settings = Settings.from_env(raw_dir=tmp_path / "r", keep_releases=None)
    assert settings.min_count == 7  # .env
    assert settings.split_mb == 9  # the environment wins over .env
    assert settings.contact_email == "mailto:a@aneby.example"
    assert settings.raw_dir == tmp_path / "r"  # the command line wins over both
    assert settings.keep_releases == 5  # None: not given
    assert Settings.defaults().min_count == 5  # defaults() reads neither


def test_an_invalid_value_names_its_variable(clean):
    clean.setenv("OPENDATA_MIN_COUNT", "zero")
    with pytest.raises(SettingsError, match="OPENDATA_MIN_COUNT=zero"):
        Settings.from_env()
    clean.setenv("OPENDATA_MIN_COUNT", "0")
    with pytest.raises(SettingsError, match="OPENDATA_MIN_COUNT=0: Input should be greater"):
        Settings.from_env()


@pytest.mark.parametrize("command", [["settings"], ["run"], ["verify"], ["validate", "x.csv"]])
def test_the_cli_says_an_invalid_setting_in_one_line_exit_2(clean, command):
    clean.setenv("OPENDATA_MIN_COUNT", "zero")
    result = runner.invoke(app, command)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert "Ogiltig inställning / invalid setting: OPENDATA_MIN_COUNT=zero" in lines[0]


def test_opendata_settings_prints_every_value_and_its_source(clean, tmp_path):
    (tmp_path / ".env").write_text("OPENDATA_BASE_URL=https://data.aneby.example/\n"
                                   "OPENDATA_SPLITMB=3\n", encoding="utf-8")
    clean.setenv("OPENDATA_MAX_FILE_MB", "50")
    clean.setenv("OPENDATA_SMTP_PASSWORD", "hemligt")
    result = runner.invoke(app, ["settings", "--json", "--raw", "leveranser"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    rows = {row["variable"]: row for row in shown["settings"]}
    assert set(rows) == {env_name(f) for f in Settings.model_fields}
    assert rows["OPENDATA_RAW"] == {"setting": "raw_dir", "variable": "OPENDATA_RAW",
                                     "value": "leveranser", "source": "command line"}
    assert rows["OPENDATA_MAX_FILE_MB"]["source"] == "environment (OPENDATA_MAX_FILE_MB)"
    assert rows["OPENDATA_MAX_FILE_MB"]["value"] == "50"
    assert rows["OPENDATA_BASE_URL"]["source"] == ".env"
    assert rows["OPENDATA_MIN_COUNT"] == {"setting": "min_count", "variable":
                                          "OPENDATA_MIN_COUNT", "value": "5", "source": "default"}
    assert rows["OPENDATA_SMTP_PASSWORD"]["value"] == "***"
    assert "hemligt" not in result.output
    assert shown["unknown"] == ["OPENDATA_SPLITMB"]  # a typo is named

    text = runner.invoke(app, ["settings"])
    assert text.exit_code == 0
    assert "OPENDATA_MAX_FILE_MB=50  (miljön (OPENDATA_MAX_FILE_MB) / environment" in text.output
    assert "OPENDATA_SPLITMB: ingen inställning" in text.output


def test_opendata_settings_does_not_import_prefect(clean):
    import subprocess
    import sys

    code = ("import sys; from typer.testing import CliRunner; from flows.cli import app; "
            "r = CliRunner().invoke(app, ['settings']); assert r.exit_code == 0, r.output; "
            "print('prefect' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, check=True)
    assert done.stdout.strip() == "False"


def test_discover_and_the_fingerprint_use_the_settings_passed_down(clean, tmp_path, register):
    raw = tmp_path / "raw"
    (raw / "2020" / "social").mkdir(parents=True)
    (raw / "2020" / "social" / "aktiviteter.csv").write_bytes(b"x" * (2**20 + 1))
    clean.setenv("OPENDATA_MAX_FILE_MB", "1")  # read by no step: only Settings reads it
    assert not discover(raw, register).rejected
    assert [p.type for p in discover(raw, register, max_bytes=2**20).rejected] == [
        "file-too-large"]
    given = run_inputs(raw, register.schemas_dir, Settings.defaults())
    assert not given.found.rejected
    small = run_inputs(raw, register.schemas_dir, Settings.from_env())
    assert [p.type for p in small.found.rejected] == ["file-too-large"]
    assert small.inputs != given.inputs  # what is used is what is hashed


def test_settings_travel_to_workers_unchanged(clean):
    clean.setenv("OPENDATA_MIN_COUNT", "8")
    settings = Settings.from_env()
    clean.setenv("OPENDATA_MIN_COUNT", "3")  # a worker's environment differs: no matter
    assert pickle.loads(pickle.dumps(settings)) == settings
    assert pickle.loads(pickle.dumps(settings)).min_count == 8


def _python_files() -> list[tuple[str, str]]:
    return [(path.relative_to(PROJECT_ROOT).as_posix(), path.read_text(encoding="utf-8"))
            for path in sorted(FLOWS.rglob("*.py"))]


def test_no_step_reads_the_environment():
    reading = re.compile(r"\bos\.environ\b|\bos\.getenv\b|\bgetenv\(|\benviron\[")
    found = [name for name, text in _python_files() if reading.search(text)]
    assert set(found) <= ENVIRONMENT_ALLOWED, sorted(set(found) - ENVIRONMENT_ALLOWED)


def test_no_step_builds_its_own_settings():
    building = re.compile(r"Settings\.from_env\(|Settings\(")
    found = [name for name, text in _python_files() if building.search(text)]
    assert set(found) <= BUILDING_ALLOWED, sorted(set(found) - BUILDING_ALLOWED)
    assert not [name for name, text in _python_files()
                if re.search(r"^MAX_BYTES = .*environ", text, re.MULTILINE)]


def test_the_flow_builds_its_settings_once_and_passes_them_down():
    """Every Settings.from_env in the pipeline is the flow's start or its notification hook."""
    text = (FLOWS / "pipeline.py").read_text(encoding="utf-8")
    starts = [m.start() for m in re.finditer(r"Settings\.from_env\(", text)]
    owners = [text.rfind("\ndef ", 0, at) for at in starts]
    names = sorted(text[o + 5:text.index("(", o)] for o in owners)
    assert names == ["_tell_operator", "publish_open_data"], names
