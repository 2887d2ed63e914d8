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

from flows.checks.fastcheck import validate_csv

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
def test_corpus_verdicts_equal_frictionless(case, tmp_path, register):
    report_type = case.path.rsplit("/", 1)[1].split(".")[0]
    if report_type not in register.report_types:
        pytest.skip("not a report type")
    data = case.data()
    if not data.strip():
        pytest.skip("an empty file is not a table for either tool")
    path = tmp_path / "data.csv"
    path.write_bytes(data)
    schema = register.schema(report_type)
    lookups = {}
    for fk in schema.foreign_keys:
        name = fk["reference"]["resource"]
        shutil.copy(register.schemas_dir / "codelists" / f"{name}.csv", tmp_path / f"{name}.csv")
        shutil.copy(register.schema_path(name), tmp_path / f"{name}.schema.yaml")
        lookups[name] = (tmp_path / f"{name}.csv", register.schema(name))
    fast = validate_csv(path, schema, lookups={n: p for n, (p, _) in lookups.items()})
    assert fast.flatten(KEYS) == frictionless_verdict(path, schema, lookups)


def test_all_errors_are_reported_beyond_frictionless_default_limit(tmp_path):
    path = tmp_path / "many.csv"
    path.write_text("a\n" + "x\n" * 2500, encoding="utf-8")
    fast = validate_csv(path, {"fields": [{"name": "a", "type": "integer"}]})
    assert len(fast.errors) == 2500 and fast.rows == 2500


def test_bytes_that_are_not_utf8_past_the_sample_get_frictionless_verdict(tmp_path):
    """Encoding detection reads a sample; a bad byte far into the file must not crash the
    fast path (pyarrow refuses it): the file goes to Frictionless, which reports it."""
    lines = ["a,b"] + [f"{i},hälsa" for i in range(1, 20000)]
    path = tmp_path / "trasig.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8") + b"20000,\xff\xfe\n")
    schema = Schema.from_descriptor({"fields": [{"name": "a", "type": "integer"},
                                                {"name": "b", "type": "string"}]})
    fast = validate_csv(path, schema)
    assert fast.flatten(KEYS) == frictionless_verdict(path, schema) == [
        [None, None, "encoding-error"]]
    assert "Frictionless validated the whole file" in fast.handed_over[0]


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


@pytest.mark.parametrize("strategy", ["auto", "dictionary", "direct"])
def test_values_remembered_across_pieces_keep_the_verdict(tmp_path, strategy):
    """A long file in many pieces, checked in several threads: codes repeat (their verdicts
    are remembered from piece to piece), new and bad values turn up late, and keys repeat
    across pieces."""
    lines = ["kod,ar,antal,datum"]
    for i in range(1, 4001):
        kod = f"K{i % 7}" if i % 500 else f"NY{i}"  # a new code now and then
        ar = "20x0" if i % 997 == 0 else str(2000 + i % 5)
        antal = "-3" if i % 331 == 0 else ("" if i % 13 == 0 else str(i % 17))
        datum = "2020-02-30" if i % 613 == 0 else f"2020-01-{1 + i % 28:02d}"
        lines.append(f"{kod},{ar},{antal},{datum}")
    lines.append(lines[1234])  # a repeated key far from the first
    path = tmp_path / "lang.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    schema = Schema.from_descriptor({
        "fields": [{"name": "kod", "type": "string", "constraints": {"pattern": "[A-Z]+[0-9]+"}},
                   {"name": "ar", "type": "year", "constraints": {"minimum": 2001}},
                   {"name": "antal", "type": "integer", "constraints": {"minimum": 0}},
                   {"name": "datum", "type": "date"}],
        "primaryKey": ["kod", "ar", "antal", "datum"]})
    fast = validate_csv(path, schema, batch_bytes=1500, strategy=strategy)
    expected = frictionless_verdict(path, schema)
    assert len(expected) > 30 and fast.flatten(KEYS) == expected


