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


def test_every_marker_is_documented_and_left_out_of_the_quick_loop():
    import re
    import tomllib

    from conftest import PROJECT_ROOT

    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    markers = [m.split(":")[0] for m in config["tool"]["pytest"]["ini_options"]["markers"]]
    assert {"e2e", "browser", "slow"} <= set(markers)
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    developers = readme.split("### Tester för utvecklare", 1)[1].split("\n## ", 1)[0]
    assert all(f"- `{marker}`:" in developers for marker in markers), markers
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    [quick] = re.findall(r"^test-quick:.*\n\t(.*)$", makefile, flags=re.MULTILINE)
    assert all(f"not {marker}" in quick for marker in markers), quick
