"""One run at a time: a second run waits for the first (up to a limit) or stops with a clear
message; it never writes published/ at the same time. An OS file lock, so a run that dies
releases it."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class RunInProgress(Exception):
    """Another run holds the lock."""


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
                    holder = handle.read().strip() or "okänd / unknown"
                    raise RunInProgress(
                        f"En annan körning publicerar redan till {out_dir} (process {holder}). "
                        "Vänta tills den är klar eller använd --wait. / Another run is "
                        f"publishing to {out_dir} (process {holder}); wait or use --wait."
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock
