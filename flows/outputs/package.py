"""A dataset as a resource of the release's Data Package: its CSV file, the other formats as
alternates (each with its size and sha256), its published Table Schema, its rows and the
fingerprint of what it was made from."""

from __future__ import annotations

from typing import Any

from flows.core.messages import say
from flows.core.register import Register
from flows.outputs.writers import Written
from flows.tables.datasets import Built


def named(name: str, spec: Any) -> dict[str, Any]:
    """The name, the Swedish title and description, and the English ones under "en": how the
    package and each resource begin."""
    return {"name": name, "title": spec.title.sv, "description": spec.description.sv,
            "en": {"title": spec.title.en, "description": spec.description.en}}


def resource(register: Register, built: Built, files: list[Written]) -> dict[str, Any]:
    spec = register.datasets[built.id]
    [data] = [f for f in files if f.format == "csv"]
    described = {
        **named(built.id, spec),
        "kind": spec.kind,
        "path": data.path,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "bytes": data.bytes,
        "hash": data.hash,
        "alternates": [alternate(f) for f in files if f.format != "csv"],
        "schema": register.published_descriptor(built.id),
    }
    if not any(f.format == "xlsx" for f in files):
        reason = say("release.too-many-rows-for-xlsx", rows=built.rows)
        described["xlsx"] = {"available": False, "rows": built.rows,
                             "reason": {"sv": reason.sv, "en": reason.en}}
    described["rows"] = built.rows
    described["fingerprint"] = built.fingerprint  # sha256 of what the dataset was made from
    return described


def alternate(item: Written) -> dict[str, Any]:
    found = {"path": item.path, "format": item.format, "mediatype": item.mediatype,
             "bytes": item.bytes, "hash": item.hash}
    if item.parts:
        found |= {"part": item.part, "parts": item.parts, "rows": item.rows}
    return found
