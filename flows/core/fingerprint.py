"""Content hashes that decide what a run must redo: a file's validation depends only on its
bytes, its place, the schemas and the code; a release only on all of those plus the settings
that shape the output."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from flows.core.settings import PROJECT_ROOT


def folder_hash(folder: Path, pattern: str) -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob(pattern)):
        if "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo"):
            continue  # compiled files come and go; the source decides
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def code_hash() -> str:
    """The pipeline's own code and templates: a change to them redoes everything."""
    return folder_hash(PROJECT_ROOT / "flows", "*.*")


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def context_hash(schemas_dir: Path) -> str:
    """What every file's validation depends on besides the file: schemas and code."""
    return hashlib.sha256((folder_hash(Path(schemas_dir), "*.*") + code_hash()).encode()
                          ).hexdigest()


def validation_key(name: str, digest: str, context: str) -> str:
    """The cache key of one file's validation: its name, content (file_hash) and context."""
    return hashlib.sha256("|".join(["validate", name, digest, context]).encode()).hexdigest()


def inputs_hash(digests: dict[str, str], context: str, settings: dict) -> str:
    """Everything a release is made from: every delivered file's content (file_hash by
    name), the schemas, the code and the output settings."""
    return hashlib.sha256(json.dumps({"files": digests, "context": context,
                                      "settings": settings}, sort_keys=True).encode()
                          ).hexdigest()
