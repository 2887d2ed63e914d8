"""A seam for showing progress: the CLI installs a reporter, tasks tell it what they finished.
Without a reporter (tests, a Prefect worker) nothing is shown."""

from __future__ import annotations

from collections.abc import Callable

_listener: Callable[[str, str], None] | None = None


def listen(callback: Callable[[str, str], None] | None) -> None:
    global _listener
    _listener = callback


def report(step: str, detail: str = "") -> None:
    if _listener is not None:
        _listener(step, detail)
