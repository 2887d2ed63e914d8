"""Every kind of real-world file is read correctly or rejected with the right located errors,
never a traceback; the accounting holds; `opendata validate` gives the flow's verdict."""

import json

import pytest
from typer.testing import CliRunner

from flows.checks.delivery import check_file, rejected_file
from flows.cli import app
from flows.core.problems import Problem
from flows.intake.discover import classify

from corpus import CASES


def verdict(case, root, register):
    path = case.write(root)
    found = classify(path, case.path, register, strict_layout=True)
    if isinstance(found, Problem):
        return rejected_file(case.path, "", [found])
    return check_file(found, register)


def test_the_corpus_has_at_least_25_kinds():
    assert len({case.kind for case in CASES}) == len(CASES) >= 25


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_each_kind_is_read_or_rejected_precisely(case, tmp_path, register):
    result = verdict(case, tmp_path / "raw", register)
    assert sorted(((p.type, p.row, p.field) for p in result.problems), key=str) == sorted(
        ((t, r, f) for r, f, t in case.problems), key=str)
    assert result.rows_published == case.published
    assert result.rows_read == result.rows_published + result.rows_rejected
    for p in result.problems:
        assert p.file == case.path and p.message_sv and p.message_en
    if case.check:
        case.check(result.records)


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_opendata_validate_gives_the_same_verdict(case, tmp_path, register, monkeypatch):
    root = tmp_path / "raw"
    expected = verdict(case, root, register)
    monkeypatch.chdir(root)
    result = CliRunner().invoke(app, ["validate", "--json", case.path])
    assert result.exit_code == (0 if not expected.problems else 1), result.output
    [file] = json.loads(result.stdout)["files"]
    assert [(e["type"], e["row"], e["field"]) for e in file["errors"]] == [
        (p.type, p.row, p.field) for p in expected.problems]
    assert file["rows_valid"] == expected.rows_published
