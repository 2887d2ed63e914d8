"""The flow's and the server's pure steps: why nothing can be published, the served runs'
parameters."""

from types import SimpleNamespace

from flows.core.problems import Problem
from flows.core.settings import Settings
from flows.pipeline import _nothing_to_publish
from flows.serving import served_parameters


def _problem(severity: str) -> Problem:
    return Problem(type="codelist-error", file="schemas/codelists/x.csv", severity=severity,
                   message_sv="fel", message_en="wrong")


def test_invalid_codelists_or_no_valid_row_is_why_nothing_is_published():
    some = [SimpleNamespace(rows_published=0, rows_kept=2)]
    none = [SimpleNamespace(rows_published=0, rows_kept=0)]
    assert _nothing_to_publish([_problem("warning")], some) is None
    assert _nothing_to_publish([_problem("error")], some) == \
        "Kodlistorna i schemas/codelists har fel / the codelists are invalid: wrong"
    assert _nothing_to_publish([], none) == \
        "Inga giltiga rader att publicera / no valid rows to publish"


def test_served_runs_get_resolved_folders_and_wait_for_the_lock(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings(raw_dir="raw", out_dir="out", notify_on="always")
    parameters = served_parameters(settings)
    assert parameters["raw_dir"] == str(tmp_path / "raw")
    assert parameters["out_dir"] == str(tmp_path / "out")
    assert parameters["wait_for_lock"] == 600.0 and parameters["notify_on"] == "always"
    assert "notify_url" not in parameters  # a webhook's token stays out of Prefect's UI
