"""Reading a delivered file (CSV, Excel, JSON): its header, and its rows in pieces.

Reading knows the formats, not the schemas: it detects the character encoding and the delimiter,
finds the header row below any title rows (the row whose cells are known labels), and numbers
every row as the department sees it (the line in the CSV - a cell with a line break makes the
next row's number higher -, the row in the spreadsheet, the record in JSON). It notes cells it
cannot trust (merged cells, formulas without a saved value). A file that cannot be read at all
becomes one file-level problem.

A CSV is parsed by pyarrow in pieces of a few MB cut at row borders, so memory does not grow
with the file; a piece holds the raw text of each cell. Excel and JSON files are parsed whole
(they are bounded by OPENDATA_MAX_FILE_MB) and their typed cells handed over as records.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import mmap
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from pydantic import BaseModel

from flows.core.labels import normalize_label
from flows.core.messages import Said, say
from flows.core.problems import Problem, problem
from flows.intake.discover import RawFile
from flows.intake.pieces import spans

DELIMITERS = ",;\t"
MAX_CELL = 10_000  # characters: longer cells are rejected per row, not read into the data
MAX_UNZIPPED = 200 * 2**20  # an .xlsx that unpacks to more is refused (decompression bomb)
csv.field_size_limit(16 * 2**20)
HEADER_SEARCH_ROWS = 15
PIECE_BYTES = 8 * 2**20
SAMPLE_BYTES = 2**18  # read for the delimiter and the header row
QUOTE = '"'
TERMINATORS = re.compile(rb"\r\n|\r|\n")


class Span(NamedTuple):
    """A stretch of a CSV's rows: bytes begin..end of the file, the first at `line`."""

    begin: int
    end: int
    line: int


class Piece(NamedTuple):
    """Rows of a delivered file, in file order.

    `columns`: a CSV's raw cell texts, one string array per header column ('' when empty),
    for the rows as wide as the header; `records`: an Excel sheet's or JSON file's typed cells
    (then `columns` is None). `lines[i]` is where row i stands in the file. `odd` holds the rows
    of another width than the header: (line, cells)."""

    columns: list[pa.Array] | None
    records: list[list[Any]] | None
    lines: np.ndarray
    odd: list[tuple[int, list[Any]]]
    span: Span | None = None  # where in the file it was read (a CSV read in place)

    @property
    def rows(self) -> int:
        return len(self.lines) + len(self.odd)


class Reading(BaseModel):
    """A delivered file, opened: how it was read and its header. `pieces()` gives the rows."""

    model_config = {"arbitrary_types_allowed": True}

    header: list[str]
    header_row: int = 1
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    problems: list[Problem] = []  # row-level: cells that cannot be trusted
    source: Any = None  # the CSV's bytes (from data_start) or the records

    data_start: int = 0  # where the rows after the header begin in `source`
    first_line: int = 2  # the line of the first row after the header
    records: list[list[Any]] | None = None
    record_lines: list[int] | None = None

    def rows(self) -> list[tuple[int, list[Any]]]:
        """(line, cells) of every row, in file order (for small files: tests, debugging)."""
        found = []
        for piece in self.pieces():
            cells = zip(*(c.to_pylist() for c in piece.columns), strict=True) \
                if piece.columns is not None else piece.records
            found += [(int(line), list(row)) for line, row in zip(piece.lines, cells, strict=True)]
            found += [(line, list(row)) for line, row in piece.odd]
        return sorted(found, key=lambda item: item[0])

    @property
    def in_place(self) -> bool:
        """A CSV read straight from the file's bytes (UTF-8): its spans can be read apart."""
        return self.records is None and self.encoding in ("utf-8", "utf-8-sig")

    def pieces(self, size: int = PIECE_BYTES) -> Iterator[Piece]:
        if self.records is not None:
            yield records_piece(self.records, self.record_lines or [], len(self.header))
            return
        yield from csv_pieces(self.source, self.data_start, self.first_line, len(self.header),
                              self.delimiter or ",", size)


