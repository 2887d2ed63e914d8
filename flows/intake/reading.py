"""Step 2: read a delivered file (CSV, Excel, JSON) into a header and rows of cells.

Reading knows the formats, not the schemas: it detects the character encoding and the delimiter,
finds the header row below any title rows (the row whose cells are known labels), keeps every
row with the number the department sees (the line in the CSV, the row in the spreadsheet, the
record in JSON) and notes cells it cannot trust (merged cells, formulas without a saved value).
A file that cannot be read at all becomes one file-level problem.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from flows.core.labels import normalize_label
from flows.core.problems import Problem, problem
from flows.intake.discover import RawFile

DELIMITERS = ",;\t"
MAX_CELL = 10_000  # characters: longer cells are rejected per row, not read into the data
MAX_UNZIPPED = 200 * 2**20  # an .xlsx that unpacks to more is refused (decompression bomb)
csv.field_size_limit(16 * 2**20)
HEADER_SEARCH_ROWS = 15


class RawTable(BaseModel):
    header: list[str]
    rows: list[list[Any]]
    row_numbers: list[int]  # row_numbers[i] is where rows[i] stands in the file
    header_row: int = 1
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    problems: list[Problem] = []  # row-level: cells that cannot be trusted


class UnreadableError(Exception):
    def __init__(self, sv: str, en: str) -> None:
        super().__init__(en)
        self.sv, self.en = sv, en


def read_delivery(raw: RawFile, labels: dict[str, str] | None = None) -> RawTable | Problem:
    """labels: normalized label -> field name, to find the header row below title rows."""
    try:
        data = raw.path.read_bytes()
    except OSError as error:
        return _unreadable(raw, str(error.strerror), str(error.strerror))
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        return problem("empty-file", raw.name,
                       "Filen är tom. Skicka filen igen med rubrikrad och data.",
                       "The file is empty. Deliver it again with a header row and data.")
    try:
        if raw.format == "csv":
            table = read_csv(data, labels or {})
        elif raw.format == "xlsx":
            table = read_xlsx(raw.path, raw.name, sheet=raw.report_type, labels=labels or {})
        else:
            table = read_json(data)
    except UnreadableError as error:
        return _unreadable(raw, error.sv, error.en)
    if not table.header:
        return problem("empty-file", raw.name,
                       "Filen saknar rubrikrad. Första raden ska ha kolumnnamnen.",
                       "The file has no header row. The first row must hold the column names.")
    return table.model_copy(update={"problems": table.problems + too_long(table, raw.name)})


def _unreadable(raw: RawFile, sv: str, en: str) -> Problem:
    return problem("unreadable-file", raw.name,
                   f"Filen kan inte läsas: {sv}. Spara om den som {raw.format.upper()} och skicka "
                   "igen.",
                   f"The file cannot be read: {en}. Save it again as {raw.format.upper()} and "
                   "deliver it again.")


def decode(data: bytes) -> tuple[str, str]:
    """Detect the encoding from the bytes: a BOM, valid UTF-8, else what charset-normalizer
    finds among the Windows and ISO-8859 encodings Swedish systems write."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(data, "utf-16"), "utf-16"
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data[3:], "utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["cp1252", "latin_1"]).best()
    if best is None:
        raise UnreadableError("okänd teckenkodning, spara som UTF-8",
                              "unknown character encoding, save as UTF-8")
    encoding = best.encoding.replace("_", "-")
    return str(best), encoding


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise UnreadableError(f"filen säger att den är {encoding} men är det inte",
                              f"the file claims to be {encoding} but is not") from error


def sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:HEADER_SEARCH_ROWS + 5])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        counts = {d: sample.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def read_csv(data: bytes, labels: dict[str, str]) -> RawTable:
    text, encoding = decode(data)
    if "\x00" in text:
        raise UnreadableError("filen innehåller NUL-tecken och är inte en textfil",
                              "the file contains NUL bytes and is not a text file")
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[list[Any]] = []
    numbers: list[int] = []
    start = 1
    try:
        for record in reader:
            records.append([cell if cell.strip() != "" else None for cell in record])
            numbers.append(start)
            start = reader.line_num + 1
    except csv.Error as error:
        raise UnreadableError(f"CSV-fel på rad {reader.line_num}: {error}",
                              f"CSV error at line {reader.line_num}: {error}") from error
    table = split_header(records, numbers, labels)
    return table.model_copy(update={"encoding": encoding, "delimiter": delimiter})


def too_long(table: RawTable, name: str = "") -> list[Problem]:
    """Cells longer than MAX_CELL characters: the row is rejected, the cell cut in reports."""
    found = []
    for number, row in zip(table.row_numbers, table.rows, strict=True):
        for index, cell in enumerate(row):
            if isinstance(cell, str) and len(cell) > MAX_CELL:
                field = table.header[index] if index < len(table.header) else None
                found.append(problem(
                    "cell-too-long", name,
                    f"Cellen har {len(cell)} tecken; högst {MAX_CELL} tas emot. Korta texten.",
                    f"The cell has {len(cell)} characters; at most {MAX_CELL} are accepted. "
                    "Shorten the text.", row=number, field=field, value=cell[:40]))
    return found


def split_header(records: list[list[Any]], numbers: list[int], labels: dict[str, str]
                 ) -> RawTable:
    """The header is the first row among the first rows whose cells are mostly known labels
    (title rows above it are skipped); without a match, the first non-blank row."""
    candidates = [i for i, r in enumerate(records[:HEADER_SEARCH_ROWS + 1])
                  if any(c is not None for c in r)]
    if not candidates:
        return RawTable(header=[], rows=[], row_numbers=[])
    index = candidates[0]
    for i in candidates:
        cells = [normalize_label(c) for c in records[i] if c is not None]
        known = sum(cell in labels for cell in cells)
        if known >= 2 and known * 2 >= len(cells):
            index = i
            break
    header = ["" if c is None else str(c).strip() for c in records[index]]
    return RawTable(header=header, rows=records[index + 1:], row_numbers=numbers[index + 1:],
                    header_row=numbers[index])


def read_xlsx(path: Path, name: str, sheet: str, labels: dict[str, str]) -> RawTable:
    from openpyxl import load_workbook  # only when an Excel file arrives

    try:
        import zipfile

        with zipfile.ZipFile(path) as archive:
            unpacked = sum(item.file_size for item in archive.infolist())
        if unpacked > MAX_UNZIPPED:
            raise UnreadableError(
                f"Excel-filen packas upp till {unpacked // 2**20} MB (högst "
                f"{MAX_UNZIPPED // 2**20} MB)", f"the workbook unpacks to {unpacked // 2**20} "
                f"MB (at most {MAX_UNZIPPED // 2**20} MB)")
        values_book = load_workbook(path, data_only=True)
        formula_book = load_workbook(path, data_only=False)
    except UnreadableError:
        raise
    except Exception as error:  # openpyxl raises many kinds for a broken workbook
        raise UnreadableError("Excel-filen är skadad eller inte en .xlsx-fil",
                              f"the Excel file is damaged or not .xlsx ({type(error).__name__})"
                              ) from error
    names = {title.lower(): title for title in values_book.sheetnames}
    title = names.get(sheet.lower(), values_book.sheetnames[0])
    worksheet, formulas = values_book[title], formula_book[title]
    records = [[_excel_cell(v) for v in row] for row in worksheet.iter_rows(values_only=True)]
    numbers = list(range(1, len(records) + 1))
    while records and all(c is None for c in records[-1]):  # formatted but empty rows
        records.pop()
        numbers.pop()
    table = split_header(records, numbers, labels)
    problems = []
    for merged in worksheet.merged_cells.ranges:
        for row in range(max(merged.min_row, table.header_row + 1), merged.max_row + 1):
            problems.append(problem(
                "merged-cells", name,
                f"Raden har sammanslagna celler ({merged.coord}). Dela upp cellerna och fyll i "
                "värdet på varje rad.",
                f"The row has merged cells ({merged.coord}). Unmerge them and fill in the value "
                "on every row.", row=row, value=merged.coord))
    for row in formulas.iter_rows(min_row=table.header_row + 1):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("=") and \
                    worksheet[cell.coordinate].value is None:
                problems.append(problem(
                    "formula-without-value", name,
                    f"Cellen {cell.coordinate} har en formel utan sparat värde. Öppna filen i "
                    "Excel, låt den räkna om och spara den igen.",
                    f"Cell {cell.coordinate} holds a formula without a saved value. Open the "
                    "file in Excel, let it recalculate and save it again.",
                    row=cell.row, value=cell.value))
    width = len(table.header)
    while width and table.header[width - 1] == "" and all(
            len(r) < width or r[width - 1] is None for r in table.rows):
        width -= 1  # empty columns to the right of the table
    rows = [r[:width] + [c for c in r[width:] if c is not None] for r in table.rows]
    return table.model_copy(update={"header": table.header[:width], "rows": rows,
                                    "sheet": title, "problems": problems})


def _excel_cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip() == "":
        return None
    return value


def read_json(data: bytes) -> RawTable:
    """A list of records, {"data"|"values": [records]}, or Kolada's data response:
    {"values": [{"kpi", "municipality", "period", "values": [{"gender", "value"}]}]}."""
    text, encoding = decode(data)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise UnreadableError(f"ogiltig JSON på rad {error.lineno}: {error.msg}",
                              f"invalid JSON at line {error.lineno}: {error.msg}") from error
    if isinstance(document, dict):
        document = document.get("values", document.get("data"))
    if not isinstance(document, list) or not all(isinstance(r, dict) for r in document):
        raise UnreadableError("JSON-filen ska vara en lista av objekt, ett per rad, eller "
                              "Koladas svar med 'values'",
                              "the JSON file must be an array of objects, one per row, or "
                              "Kolada's response with 'values'")
    if document and all(isinstance(r.get("values"), list) for r in document):
        document = [{"kpi": r.get("kpi"), "municipality": r.get("municipality"),
                     "period": r.get("period"), "gender": v.get("gender"),
                     "value": v.get("value")}
                    for r in document for v in r["values"] if isinstance(v, dict)]
    header: list[str] = []
    for record in document:
        header.extend(key for key in record if key not in header)
    rows = [[record.get(key) for key in header] for record in document]
    return RawTable(header=header, rows=rows, row_numbers=list(range(1, len(rows) + 1)),
                    header_row=0, encoding=encoding)
