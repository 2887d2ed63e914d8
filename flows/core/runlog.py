"""A run's log file. While `opendata run` runs, everything written to the process's standard
error - Prefect's console log, its temporary server (a child process), warnings, tracebacks and
the server's shutdown at exit - goes to reports/logs/run-<time>.log; the user's terminal gets
only what the command itself says, on a copy of the original standard error."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import TextIO

KEPT = 60  # log files kept: two months of nightly runs


def divert_stderr(folder: Path) -> tuple[Path, TextIO] | None:
    """Point file descriptor 2 at a new log file for the rest of the process, and return
    (the log file, a stream on the original standard error). None when standard error is not
    the process's own (a test runner captures it): nothing is diverted then."""
    try:
        if sys.stderr.fileno() != 2:
            return None
    except (AttributeError, OSError, ValueError):
        return None
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"run-{stamp}.log"
    _prune(folder)
    sys.stderr.flush()
    original = os.dup(2)
    log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    os.dup2(log, 2)
    os.close(log)
    user = os.fdopen(original, "w", buffering=1, encoding=sys.stderr.encoding or "utf-8",
                     errors="replace")
    return path, user


def _prune(folder: Path) -> None:
    logs = sorted(folder.glob("run-*.log"))
    for old in logs[:max(0, len(logs) - KEPT + 1)]:
        old.unlink(missing_ok=True)


def one_line(message: str | None) -> str:
    """A run's message (a Prefect state's, an exception's) on one line of at most 500
    characters, without Prefect's "Flow run encountered an exception: " in front."""
    text = " ".join((message or "").split())
    return text.removeprefix("Flow run encountered an exception: ")[:500]
