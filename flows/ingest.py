"""Step 2: read a delivered file (CSV, Excel, JSON) into a header and rows of cells.

Reading knows nothing of schemas: it keeps every row with the row number the department sees
(the line in the CSV, the row in the spreadsheet, the record in JSON), so every later error can
point at it. A file that cannot be read at all becomes one file-level problem.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from flows.discover import RawFile
from flows.errors import Problem, problem

ENCODINGS = ("utf-8-sig", "cp1252")
DELIMITERS = ",;\t"


class RawTable(BaseModel):
    header: list[str]
    rows: list[list[Any]]
    row_numbers: list[int]  # row_numbers[i] is where rows[i] stands in the file
    header_row: int = 1


def read_report(raw: RawFile) -> RawTable | Problem:
    try:
        data = raw.path.read_bytes()
    except OSError as error:
        return _unreadable(raw, f"{error.strerror}", f"{error.strerror}")
    if not data.strip():
        return problem("empty-file", raw.name,
                       "Filen är tom. Skicka filen igen med rubrikrad och data.",
                       "The file is empty. Deliver it again with a header row and data.")
    try:
        if raw.format == "csv":
            table = read_csv(data)
        elif raw.format == "xlsx":
            table = read_xlsx(raw.path, sheet=raw.report_type)
        else:
            table = read_json(data)
    except UnreadableError as error:
        return _unreadable(raw, error.sv, error.en)
    if not table.header:
        return problem("empty-file", raw.name,
                       "Filen saknar rubrikrad. Första raden ska ha kolumnnamnen.",
                       "The file has no header row. The first row must hold the column names.")
    return table


class UnreadableError(Exception):
    def __init__(self, sv: str, en: str) -> None:
        super().__init__(en)
        self.sv, self.en = sv, en


def _unreadable(raw: RawFile, sv: str, en: str) -> Problem:
    return problem("unreadable-file", raw.name,
                   f"Filen kan inte läsas: {sv}. Spara om den som {raw.format.upper()} och skicka igen.",
                   f"The file cannot be read: {en}. Save it again as {raw.format.upper()} and "
                   "deliver it again.")


def decode(data: bytes) -> str:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableError("okänd teckenkodning, spara som UTF-8",
                          "unknown character encoding, save as UTF-8")


def sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(data: bytes) -> RawTable:
    text = decode(data)
    if "\x00" in text:
        raise UnreadableError("filen innehåller NUL-tecken och är inte en textfil",
                              "the file contains NUL bytes and is not a text file")
    delimiter = sniff_delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] = []
    rows: list[list[Any]] = []
    numbers: list[int] = []
    start = 1
    try:
        for record in reader:
            if not header and start == 1:
                header = [cell.strip() for cell in record]
            else:
                rows.append([cell if cell != "" else None for cell in record])
                numbers.append(start)
            start = reader.line_num + 1
    except csv.Error as error:
        raise UnreadableError(f"CSV-fel på rad {reader.line_num}: {error}",
                              f"CSV error at line {reader.line_num}: {error}") from error
    return RawTable(header=header, rows=rows, row_numbers=numbers)


def read_xlsx(path: Path, sheet: str) -> RawTable:
    from openpyxl import load_workbook  # only when an Excel file arrives

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken workbook
        raise UnreadableError("Excel-filen är skadad eller inte en .xlsx-fil",
                              f"the Excel file is damaged or not .xlsx ({type(error).__name__})"
                              ) from error
    try:
        names = {name.lower(): name for name in book.sheetnames}
        worksheet = book[names.get(sheet.lower(), book.sheetnames[0])]
        header: list[str] = []
        header_row = 1
        rows: list[list[Any]] = []
        numbers: list[int] = []
        for index, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
            cells = [_excel_cell(value) for value in values]
            if not header:
                if any(cell is not None for cell in cells):
                    header = [str(cell).strip() if cell is not None else "" for cell in cells]
                    header_row = index
                continue
            rows.append(cells)
            numbers.append(index)
    finally:
        book.close()
    while header and header[-1] == "":
        header.pop()
    table = RawTable(header=header, rows=[r[: len(header)] + [c for c in r[len(header):]
                                                              if c is not None]
                                          for r in rows],
                     row_numbers=numbers, header_row=header_row)
    return _trimmed(table)


def _excel_cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip() == "":
        return None
    return value


def read_json(data: bytes) -> RawTable:
    try:
        records = json.loads(decode(data))
    except json.JSONDecodeError as error:
        raise UnreadableError(f"ogiltig JSON på rad {error.lineno}: {error.msg}",
                              f"invalid JSON at line {error.lineno}: {error.msg}") from error
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise UnreadableError("JSON-filen ska vara en lista av objekt, ett per rad",
                              "the JSON file must be an array of objects, one per row")
    header: list[str] = []
    for record in records:
        header.extend(key for key in record if key not in header)
    rows = [[record.get(key) for key in header] for record in records]
    return RawTable(header=header, rows=rows, row_numbers=list(range(1, len(rows) + 1)),
                    header_row=0)


def _trimmed(table: RawTable) -> RawTable:
    """Drop empty rows at the end of a sheet: Excel keeps formatted but empty rows that nobody
    sees. (In a CSV every line is a row, as Frictionless counts them: blank ones are reported.)"""
    rows, numbers = table.rows, table.row_numbers
    while rows and all(cell is None for cell in rows[-1]):
        rows, numbers = rows[:-1], numbers[:-1]
    return table.model_copy(update={"rows": rows, "row_numbers": numbers})