def csv_spans(reading: Reading, size: int) -> list[Span]:
    """A CSV's rows after the header in spans of about `size` bytes cut at row borders, each
    with the line it starts at (counting lines is a fast byte count)."""
    found, line = [], reading.first_line
    for begin, end in spans(reading.source, reading.data_start, size, QUOTE,
                            reading.delimiter or ","):
        found.append(Span(begin, end, line))
        line += count_lines(memoryview(reading.source)[begin:end])
    return found


def read_span(path: Path, span: Span, width: int, delimiter: str,
              size: int = PIECE_BYTES) -> Iterator[Piece]:
    """One span of a UTF-8 CSV (a task of its own: on a thread or another machine), parsed in
    pieces of about `size` bytes."""
    data = _map(path)
    names = [f"c{i}" for i in range(width)]
    view, line = memoryview(data), span.line
    for begin, end in spans(data, span.begin, size, QUOTE, delimiter, stop=span.end):
        try:
            piece = parse_csv_piece(view[begin:end], names, delimiter, line)
        except pa.ArrowInvalid:
            piece = python_csv_piece(bytes(view[begin:end]).decode("utf-8"), width, delimiter,
                                     line)
        yield piece._replace(span=Span(begin, end, line))
        line += count_lines(view[begin:end])


class UnreadableError(Exception):
    """Why a file cannot be read: the key of the reason (intake.unreadable.*) and its
    parameters."""

    def __init__(self, key: str, /, **params: Any) -> None:
        self.reason = say(key, **params)
        super().__init__(self.reason.en)


def read_delivery(raw: RawFile, labels: dict[str, str] | None = None) -> Reading | Problem:
    """labels: normalized label -> field name, to find the header row below title rows."""
    try:
        data = _map(raw.path)
    except OSError as error:
        return _unreadable(raw, str(error.strerror), str(error.strerror))
    if not re.search(rb"[^ \t\r\n\x00\xef\xbb\xbf]", data):
        return problem("empty-file", raw.name, "problem.empty-file.empty")
    try:
        if raw.format == "csv":
            reading = open_csv(data, labels or {})
        elif raw.format == "xlsx":
            reading = read_xlsx(raw.path, raw.name, sheet=raw.report_type, labels=labels or {})
        else:
            reading = read_json(bytes(data))
    except UnreadableError as error:
        return _unreadable(raw, error.reason)
    if not reading.header:
        return problem("empty-file", raw.name, "problem.empty-file.no-header")
    return reading


def _map(path: Path) -> Any:
    """The file's bytes, memory-mapped (an empty file as b'')."""
    with path.open("rb") as handle:
        try:
            return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file cannot be mapped
            return b""


def _unreadable(raw: RawFile, reason: Said) -> Problem:
    return problem("unreadable-file", raw.name, "problem.unreadable-file.reason",
                   {"reason": reason, "format": raw.format.upper()})


# --- encodings ----------------------------------------------------------------------------
def utf8_bytes(data: Any) -> tuple[Any, int, str]:
    """(the text as UTF-8 bytes, where the text starts in them, the encoding detected): a BOM,
    valid UTF-8 (kept as it is, without a copy), else what charset-normalizer finds among the
    Windows and ISO-8859 encodings Swedish systems write (re-encoded as UTF-8)."""
    head = bytes(data[:3])
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(bytes(data), "utf-16").encode("utf-8"), 0, "utf-16"
    if head == b"\xef\xbb\xbf":
        if not _valid_utf8(data, 3):
            raise UnreadableError("intake.unreadable.false-utf8-bom")
        return data, 3, "utf-8-sig"
    if _valid_utf8(data, 0):
        return data, 0, "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(bytes(data), cp_isolation=["cp1252", "latin_1"]).best()
    if best is None:
        raise UnreadableError("intake.unreadable.unknown-encoding")
    return str(best).encode("utf-8"), 0, best.encoding.replace("_", "-")


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding detected (see utf8_bytes)."""
    text, start, encoding = utf8_bytes(data)
    return bytes(text[start:]).decode("utf-8"), encoding


def _valid_utf8(data: Any, start: int, block: int = 1 << 24) -> bool:
    """Whether data[start:] is UTF-8, checked block by block (no copy of a large file)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for offset in range(start, len(data), block):
            chunk = view[offset:offset + block]
            if np.frombuffer(chunk, dtype=np.uint8).max(initial=0) >= 128 or decoder.getstate()[0]:
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise UnreadableError("intake.unreadable.false-encoding", encoding=encoding) from error


def sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:HEADER_SEARCH_ROWS + 5])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        counts = {d: sample.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


# --- CSV ----------------------------------------------------------------------------------
def open_csv(data: Any, labels: dict[str, str]) -> Reading:
    """The header row (below any title rows) and where the rows after it begin."""
    text, offset, encoding = utf8_bytes(data)
    if text.find(b"\x00", offset) >= 0:
        raise UnreadableError("intake.unreadable.nul")
    sample = bytes(text[offset:offset + SAMPLE_BYTES]).decode("utf-8", errors="ignore")
    delimiter = sniff_delimiter(sample)
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    records, numbers, start = [], [], 1
    try:
        for record in reader:
            records.append([cell if cell.strip() != "" else None for cell in record])
            numbers.append(start)
            start = reader.line_num + 1
            if len(records) > HEADER_SEARCH_ROWS + 1:
                break
    except csv.Error as error:
        raise UnreadableError("intake.unreadable.csv", line=reader.line_num, error=error) from error
    index = header_index(records, labels)
    if index is None:
        return Reading(header=[], encoding=encoding, delimiter=delimiter)
    header = ["" if c is None else str(c).strip() for c in records[index]]
    last_line = (numbers[index + 1] - 1) if index + 1 < len(numbers) else reader.line_num
    return Reading(header=header, header_row=numbers[index], encoding=encoding,
                   delimiter=delimiter, source=text,
                   data_start=_after_lines(text, offset, last_line), first_line=last_line + 1)


def _after_lines(data: Any, start: int, count: int) -> int:
    """The byte offset just after `count` lines from `start` (\\r\\n, \\r or \\n each end
    one)."""
    position = start
    for done, match in enumerate(TERMINATORS.finditer(data, start), start=1):
        position = match.end()
        if done == count:
            return position
    return len(data)


def header_index(records: list[list[Any]], labels: dict[str, str]) -> int | None:
    """The header is the first row among the first rows whose cells are mostly known labels
    (title rows above it are skipped); without a match, the first non-blank row."""
    candidates = [i for i, r in enumerate(records[:HEADER_SEARCH_ROWS + 1])
                  if any(c is not None for c in r)]
    if not candidates:
        return None
    for i in candidates:
        cells = [normalize_label(c) for c in records[i] if c is not None]
        known = sum(cell in labels for cell in cells)
        if known >= 2 and known * 2 >= len(cells):
            return i
    return candidates[0]


def csv_pieces(data: Any, start: int, first_line: int, width: int, delimiter: str,
               size: int = PIECE_BYTES) -> Iterator[Piece]:
    """The rows after the header, parsed by pyarrow piece by piece. A file pyarrow cannot
    parse (an unfinished quote at the end, say) is read by Python's csv module instead, as a
    whole: the same rows as the department's own tools see them."""
    names = [f"c{i}" for i in range(width)]
    line = first_line
    view = memoryview(data)
    for begin, end in spans(data, start, size, QUOTE, delimiter):
        try:
            piece = parse_csv_piece(view[begin:end], names, delimiter, line)
        except pa.ArrowInvalid:  # the rest of the file, read by Python
            yield python_csv_piece(bytes(view[begin:]).decode("utf-8"), width, delimiter, line)
            return
        span = Span(begin, end, line)
        line += count_lines(view[begin:end])
        yield piece._replace(span=span)


def count_lines(data: Any) -> int:
    """Physical lines in data (a last line without a newline counts too)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    if not len(raw):
        return 0
    feeds, returns = raw == 10, raw == 13
    ends = int(np.count_nonzero(feeds))
    if returns.any():  # \r ends a line too, \r\n only once
        ends += int(np.count_nonzero(returns)) - int(np.count_nonzero(returns[:-1] & feeds[1:]))
    return ends + (0 if raw[-1] in (10, 13) else 1)


def parse_csv_piece(data: Any, names: list[str], delimiter: str, first_line: int) -> Piece:
    set_aside: list[tuple[int, str]] = []

    def on_invalid(row: Any) -> str:
        set_aside.append((row.number, row.text))
        return "skip"

    table = pacsv.read_csv(pa.BufferReader(data), read_options=pacsv.ReadOptions(
        column_names=names, use_threads=False, block_size=len(data) + 1),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter, quote_char=QUOTE, double_quote=True, escape_char=False,
            newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False,
            quoted_strings_can_be_null=False))
    columns = [c.chunk(0) if c.num_chunks == 1 else c.combine_chunks() for c in table.columns]
    rows = table.num_rows
    total = rows + len(set_aside)
    odd_at = np.array([number - 1 for number, _ in set_aside], dtype=np.int64)
    spread = np.ones(total, dtype=np.int64)  # physical lines of each record
    if (np.frombuffer(data, dtype=np.uint8) == ord(QUOTE)).any():
        inside = np.zeros(rows, dtype=np.int64)
        for column in columns:
            inside += _terminators(column)
        kept = np.ones(total, dtype=bool)
        kept[odd_at] = False
        spread[kept] += inside
        for position, (_, text) in zip(odd_at.tolist(), set_aside, strict=True):
            spread[position] += len(TERMINATORS.findall(text.encode("utf-8")))
    starts = first_line + np.concatenate([[0], np.cumsum(spread)[:-1]]).astype(np.int64)
    kept = np.ones(total, dtype=bool)
    kept[odd_at] = False
    odd = [(int(starts[p]), _split(text, delimiter)) for p, (_, text) in
           zip(odd_at.tolist(), set_aside, strict=True)]
    return Piece(columns, None, starts[kept], odd)


def _terminators(column: pa.Array) -> np.ndarray:
    """Line breaks inside each cell (\\r\\n counts once)."""
    counts = [pc.count_substring(column, s).to_numpy(zero_copy_only=False) for s in
              ("\n", "\r", "\r\n")]
    return counts[0] + counts[1] - counts[2]


def _split(text: str, delimiter: str) -> list[Any]:
    """A row's cells as Python's csv module reads them (a blank line has none)."""
    return next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])


def python_csv_piece(text: str, width: int, delimiter: str, first_line: int) -> Piece:
    """Rows read by Python's csv module, as one piece."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    lines, odd, start = [], [], first_line
    try:
        for record in reader:
            if len(record) == width:
                rows.append(record)
                lines.append(start)
            else:
                odd.append((start, record))
            start = first_line + reader.line_num
    except csv.Error as error:
        line = first_line + reader.line_num - 1
        raise UnreadableError("intake.unreadable.csv", line=line, error=error) from error
    columns = [pa.array([r[i] for r in rows], pa.string()) for i in range(width)]
    return Piece(columns, None, np.array(lines, dtype=np.int64), odd)


def records_piece(records: list[list[Any]], lines: list[int], width: int) -> Piece:
    kept = [i for i, r in enumerate(records) if len(r) == width]
    odd = [(lines[i], records[i]) for i, r in enumerate(records) if len(r) != width]
    return Piece(None, [records[i] for i in kept], np.array([lines[i] for i in kept],
                                                              dtype=np.int64), odd)


# --- Excel --------------------------------------------------------------------------------
def read_xlsx(path: Path, name: str, sheet: str, labels: dict[str, str]) -> Reading:
    from openpyxl import load_workbook  # only when an Excel file arrives

    try:
        import zipfile

        with zipfile.ZipFile(path) as archive:
            unpacked = sum(item.file_size for item in archive.infolist())
        if unpacked > MAX_UNZIPPED:
            raise UnreadableError("intake.unreadable.xlsx-too-large",
                                  megabytes=unpacked // 2**20, limit=MAX_UNZIPPED // 2**20)
        values_book = load_workbook(path, data_only=True)
        formula_book = load_workbook(path, data_only=False)
    except UnreadableError:
        raise
    except Exception as error:  # openpyxl raises many kinds for a broken workbook
        raise UnreadableError("intake.unreadable.xlsx-damaged",
                              error=type(error).__name__) from error
    names = {title.lower(): title for title in values_book.sheetnames}
    title = names.get(sheet.lower(), values_book.sheetnames[0])
    worksheet, formulas = values_book[title], formula_book[title]
    records = [[_excel_cell(v) for v in row] for row in worksheet.iter_rows(values_only=True)]
    numbers = list(range(1, len(records) + 1))
    while records and all(c is None for c in records[-1]):  # formatted but empty rows
        records.pop()
        numbers.pop()
    index = header_index(records, labels)
    if index is None:
        return Reading(header=[], sheet=title)
    header_row = numbers[index]
    header = ["" if c is None else str(c).strip() for c in records[index]]
    rows, lines = records[index + 1:], numbers[index + 1:]
    problems = []
    for merged in worksheet.merged_cells.ranges:
        for row in range(max(merged.min_row, header_row + 1), merged.max_row + 1):
            problems.append(problem("merged-cells", name, "problem.merged-cells.cells",
                                    {"cells": merged.coord}, row=row, value=merged.coord))
    for row in formulas.iter_rows(min_row=header_row + 1):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("=") and \
                    worksheet[cell.coordinate].value is None:
                problems.append(problem("formula-without-value", name,
                                        "problem.formula-without-value.cell",
                                        {"cell": cell.coordinate}, row=cell.row, value=cell.value))
    width = len(header)
    while width and header[width - 1] == "" and all(
            len(r) < width or r[width - 1] is None for r in rows):
        width -= 1  # empty columns to the right of the table
    rows = [r[:width] + [c for c in r[width:] if c is not None] for r in rows]
    return Reading(header=header[:width], header_row=header_row, sheet=title, problems=problems,
                   records=rows, record_lines=lines)


def _excel_cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip() == "":
        return None
    return value


# --- JSON ---------------------------------------------------------------------------------
def read_json(data: bytes) -> Reading:
    """A list of records, {"data"|"values": [records]}, Kolada's data response:
    {"values": [{"kpi", "municipality", "period", "values": [{"gender", "value"}]}]}, or its
    municipality groups: {"values": [{"id", "title", "members": [{"id", "title"}]}]}."""
    text, encoding = decode(data)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise UnreadableError("intake.unreadable.json", line=error.lineno,
                              error=error.msg) from error
    if isinstance(document, dict):
        document = document.get("values", document.get("data"))
    if not isinstance(document, list) or not all(isinstance(r, dict) for r in document):
        raise UnreadableError("intake.unreadable.json-shape")
    if document and all(isinstance(r.get("values"), list) for r in document):
        document = [{"kpi": r.get("kpi"), "municipality": r.get("municipality"),
                     "period": r.get("period"), "gender": v.get("gender"),
                     "value": v.get("value")}
                    for r in document for v in r["values"] if isinstance(v, dict)]
    elif document and all(isinstance(r.get("members"), list) for r in document):
        # Kolada's municipality groups: one row per group and member
        document = [{"group_id": r.get("id"), "group_title": r.get("title"),
                     "member_id": m.get("id"), "member_title": m.get("title")}
                    for r in document for m in r["members"] if isinstance(m, dict)]
    header: list[str] = []
    for record in document:
        header.extend(key for key in record if key not in header)
    rows = [[record.get(key) for key in header] for record in document]
    return Reading(header=header, header_row=0, encoding=encoding, records=rows,
                   record_lines=list(range(1, len(rows) + 1)))
