"""Differential tests: the fast validator gives Frictionless's own verdict - the same error
types, row numbers and field names, in the same order - on the bad-input corpus and on
generated tables with generated schemas."""

import csv
import io
import shutil

import pytest
from frictionless import Dialect, Package, Resource, Schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.fastcheck import validate_csv

from corpus import CASES

KEYS = ["rowNumber", "fieldName", "type"]


def frictionless_verdict(path, schema, lookups=None):
    """What `frictionless validate` says, with codelists as package resources for foreign keys.

    The header is row 1, stated: left to itself, Frictionless guesses the header row from the
    widths of the first rows and, when they are blank or short, takes a later row for it and
    silently skips the rows before (we do not copy that)."""
    resources = [Resource(path=p.name, schema=s, name=n) for n, (p, s) in (lookups or {}).items()]
    resources.append(Resource(path=path.name, schema=schema, name="data",
                              dialect=Dialect(header_rows=[1])))
    package = Package(resources=resources, basepath=str(path.parent))
    report = package.get_resource("data").validate(limit_errors=10**9)
    return report.flatten(KEYS)


CSV_CASES = [c for c in CASES if c.path.endswith(".csv")]


@pytest.mark.parametrize("case", CSV_CASES, ids=[c.kind for c in CSV_CASES])
def test_corpus_verdicts_equal_frictionless(case, tmp_path, catalog):
    report_type = case.path.rsplit("/", 1)[1].split(".")[0]
    if report_type not in catalog.report_types:
        pytest.skip("not a report type")
    data = case.data()
    if not data.strip():
        pytest.skip("an empty file is not a table for either tool")
    path = tmp_path / "data.csv"
    path.write_bytes(data)
    schema = catalog.schema(report_type)
    lookups = {}
    for fk in schema.foreign_keys:
        name = fk["reference"]["resource"]
        shutil.copy(catalog.schemas_dir / "codelists" / f"{name}.csv", tmp_path / f"{name}.csv")
        shutil.copy(catalog.schema_path(name), tmp_path / f"{name}.schema.yaml")
        lookups[name] = (tmp_path / f"{name}.csv", catalog.schema(name))
    fast = validate_csv(path, schema, lookups={n: p for n, (p, _) in lookups.items()})
    assert fast.flatten(KEYS) == frictionless_verdict(path, schema, lookups)


def test_all_errors_are_reported_beyond_frictionless_default_limit(tmp_path):
    path = tmp_path / "many.csv"
    path.write_text("a\n" + "x\n" * 2500, encoding="utf-8")
    fast = validate_csv(path, {"fields": [{"name": "a", "type": "integer"}]})
    assert len(fast.errors) == 2500 and fast.rows == 2500


def test_small_batches_keep_row_numbers_across_batch_borders(tmp_path):
    lines = ["a,b"] + [f"{i},x" if i % 7 else f"{i}" for i in range(1, 3000)]
    lines[1500] = '"multi\nline",y'
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    schema = Schema.from_descriptor({"fields": [{"name": "a", "type": "integer"},
                                                {"name": "b", "type": "string"}],
                                     "primaryKey": ["a"]})
    fast = validate_csv(path, schema, batch_bytes=4096)
    assert fast.flatten(KEYS) == frictionless_verdict(path, schema)


# --- generated tables -------------------------------------------------------------------

TYPES = {
    "string": st.one_of(st.text(alphabet="abcxyzÅÄÖ é-_,;\"'\n", max_size=6),
                        st.sampled_from(["a", "b", "A1", "x"])),
    "integer": st.one_of(st.integers(-50, 50).map(str), st.sampled_from(
        [" 7", "+3", "1.0", "1e3", "x", "08", "-0", "99999999999999999999", "1_0"])),
    "number": st.one_of(st.floats(-100, 100, allow_nan=False).map(lambda f: f"{f:.3f}"),
                        st.sampled_from(["1,5", "NaN", "inf", "1e2", " 2.5 ", ".5", "5.",
                                         "-0.0", "abc", "1.23456789012345678"])),
    "boolean": st.sampled_from(["true", "false", "True", "FALSE", "1", "0", "yes", "t", ""]),
    "date": st.one_of(st.dates().map(str), st.sampled_from(
        ["2020-02-30", "2020-1-5", "20200105", "2020-01-05 ", "31/12/2020", "0001-01-01"])),
    "year": st.one_of(st.integers(1990, 2030).map(str),
                      st.sampled_from(["+123", " 999", "20201", "abcd", "0000"])),
}


@st.composite
def tables(draw):
    count = draw(st.integers(1, 4))
    fields, names = [], []
    for i in range(count):
        kind = draw(st.sampled_from(sorted(TYPES)))
        name = f"f{i}"
        constraints = {}
        if draw(st.booleans()):
            constraints["required"] = True
        if draw(st.integers(0, 4)) == 0:
            constraints["unique"] = True
        low = 1900 if kind == "year" else -10  # Frictionless itself fails on a negative year
        if kind in ("integer", "number", "year") and draw(st.booleans()):
            constraints["minimum"] = draw(st.integers(low, 2000))
        if kind in ("integer", "number", "year") and draw(st.booleans()):
            constraints["maximum"] = draw(st.integers(max(low, 0), 2030))
        if kind == "string" and draw(st.booleans()):
            constraints[draw(st.sampled_from(["minLength", "maxLength"]))] = draw(
                st.integers(0, 4))
        if kind == "string" and draw(st.booleans()):
            constraints["enum"] = ["a", "b", "x"]
        if kind == "string" and draw(st.integers(0, 3)) == 0:
            constraints["pattern"] = draw(st.sampled_from(["[a-z]+", "A[0-9]", ".*x.*"]))
        fields.append({"name": name, "type": kind, "constraints": constraints})
        names.append(name)
    descriptor = {"fields": fields}
    if draw(st.booleans()):
        descriptor["primaryKey"] = names[: draw(st.integers(1, count))]
    rows = []
    for _ in range(draw(st.integers(0, 25))):
        shape = draw(st.sampled_from(["full"] * 8 + ["short", "long", "blank", "empty"]))
        row = [draw(st.one_of(TYPES[f["type"]], st.just(""))) for f in fields]
        if shape == "short":
            row = row[: draw(st.integers(0, max(0, count - 1)))]
        elif shape == "long":
            row = row + ["extra"]
        elif shape == "blank":
            row = [""] * count
        elif shape == "empty":
            row = None
        rows.append(row)
    return descriptor, names, rows


@settings(max_examples=int(__import__("os").environ.get("FASTCHECK_EXAMPLES", "100")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(table=tables())
def test_generated_tables_get_frictionless_verdicts(tmp_path, table):
    descriptor, names, rows = table
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for row in rows:
        if row is None:
            buffer.write("\n")
        else:
            writer.writerow(row)
    path = tmp_path / "g.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    schema = Schema.from_descriptor(descriptor)
    expected = frictionless_verdict(path, schema)
    assert validate_csv(path, schema).flatten(KEYS) == expected
