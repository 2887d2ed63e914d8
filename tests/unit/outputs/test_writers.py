"""The published text of a few cells, format by format: numbers in one fixed rendering, CSV
quoting only where needed, Excel CSV with ';', a decimal comma and formulas neutralised, JSON
without NaN or Infinity. Small tables built on the fly; the bytes are read back."""

import datetime as dt
import json
import math

import pyarrow as pa

from flows.outputs.writers import write_dataset


def published(tmp_path, **columns) -> dict[str, str]:
    """format -> text of the dataset `t` with these columns (CSV, Excel CSV and JSON)."""
    table = pa.table(columns)
    files = write_dataset(table.to_batches(), tmp_path, "t", table.num_rows, schema=table.schema)
    return {f.format: (tmp_path / f.path).read_bytes().decode("utf-8") for f in files
            if f.format in ("csv", "excel-csv", "json")}


def test_floats_are_written_whole_without_point_zero_and_otherwise_as_repr(tmp_path):
    values = [1.0, 0.1, 2.5, 1e-05, -3.0, 1e22, None, math.nan]
    text = published(tmp_path, x=pa.array(values, pa.float64()), n=pa.array([0] * 8, pa.int64()))
    assert text["csv"].split("\r\n") == ["x,n", "1,0", "0.1,0", "2.5,0", "1e-05,0", "-3,0",
                                         "10000000000000000000000,0", ",0", ",0", ""]


def test_excel_csv_has_a_bom_semicolons_and_a_decimal_comma(tmp_path):
    text = published(tmp_path, namn=pa.array(["a", "b"]), x=pa.array([2.5, 3.0]),
                     n=pa.array([1, 2], pa.int64()))
    assert text["excel-csv"] == "\ufeffnamn;x;n\r\na;2,5;1\r\nb;3;2\r\n"
    assert text["csv"] == "namn,x,n\r\na,2.5,1\r\nb,3,2\r\n"


def test_only_text_with_a_delimiter_quote_or_line_break_is_quoted(tmp_path):
    text = published(tmp_path, s=pa.array(["plain", "a,b", 'say "hi"', "two\nlines", "a;b"]),
                     n=pa.array([1, 2, 3, 4, 5], pa.int64()))
    assert text["csv"] == ('s,n\r\nplain,1\r\n"a,b",2\r\n"say ""hi""",3\r\n"two\nlines",4\r\n'
                           "a;b,5\r\n")
    assert text["excel-csv"].splitlines()[-1] == '"a;b";5'


def test_text_a_spreadsheet_would_run_as_a_formula_gets_an_apostrophe(tmp_path):
    cells = ["=SUM(A1)", "+46", "-x", "@me", "\tx", "a=b", "ok"]
    text = published(tmp_path, s=pa.array(cells))
    assert text["excel-csv"].split("\r\n")[1:-1] == ["'=SUM(A1)", "'+46", "'-x", "'@me", "'\tx",
                                                     "a=b", "ok"]
    assert text["csv"].split("\r\n")[1:-1] == ["'=SUM(A1)", "'+46", "'-x", "'@me", "'\tx",
                                               "a=b", "ok"]


def test_negative_numbers_are_numbers_not_formulas(tmp_path):
    text = published(tmp_path, n=pa.array([-5], pa.int64()), x=pa.array([-0.5]))
    assert text["excel-csv"].split("\r\n")[1] == "-5;-0,5"


def test_json_has_typed_values_and_no_nan_or_infinity(tmp_path):
    text = published(tmp_path, s=pa.array(['a "q"\n', None]), x=pa.array([math.inf, 1.5]),
                     b=pa.array([True, None]), d=pa.array([dt.date(2021, 1, 2), None]))
    assert json.loads(text["json"]) == [
        {"s": 'a "q"\n', "x": None, "b": True, "d": "2021-01-02"},
        {"s": None, "x": 1.5, "b": None, "d": None}]
    assert "Infinity" not in text["json"] and "NaN" not in text["json"]


def test_a_table_of_one_column_writes_an_empty_cell_as_quotes(tmp_path):
    assert published(tmp_path, s=pa.array(["a", ""]))["csv"] == 's\r\na\r\n""\r\n'
