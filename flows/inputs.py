"""What a run is made of - every delivered file's content, the schemas, the code and the
output settings - as one fingerprint, and whether the latest release was made from exactly
that. The flow stops early on it; `opendata run` asks it first, without starting Prefect, so a
run with nothing changed costs a second, not a server start."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from flows.core.fingerprint import context_hash, file_hash, inputs_hash
from flows.core.register import load_register
from flows.core.settings import Settings
from flows.intake.discover import Discovery, RawFile, discover
from flows.intake.kolada_source import kolada_inputs
from flows.intake.motion import GONE, stamp
from flows.outputs.release import current_release, read_package
from flows.outputs.verify import latest_damage


class RunInputs(BaseModel):
    found: Discovery
    digests: dict[str, str]  # file -> sha256 of its bytes
    context: str  # the schemas and the code
    inputs: str  # all of it and the output settings
    notes: list[str] = []  # what the operator is told about the inputs (where Kolada's came from)


def run_inputs(raw_dir: Path, schemas_dir: Path, settings: Settings) -> RunInputs:
    """The files found and the fingerprint, from the same `settings` the run's steps use:
    what is hashed is what is used."""
    register = load_register(Path(schemas_dir))
    found = discover(Path(raw_dir), register, settings.max_file_bytes)
    found, notes = kolada_inputs(found, register, settings.kolada_api, settings.state_dir)
    context = context_hash(schemas_dir)
    digests = {f.name: _hashed(f) for f in found.files}  # each file read once here
    inputs = inputs_hash(digests, context, {
        "base_url": settings.base_url, "contact": settings.contact_email,
        "periods": settings.report_periods, "min_count": settings.min_count,
        "rejected": [p.file for p in found.rejected]})
    return RunInputs(found=found, digests=digests, context=context, inputs=inputs, notes=notes)


def _hashed(raw: RawFile) -> str:
    """The file's digest, and its size and mtime noted on it, so that the readers can tell
    whether they read the same bytes. A file that changes (or goes) while it is hashed keeps
    the size and mtime from before: its validation sees it moved and leaves it out of this run;
    its digest is marked so that this run's fingerprint matches no release."""
    before = stamp(raw.path)
    raw.stamp = before or GONE
    try:
        digest = file_hash(raw.path)
    except FileNotFoundError:
        return "in-motion"
    return digest if stamp(raw.path) == before else f"in-motion-{digest}"


def unchanged_since(out_dir: Path, inputs: str) -> str | None:
    """The version of the latest release if it was made from exactly these inputs and is
    still intact (a damaged one is published afresh)."""
    package = read_package(current_release(out_dir))
    if not package or package.get("inputs") != inputs or latest_damage(out_dir):
        return None
    return package.get("version")
