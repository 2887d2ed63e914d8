"""The Prefect servers the commands need: `opendata run`'s temporary one, watched, and
`opendata serve`'s kept one, started again when it dies. The command only says what happened.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from flows.core.settings import Settings, configure_prefect_environment
from flows.lock import end_between_writes
from flows.processes import KeptServer, stop_signals_unwind, when_gone


class ServerDidNotStart(Exception):
    """A Prefect server did not answer in time; the message is why, on one line."""


def watch_temporary_server(gone: Callable[[int], None]) -> Callable[[], None]:
    """Start Prefect's temporary server now (as the flow would) and watch it. It cannot come
    back once gone, and without it Prefect retries every request for a minute and waits for
    minutes at exit: so `gone(exit code)` is called between writes of published/ (see
    flows.lock.end_between_writes), to end the run at once. Returns the function that stops
    the watching (a no-op when PREFECT_API_URL names a server)."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

    if PREFECT_API_URL.value():
        return lambda: None
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the one Prefect's client uses
    try:  # a busy machine may need more than Prefect's 20 s
        server.start(timeout=max(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value(), 120))
    except RuntimeError as error:
        raise ServerDidNotStart(" ".join(str(error).split())[:200]) from None
    return when_gone(server.server_process, lambda code: end_between_writes(lambda: gone(code)))


def start_kept_server(host: str, port: int, say: Callable[[str], None],
                      give_up: Callable[[int], None]) -> KeptServer:
    """`opendata serve`'s Prefect server, healthy, its API in PREFECT_API_URL, and started
    again when it dies (its database keeps the deployment, its schedule and the runs; the
    runner and a flow run in progress retry their requests for about a minute meanwhile).
    When it keeps dying, `give_up(exit code)`. ServerDidNotStart when it never answers."""
    api = f"http://{host}:{port}/api"
    server = KeptServer([sys.executable, "-m", "prefect", "server", "start", "--host", host,
                         "--port", str(port)], f"{api}/health", say=say, give_up=give_up)
    try:
        healthy = server.healthy()
    except BaseException:  # stopped while it starts
        server.stop()
        raise
    if not healthy:
        server.stop()
        raise ServerDidNotStart(api)
    os.environ["PREFECT_API_URL"] = api
    server.keep()
    return server


def served_parameters(settings: Settings) -> dict[str, Any]:
    """The parameters of every served run: the folders resolved now, a lock waited for."""
    return {"raw_dir": str(settings.raw_dir.resolve()), "out_dir": str(settings.out_dir.resolve()),
            "reports_dir": str(settings.reports_dir.resolve()),
            "state_dir": str(settings.state_dir.resolve()),
            "schemas_dir": str(settings.schemas_dir.resolve()),
            "keep_releases": settings.keep_releases, "wait_for_lock": 600.0,
            "notify_on": settings.notify_on}


def serve_publishing(settings: Settings, *, name: str, cron: str, timezone: str, host: str,
                     port: int, notify: str | None, starting: Callable[[str], None],
                     say: Callable[[str], None]) -> int | None:
    """Serve the publish deployment on the cron schedule until Ctrl-C, SIGTERM or SIGHUP, on a
    local kept Prefect server unless PREFECT_API_URL names one (`starting(api)` first). Runs
    in progress are stopped, then the server. Returns the last exit code of a server that
    kept dying (the command then exits 1 for systemd to restart it), else None. A webhook
    given on the command line (`notify`) reaches the runs through the environment, so that a
    URL's token stays out of the Prefect UI."""
    if notify:
        os.environ["OPENDATA_NOTIFY_URL"] = notify
    configure_prefect_environment()
    server, gave_up = None, []

    def give_up(code: int) -> None:  # stop as on SIGTERM
        gave_up.append(code)
        os.kill(os.getpid(), signal.SIGTERM)

    with stop_signals_unwind():  # SIGTERM and SIGHUP unwind like Ctrl-C: the finally runs
        try:
            if not os.environ.get("PREFECT_API_URL"):
                starting(f"http://{host}:{port}/api")
                server = start_kept_server(host, port, say, give_up)
            from prefect.schedules import Cron

            from flows.pipeline import publish_open_data

            # Prefect's runner stops by itself on SIGTERM and Ctrl-C, and stops its flow runs
            publish_open_data.serve(name=name, schedules=[Cron(cron, timezone=timezone)],
                                    parameters=served_parameters(settings))
        except KeyboardInterrupt:
            pass
        finally:
            if server is not None:
                server.stop()
    return gave_up[0] if gave_up else None
