"""One run at a time: a second run waits for the first (up to a limit) or stops with a clear
message; it never writes published/ at the same time. An OS file lock, so a run that dies
releases it.

Within a run, `publishing()` marks the steps that write published/ and state/ (the release and
the deliveries it accepted): a run that must end at once (its Prefect server went away) ends
between them, never in the middle (`end_between_writes`)."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flows.core.messages import say


class RunInProgress(Exception):
    """Another run holds the lock."""


_WRITING = threading.Lock()


@contextmanager
def publishing() -> Iterator[None]:
    """published/ and state/ are being written: an end that cannot wait for the run waits for
    this."""
    with _WRITING:
        yield


def end_between_writes(last_words: Callable[[], None], code: int = 1) -> None:
    """End the process now, but not while a release is being written: wait for the step
    writing it to finish (it does not need Prefect's server), hold the others off, say
    `last_words`, exit. os._exit: what Prefect still holds for a server that is gone (state
    changes, events, logs) can never be delivered, and its retries and its drain at exit would
    keep the command waiting for many minutes. The OS releases the run lock."""
    _WRITING.acquire()
    try:
        last_words()
    finally:
        os._exit(code)


@contextmanager
def run_lock(out_dir: Path, wait_seconds: float = 0.0) -> Iterator[None]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / ".opendata.lock"
    handle = path.open("a+")
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or str(say("run.unknown-holder"))
                    raise RunInProgress(str(say("run.busy", out_dir=out_dir, holder=holder))
                                        ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock
