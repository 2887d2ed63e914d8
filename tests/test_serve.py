"""`opendata serve` starts a real local Prefect server and serves the publish deployment on a
cron schedule; the test triggers the deployment and sees the run complete. SIGTERM stops all of
it: the run in progress, the runner and the Prefect server; stopped by SIGTERM or SIGHUP while
the server starts, or killed, it takes the server with it."""

import os
import signal
import subprocess
import time
from contextlib import contextmanager

import psutil
import pytest

from flows.processes import stop_server

from conftest import OPENDATA, free_port, port_is_free

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # a real Prefect server


@contextmanager
def serving(tmp_path, raw_copy, port):
    """`opendata serve` on its own Prefect server, and a client of that server."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    env.pop("PREFECT_API_URL", None)
    log = tmp_path / "serve.log"
    with log.open("w") as output:  # a file, not a pipe: a leaked child would keep a pipe open
        process = subprocess.Popen(
            [OPENDATA, "serve", "--raw", str(raw_copy), "--out", str(tmp_path / "published"),
             "--port", str(port), "--cron", "0 2 * * *"],
            env=env, cwd=tmp_path, start_new_session=True, stdout=output,
            stderr=subprocess.STDOUT)
    try:
        with temporary_settings({PREFECT_API_URL: f"http://127.0.0.1:{port}/api"}):
            with get_client(sync_client=True) as client:
                yield process, client, log
    finally:
        stop_server(process, grace=60)  # also when the test failed


def wait_for_deployment(process, client, log):
    deadline = time.monotonic() + 180  # the server and the runner start
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            return client.read_deployment_by_name("publicera-oppna-data/nattlig-publicering")
        except Exception:
            time.sleep(1)
    raise AssertionError("the deployment never appeared")


def test_the_deployment_runs_and_sigterm_stops_serve_its_run_and_its_server(tmp_path, raw_copy):
    """One Prefect server start (it costs seconds) for both: a triggered run completes; then
    SIGTERM to `opendata serve` alone, during a second run, stops that run, the runner and the
    server, frees the port and exits 0."""
    port = free_port()
    with serving(tmp_path, raw_copy, port) as (process, client, log):
        deployment = wait_for_deployment(process, client, log)
        [schedule] = deployment.schedules
        assert schedule.schedule.cron == "0 2 * * *"
        assert schedule.schedule.timezone == "Europe/Stockholm"
        state = wait_for_run(client, client.create_flow_run_from_deployment(deployment.id),
                             until="final")
        assert state.is_completed(), state
        assert (tmp_path / "published" / "latest" / "datapackage.json").is_file()

        # full: a run with nothing changed may end between two looks and never be seen running
        state = wait_for_run(client, client.create_flow_run_from_deployment(
            deployment.id, parameters={"full": True}), until="running")
        assert state.is_running(), state
        family = psutil.Process(process.pid).children(recursive=True)
        commands = [" ".join(p.cmdline()) for p in family]
        assert any("prefect server start" in c for c in commands), commands
        assert len(commands) >= 2, commands  # and the flow run's process
        process.send_signal(signal.SIGTERM)  # to `opendata serve` alone, not its group
        assert process.wait(timeout=90) == 0, log.read_text()[-3000:]
    _, alive = psutil.wait_procs(family, timeout=5)
    assert alive == [], [" ".join(p.cmdline()) for p in alive]
    assert port_is_free(port)
    assert log.read_text().rstrip().endswith("Stoppad / stopped.")


def wait_for_run(client, run, until: str):
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        state = client.read_flow_run(run.id).state
        if state is not None and (state.is_final() or until == "running" and state.is_running()):
            return state
        time.sleep(0.2)
    raise AssertionError(f"the run did not get {until} in time: {state}")


def server_child(process, log) -> psutil.Process:
    """The Prefect server that `opendata serve` started, once it runs."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        for child in psutil.Process(process.pid).children():
            try:
                if "prefect server start" in " ".join(child.cmdline()):
                    return child
            except psutil.NoSuchProcess:
                pass
        time.sleep(0.1)
    raise AssertionError("no Prefect server was started")


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 0), (signal.SIGHUP, 0),
                                                (signal.SIGKILL, -signal.SIGKILL)],
                         ids=["SIGTERM", "SIGHUP", "SIGKILL"])
def test_serve_stopped_while_its_server_starts_takes_the_server_with_it(tmp_path, raw_copy,
                                                                         signum, status):
    with serving(tmp_path, raw_copy, free_port()) as (process, _, log):
        server = server_child(process, log)
        process.send_signal(signum)
        assert process.wait(timeout=60) == status, log.read_text()[-3000:]
    server.wait(timeout=30)  # psutil.TimeoutExpired when it outlives `opendata serve`
