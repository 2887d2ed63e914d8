"""`opendata serve` starts a real local Prefect server and serves the publish deployment on a
cron schedule; the test triggers the deployment and sees the run complete."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_deployment_runs_on_a_real_prefect_server(tmp_path, raw_copy):
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    env.pop("PREFECT_API_URL", None)
    serving = subprocess.Popen(
        [str(Path(sys.executable).parent / "opendata"), "serve", "--raw", str(raw_copy),
         "--out", str(tmp_path / "published"), "--port", str(port), "--cron", "0 2 * * *"],
        env=env, cwd=tmp_path, start_new_session=True, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT)
    try:
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: api}):
            with get_client(sync_client=True) as client:
                deployment = None
                deadline = time.monotonic() + 180  # the server and the runner start
                while deployment is None and time.monotonic() < deadline:
                    assert serving.poll() is None, serving.stdout.read().decode()[-3000:]
                    try:
                        deployment = client.read_deployment_by_name(
                            "publicera-oppna-data/nattlig-publicering")
                    except Exception:
                        time.sleep(1)
                assert deployment is not None, "the deployment never appeared"
                [schedule] = deployment.schedules
                assert schedule.schedule.cron == "0 2 * * *"
                assert schedule.schedule.timezone == "Europe/Stockholm"
                run = client.create_flow_run_from_deployment(deployment.id)
                deadline = time.monotonic() + 240
                while time.monotonic() < deadline:
                    state = client.read_flow_run(run.id).state
                    if state is not None and state.is_final():
                        break
                    time.sleep(1)
                assert state is not None and state.is_completed(), state
    finally:
        os.killpg(serving.pid, signal.SIGINT)
        try:
            serving.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(serving.pid, signal.SIGKILL)
    assert (tmp_path / "published" / "latest" / "datapackage.json").is_file()
