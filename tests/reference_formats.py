"""The reference the streaming writers (flows/outputs/writers.py) are proven identical to: the
formats as the project first wrote them, row by row from a whole pandas DataFrame. Kept in the
tests as the definition of the published bytes of CSV, Excel CSV and JSON (tests/test_writers.py)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from flows.core.values import cell_text, json_value

FIXED_TIME = dt.datetime(2000, 1, 1)  # inside XLSX files, instead of the time of the run
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe
    (OWASP's advice for CSV injection); numbers, dates and other text are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value

def records(frame: pd.DataFrame) -> list[list[Any]]:
    return [list(row) for row in frame.astype(object).itertuples(index=False, name=None)]


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """RFC 4180: UTF-8, comma, CRLF, quotes only where needed, header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(frame.columns)
    writer.writerows([cell_text(neutralised(v)) for v in row] for row in records(frame))
    return buffer.getvalue().encode("utf-8")


def json_bytes(frame: pd.DataFrame) -> bytes:
    columns = list(frame.columns)
    rows = [dict(zip(columns, (json_value(v) for v in row), strict=True))
            for row in records(frame)]
    return (json.dumps(rows, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def excel_csv_bytes(frame: pd.DataFrame) -> bytes:
    """For Swedish Excel: UTF-8 with BOM (so å, ä, ö survive), semicolon, decimal comma, CRLF.
    No 'sep=' line (it breaks the BOM and other tools)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(frame.columns)
    numeric = [pd.api.types.is_float_dtype(frame[c].dtype) for c in frame.columns]
    writer.writerows([cell_text(v).replace(".", ",") if is_number else cell_text(neutralised(v))
                      for v, is_number in zip(row, numeric, strict=True)]
                     for row in records(frame))
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def xlsx_bytes(frame: pd.DataFrame, sheet: str) -> bytes:
    """A workbook with one sheet of typed cells; fixed times inside, so the bytes repeat."""
    from openpyxl import Workbook

    book = Workbook()
    worksheet = book.active
    worksheet.title = sheet[:31]
    worksheet.append(list(frame.columns))
    for row in records(frame):
        worksheet.append([neutralised(xlsx_value(v)) for v in row])
    worksheet.freeze_panes = "A2"
    book.properties.created = book.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    book.save(buffer)
    return _fixed_zip_times(buffer.getvalue())


def xlsx_value(value: Any) -> Any:
    value = json_value(value)
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _fixed_zip_times(data: bytes) -> bytes:
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            content = source.read(item)
            if item.filename == "docProps/core.xml":  # openpyxl stamps the time of saving
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)",
                                 rb"\g<1>2000-01-01T00:00:00Z\g<2>", content)
            out.writestr(info, content)
    return target.getvalue()


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()


# format id -> (file suffix, media type, writer); "csv" is the Data Package resource itself
RELEASE_FORMATS: dict[str, tuple[str, str]] = {
    "csv": (".csv", "text/csv"),
    "excel-csv": (".excel.csv", "text/csv"),
    "xlsx": (".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "json": (".json", "application/json"),
    "parquet": (".parquet", "application/vnd.apache.parquet"),
}


def render(format_id: str, frame: pd.DataFrame, dataset_id: str) -> bytes:
    if format_id == "csv":
        return csv_bytes(frame)
    if format_id == "excel-csv":
        return excel_csv_bytes(frame)
    if format_id == "xlsx":
        return xlsx_bytes(frame, dataset_id)
    if format_id == "json":
        return json_bytes(frame)
    return parquet_bytes(frame)
