"""Docs that cannot drift: what the code knows, the README says, and its commands work."""

import re

from typer.testing import CliRunner

from flows.cli import app
from flows.core.problems import PROBLEM_TYPES
from flows.core.settings import PROJECT_ROOT, Settings, env_name

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def test_quick_start_is_exactly_make_run_and_make_test():
    quick = README.split("## Snabbstart", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in quick.strip().splitlines()]
    assert commands == ["make run", "make test"]


def test_every_problem_type_is_documented():
    for problem_type in PROBLEM_TYPES:
        assert f"`{problem_type}`" in README, problem_type


def test_every_dataset_is_documented(register):
    for dataset_id in register.datasets:
        assert f"`{dataset_id}`" in README, dataset_id


def test_every_command_and_setting_is_documented():
    for command in app.registered_commands:
        assert f"opendata {command.name or command.callback.__name__}" in README
    for field in Settings.model_fields:  # tests/test_settings.py: in the settings list too
        assert env_name(field) in README, env_name(field)


def _expand(example: str) -> list[str]:
    """Expand shell globs as the shell would."""
    words = []
    for word in example.split():
        matches = sorted(PROJECT_ROOT.glob(word)) if "*" in word else []
        words += [str(m.relative_to(PROJECT_ROOT)) for m in matches] or [word]
    return words


def test_the_readmes_validate_examples_run(monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)
    examples = re.findall(r"\.venv/bin/opendata (validate [^\n#]+?)\s*(?:#.*)?$", README,
                          flags=re.MULTILINE)
    runnable = [e for e in examples if "min-fil" not in e]
    assert runnable
    for example in runnable:
        result = CliRunner().invoke(app, _expand(example))
        assert result.exit_code == 0, (example, result.output)
