"""The streaming writers against the old whole-frame ones: CSV, Excel CSV and JSON byte for byte;
XLSX and Parquet value for value; Excel CSV parts; memory that does not follow the row count."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import math
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils.escape import unescape

from flows.outputs import writers
from flows.outputs.writers import Written, write_dataset

import reference_formats as formats

PANDAS_DTYPES = {pa.int64(): "Int64", pa.float64(): "Float64", pa.string(): "string", pa.bool_(): "boolean"}
TRICKY_CHARS = '"\';,\r\n\t =+-@_x0A\\&<>]åÅ😀€\x00\x01\x0b\x1f\x7f\x85\u2028\ufffe\uffff'
TRICKY_TEXTS = ["", " ", "  a ", "=SUM(A1)", "+1", "-1", "@x", "\tx", "\rx", 'a"b', "a;b", "a,b",
                "a\r\nb", "_x0041_", "_x0041_x0042_", "_x0041\x01", "x\x00y", "2021-03-04", "inf", "nan"]
TRICKY_FLOATS = [0.0, -0.0, 1.0, -1.0, 0.1, 2.5, 123.4, 1e-4, 2.5e-05, 1e-07, 5e-324, 1e15, 1e16, 1e17,
                 123456789012345.6, 2.0**53, 2.0**53 + 2, 2.0**63, -(2.0**63), 1e300, -1.7976931348623157e308,
                 math.inf, -math.inf, math.nan]

texts = st.one_of(st.sampled_from(TRICKY_TEXTS), st.text(TRICKY_CHARS, max_size=6),
                  st.text(st.characters(codec="utf-8"), max_size=6))
floats = st.one_of(st.sampled_from(TRICKY_FLOATS), st.floats(),
                   st.integers(-(2**70), 2**70).map(float), st.integers(-99999, 99999).map(lambda i: i / 10))
VALUES = {pa.string(): texts, pa.int64(): st.integers(-(2**63), 2**63 - 1), pa.float64(): floats,
          pa.bool_(): st.booleans(), pa.date32(): st.dates()}
names = st.one_of(st.sampled_from(["id", "värde", "a b", 'q"uote', "x;y", "c,d", "=f"]),
                  st.text("abcåäö_ 0", min_size=1, max_size=5))


@st.composite
def tables(draw: st.DrawFn, max_rows: int = 25) -> pa.Table:
    columns = draw(st.lists(names, min_size=1, max_size=5, unique=True))
    rows = draw(st.integers(0, max_rows))
    arrays = {}
    for name in columns:
        kind = draw(st.sampled_from(list(VALUES)))
        values = st.one_of(st.none(), VALUES[kind]) if draw(st.booleans()) else VALUES[kind]
        arrays[name] = pa.array(draw(st.lists(values, min_size=rows, max_size=rows)), kind)
    return pa.table(arrays)


@st.composite
def batchings(draw: st.DrawFn, table: pa.Table) -> list[pa.RecordBatch]:
    """The table cut at random places, empty batches included."""
    cuts = sorted(draw(st.lists(st.integers(0, table.num_rows), max_size=6)))
    bounds = [0, *cuts, table.num_rows]
    return [table.slice(a, b - a).combine_chunks().to_batches()[0] if b > a else
            pa.RecordBatch.from_pylist([], schema=table.schema)
            for a, b in zip(bounds, bounds[1:], strict=False)]


def frame_of(table: pa.Table) -> pd.DataFrame:
    """The pandas frame that formats.py was given for this table."""
    def column(field: pa.Field) -> pd.api.extensions.ExtensionArray | pd.Series:
        values = table[field.name].to_pylist()
        if field.type == pa.date32():
            return pd.Series(values, dtype=object)
        return pd.array(values, dtype=PANDAS_DTYPES[field.type])

    return pd.DataFrame({field.name: column(field) for field in table.schema})


def written_files(folder: Path, written: list[Written]) -> dict[str, bytes]:
    """Every file by format; checks that size, hash and path in Written are the file's."""
    files = {}
    for item in written:
        data = (folder / item.path).read_bytes()
        assert (item.bytes, item.hash) == (len(data), f"sha256:{hashlib.sha256(data).hexdigest()}")
        assert item.mediatype == formats.RELEASE_FORMATS[item.format][1]
        files[item.format if item.part is None else f"{item.format}{item.part}"] = data
    return files