REVIEW_CASES = {  # files a review found giving another verdict than Frictionless's
    "none keys beside a repeat whose hash ends in zero bits": (
        "id,b\n8826877,x\n,y\n,z\n8826877,w\n",
        {"fields": [{"name": "id", "type": "integer", "constraints": {"unique": True}},
                    {"name": "b", "type": "string"}], "primaryKey": ["id"]}),
    "integer 0 and the one whose hash was the 'not compared' mark": (
        "id\n0\n-7607213358146402862\n",
        {"fields": [{"name": "id", "type": "integer", "constraints": {"unique": True}}]}),
    "the integer whose hash is the None mark": (
        "id,b\n7741216867112901387,1\n7741216867112901387,2\n5,3\n,4\n",
        {"fields": [{"name": "id", "type": "integer"}, {"name": "b", "type": "integer"}],
         "primaryKey": ["id"]}),
    "NaN in a foreign key to its own column": (
        "a,b\nNaN,1\n1,2\nnan,3\n",
        {"fields": [{"name": "a", "type": "number"}, {"name": "b", "type": "number"}],
         "foreignKeys": [{"fields": ["a"], "reference": {"resource": "", "fields": ["a"]}}]}),
    "an integer key found among numbers": (
        "a,b\n1,1\n2,2.0\n3,2.5\n",
        {"fields": [{"name": "a", "type": "integer"}, {"name": "b", "type": "number"}],
         "foreignKeys": [{"fields": ["a"], "reference": {"resource": "", "fields": ["b"]}}]}),
    "decimals a float cannot tell apart": (
        "x\n0.1\n0.1000000000000000000001\n1e-400\n0\n123456789012345.1\n"
        "123456789012345.10000001\n",
        {"fields": [{"name": "x", "type": "number", "constraints": {"unique": True}}]}),
    "limits and enums beyond 64 bits or a float's digits": (
        "i,x,e\n99999999999999999998,0.1,0.1\n99999999999999999999,0.10000000000000002,0.2\n",
        {"fields": [{"name": "i", "type": "integer",
                     "constraints": {"maximum": 99999999999999999998}},
                    {"name": "x", "type": "number",
                     "constraints": {"minimum": "0.10000000000000001"}},
                    {"name": "e", "type": "number",
                     "constraints": {"enum": ["0.10000000000000001"]}}]}),
    "the same instant in two time zones": (
        "t\n2020-01-01T00:00:00Z\n2020-01-01T01:00:00+01:00\n2020-01-01T01:00:00\n",
        {"fields": [{"name": "t", "type": "datetime", "constraints": {"unique": True}}]}),
    "year 0 and other edge dates": (
        "d,y\n0000-01-01,0000\n0001-01-01,0001\n9999-12-31,9999\n1900-02-29,1900\n"
        "2000-02-29,2000\n",
        {"fields": [{"name": "d", "type": "date", "constraints": {"unique": True}},
                    {"name": "y", "type": "year"}]}),
    "a header with a quoted newline": (
        '"a\nx",b\n1,x\n2,y,z\nq,w\n"3\n",v\n4\n',
        {"fields": [{"name": "a\nx", "type": "integer"}, {"name": "b", "type": "string"}]}),
    "a quote inside an unquoted value, then a quoted newline far below": (
        "\n".join(["id,txt", '1,a 5" screen'] + [f"{i},plain" for i in range(2, 1500)]
                  + ['1500,"two\nlines"'] + [f"{i},plain" for i in range(1501, 3000)]) + "\n",
        {"fields": [{"name": "id", "type": "integer"}, {"name": "txt", "type": "string"}]}),
}


@pytest.mark.parametrize("batch_bytes", [1 << 23, 4096,
                                         pytest.param(8, marks=pytest.mark.slow)])  # 8 bytes a piece
@pytest.mark.parametrize("name", sorted(REVIEW_CASES))
def test_review_cases_get_frictionless_verdict(tmp_path, name, batch_bytes):
    text, descriptor = REVIEW_CASES[name]
    path = tmp_path / "fall.csv"
    path.write_text(text, encoding="utf-8")
    schema = Schema.from_descriptor(descriptor)
    expected = frictionless_verdict(path, schema)
    for strategy in ("auto", "dictionary", "direct"):
        fast = validate_csv(path, schema, batch_bytes=batch_bytes, strategy=strategy)
        assert fast.flatten(KEYS) == expected, strategy


