"""The second sheet of every published workbook, "Metadata" (the same word in Swedish and
English): what the dataset is, the release its files were written in, the license, the
publisher and sources, and one row per field - its name, type, title and description in
Swedish and English, and its unit where the schema gives one.

A dataset whose inputs did not change keeps the previous release's files (hard links), its
workbook with them: the sheet names the release the workbook was written in, and says so,
rather than claim a release it was not written in. Everything else on the sheet comes from
the schemas folder, which a dataset's fingerprint covers: when it changes, the workbook is
written again."""

from __future__ import annotations

from typing import Any

from flows.core.messages import say
from flows.core.register import Register

SHEET = "Metadata"


def metadata_rows(register: Register, dataset_id: str, version: str) -> list[list[str]]:
    """The sheet's rows: the dataset and its release, a blank row, then the fields."""
    return [*about_rows(register, dataset_id, version), [],
            *field_rows(register.published_descriptor(dataset_id))]


def about_rows(register: Register, dataset_id: str, version: str) -> list[list[str]]:
    """A label (both languages) and the value in Swedish and in English, per row."""
    spec, package = register.datasets[dataset_id], register.package
    license_ = package.license
    named = f"{license_.get('title', license_['name'])} ({license_['name']})"
    sources = "; ".join(f"{s['title']} ({s['path']})" if s.get("path") else s["title"]
                        for s in package.sources)
    rows = [("workbook.dataset", dataset_id, dataset_id),
            ("workbook.title", spec.title.sv, spec.title.en),
            ("workbook.description", spec.description.sv, spec.description.en),
            ("workbook.release", version, version),
            ("workbook.release-note", *_both(say("workbook.release-explained"))),
            ("workbook.license", named, named),
            ("workbook.license-url", license_.get("path", ""), license_.get("path", "")),
            ("workbook.publisher", package.publisher, package.publisher),
            ("workbook.sources", sources, sources)]
    header = [str(say(f"workbook.{column}")) for column in ("item", "swedish", "english")]
    return [header, *([str(say(key)), sv, en] for key, sv, en in rows)]


def field_rows(descriptor: dict[str, Any]) -> list[list[str]]:
    """A header, then per published field: name, type, title and description (sv, en), unit."""
    header = [str(say(f"workbook.{column}")) for column in
              ("field", "type", "title-sv", "title-en", "description-sv", "description-en",
               "unit")]
    return [header, *([field["name"], field.get("type", "string"), field.get("title", ""),
                       field.get("en", {}).get("title", ""), field.get("description", ""),
                       field.get("en", {}).get("description", ""), str(field.get("unit", ""))]
                      for field in descriptor["fields"])]


def _both(said: Any) -> tuple[str, str]:
    return said.sv, said.en