def cell_value(value):
    """What the XLSX cell should hold for a value of the table."""
    if isinstance(value, str):
        return formats.neutralised(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, dt.date) and value < dt.date(1900, 1, 1):
        return value.isoformat()
    return value


def sheet_values(data: bytes) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [tuple(unescape(v) if isinstance(v, str) else v.date() if isinstance(v, dt.datetime) else v
                  for v in row) for row in book.active.iter_rows(values_only=True)]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_text_formats_are_the_bytes_of_formats_py(data: st.DataObject, tmp_path_factory) -> None:
    table = data.draw(tables())
    folder = tmp_path_factory.mktemp("release")
    written = write_dataset(data.draw(batchings(table)), folder, "data", table.num_rows, schema=table.schema)
    files = written_files(folder, written)
    frame = frame_of(table)
    assert files["csv"] == formats.csv_bytes(frame)
    assert files["excel-csv"] == formats.excel_csv_bytes(frame)
    assert files["json"] == formats.json_bytes(frame)
    assert [w.format for w in written] == list(formats.RELEASE_FORMATS)
    assert {w.rows for w in written} == {table.num_rows}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_xlsx_holds_the_typed_values(data: st.DataObject, tmp_path_factory) -> None:
    table = data.draw(tables())
    folder = tmp_path_factory.mktemp("release")
    files = written_files(folder, write_dataset(data.draw(batchings(table)), folder, "data", table.num_rows,
                                                schema=table.schema))
    rows = sheet_values(files["xlsx"])
    assert rows[0] == tuple(table.column_names)
    expected = [tuple(cell_value(v) for v in row.values()) for row in table.to_pylist()]
    got = [row + (None,) * (table.num_columns - len(row)) for row in rows[1:]]
    got += [(None,) * table.num_columns] * (len(expected) - len(got))  # openpyxl stops at the last value
    assert got == expected
    for row in got:
        for value, field in zip(row, table.schema, strict=True):
            if value is not None and field.type in (pa.int64(), pa.float64()) and not isinstance(value, str):
                assert isinstance(value, int | float)
    sheet = zipfile.ZipFile(io.BytesIO(files["xlsx"])).read("xl/worksheets/sheet1.xml")
    ET.fromstring(sheet)  # XML 1.0, whatever the text held
    last = openpyxl.utils.get_column_letter(table.num_columns)
    assert f'<dimension ref="A1:{last}{table.num_rows + 1}"/>'.encode() in sheet


