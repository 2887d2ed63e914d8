"""Tests stop what they start: a test run fails when a process it started is still running at
its end, and those processes are killed, so a run never leaves servers behind.

A process is the run's when it started during the run and
- carries the run's mark in its environment (every child inherits it, and keeps it when its
  parent dies and init adopts it),
- or descends from pytest,
- or names one of the run's temporary folders in its command line (a clean environment).

Not counted: the helpers multiprocessing starts for pytest itself (its resource tracker, its fork
server): they read a pipe from pytest and end when pytest ends.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psutil
import pytest

MARK = "OPENDATA_TEST_RUN"
GRACE = 3.0  # seconds for a process that was told to stop just before the end
HELPERS = ("from multiprocessing.resource_tracker import main",
           "from multiprocessing.forkserver import main")


class LeakCheck:
    def __init__(self) -> None:
        self.run = uuid.uuid4().hex
        os.environ[MARK] = self.run
        self.before = {(p.pid, p.info["create_time"])
                       for p in psutil.process_iter(["create_time"])}
        self.folders: list[str] = []

    def watch(self, folder: str | Path) -> None:
        self.folders.append(os.path.join(folder, ""))

    def leftovers(self) -> list[psutil.Process]:
        me = psutil.Process()
        family = {p.pid for p in me.children(recursive=True)}
        found = []
        for process in psutil.process_iter(["create_time", "cmdline", "status", "ppid"]):
            if process.pid == me.pid or process.info["status"] == psutil.STATUS_ZOMBIE or (
                    process.pid, process.info["create_time"]) in self.before:
                continue
            if process.info["ppid"] == me.pid and any(
                    helper in " ".join(process.info["cmdline"] or []) for helper in HELPERS):
                continue
            if process.pid in family or self.is_ours(process):
                found.append(process)
        return found

    def is_ours(self, process: psutil.Process) -> bool:
        cmdline = " ".join(process.info["cmdline"] or [])
        if any(folder in cmdline for folder in self.folders):
            return True
        try:
            return process.environ().get(MARK) == self.run
        except psutil.Error:  # gone, or not ours to read
            return False


KEY = pytest.StashKey[LeakCheck]()


@pytest.hookimpl(tryfirst=True)  # before a conftest's pytest_configure calls watch()
def pytest_configure(config: pytest.Config) -> None:
    config.stash[KEY] = LeakCheck()


@pytest.fixture(scope="session", autouse=True)
def _watch_the_temporary_folders(request: pytest.FixtureRequest,
                                 tmp_path_factory: pytest.TempPathFactory) -> None:
    request.config.stash[KEY].watch(tmp_path_factory.getbasetemp())


def watch(config: pytest.Config, folder: str | Path) -> None:
    """Count processes that name `folder` in their command line as the run's."""
    config.stash[KEY].watch(folder)


def pytest_sessionfinish(session: pytest.Session) -> None:
    check = session.config.stash.get(KEY, None)
    if check is None:
        return
    _, running = psutil.wait_procs(check.leftovers(), timeout=GRACE)
    if not running:
        return
    lines = []
    for process in sorted(running, key=lambda p: p.pid):
        try:
            lines.append(f"pid {process.pid}: {' '.join(process.cmdline())[:300]}")
            process.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(running, timeout=10)
    if session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    message = (f"{len(running)} process(es) started by the tests still running at the end "
               "(now killed): a test must stop what it starts, also when it fails")
    if reporter is None:
        print(message, *lines, sep="\n")
        return
    reporter.write_sep("!", message, red=True)
    for line in lines:
        reporter.write_line(line)

