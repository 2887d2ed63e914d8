"""The shared fixtures: no test leaves its environment variables to the next one."""

import os

from conftest import kept_environment


def test_variables_set_changed_or_removed_are_put_back(monkeypatch):
    monkeypatch.setenv("OPENDATA_PROBE_CHANGED", "before")
    monkeypatch.setenv("OPENDATA_PROBE_REMOVED", "kept")
    monkeypatch.delenv("OPENDATA_PROBE_SET", raising=False)
    with kept_environment():
        os.environ["OPENDATA_PROBE_SET"] = "leak"
        os.environ["OPENDATA_PROBE_CHANGED"] = "after"
        del os.environ["OPENDATA_PROBE_REMOVED"]
    assert "OPENDATA_PROBE_SET" not in os.environ
    assert os.environ["OPENDATA_PROBE_CHANGED"] == "before"
    assert os.environ["OPENDATA_PROBE_REMOVED"] == "kept"


def test_the_environment_is_put_back_even_when_the_block_fails(monkeypatch):
    monkeypatch.delenv("PREFECT_PROBE", raising=False)
    try:
        with kept_environment():
            os.environ["PREFECT_PROBE"] = "leak"
            raise RuntimeError
    except RuntimeError:
        pass
    assert "PREFECT_PROBE" not in os.environ


def test_every_test_runs_inside_it(request):
    assert "restored_environment" in request.fixturenames
