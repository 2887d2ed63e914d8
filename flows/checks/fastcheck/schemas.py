"""Table Schemas as the validator reads them: from any path, without the checks across rows,
and the schema a lookup CSV carries beside it."""

from __future__ import annotations

from pathlib import Path

import yaml
from frictionless import Dialect, Schema


def load_schema(source: dict | str | Path) -> Schema:
    """A Table Schema from a dict or a JSON/YAML file anywhere (read here, so Frictionless's
    path-safety rule for descriptors does not refuse absolute paths the user gave us)."""
    if isinstance(source, dict):
        return Schema.from_descriptor(source)
    text = Path(source).read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ten times faster
    return Schema.from_descriptor(yaml.load(text, Loader=loader))  # YAML is a superset of JSON


def sibling_schema(csv_path: Path) -> Schema | None:
    """The schema of a lookup CSV: <name>.schema.yaml or .schema.json beside it, or None
    (inferred)."""
    for suffix in (".schema.yaml", ".schema.json"):
        path = Path(csv_path).with_suffix("").with_suffix(suffix)
        if path.exists():
            return load_schema(path)
    return None


def row_schema(schema: Schema) -> Schema:
    """The schema without what is checked across rows (keys, unique): Frictionless checks each
    handed-over row on its own."""
    descriptor = schema.to_descriptor()
    descriptor.pop("primaryKey", None)
    descriptor.pop("foreignKeys", None)
    for item in descriptor["fields"]:
        item.get("constraints", {}).pop("unique", None)
    return Schema.from_descriptor(descriptor)


def header_first() -> Dialect:
    """The header is row 1, stated (a new dialect for each resource: a resource fills its
    dialect in with what it detects). Without saying so, Frictionless guesses the header row
    from the rows' widths and can take a short first data row for it."""
    return Dialect(header_rows=[1])
