"""Files in motion: a report still being written, or saved again, while a run reads it.

A run reads a delivered file more than once - it hashes it (the fingerprint and the verdict
cache key) and the readers open it again to validate it. If the bytes change in between, the
verdict would be of other bytes than the ones the fingerprint names, or of a half-written file.
The cheap, sound guard: the file's size and modification time (nanoseconds) are noted when it
is hashed, and compared again right before and right after it is read; any difference means the
file moved, and it is left out of this run (its last valid delivery stays published) and read
again by the next one. Copying from a source is guarded the same way (`flows.intake.sources`).
"""

from __future__ import annotations

import os
from pathlib import Path

from flows.core.problems import Problem, problem

Stamp = tuple[int, int]  # (size in bytes, mtime in ns)
GONE: Stamp = (-1, -1)  # noted for a file that was gone: it never matches again


def stamp(path: Path) -> Stamp | None:
    """The file's size and modification time now (None: it is gone)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


def moved(path: Path, noted: Stamp | None) -> bool:
    """The file is no longer as it was when `noted` (nothing noted: nothing to compare)."""
    return noted is not None and stamp(path) != noted


def in_motion(name: str) -> Problem:
    """A local file that changed while the run read it."""
    return problem("file-in-motion", name, "problem.file-in-motion.read", {"name": name})


def pulled_in_motion(name: str, kept: bool) -> Problem:
    """A file that changed at the source while it was pulled: left out (an error for its row
    in the summary) or, when the mirror holds an earlier copy, that copy is validated (a
    warning)."""
    if kept:
        return problem("file-in-motion", name, "problem.file-in-motion.pulled-kept",
                       {"name": name}, severity="warning")
    return problem("file-in-motion", name, "problem.file-in-motion.pulled-left-out",
                   {"name": name})