def test_xlsx_sheet_is_typed_frozen_and_repeats(tmp_path: Path) -> None:
    table = pa.table({"id": ["a", "=1+1", " b ", "x\x01\ufffe_x0041_"], "n": [1, None, 3, 4],
                      "v": [1.5, math.inf, None, 1e300], "ok": [True, False, None, True],
                      "d": [dt.date(2021, 3, 4), dt.date(1899, 12, 31), None, dt.date(1900, 2, 28)]})
    first = write_dataset(table.to_batches(), tmp_path / "a", "nyckeltal", 4)
    second = write_dataset(table.to_batches(max_chunksize=1), tmp_path / "b", "nyckeltal", 4)
    assert [w.hash for w in first] == [w.hash for w in second]
    book = openpyxl.load_workbook(tmp_path / "a" / "nyckeltal" / "nyckeltal.xlsx")
    sheet = book.active
    assert (sheet.title, sheet.freeze_panes, sheet.dimensions) == ("nyckeltal", "A2", "A1:E5")
    assert [c.value for c in sheet[2]] == ["a", 1, 1.5, True, dt.datetime(2021, 3, 4)]
    assert sheet["E2"].number_format == "yyyy-mm-dd" and sheet["E2"].is_date
    assert [sheet["A3"].value, sheet["C3"].value, sheet["E3"].value] == ["'=1+1", "inf", "1899-12-31"]
    assert sheet["A5"].value == "x_x0001__xFFFE__x005F_x0041_"  # Excel's escapes, read back by Excel
    assert unescape(sheet["A5"].value) == "x\x01\ufffe_x0041_"
    assert sheet["E5"].value == dt.datetime(1900, 2, 28) and sheet["C5"].value == 1e300
    assert book.properties.created == book.properties.modified == dt.datetime(2000, 1, 1)
    sheet_xml = zipfile.ZipFile(tmp_path / "a/nyckeltal/nyckeltal.xlsx").read("xl/worksheets/sheet1.xml")
    assert b'<c r="E2" s="1"><v>44259</v></c>' in sheet_xml  # Excel's serial of 2021-03-04
    assert b'<c r="E5" s="1"><v>59</v></c>' in sheet_xml  # before Excel's 29 February 1900
    assert {i.date_time for i in zipfile.ZipFile(tmp_path / "a/nyckeltal/nyckeltal.xlsx").infolist()} == {
        (2000, 1, 1, 0, 0, 0)}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_parquet_reads_back_the_table_and_repeats(data: st.DataObject, tmp_path_factory) -> None:
    table = data.draw(tables())
    folders = [tmp_path_factory.mktemp("release") for _ in range(2)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(writers, "PARQUET_ROW_GROUP_ROWS", 4)  # several row groups, cut across batches
        for folder in folders:
            write_dataset(data.draw(batchings(table)), folder, "data", table.num_rows, schema=table.schema)
    first, second = ((folder / "data" / "data.parquet").read_bytes() for folder in folders)
    assert first == second  # however the rows came batched
    read = pq.read_table(folders[0] / "data" / "data.parquet")
    assert read.schema == table.schema and read.schema.metadata is None
    assert json.dumps(read.to_pylist(), default=str) == json.dumps(table.to_pylist(), default=str)


def test_excel_csv_comes_in_parts_and_no_xlsx(tmp_path: Path) -> None:
    table = pa.table({"id": [f"r{i}" for i in range(12)], "v": [i / 2 for i in range(12)]})
    whole = written_files(tmp_path / "whole", write_dataset(table.to_batches(5), tmp_path / "whole", "t", 12))
    written = write_dataset(table.to_batches(5), tmp_path / "parts", "t", 12, excel_max_rows=5)
    files = written_files(tmp_path / "parts", written)
    parts = [w for w in written if w.format == "excel-csv"]
    assert [(Path(w.path).name, w.rows, w.part, w.parts) for w in parts] == [
        ("t.del01.excel.csv", 5, 1, 3), ("t.del02.excel.csv", 5, 2, 3), ("t.del03.excel.csv", 2, 3, 3)]
    assert "xlsx" not in {w.format for w in written} and not (tmp_path / "parts" / "t" / "t.xlsx").exists()
    header, *_ = whole["excel-csv"].split(b"\r\n", 1)
    bodies = []
    for number in (1, 2, 3):
        first, body = files[f"excel-csv{number}"].split(b"\r\n", 1)
        assert first == header
        bodies.append(body)
    assert b"".join(bodies) == whole["excel-csv"].split(b"\r\n", 1)[1]
    assert files["csv"] == whole["csv"] and files["json"] == whole["json"]


@pytest.mark.parametrize(("rows", "max_rows", "names"), [
    (10, 5, ["t.del01.excel.csv", "t.del02.excel.csv"]),
    (5, 5, ["t.excel.csv"]),
    (101, 1, [f"t.del{n:03}.excel.csv" for n in range(1, 102)]),
])
def test_excel_csv_parts_are_named_by_their_count(tmp_path: Path, rows, max_rows, names) -> None:
    table = pa.table({"n": list(range(rows))})
    written = write_dataset(table.to_batches(7), tmp_path, "t", rows, excel_max_rows=max_rows)
    assert [Path(w.path).name for w in written if w.format == "excel-csv"] == names
    assert ("xlsx" in {w.format for w in written}) == (rows <= max_rows)


def test_an_empty_dataset_still_has_every_file(tmp_path: Path) -> None:
    schema = pa.schema({"id": pa.string(), "n": pa.int64(), "v": pa.float64(), "d": pa.date32()})
    files = written_files(tmp_path, write_dataset([], tmp_path, "tom", 0, schema=schema))
    frame = frame_of(schema.empty_table())
    assert files["csv"] == formats.csv_bytes(frame) == b"id,n,v,d\r\n"
    assert files["excel-csv"] == formats.excel_csv_bytes(frame)
    assert files["json"] == formats.json_bytes(frame) == b"[]\n"
    assert sheet_values(files["xlsx"]) == [("id", "n", "v", "d")]
    assert pq.read_table(tmp_path / "tom" / "tom.parquet").schema == schema


def test_wrong_input_is_refused_with_the_fix(tmp_path: Path) -> None:
    table = pa.table({"n": [1, 2, 3]})
    with pytest.raises(ValueError, match="pass schema="):
        write_dataset([], tmp_path, "t", 0)
    with pytest.raises(ValueError, match="hold 3 rows, not rows=2"):
        write_dataset(table.to_batches(), tmp_path, "t", 2)
    with pytest.raises(TypeError, match="cast it to one of"):
        write_dataset(pa.table({"n": pa.array([1], pa.int32())}).to_batches(), tmp_path, "t", 1)


MEMORY_SCRIPT = """
import resource, sys, tempfile
from pathlib import Path
import numpy as np, pyarrow as pa
from flows.outputs.writers import write_dataset

def batches(rows, size=65_536):
    codes = pa.array([f"{i % 10_000:04}" for i in range(size)])
    for start in range(0, rows, size):
        ids = np.arange(start, start + min(size, rows - start))
        yield pa.record_batch({"id": ids, "code": codes[:len(ids)], "v": ids / 10})

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

with tempfile.TemporaryDirectory() as folder:
    write_dataset(batches(150_000), Path(folder), "warm", 150_000)
    before = peak_mb()
    write_dataset(batches(2_000_000), Path(folder), "big", 2_000_000)
    print(peak_mb() - before)
"""


def test_memory_follows_the_batch_not_the_rows() -> None:
    """2 million rows (no XLSX: too many for a sheet) after 150,000: the peak grows by far less than
    the 200 MB of text they make (the JSON alone is 120 MB)."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(MEMORY_SCRIPT)], capture_output=True,
                            text=True, check=True, cwd=Path(__file__).parents[1])
    assert float(result.stdout) < 40, f"the peak RSS grew by {float(result.stdout):.0f} MB"


def test_xlsx_metadata_is_a_second_sheet_after_the_data(tmp_path: Path) -> None:
    table = pa.table({"id": ["a"], "n": [1]})
    metadata = [["Uppgift / Item", "Svenska / Swedish"], ["Titel / Title", "Nyckeltal", "Key figures"],
                [], ["Fält / Field", "Typ / Type"], ["id", "string"], ["n", "integer", "x\x01y"]]
    first = write_dataset(table.to_batches(), tmp_path / "a", "nyckeltal", 1, metadata=metadata)
    second = write_dataset(table.to_batches(), tmp_path / "b", "nyckeltal", 1, metadata=metadata)
    assert [w.hash for w in first] == [w.hash for w in second]
    book = openpyxl.load_workbook(tmp_path / "a" / "nyckeltal" / "nyckeltal.xlsx")
    assert book.sheetnames == ["nyckeltal", writers.METADATA_SHEET] and book.active.title == "nyckeltal"
    assert [c.value for c in book["nyckeltal"][2]] == ["a", 1]
    read = [[unescape(v) if isinstance(v, str) else v for v in row]
            for row in book[writers.METADATA_SHEET].iter_rows(values_only=True)]
    assert read == [[*row, *[None] * (3 - len(row))] if row else [None] * 3 for row in metadata]
    assert book[writers.METADATA_SHEET]["A4"].font.b and not book[writers.METADATA_SHEET]["B5"].font.b
    plain = write_dataset(table.to_batches(), tmp_path / "c", "nyckeltal", 1)
    assert openpyxl.load_workbook(tmp_path / "c/nyckeltal/nyckeltal.xlsx").sheetnames == ["nyckeltal"]
    assert {w.format: w.hash for w in plain}["csv"] == {w.format: w.hash for w in first}["csv"]
