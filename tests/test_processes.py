"""Servers die with the command that started them: `opendata browse` and `opendata run` (and
Prefect's temporary server) by SIGTERM; and the shared helper (flows/processes.py) for child
servers: the whole group is stopped, a parent killed by SIGKILL takes its server with it, and
SIGTERM, SIGHUP and Ctrl-C unwind into `finally`. `opendata serve`: test_serve.py."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

import psutil
import pytest

from flows.processes import start_server, stop_server, stop_signals_unwind

from conftest import OPENDATA, free_port, port_is_free, wait_for_port

pytestmark = pytest.mark.slow  # servers started, signalled and killed


def pid_of_line(process: subprocess.Popen) -> int:
    return int(process.stdout.readline())


def gone(pid: int, timeout: float = 10) -> bool:
    try:
        psutil.Process(pid).wait(timeout=timeout)
    except psutil.NoSuchProcess:
        pass
    except psutil.TimeoutExpired:
        return False
    return True


def test_stopping_a_server_stops_its_whole_group():
    # the leader stops on SIGTERM; a member of its group ignores SIGTERM and is killed
    server = start_server(["sh", "-c", "(trap '' TERM; exec sleep 301) & echo $!; exec sleep 300"],
                          stdout=subprocess.PIPE, text=True)
    member = pid_of_line(server)
    started = time.monotonic()
    assert stop_server(server, grace=20) == -signal.SIGTERM
    assert time.monotonic() - started < 10
    assert gone(member)


def test_a_server_that_ignores_sigterm_is_killed_after_the_grace_period():
    server = start_server(["sh", "-c", "trap '' TERM; echo ready; exec sleep 300"],
                          stdout=subprocess.PIPE, text=True)
    assert server.stdout.readline() == "ready\n"
    assert stop_server(server, grace=0.5) == -signal.SIGKILL


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_parent_killed_by_sigkill_takes_its_server_with_it():
    code = ("import time\nfrom flows.processes import start_server\n"
            "print(start_server(['sleep', '300']).pid, flush=True)\ntime.sleep(300)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        server = pid_of_line(parent)
        parent.kill()
    finally:
        parent.kill()
        parent.wait()
    assert gone(server), "the server outlived its parent"


UNWINDING = """
import time
from flows.processes import start_server, stop_server, stop_signals_unwind

with stop_signals_unwind():
    server = start_server(["sleep", "300"])
    try:
        print(server.pid, flush=True)
        time.sleep(300)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    finally:
        print("stopped", stop_server(server), flush=True)
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_stop_signals_unwind_like_ctrl_c_and_stop_the_server(signum):
    parent = subprocess.Popen([sys.executable, "-c", UNWINDING], stdout=subprocess.PIPE, text=True)
    try:
        server = pid_of_line(parent)
        parent.send_signal(signum)
        assert parent.wait(timeout=30) == 0
        assert parent.stdout.read().split("\n") == ["interrupted", f"stopped {-signal.SIGTERM}", ""]
        assert gone(server, timeout=0)
    finally:
        parent.kill()
        parent.wait()


def test_stop_signals_unwind_restores_the_handlers():
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)
    with stop_signals_unwind():
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGTERM)
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)) == before


def test_sigterm_stops_browse_frees_its_port_and_leaves_no_datasette(tmp_path):
    latest = tmp_path / "published" / "latest"
    latest.mkdir(parents=True)
    with sqlite3.connect(latest / "opendata.db") as db:
        db.execute("create table aktiviteter (aktivitet_id text)")
    (latest / "datasette.json").write_text("{}", encoding="utf-8")
    port = free_port()
    log = tmp_path / "browse.log"
    with log.open("w") as output:  # a file, not a pipe: a leaked child would keep a pipe open
        browse = subprocess.Popen([OPENDATA, "browse", "--out", str(tmp_path / "published"),
                                   "--port", str(port)], stdout=output,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, browse)
        assert log.read_text().startswith(f"Datasette: http://127.0.0.1:{port}/opendata\n")
        family = [psutil.Process(browse.pid), *psutil.Process(browse.pid).children(recursive=True)]
        assert any("datasette" in " ".join(p.cmdline()) for p in family)
        browse.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then ends by the signal it caught, as before this change
        assert browse.wait(timeout=15) == -signal.SIGTERM
        assert "Application shutdown complete." in log.read_text()
    finally:
        stop_server(browse)
    _, alive = psutil.wait_procs(family, timeout=5)
    assert alive == []
    assert port_is_free(port)
    assert not [p for p in psutil.process_iter(["cmdline"])
                if str(latest) in " ".join(p.info["cmdline"] or [])]


def test_sigterm_stops_run_and_prefects_temporary_server(tmp_path, raw_copy):
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home")}
    env.pop("PREFECT_API_URL", None)  # so `opendata run` starts Prefect's temporary server
    log = tmp_path / "run.log"
    with log.open("w") as output:
        run = subprocess.Popen([OPENDATA, "run", "--raw", str(raw_copy), "--out",
                                str(tmp_path / "published"), "--reports", str(tmp_path / "r"),
                                "--state", str(tmp_path / "s")], env=env, stdout=output,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        server = None
        deadline = time.monotonic() + 120
        while server is None and time.monotonic() < deadline:
            assert run.poll() is None, log.read_text()
            server = next((p for p in psutil.Process(run.pid).children()
                           if "prefect.server.api.server:create_app" in " ".join(p.cmdline())),
                          None)
            time.sleep(0.1)
        assert server is not None, "no temporary Prefect server"
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 130, log.read_text()  # stopped as Ctrl-C stops it
    finally:
        stop_server(run)
    server.wait(timeout=15)  # psutil.TimeoutExpired when it outlives `opendata run`
