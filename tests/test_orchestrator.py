"""The orchestrator goes away (issue 16): Prefect's server is killed (SIGKILL, a real process)
in the middle of a run. `opendata run` ends at once, between writes, with one bilingual line;
`opendata serve` starts its server again and the run in progress completes; a scheduled run that
meets another run's lock is skipped, visibly. Each time: latest is a complete release (or none),
its checksums and Frictionless validation hold, and the next run publishes normally."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from frictionless import Package
from test_serve import serving, wait_for_deployment, wait_for_run

from flows.lock import run_lock
from flows.processes import KeptServer, stop_server

from conftest import OPENDATA, free_port
from strictness import check_release
from test_spans import national

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # locks, kills and real servers


def with_large_delivery(raw: Path) -> Path:
    """The shipped reports and a national key-figure file checked in 1 MB spans (many tasks):
    the flow spends seconds in its task phase."""
    folder = raw / "2020" / "kommunledning"
    for other in folder.glob("nyckeltal.*"):
        other.unlink()
    (folder / "nyckeltal.csv").write_text(national(60_000), encoding="utf-8")
    return raw


def assert_latest_whole(out: Path, may_be_missing: bool = False) -> None:
    """Guarantee 1: latest is a complete release (every file SHA256SUMS lists hashes right,
    none is missing, Frictionless validates the package, a strict reader reads every file),
    no half-written release is left, and the run lock is free."""
    assert not list((out / "releases").glob(".*")), "a half-written release was left"
    with run_lock(out):  # raises RunInProgress if a run still held it
        pass
    latest = out / "latest"
    if may_be_missing and not latest.exists():
        return
    latest = latest.resolve()
    listed = set()
    for line in (latest / "SHA256SUMS").read_text("utf-8").splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((latest / name).read_bytes()).hexdigest() == digest, name
        listed.add(name)
    assert listed == {p.relative_to(latest).as_posix() for p in latest.rglob("*")
                      if p.is_file()} - {"SHA256SUMS"}
    assert Package(str(latest / "datapackage.json")).validate().valid
    assert check_release(latest, clean_text=False) > 50


def opendata_run(tmp_path: Path, raw: Path, *options: str) -> subprocess.Popen:
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home"), "COLUMNS": "300",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "OPENDATA_SPLIT_MB": "1",
           "PREFECT_LOGGING_LEVEL": "INFO"}  # the task lines in_task_phase waits for (an
    # in-process CLI test may have left WARNING in this process's environment)
    env.pop("PREFECT_API_URL", None)  # Prefect's temporary server
    return subprocess.Popen(
        [OPENDATA, "run", "--raw", str(raw), "--out", str(tmp_path / "published"), "--reports",
         str(tmp_path / "reports"), "--state", str(tmp_path / "state"), *options],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)


def finished(run: subprocess.Popen, timeout: float = 300) -> tuple[int, str, str]:
    try:
        out, err = run.communicate(timeout=timeout)
    finally:
        stop_server(run, grace=5)  # also when the test failed
    return run.returncode, out, err


def in_task_phase(run: subprocess.Popen, reports: Path) -> psutil.Process:
    """Prefect's temporary server, once the run's log shows a task finished."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert run.poll() is None, run.communicate()
        logs = list((reports / "logs").glob("run-*.log"))
        if logs and "Task run 'validate-" in logs[0].read_text("utf-8", errors="replace"):
            [server] = [p for p in psutil.Process(run.pid).children()
                        if "prefect.server.api.server:create_app" in " ".join(p.cmdline())]
            return server
        time.sleep(0.05)
    raise AssertionError("the run never reached its task phase")


def test_the_temporary_server_killed_mid_run_ends_the_run_cleanly(tmp_path, raw_copy):
    raw = with_large_delivery(raw_copy)
    run = opendata_run(tmp_path, raw)
    try:
        server = in_task_phase(run, tmp_path / "reports")
        server.kill()
    finally:
        code, out, err = finished(run, timeout=120)  # never a hang
    lines = err.strip().splitlines()
    assert code == 1, err
    assert len(lines) == 2 and "Traceback" not in out + err, err
    assert lines[0].startswith("Flödet avbröts / the flow stopped: Prefect-servern försvann "
                               "under körningen (kod -9); kör `opendata run` igen / the Prefect "
                               "server went away during the run (code -9); run `opendata run` "
                               "again."), lines[0]
    log = Path(lines[1].rsplit(": ", 1)[1])
    assert "Prefect-servern försvann" in log.read_text("utf-8")  # and the run's log says so
    assert_latest_whole(tmp_path / "published", may_be_missing=True)

    code, out, err = finished(opendata_run(tmp_path, raw))  # the next run publishes normally
    assert code == 0, err
    assert "Publicerad / published" in out and "Traceback" not in out + err
    assert_latest_whole(tmp_path / "published")


