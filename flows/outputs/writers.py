"""Every published format of one dataset, written from a stream of Arrow record batches.

Cell text is built a column at a time (pyarrow.compute, and numpy over the UTF-8 bytes to find
the few values that need quoting or escaping) and streamed to the files, and to their sha256,
chunk by chunk: memory follows the chunk size, not the dataset. One thread writes, hashes and
compresses a chunk while the next one is being built. CSV, Excel CSV and JSON have the bytes of
tests/reference_formats.py (cell_text and json_value applied to whole columns); Python runs only once
per distinct rare value (floats whose repr Arrow does not write, text with control characters)."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import itertools
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from flows.core.values import cell_text

EXCEL_MAX_ROWS = 1_048_575  # data rows in one Excel sheet (1,048,576 with the header)
CHUNK_ROWS = 65_536  # rows turned into text at a time, whatever size the batches come in
PARQUET_ROW_GROUP_ROWS = 131_072  # fixed, so the same rows give the same file however they are batched
XLSX_COMPRESSION_LEVEL = 6  # zlib's default, as openpyxl and xlsxwriter (1: half the time, 28% bigger)
METADATA_SHEET = "Metadata"  # the workbook's second sheet: the same word in Swedish and English
FIXED_TIME = dt.datetime(2000, 1, 1)  # inside XLSX files, instead of the time of the run
FORMATS: dict[str, tuple[str, str]] = {  # format id -> (file suffix, media type)
    "csv": (".csv", "text/csv"),
    "excel-csv": (".excel.csv", "text/csv"),
    "xlsx": (".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "json": (".json", "application/json"),
    "parquet": (".parquet", "application/vnd.apache.parquet"),
}
TYPES = (pa.string(), pa.int64(), pa.float64(), pa.bool_(), pa.date32())
CONTROLS = bytes(range(0x20))
RARE_CONTROLS = bytes(c for c in CONTROLS if c not in b"\t\n\r")  # json and XML have no plain escape
JSON_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}  # the backslash first
XML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}  # the ampersand first
XML_RARE = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x{FFFE}\x{FFFF}]|_x[0-9A-Fa-f]{4}_"  # they need Excel's _xHHHH_
XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
XML_UNDERSCORE = re.compile("_(?=x[0-9A-Fa-f]{4}[_\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff])")
NO_TEXT = pa.scalar(None, pa.string())
UNIX_DAY = dt.date(1970, 1, 1)
EXCEL_SERIAL = (UNIX_DAY - dt.date(1899, 12, 30)).days  # serial = days since 1970 + this
EXCEL_FIRST_DAY = (dt.date(1900, 1, 1) - UNIX_DAY).days
EXCEL_LEAP_BUG_DAY = (dt.date(1900, 3, 1) - UNIX_DAY).days  # Excel counts a 29 February 1900 before it
EXCEL_LAST_DAY = (dt.date(9999, 12, 31) - UNIX_DAY).days


class Written(NamedTuple):
    path: str  # relative to the release folder, e.g. "nyckeltal/nyckeltal.csv"
    format: str  # "csv" | "excel-csv" | "xlsx" | "json" | "parquet"
    mediatype: str
    bytes: int
    hash: str  # "sha256:<hex>", computed while writing
    rows: int
    part: int | None = None  # for a format split in parts: 1-based part number
    parts: int | None = None  # and how many parts there are


def write_dataset(batches: Iterable[pa.RecordBatch], folder: Path, dataset_id: str, rows: int, *,
                  schema: pa.Schema | None = None, excel_max_rows: int = EXCEL_MAX_ROWS,
                  metadata: Sequence[Sequence[str]] | None = None) -> list[Written]:
    """Write <folder>/<dataset_id>/<dataset_id>.{csv,excel.csv,xlsx,json,parquet} from batches that
    hold `rows` rows in all. Beyond excel_max_rows the Excel CSV comes in parts
    (<id>.del01.excel.csv, ...) and there is no XLSX. `schema` (or a RecordBatchReader's own) is
    needed only when there may be no batches at all. `metadata`: rows of text for the workbook's
    second sheet, METADATA_SHEET, after the data sheet (none without them)."""
    stream = iter(batches)
    schema = schema or getattr(batches, "schema", None)
    if schema is None:
        first = next(stream, None)
        if first is None:
            raise ValueError(f"{dataset_id}: no batches and no schema; pass schema= for an empty dataset")
        schema, stream = first.schema, itertools.chain([first], stream)
    schema = _checked_schema(schema, dataset_id)
    target = Path(folder) / dataset_id
    target.mkdir(parents=True, exist_ok=True)
    worker, writers = _Worker(), []
    try:
        writers.append(_CsvWriter(worker, target, dataset_id, schema, "csv", rows, None))
        writers.append(_CsvWriter(worker, target, dataset_id, schema, "excel-csv", rows, excel_max_rows))
        if rows <= excel_max_rows:
            writers.append(_XlsxWriter(worker, target, dataset_id, schema, rows, metadata))
        writers.append(_JsonWriter(worker, target, dataset_id, schema))
        writers.append(_ParquetWriter(worker, target, dataset_id, schema))
        seen = 0
        for rows_at_once in _rechunked(stream, schema, dataset_id):
            chunk = _Chunk(rows_at_once, seen)
            seen += chunk.rows
            for writer in writers:
                writer.write(chunk)
            worker.send()
        if seen != rows:
            raise ValueError(f"{dataset_id}: the batches hold {seen} rows, not rows={rows}")
        worker.finish()
        return [written for writer in writers for written in writer.close()]
    except BaseException:
        worker.abort()
        for writer in writers:
            writer.abort()
        raise


def _rechunked(batches: Iterable[pa.RecordBatch], schema: pa.Schema,
               dataset_id: str) -> Iterator[pa.RecordBatch]:
    """The rows in batches of CHUNK_ROWS (the last one smaller), whatever sizes the given ones have."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        if not batch.schema.equals(schema):
            raise TypeError(f"{dataset_id}: a batch has the schema {batch.schema}, not {schema}")
        pending.append(pa.RecordBatch.from_arrays(batch.columns, schema=schema))
        count += batch.num_rows
        if count >= CHUNK_ROWS:
            table = pa.Table.from_batches(pending, schema)
            whole = count - count % CHUNK_ROWS
            for start in range(0, whole, CHUNK_ROWS):
                yield table.slice(start, CHUNK_ROWS).combine_chunks().to_batches()[0]
            pending, count = table.slice(whole).to_batches(), count - whole
    if count:
        yield pa.Table.from_batches(pending, schema).combine_chunks().to_batches()[0]


def _checked_schema(schema: pa.Schema, dataset_id: str) -> pa.Schema:
    if not schema.names:
        raise ValueError(f"{dataset_id}: a dataset needs at least one column")
    for field in schema:
        if field.type not in TYPES:
            raise TypeError(f"{dataset_id}: column {field.name!r} is {field.type}; cast it to one of "
                            f"{', '.join(map(str, TYPES))} before writing")
    return schema.remove_metadata()


class _Worker:
    """One thread that does the writing (hashing, compressing) of one chunk while the main thread
    builds the next: at most two chunks are held, and each file gets its writes in order."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="writers")
        self.queued: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        self.running: list[Future[Any]] = []

    def later(self, job: Callable[..., Any], *args: Any) -> None:
        self.queued.append((job, args))

    def send(self) -> None:
        for future in self.running:
            future.result()
        self.running = [self.pool.submit(job, *args) for job, args in self.queued]
        self.queued = []

    def finish(self) -> None:
        self.send()
        self.send()
        self.pool.shutdown()

    def abort(self) -> None:
        self.pool.shutdown(cancel_futures=True)


class _HashedFile:
    """A file that counts and hashes its bytes as they are written. It cannot seek, so zipfile
    streams its entries (with data descriptors) instead of going back to patch their headers."""

    def __init__(self, target: Path, name: str, format_id: str, **part: int) -> None:
        self.path, self.format_id, self.part = f"{target.name}/{name}", format_id, part
        self._file = open(target / name, "wb")  # noqa: SIM115 - closed by finish() or abort()
        self._sha, self._bytes = hashlib.sha256(), 0

    def write(self, data: Any) -> int:
        size = memoryview(data).nbytes
        self._sha.update(data)
        self._file.write(data)
        self._bytes += size
        return size

    def tell(self) -> int:
        return self._bytes

    def flush(self) -> None:
        self._file.flush()

    @property
    def closed(self) -> bool:
        return self._file.closed

    def finish(self, rows: int) -> Written:
        self._file.close()
        return Written(self.path, self.format_id, FORMATS[self.format_id][1], self._bytes,
                       f"sha256:{self._sha.hexdigest()}", rows, **self.part)

    def abort(self) -> None:
        self._file.close()


class _Chunk:
    """Up to CHUNK_ROWS rows and the text of their cells, shared by the formats."""

    def __init__(self, batch: pa.RecordBatch, first_row: int) -> None:
        self.batch, self.first_row, self.rows = batch, first_row, batch.num_rows
        self.texts = [_texts(column) for column in batch.columns]  # cell_text; null where it is ""
        self.shown = [_neutralised(text) if column.type == pa.string() else text  # as a spreadsheet gets it
                      for column, text in zip(batch.columns, self.texts, strict=True)]


def _texts(column: pa.Array) -> pa.Array:
    if column.type == pa.string():
        return column
    if column.type == pa.bool_():
        return pc.if_else(column, "true", "false")
    if column.type == pa.float64():
        return _float_texts(column)
    return pc.cast(column, pa.string())  # int64 as digits, date32 as ISO 8601


def _float_texts(values: pa.Array) -> pa.Array:
    """cell_text of floats (str(int(v)) when integral, else repr(v)); null for null and NaN."""
    values = pc.if_else(pc.is_nan(values), pa.scalar(None, pa.float64()), values)
    texts = pc.cast(values, pa.string())  # the shortest digits, as repr, but not always laid out as repr
    size = pc.abs(values)
    whole = pc.fill_null(pc.and_(pc.equal(pc.trunc(values), values), pc.less(size, 2.0**63)), False)
    # Arrow's text is repr's when 1e-4 <= |v| and Arrow writes no exponent (also for inf and -inf)
    same = pc.and_(pc.fill_null(pc.greater_equal(size, 1e-4), False), pc.invert(_holding(texts, b"e")))
    rare = pc.and_(pc.is_valid(values), pc.invert(pc.or_(whole, same)))
    if pc.any(whole).as_py():
        texts = pc.replace_with_mask(texts, whole, pc.cast(pc.cast(pc.filter(values, whole), pa.int64()),
                                                           pa.string()))
    return _per_distinct(texts, rare, values, cell_text)


def _per_distinct(texts: pa.Array, mask: pa.Array, values: pa.Array,
                  render: Callable[[Any], str]) -> pa.Array:
    """texts with render(value) where mask is set; Python runs once per distinct value."""
    if not pc.any(mask).as_py():
        return texts
    picked = pc.filter(values, mask)
    distinct = pc.unique(picked)
    rendered = pa.array([render(value) for value in distinct.to_pylist()], pa.string())
    return pc.replace_with_mask(texts, mask, pc.take(rendered, pc.index_in(picked, distinct)))


def _replaced(texts: pa.Array, mask: pa.Array, replace: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """texts with replace() applied to the masked values only (usually few or none)."""
    if not pc.any(mask).as_py():
        return texts
    return pc.replace_with_mask(texts, mask, replace(pc.filter(texts, mask)))


def _substituted(texts: pa.Array, substitutions: dict[str, str]) -> pa.Array:
    for old, new in substitutions.items():
        texts = pc.replace_substring(texts, old, new)
    return texts


def _joined(*pieces: Any) -> pa.Array:
    """Pieces (arrays or str) glued row by row; null where an array piece is null."""
    return pc.binary_join_element_wise(*pieces, "")


def _glued(pieces: list[Any], rows: int) -> pa.Array:
    """Pieces (arrays without nulls, or str) glued row by row, in one pass: every piece costs time,
    so neighbouring str are merged first."""
    merged: list[Any] = []
    for piece in pieces:
        if isinstance(piece, str) and merged and isinstance(merged[-1], str):
            merged[-1] += piece
        else:
            merged.append(piece)
    if len(merged) == 1 and isinstance(merged[0], str):
        size = len(data := merged[0].encode())
        return pa.StringArray.from_buffers(rows, pa.py_buffer(np.arange(rows + 1, dtype=np.int32) * size),
                                           pa.py_buffer(data * rows))
    return _joined(*merged)


def _wrapped(head: str, values: pa.Array, tail: str, missing: str) -> list[Any]:
    """The pieces of head + value + tail, or of `missing` where the value is null."""
    if values.null_count == len(values):
        return [missing]
    if values.null_count == 0:
        return [head, values, tail]
    return [pc.fill_null(_joined(head, values, tail), missing)]


def _layout(texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (from 0) and UTF-8 bytes of a string array, without copying."""
    offsets = np.frombuffer(texts.buffers()[1], np.int32)[texts.offset:texts.offset + len(texts) + 1]
    data = texts.buffers()[2]
    body = np.frombuffer(data, np.uint8)[offsets[0]:offsets[-1]] if data else np.empty(0, np.uint8)
    return offsets - offsets[0], body


def _byte_class(chars: bytes) -> np.ndarray:
    table = np.zeros(256, bool)
    table[list(chars)] = True
    return table


def _mask(found: np.ndarray, texts: pa.Array) -> pa.Array:
    mask = pa.array(found)
    return pc.and_(mask, pc.is_valid(texts)) if texts.null_count else mask


def _holding(texts: pa.Array, chars: bytes) -> pa.Array:
    """Per value: whether its UTF-8 holds one of these bytes; False for null."""
    offsets, body = _layout(texts)
    hits = np.flatnonzero(_byte_class(chars)[body])
    found = np.zeros(len(texts), bool)
    found[np.searchsorted(offsets, hits, side="right") - 1] = True
    return _mask(found, texts)


def _edged(texts: pa.Array, first: bytes = b"", last: bytes = b"") -> pa.Array:
    """Per value: whether its first byte is one of `first` or its last one of `last`."""
    offsets, body = _layout(texts)
    filled = offsets[1:] > offsets[:-1]
    found = np.zeros(len(texts), bool)
    if body.size:
        found |= filled & _byte_class(first)[body[np.where(filled, offsets[:-1], 0)]]
        found |= filled & _byte_class(last)[body[np.where(filled, offsets[1:] - 1, 0)]]
    return _mask(found, texts)


def _neutralised(texts: pa.Array) -> pa.Array:
    """A leading apostrophe on text a spreadsheet would run as a formula (as formats.neutralised)."""
    return _replaced(texts, _edged(texts, first=b"=+-@\t\r"), lambda t: _joined("'", t))


def _bytes_of(lines: pa.Array, start: int, stop: int) -> memoryview:
    """The UTF-8 bytes of lines[start:stop] (no nulls), straight from the array's data buffer."""
    offsets, body = _layout(lines)
    return memoryview(body[offsets[start]:offsets[stop]])


def _header(names: list[str], delimiter: str) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerow(names)
    return buffer.getvalue().encode("utf-8")


class _CsvWriter:
    """CSV (",") or Excel CSV (BOM, ";", decimal comma, in parts of at most max_rows rows)."""

    def __init__(self, worker: _Worker, target: Path, dataset_id: str, schema: pa.Schema, format_id: str,
                 rows: int, max_rows: int | None) -> None:
        self.worker, self.target, self.dataset_id, self.format_id = worker, target, dataset_id, format_id
        self.types = schema.types
        self.excel = format_id == "excel-csv"
        self.delimiter = ";" if self.excel else ","
        self.header = (b"\xef\xbb\xbf" if self.excel else b"") + _header(schema.names, self.delimiter)
        self.max_rows = max_rows if max_rows is not None and rows > max_rows else None
        self.parts = -(-rows // self.max_rows) if self.max_rows else None
        self.files: list[_HashedFile] = []
        self.counts: list[int] = []
        self._open()

    def _open(self) -> None:
        suffix, part = FORMATS[self.format_id][0], len(self.files) + 1
        if self.parts is None:
            file = _HashedFile(self.target, self.dataset_id + suffix, self.format_id)
        elif part > self.parts:
            raise ValueError(f"{self.dataset_id}: more rows than the {self.parts} parts of rows= can hold")
        else:
            number = str(part).zfill(max(2, len(str(self.parts))))
            file = _HashedFile(self.target, f"{self.dataset_id}.del{number}{suffix}", self.format_id,
                               part=part, parts=self.parts)
        self.files.append(file)
        self.counts.append(0)
        self.worker.later(file.write, self.header)

    def write(self, chunk: _Chunk) -> None:
        pieces = [piece for shown, kind in zip(chunk.shown, self.types, strict=True)
                  for piece in [self.delimiter, *self._field(shown, kind)]]
        lines = _glued([*pieces[1:], "\r\n"], chunk.rows)
        done = 0
        while done < chunk.rows:
            if self.max_rows is not None and self.counts[-1] == self.max_rows:
                self._open()
            room = chunk.rows - done if self.max_rows is None else self.max_rows - self.counts[-1]
            take = min(chunk.rows - done, room)
            self.worker.later(self.files[-1].write, _bytes_of(lines, done, done + take))
            self.counts[-1] += take
            done += take

    def _field(self, texts: pa.Array, kind: pa.DataType) -> list[Any]:
        """Text columns come neutralised; Excel CSV has a decimal comma in float columns."""
        alone = len(self.types) == 1  # csv.writer writes a row of one empty field as ""
        if texts.null_count == len(texts):
            return ['""' if alone else ""]
        fields = pc.fill_null(texts, "")
        if kind == pa.float64() and self.excel:
            fields = pc.replace_substring(fields, ".", ",")
        if kind == pa.string():  # csv.writer's QUOTE_MINIMAL: fields with a delimiter, quote, CR or LF
            fields = _replaced(fields, _holding(fields, f'{self.delimiter}"\r\n'.encode()),
                               lambda t: _joined('"', pc.replace_substring(t, '"', '""'), '"'))
        if alone:
            fields = pc.if_else(pc.equal(fields, ""), '""', fields)
        return [fields]

    def close(self) -> list[Written]:
        return [file.finish(count) for file, count in zip(self.files, self.counts, strict=True)]

    def abort(self) -> None:
        for file in self.files:
            file.abort()


class _JsonWriter:
    """json.dumps(rows, ensure_ascii=False, indent=2) + "\\n", a chunk of rows at a time."""

    def __init__(self, worker: _Worker, target: Path, dataset_id: str, schema: pa.Schema) -> None:
        self.worker, self.types, self.rows = worker, schema.types, 0
        self.file = _HashedFile(target, dataset_id + ".json", "json")
        keys = [json.dumps(name, ensure_ascii=False) for name in schema.names]
        self.pieces = [f",\n  {{\n    {keys[0]}: "] + [f",\n    {key}: " for key in keys[1:]]

    def write(self, chunk: _Chunk) -> None:
        pieces = [piece for text, kind, key in zip(chunk.texts, self.types, self.pieces, strict=True)
                  for piece in [key, *_json_value(text, kind)]]
        rows = _glued([*pieces, "\n  }"], chunk.rows)
        data = _bytes_of(rows, 0, chunk.rows)
        if self.rows == 0:  # the first row has no ",\n" before it
            self.worker.later(self.file.write, b"[\n")
            data = data[2:]
        self.worker.later(self.file.write, data)
        self.rows += chunk.rows

    def close(self) -> list[Written]:
        self.file.write(b"\n]\n" if self.rows else b"[]\n")
        return [self.file.finish(self.rows)]

    def abort(self) -> None:
        self.file.abort()


def _json_value(texts: pa.Array, kind: pa.DataType) -> list[Any]:
    if kind == pa.string():
        escaped = _replaced(texts, _holding(texts, CONTROLS + b'"\\'),
                            lambda t: _substituted(t, JSON_ESCAPES))
        escaped = _per_distinct(escaped, _holding(texts, RARE_CONTROLS), texts,
                                lambda text: json.dumps(text, ensure_ascii=False)[1:-1])
        return _wrapped('"', escaped, '"', "null")
    if kind == pa.date32():
        return _wrapped('"', texts, '"', "null")
    if kind == pa.float64():  # Infinity is not JSON (RFC 8259): an infinite value is null
        infinite = _edged(texts, last=b"f")
        if pc.any(infinite).as_py():
            texts = pc.if_else(infinite, pa.scalar(None, texts.type), texts)
    return _wrapped("", texts, "", "null")


class _ParquetWriter:
    """Parquet (zstd) in row groups of PARQUET_ROW_GROUP_ROWS rows."""

    def __init__(self, worker: _Worker, target: Path, dataset_id: str, schema: pa.Schema) -> None:
        self.worker, self.schema, self.pending, self.rows = worker, schema, [], 0
        self.file = _HashedFile(target, dataset_id + ".parquet", "parquet")
        self.writer = pq.ParquetWriter(self.file, schema, compression="zstd")

    def write(self, chunk: _Chunk) -> None:
        self.pending.append(chunk.batch)
        self.rows += chunk.rows
        pending = sum(batch.num_rows for batch in self.pending)
        if pending >= PARQUET_ROW_GROUP_ROWS:
            table = pa.Table.from_batches(self.pending, self.schema)
            full = pending - pending % PARQUET_ROW_GROUP_ROWS
            self.worker.later(self.writer.write_table, table.slice(0, full), PARQUET_ROW_GROUP_ROWS)
            self.pending = table.slice(full).to_batches()

    def close(self) -> list[Written]:
        if self.pending:
            self.writer.write_table(pa.Table.from_batches(self.pending, self.schema))
        self.writer.close()
        return [self.file.finish(self.rows)]

    def abort(self) -> None:
        with contextlib.suppress(Exception):  # so that it does not write to the closed file later
            self.writer.close()
        self.file.abort()


class _XlsxWriter:
    """xlsxwriter makes the workbook around the header row; the data rows of the sheet are made
    here, a chunk at a time, and streamed into the zip."""

    def __init__(self, worker: _Worker, target: Path, dataset_id: str, schema: pa.Schema, rows: int,
                 metadata: Sequence[Sequence[str]] | None = None) -> None:
        import xlsxwriter
        from xlsxwriter.utility import xl_col_to_name

        self.worker, self.rows = worker, rows
        self.columns = [xl_col_to_name(i) for i in range(len(schema))]
        buffer = io.BytesIO()
        book = xlsxwriter.Workbook(buffer, {"in_memory": True})
        sheet = book.add_worksheet(dataset_id[:31])
        plain, date = book.add_format(), book.add_format({"num_format": "yyyy-mm-dd"})
        for i, field in enumerate(schema):
            sheet.write_string(0, i, field.name, plain)
            if field.type == pa.date32():
                sheet.set_column(i, i, 11, date)
        sheet.freeze_panes(1, 0)
        if metadata is not None:
            _metadata_sheet(book, metadata)
        book.set_properties({"created": FIXED_TIME})
        book.close()
        self.date_style = date.xf_index
        skeleton = zipfile.ZipFile(buffer)
        self.entries = [(info.filename, skeleton.read(info)) for info in skeleton.infolist()]
        self.sheet = next(i for i, (name, _) in enumerate(self.entries) if name.startswith("xl/worksheets/"))
        head, tail = self.entries[self.sheet][1].split(b"</sheetData>")
        dimension = f'<dimension ref="A1:{self.columns[-1]}{rows + 1}"/>'.encode()
        self.head = re.sub(rb'<dimension ref="[^"]*"/>', dimension, head)
        self.tail = b"</sheetData>" + tail
        self.file = _HashedFile(target, dataset_id + ".xlsx", "xlsx")
        self.zip = zipfile.ZipFile(self.file, "w", zipfile.ZIP_DEFLATED)
        for name, data in self.entries[:self.sheet]:
            self.zip.writestr(_entry(name), data)
        self.stream: Any = None
        self.started = False

    def _start(self, estimate: float) -> None:  # with the first rows, to guess whether it needs ZIP64
        self.stream = self.zip.open(_entry(self.entries[self.sheet][0]), "w",
                                    force_zip64=estimate > zipfile.ZIP64_LIMIT / 2)
        self.stream.write(self.head)

    def write(self, chunk: _Chunk) -> None:
        first = chunk.first_row + 2
        numbers = pc.cast(pa.array(np.arange(first, first + chunk.rows)), pa.string())
        pieces = ['<row r="', numbers, '">']
        for column, shown, letter in zip(chunk.batch.columns, chunk.shown, self.columns, strict=True):
            pieces += _xlsx_cells(column, shown, f'<c r="{letter}', numbers, self.date_style)
        rows = _glued([*pieces, "</row>"], chunk.rows)
        data = _bytes_of(rows, 0, chunk.rows)
        if not self.started:
            self.worker.later(self._start, len(data) / chunk.rows * self.rows)
            self.started = True
        self.worker.later(lambda: self.stream.write(data))

    def close(self) -> list[Written]:
        if not self.started:
            self._start(0)
        self.stream.write(self.tail)
        self.stream.close()
        for name, data in self.entries[self.sheet + 1:]:
            self.zip.writestr(_entry(name), data)
        self.zip.close()
        return [self.file.finish(self.rows)]

    def abort(self) -> None:
        for close in (getattr(self.stream, "close", None), self.zip.close):
            with contextlib.suppress(Exception):
                if close is not None:
                    close()
        self.zip.fp = None  # even when closing failed (a full disk): no later write, at exit
        self.file.abort()


def _metadata_sheet(book: Any, rows: Sequence[Sequence[str]]) -> None:
    """The second sheet: rows of text as given (xlsxwriter writes control characters as Excel's
    _xHHHH_), the first row and the first one after each blank row (a section's header) and
    the first column in bold."""
    sheet = book.add_worksheet(METADATA_SHEET)
    bold = book.add_format({"bold": True})
    header = True
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            if text:
                sheet.write_string(r, c, text, bold if header or c == 0 else None)
        header = not row
    widths = [max((len(row[c]) for row in rows if len(row) > c), default=10)
              for c in range(max(map(len, rows), default=0))]
    for c, width in enumerate(widths):
        sheet.set_column(c, c, min(max(width, 10), 60))


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    if hasattr(info, "compress_level"):  # Python 3.13
        info.compress_level = XLSX_COMPRESSION_LEVEL
    else:
        info._compresslevel = XLSX_COMPRESSION_LEVEL
    return info


def _xlsx_cells(column: pa.Array, shown: pa.Array, ref: str, numbers: pa.Array,
                date_style: int) -> list[Any]:
    """The pieces of a column's cells in the rows (none for a missing value)."""
    if column.type == pa.string():
        return _string_cells(shown, ref, numbers)
    if column.type == pa.bool_():
        return _cells(ref, numbers, '" t="b"><v>', pc.if_else(column, "1", "0"), "</v></c>")
    if column.type == pa.int64():
        return _cells(ref, numbers, '"><v>', shown, "</v></c>")
    if column.type == pa.float64():  # inf and -inf are no numbers in a sheet: they become text
        big = pc.fill_null(pc.greater_equal(pc.abs(column), 1e16), False)  # Arrow's 1e+16, not 17 digits
        values = _replaced(shown, big, lambda _: pc.cast(pc.filter(column, big), pa.string()))
        finite = pc.is_finite(column)
        infinite = pc.fill_null(pc.and_(pc.invert(finite), pc.invert(pc.is_nan(column))), False)
        return _cells(ref, numbers, '"><v>', pc.if_else(finite, values, NO_TEXT), "</v></c>",
                      infinite, lambda: _texts_cells(shown, ref, numbers, infinite))
    days = pc.cast(column, pa.int32())  # dates before 1900 are no dates in a sheet: they become text
    serials = pc.add(pc.cast(days, pa.int64()), EXCEL_SERIAL)
    serials = pc.if_else(pc.less(days, EXCEL_LEAP_BUG_DAY), pc.subtract(serials, 1), serials)
    in_excel = pc.and_(pc.greater_equal(days, EXCEL_FIRST_DAY), pc.less_equal(days, EXCEL_LAST_DAY))
    serials = pc.if_else(in_excel, pc.cast(serials, pa.string()), NO_TEXT)
    odd = pc.fill_null(pc.invert(in_excel), False)
    return _cells(ref, numbers, f'" s="{date_style}"><v>', serials, "</v></c>",
                  odd, lambda: _texts_cells(shown, ref, numbers, odd))


def _cells(ref: str, numbers: pa.Array, head: str, values: pa.Array, tail: str,
           odd: pa.Array | None = None, odd_cells: Callable[[], pa.Array] | None = None) -> list[Any]:
    """The pieces of ref + number + head + value + tail, with odd_cells() where odd is set."""
    if odd is None or not pc.any(odd).as_py():
        if values.null_count == len(values):
            return []
        if values.null_count == 0:
            return [ref, numbers, head, values, tail]
    cells = _joined(ref, numbers, head, values, tail)
    if odd is not None and odd_cells is not None:
        cells = _replaced(cells, odd, lambda _: odd_cells())
    return [pc.fill_null(cells, "")]


def _texts_cells(texts: pa.Array, ref: str, numbers: pa.Array, mask: pa.Array) -> pa.Array:
    """Inline string cells for the masked rows only."""
    pieces = _string_cells(pc.filter(texts, mask), ref, pc.filter(numbers, mask))
    return pieces[0] if len(pieces) == 1 else _joined(*pieces)


def _string_cells(texts: pa.Array, ref: str, numbers: pa.Array) -> list[Any]:
    """Inline strings, XML escaped, with Excel's _xHHHH_ for what XML 1.0 cannot hold."""
    escaped = _replaced(texts, _holding(texts, b"&<>\r"), lambda t: _substituted(t, XML_ESCAPES))
    maybe = _holding(texts, RARE_CONTROLS + b"_\xbe\xbf")  # then looked at closer
    rare = _replaced(maybe, maybe, lambda _: pc.match_substring_regex(pc.filter(texts, maybe), XML_RARE))
    escaped = _per_distinct(escaped, rare, texts, _xml_text)
    spaced = _edged(texts, first=b" \t\n\r", last=b" \t\n\r")  # Excel would trim them without xml:space
    return _cells(ref, numbers, '" t="inlineStr"><is><t>', escaped, "</t></is></c>", spaced, lambda: _joined(
        ref, pc.filter(numbers, spaced), '" t="inlineStr"><is><t xml:space="preserve">',
        pc.filter(escaped, spaced), "</t></is></c>"))


def _xml_text(text: str) -> str:
    """XML-escaped text, with Excel's _xHHHH_ for characters XML 1.0 cannot hold and _x005F_ for the
    '_' of a literal _xHHHH_ (also of one that an escape right after it completes)."""
    for old, new in XML_ESCAPES.items():
        text = text.replace(old, new)
    text = XML_UNDERSCORE.sub("_x005F_", text)
    return XML_UNSAFE.sub(lambda match: f"_x{ord(match.group()):04X}_", text)
