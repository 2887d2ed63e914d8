"""The dataset register: schemas/datasets.yaml plus one Table Schema per dataset id."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from frictionless import Schema
from pydantic import BaseModel, Field

from flows.core.settings import PROJECT_ROOT

DEFAULT_SCHEMAS = PROJECT_ROOT / "schemas"


class Text(BaseModel):
    sv: str
    en: str


class DateOrder(BaseModel):
    """end must not be before start."""

    type: Literal["date-order"]
    start: str
    end: str


class SdgTargets(BaseModel):
    """field holds Agenda 2030 target codes ('11.2; 3.6'), each must exist."""

    type: Literal["sdg-targets"]
    field: str


Rule = Annotated[DateOrder | SdgTargets, Field(discriminator="type")]


class DatasetSpec(BaseModel):
    id: str
    kind: Literal["codelist", "report", "derived"]
    title: Text
    description: Text
    department_field: str | None = None
    year_field: str | None = None
    municipality_field: str | None = None  # the portal and reports show this municipality's rows
    rules: list[Rule] = []
    published: bool = True  # False: reference data used by the flow, not a dataset of its own
    strict: bool = False  # True: one bad row holds the whole file (published whole or not at all)
    sources: list[str] = []  # derived: the datasets it is computed from

    model_config = {"extra": "forbid"}


class PackageSpec(BaseModel):
    name: str
    title: Text
    description: Text
    illustrative: bool
    publisher: str
    municipality: str  # the municipality's code (SCB / Kolada), e.g. 0604
    license: dict[str, str]
    keywords: list[str]
    sources: list[dict[str, str]]

    model_config = {"extra": "forbid"}


class Register(BaseModel):
    schemas_dir: Path
    package: PackageSpec
    datasets: dict[str, DatasetSpec]

    def of_kind(self, kind: str) -> list[DatasetSpec]:
        return [d for d in self.datasets.values() if d.kind == kind]

    @property
    def published(self) -> list[str]:
        return [d.id for d in self.datasets.values() if d.published]

    @property
    def report_types(self) -> list[str]:
        return [d.id for d in self.of_kind("report")]

    def schema_path(self, dataset_id: str) -> Path:
        spec = self.datasets[dataset_id]
        folder = self.schemas_dir / "codelists" if spec.kind == "codelist" else self.schemas_dir
        return folder / f"{dataset_id}.schema.yaml"

    def schema(self, dataset_id: str) -> Schema:
        """The dataset's Table Schema (shared: copy it through its descriptor to change it)."""
        return _schema(self.schema_path(dataset_id), published=False)

    def schema_descriptor(self, dataset_id: str) -> dict[str, Any]:
        return _read_yaml(self.schema_path(dataset_id))

    def published_descriptor(self, dataset_id: str) -> dict[str, Any]:
        """The schema as published: without the fields marked `published: false` (read and
        validated, never published)."""
        descriptor = dict(self.schema_descriptor(dataset_id))
        descriptor["fields"] = [f for f in descriptor["fields"] if f.get("published", True)]
        return descriptor

    def published_schema(self, dataset_id: str) -> Schema:
        return _schema(self.schema_path(dataset_id), published=True)

    def codelist_rows(self, dataset_id: str) -> list[list[str]]:
        """The codelist CSV as header + rows of strings."""
        path = self.schemas_dir / "codelists" / f"{dataset_id}.csv"
        with path.open(encoding="utf-8", newline="") as handle:
            return [row for row in csv.reader(handle)]

    def lookups(self, schema: Schema) -> dict[str, tuple[str, ...]]:
        """The codes each foreign key of a schema points at, by codelist."""
        return {fk["reference"]["resource"]: self.codes(fk["reference"]["resource"],
                                                        fk["reference"]["fields"][0])
                for fk in schema.foreign_keys}

    def codes(self, dataset_id: str, field: str | None = None) -> tuple[str, ...]:
        """The values of one column of a codelist (by default its first, the id)."""
        return _codes(self.schemas_dir / "codelists" / f"{dataset_id}.csv", field)


def is_free_text(field: Any, schema: Schema) -> bool:
    """Text people write (and search in), as opposed to a code or an id: a string without a
    pattern or a set of allowed values, not a key, not a foreign key, not named *_id."""
    keys = set(schema.primary_key) | {n for fk in schema.foreign_keys for n in fk["fields"]}
    return field.type == "string" and not {"pattern", "enum"} & set(field.constraints) and \
        not field.name.endswith("_id") and field.name not in keys


@cache
def _codes(path: Path, field: str | None) -> tuple[str, ...]:
    """One column of a codelist CSV, read once."""
    with path.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    index = header.index(field) if field else 0
    return tuple(row[index] for row in rows)


@cache
def _schema(path: Path, published: bool) -> Schema:
    """A Table Schema read once (Frictionless takes tens of milliseconds to build one)."""
    descriptor = dict(_read_yaml(path))
    if published:
        descriptor["fields"] = [f for f in descriptor["fields"] if f.get("published", True)]
    return Schema.from_descriptor(descriptor)


@cache
def _read_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@cache
def load_register(schemas_dir: Path = DEFAULT_SCHEMAS) -> Register:
    data = _read_yaml(Path(schemas_dir) / "datasets.yaml")
    datasets = {key: DatasetSpec(id=key, **value) for key, value in data["datasets"].items()}
    return Register(schemas_dir=Path(schemas_dir), package=PackageSpec(**data["package"]),
                   datasets=datasets)