def test_foreign_key_values_that_hash_to_zero_are_found_in_the_lookup(tmp_path):
    """Integer 0, false and 1970-01-01 hash to 0 bits: the lookup's hashes and the data's
    must be made the same way."""
    ref = {"fields": [{"name": "k", "type": "integer"}, {"name": "f", "type": "boolean"},
                      {"name": "d", "type": "date"}]}
    (tmp_path / "ref.csv").write_text("k,f,d\n0,false,1970-01-01\n1,true,2020-01-01\n")
    (tmp_path / "ref.schema.yaml").write_text(__import__("yaml").safe_dump(ref))
    schema = Schema.from_descriptor({
        "fields": ref["fields"],
        "foreignKeys": [{"fields": ["k"], "reference": {"resource": "ref", "fields": ["k"]}},
                        {"fields": ["f", "d"],
                         "reference": {"resource": "ref", "fields": ["f", "d"]}}]})
    path = tmp_path / "data.csv"
    path.write_text("k,f,d\n0,false,1970-01-01\n1,0,1970-01-01\n2,true,2020-01-01\n")
    expected = frictionless_verdict(path, schema, {"ref": (tmp_path / "ref.csv",
                                                           Schema.from_descriptor(ref))})
    fast = validate_csv(path, schema, lookups={"ref": tmp_path / "ref.csv"})
    assert fast.flatten(KEYS) == expected == [[4, None, "foreign-key"]]


def test_key_repeats_found_in_groups_of_buckets_as_in_one(monkeypatch):
    """The repeated-key search gives the same rows however the log is split into groups,
    with rows set aside (out of order) and keys that are not compared: those share one hash
    (as all-None keys do), which is also a repeated value with its low bits zero, and are
    never reported."""
    import numpy as np

    from flows.checks.fastcheck import keys

    rng = np.random.default_rng(7)
    log = keys.KeyLog()
    pool = rng.integers(1, 2**64 - 1, 3000, dtype=np.uint64)
    pool[0] = np.uint64(1 << 40)  # low 22 bits zero, like a hash of 0
    start, seen, expected = 10, set(), []
    for size in (1000, 1500, 700):
        hashes = pool[rng.integers(0, len(pool), size)]
        skip = rng.random(size) < 0.05
        hashes[skip] = pool[0]
        log.append(np.arange(start, start + size), *keys.KeyLog.prepare(hashes, skip))
        start += size
    set_aside_rows = np.array([3, 5, 7])  # rows pyarrow set aside, logged at the end
    log.append(set_aside_rows, *keys.KeyLog.prepare(pool[:3], np.zeros(3, dtype=bool)))
    rows = sorted((int(r), int(h)) for spec, chunk, buckets in log.chunks
                  for r, h, b in zip(log._rows(spec, np.arange(len(chunk))), chunk, buckets,
                                     strict=True)
                  if b != keys.SKIPPED)
    for row, value in rows:
        if value in seen:
            expected.append(row)
        seen.add(value)
    for group_rows in (10**9, 1000, 100):
        monkeypatch.setattr(keys, "GROUP_ROWS", group_rows)
        assert log.repeated().tolist() == expected


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
@given(table=tables(), strategy=st.sampled_from(["auto", "dictionary", "direct"]),
       batch_bytes=st.sampled_from([1 << 23, 64, 8]))
def test_generated_tables_get_frictionless_verdicts(tmp_path, table, strategy, batch_bytes):
    """Every way of checking cells (once per distinct value or cell by cell) and any cut of
    the file into pieces (down to pieces shorter than a row) gives the same verdict."""
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
    assert validate_csv(path, schema, strategy=strategy,
                        batch_bytes=batch_bytes).flatten(KEYS) == expected
