"""The run-wide check that tests stop what they start (leakcheck.py) can fail: a test run that
leaves a child, or an orphan adopted by init, behind fails, names them and kills them."""

import json
import os
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.slow  # inner test runs that leave processes to kill

LEAKY = '''
import json, subprocess, sys
from pathlib import Path

import psutil

def remember(name, pid):
    Path(name).write_text(json.dumps([pid, psutil.Process(pid).create_time()]))

def test_leaves_a_child_running():
    remember("child.json", subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"]).pid)

def test_leaves_an_orphan_running():  # sh exits at once: init adopts the sleep
    out = subprocess.run(["sh", "-c", "sleep 301 >/dev/null 2>&1 & echo $!"], check=True,
                         capture_output=True, text=True).stdout
    remember("orphan.json", int(out))
'''

TIDY = '''
import multiprocessing, subprocess, sys

import psutil

def test_stops_what_it_starts():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    child.terminate()
    child.wait()

def test_starts_multiprocessing_helpers_that_end_with_pytest():
    multiprocessing.get_context("spawn").Lock()  # starts the resource tracker, as Dask does
    assert any("resource_tracker" in " ".join(p.cmdline()) for p in psutil.Process().children())
'''


def run_inner(pytester, monkeypatch, source: str):
    tests = Path(__file__).resolve().parent
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tests), os.environ["PYTHONPATH"]]))
    pytester.makepyfile(source)
    return pytester.runpytest_subprocess("-p", "leakcheck", "-p", "no:cacheprovider")


def running(path: Path) -> bool:
    pid, created = json.loads(path.read_text())
    try:
        process = psutil.Process(pid)
        return process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_run_that_leaves_processes_behind_fails_and_kills_them(pytester, monkeypatch):
    result = run_inner(pytester, monkeypatch, LEAKY)
    result.assert_outcomes(passed=2)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*2 process(es) started by the tests still running*",
                                 "pid *time.sleep(300)*", "pid *sleep 301*"])
    assert not running(pytester.path / "child.json")
    assert not running(pytester.path / "orphan.json")


def test_a_run_that_stops_what_it_starts_passes(pytester, monkeypatch):
    result = run_inner(pytester, monkeypatch, TIDY)
    result.assert_outcomes(passed=2)
    assert result.ret == 0
    assert "still running" not in result.stdout.str()
