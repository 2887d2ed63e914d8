"""What Swedish spreadsheets write, read as the schema expects: decimal comma, thousands
separators, the Unicode minus, Excel date serials, midnight timestamps and blank cells. A value
that is not recognised is left exactly as delivered."""

import datetime as dt

import pyarrow as pa
import pytest

from flows.intake.cells import cell_as_text, normalize_date, normalize_number, normalized


@pytest.mark.parametrize(("delivered", "read"), [
    ("1 234,5", "1234.5"),
    ("1\u00a0234\u00a0567", "1234567"),  # no-break space as thousands separator
    ("1\u202f234,25", "1234.25"),  # narrow no-break space
    ("1.234,5", "1234.5"),
    ("1.234.567", "1234567"),
    ("\u22123", "-3"),  # the Unicode minus
    ("3,75", "3.75"),
    (" 42 ", "42"),
    ("+7", "+7"),
])
def test_swedish_numbers_become_plain_numbers(delivered, read):
    assert normalize_number(delivered) == read


@pytest.mark.parametrize("delivered", ["12 kr", "1,2,3", "1 23", "ca 5", "", "1.23.4"])
def test_a_number_that_is_not_recognised_is_left_as_delivered(delivered):
    assert normalize_number(delivered) == delivered


def test_typed_numbers_are_not_touched():
    assert normalize_number(3.5) == 3.5 and normalize_number(None) is None


def test_excel_serials_become_dates_only_from_a_workbook():
    assert normalize_date(44197, from_excel=True) == dt.date(2021, 1, 1)
    assert normalize_date(44197, from_excel=False) == 44197
    assert normalize_date(True, from_excel=True) is True  # a boolean is no serial


def test_midnight_timestamps_become_dates_and_other_times_stay():
    assert normalize_date(dt.datetime(2021, 3, 4), False) == dt.date(2021, 3, 4)
    assert normalize_date("2021-03-04 00:00:00", False) == "2021-03-04"
    assert normalize_date("2021-03-04T00:00", False) == "2021-03-04"
    assert normalize_date("2021-03-04 12:30:00", False) == "2021-03-04 12:30:00"
    assert normalize_date(dt.datetime(2021, 3, 4, 12), False) == dt.datetime(2021, 3, 4, 12)


def test_a_column_of_numbers_is_normalised_like_each_cell():
    cells = ["1 234,5", "7", "", "   ", "\u22122", "12 kr", "1.234.567", "3,5"]
    column = normalized(pa.array(cells, pa.string()), "number")
    assert column.to_pylist() == ["1234.5", "7", "", "", "-2", "12 kr", "1234567", "3.5"]


def test_a_column_of_dates_keeps_iso_dates_and_cuts_midnight():
    cells = ["2021-01-02", "2021-01-03 00:00:00", "2021-01-04 08:00", "\t"]
    column = normalized(pa.array(cells, pa.string()), "date")
    assert column.to_pylist() == ["2021-01-02", "2021-01-03", "2021-01-04 08:00", ""]


def test_a_text_column_only_loses_cells_of_only_spaces():
    cells = [" a ", "\u00a0", "1 234,5", ""]
    assert normalized(pa.array(cells, pa.string()), "string").to_pylist() == [
        " a ", "", "1 234,5", ""]


def test_a_column_that_needs_nothing_comes_back_as_it_was():
    column = pa.array(["1", "2.5", "-3"], pa.string())
    assert normalized(column, "integer").equals(column)


@pytest.mark.parametrize(("value", "field_type", "from_excel", "text"), [
    (None, "string", False, ""),
    ("   ", "string", False, ""),
    (3.0, "integer", True, "3"),
    (3.5, "number", True, "3.5"),
    (3.0, "number", True, "3.0"),
    ("1 234,5", "number", False, "1234.5"),
    (True, "boolean", False, "true"),
    (False, "boolean", False, "false"),
    (44197, "date", True, "2021-01-01"),
    (dt.datetime(2021, 5, 6), "date", True, "2021-05-06"),
    (12, "string", False, "12"),
])
def test_a_typed_cell_is_the_text_the_schema_check_reads(value, field_type, from_excel, text):
    assert cell_as_text(value, field_type, from_excel) == text


def test_a_boolean_takes_the_fields_own_words():
    assert cell_as_text(True, "boolean", False, truth=("ja", "nej")) == "ja"
    assert cell_as_text(False, "boolean", False, truth=("ja", "nej")) == "nej"