LAST_WORDS = """
import os, sys, threading, time
from flows.lock import end_between_writes, publishing

def write():
    with publishing():
        print("writing", flush=True)
        time.sleep(1)
        open(sys.argv[1], "w").write("whole")

threading.Thread(target=write).start()
time.sleep(0.3)
end_between_writes(lambda: print("last words", flush=True), code=3)
"""


def test_a_run_that_must_end_waits_for_the_release_being_written(tmp_path):
    done = subprocess.run([sys.executable, "-c", LAST_WORDS, str(tmp_path / "release")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert done.stdout.split("\n") == ["writing", "last words", ""]
    assert (tmp_path / "release").read_text() == "whole"


def test_a_kept_server_is_started_again_and_given_up_after_its_restarts(tmp_path):
    port, said, gave_up = free_port(), [], []
    server = KeptServer([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                         "--directory", str(tmp_path)], f"http://127.0.0.1:{port}/",
                        say=said.append, give_up=gave_up.append, restarts=1, every=0.1)
    try:
        assert server.healthy()
        server.keep()
        first = server.process
        os.killpg(first.pid, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while len(said) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert said[0].startswith("Prefect-servern avslutades (kod -9); startar om den / the "
                                  "Prefect server exited (code -9)"), said
        assert said[1] == "Prefect-servern svarar igen / the Prefect server answers again"
        assert server.process is not first and server.process.poll() is None
        os.killpg(server.process.pid, signal.SIGKILL)  # once more: beyond its restarts
        while not gave_up and time.monotonic() < deadline:
            time.sleep(0.1)
        assert gave_up == [-signal.SIGKILL] and len(said) == 2
    finally:
        server.stop()
    assert server.process.poll() is not None


def test_serves_server_killed_mid_run_is_started_again_and_the_run_completes(tmp_path,
                                                                              raw_copy):
    raw = with_large_delivery(raw_copy)
    out = tmp_path / "published"
    with serving(tmp_path, raw, free_port()) as (process, client, log):
        deployment = wait_for_deployment(process, client, log)
        run = client.create_flow_run_from_deployment(deployment.id)
        assert wait_for_run(client, run, until="running").is_running()
        [server] = [p for p in psutil.Process(process.pid).children()
                    if "prefect server start" in " ".join(p.cmdline())]
        os.killpg(server.pid, signal.SIGKILL)
        state = wait_for_run(client, run, until="final")  # its requests retried meanwhile
        text = log.read_text("utf-8")
        assert "Prefect-servern avslutades (kod -9); startar om den / the Prefect server " \
               "exited (code -9); starting it again" in text, text[-3000:]
        assert "Prefect-servern svarar igen / the Prefect server answers again" in text
        assert state.is_completed(), state
        assert_latest_whole(out)
        # the schedule goes on (the next nightly run is there), and a run publishes normally
        upcoming = client.read_flow_runs()
        assert any(r.deployment_id == deployment.id and r.state and r.state.is_scheduled()
                   for r in upcoming)
        again = wait_for_run(client, client.create_flow_run_from_deployment(deployment.id),
                             until="final")
        assert again.is_completed(), again
        assert_latest_whole(out)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=90) == 0, log.read_text()[-3000:]


HOLDER = """
import sys, time
from flows.lock import run_lock
with run_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_lock(out: Path, seconds: float) -> subprocess.Popen:
    """Another process (a manual run) holding the run lock for `seconds`."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(out), str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    return holder


def error_logs(flow_run_id) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    deadline = time.monotonic() + 30  # Prefect sends logs in batches
    with get_client(sync_client=True) as client:
        while True:
            found = [log.message for log in client.read_logs(log_filter=LogFilter(
                flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))) if log.level >= 40]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.5)


@pytest.mark.usefixtures("prefect_harness")
def test_a_scheduled_run_that_meets_a_manual_runs_lock_waits_or_is_skipped_visibly(tmp_path,
                                                                                   raw_copy):
    from flows.pipeline import SKIPPED, publish_open_data

    out = tmp_path / "published"

    def scheduled(wait: float):
        return publish_open_data(raw_dir=raw_copy, out_dir=out, reports_dir=tmp_path / "r",
                                 state_dir=tmp_path / "s", wait_for_lock=wait,
                                 return_state=True)

    holder = hold_lock(out, 300)
    try:
        state = scheduled(wait=1)
    finally:
        holder.kill()
        holder.wait()
    assert state.is_cancelled() and state.name == SKIPPED, state
    assert state.message.startswith("Hoppade över körningen efter 1 s väntan / skipped after "
                                    f"waiting 1 s: En annan körning publicerar redan till {out} "
                                    f"(process {holder.pid})"), state.message
    assert "Another run is publishing" in state.message
    assert error_logs(state.state_details.flow_run_id) == [state.message]
    assert not (out / "latest").exists()

    holder = hold_lock(out, 2)  # a manual run that finishes while the scheduled one waits
    try:
        state = scheduled(wait=120)
    finally:
        holder.kill()
        holder.wait()
    assert state.is_completed() and state.result().published, state
    assert_latest_whole(out)
