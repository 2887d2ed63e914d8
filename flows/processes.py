"""Child servers that die with us.

`opendata serve` runs a Prefect server as a child process. It must not outlive the command,
however the command ends:

- the child gets a process group of its own, so we can stop all of it (a server may have
  workers), and a Ctrl-C in the terminal reaches only us: we stop the child in order;
- on Linux the kernel sends the child SIGTERM when we die, even by SIGKILL (PR_SET_PDEATHSIG);
- SIGTERM and SIGHUP to us do what Ctrl-C does, so `finally` blocks run (Python's default for
  SIGTERM and SIGHUP is to die on the spot, leaving children behind);
- stopping is SIGTERM to the whole group, a grace period, then SIGKILL.

`opendata run` uses the signal part, so Prefect's temporary server stops at exit. `opendata
browse` needs none of it: it becomes Datasette (exec), so there is no child.

A server can also die on its own (killed, out of memory). `when_gone` calls back when it does
(`opendata run` then ends cleanly: its temporary server cannot come back), and `KeptServer`
starts it again (`opendata serve`: the runner and its flow runs retry their requests meanwhile).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from types import FrameType
from typing import Any

from flows.core.messages import say

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)  # SIGINT already raises KeyboardInterrupt
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` that has Linux send the child SIGTERM when this process dies.

    The kernel watches the thread that starts the child: start it from the main thread (or
    one that lives as long as the child). None where the platform has no such request."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork, not in it
    parent = os.getpid()

    def request() -> None:
        prctl(_PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGTERM))
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)

    return request


def start_server(argv: Sequence[str], **popen: Any) -> subprocess.Popen:
    """Start a child server in a process group of its own that dies when this process dies."""
    return subprocess.Popen(list(argv), start_new_session=True, preexec_fn=die_with_parent(),
                            **popen)


def stop_server(process: subprocess.Popen, grace: float = 20.0) -> int:
    """Stop a child server and its whole process group: SIGTERM, up to `grace` seconds for
    it to finish, then SIGKILL. Returns its exit code."""
    signal_group(process, signal.SIGTERM)
    try:
        return process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        signal_group(process, signal.SIGKILL)
        return process.wait()
    finally:  # whatever of its group is left (workers whose leader is gone), or a second Ctrl-C
        signal_group(process, signal.SIGKILL)


def signal_group(process: subprocess.Popen, signum: int) -> None:
    # The group id is the leader's pid, and Linux keeps it from reuse while the group has members
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


@contextlib.contextmanager
def stop_signals_unwind() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP do what Ctrl-C does: KeyboardInterrupt, or what
    asyncio does with Ctrl-C while an event loop runs (cancel, then KeyboardInterrupt).

    Signal handlers belong to the main thread; elsewhere the block runs unchanged."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _like_ctrl_c) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _like_ctrl_c(signum: int, frame: FrameType | None) -> None:
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler) and handler is not _like_ctrl_c:
        handler(signal.SIGINT, frame)
    else:
        raise KeyboardInterrupt


def wait_until_healthy(process: subprocess.Popen, url: str, timeout: float,
                       stop: threading.Event | None = None) -> bool:
    """Wait until `url` answers 200; False when the server exits, `timeout` passes or `stop`
    is set first."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline and not (stop and stop.is_set()):
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def when_gone(process: subprocess.Popen, act: Callable[[int], None],
              every: float = 0.5) -> Callable[[], None]:
    """Call `act(exit code)`, on a thread of its own, if `process` ends before the returned
    function is called (which stops the watching)."""
    done = threading.Event()

    def watch() -> None:
        while not done.wait(every):
            code = process.poll()
            if code is not None:
                act(code)
                return

    thread = threading.Thread(target=watch, name="server-watch", daemon=True)
    thread.start()

    def stop_watching() -> None:
        done.set()
        if thread is not threading.current_thread():
            thread.join()

    return stop_watching


class KeptServer:
    """A child server that is started again when it dies, up to `restarts` times an hour;
    after that `give_up(exit code)` is called and it stays down.

    The watching thread starts the new server and lives as long as it (the kernel sends a
    child SIGTERM when the thread that started it ends: `die_with_parent`). `say` tells the
    operator each time."""

    def __init__(self, argv: Sequence[str], health_url: str, say: Callable[[str], None],
                 give_up: Callable[[int], None], restarts: int = 3, startup: float = 180.0,
                 every: float = 0.5) -> None:
        self.argv, self.health_url, self.say, self.give_up = list(argv), health_url, say, give_up
        self.restarts, self.startup, self.every = restarts, startup, every
        self.process = start_server(self.argv)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def healthy(self) -> bool:
        return wait_until_healthy(self.process, self.health_url, self.startup, self._stopping)

    def keep(self) -> None:
        """From now on, restart the server when it dies."""
        self._thread = threading.Thread(target=self._watch, name="server-keeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching (a restart under way is abandoned), then stop the server."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        stop_server(self.process)

    def _watch(self) -> None:
        restarted: list[float] = []
        while not self._stopping.wait(self.every):
            code = self.process.poll()
            if code is None:
                continue
            now = time.monotonic()
            restarted = [t for t in restarted if now - t < 3600]
            if len(restarted) >= self.restarts:
                self.give_up(code)
                return
            restarted.append(now)
            self.say(str(say("run.server-exited", code=code)))
            stop_server(self.process, grace=0)  # what is left of its group
            self.process = start_server(self.argv)
            if self.healthy():
                self.say(str(say("run.server-answers")))
