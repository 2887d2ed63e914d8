import datetime as dt
import json

from openpyxl import Workbook

from flows.core.problems import Problem
from flows.intake.discover import RawFile
from flows.intake.reading import read_delivery


def raw(path, report_type="ekonomi"):
    return RawFile(path=path, name=path.name, year=2020, department="social",
                   report_type=report_type, format=path.suffix.lstrip("."))


def test_csv_rows_keep_the_line_numbers_the_department_sees(tmp_path):
    path = tmp_path / "ekonomi.csv"
    path.write_text('a,b\n1,"two\nlines"\n\n3,4\n\n\n', encoding="utf-8")
    table = read_delivery(raw(path))
    assert table.header == ["a", "b"]
    # the quoted value spans lines 2-3; blank lines are rows too (of empty cells, reported
    # later as blank rows, as Frictionless does), the final newline is not
    assert table.rows() == [(2, ["1", "two\nlines"]), (4, ["", ""]), (5, ["3", "4"]),
                            (6, ["", ""]), (7, ["", ""])]


def test_csv_semicolon_and_windows_1252_are_read(tmp_path):
    path = tmp_path / "ekonomi.csv"
    path.write_bytes("verksamhet;budget\nÄldreomsorg;12\n".encode("cp1252"))
    table = read_delivery(raw(path))
    assert table.header == ["verksamhet", "budget"]
    assert table.rows() == [(2, ["Äldreomsorg", "12"])]


def test_utf8_bom_is_not_part_of_the_first_label(tmp_path):
    path = tmp_path / "ekonomi.csv"
    path.write_bytes("\ufeffar,b\n1,2\n".encode())
    assert read_delivery(raw(path)).header == ["ar", "b"]


def test_xlsx_sheet_named_after_the_report_type_with_excel_types(tmp_path):
    book = Workbook()
    book.active.title = "Instruktioner"
    book.active.append(["Fyll i fliken ekonomi"])
    sheet = book.create_sheet("Ekonomi")
    sheet.append(["verksamhet", "budget_tkr", "datum"])
    sheet.append(["Hemtjänst", 1200.0, dt.datetime(2020, 3, 31)])
    sheet.append([None, None, None])
    path = tmp_path / "ekonomi.xlsx"
    book.save(path)
    table = read_delivery(raw(path))
    assert table.header == ["verksamhet", "budget_tkr", "datum"]
    assert table.rows() == [(2, ["Hemtjänst", 1200, dt.date(2020, 3, 31)])]


def test_json_records(tmp_path):
    path = tmp_path / "nyckeltal.json"
    path.write_text(json.dumps([{"a": 1, "b": None}, {"b": 2, "c": "x"}]), encoding="utf-8")
    table = read_delivery(raw(path, "nyckeltal"))
    assert table.header == ["a", "b", "c"]
    assert table.rows() == [(1, [1, None, None]), (2, [None, 2, "x"])]


def test_unreadable_files_are_one_problem_not_a_crash(tmp_path):
    cases = {
        "empty.csv": (b"", "empty-file"),
        "blank.csv": (b"  \n\n", "empty-file"),
        "bad.json": (b"{not json", "unreadable-file"),
        "object.json": (b'{"a": 1}', "unreadable-file"),
        "broken.xlsx": (b"PK\x03\x04 not really a zip", "unreadable-file"),
        "nul.csv": (b"a,b\n1,\x002\n", "unreadable-file"),
    }
    for name, (content, expected) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        result = read_delivery(raw(path))
        assert isinstance(result, Problem), name
        assert (result.type, result.file, result.row) == (expected, name, None)
        assert result.message_sv and result.message_en
