"""Every published file of a release read the strict way: JSON and JSON-LD by a parser that
refuses NaN and Infinity (as browsers' JSON.parse and jq do), CSV by RFC 4180's grammar, XLSX
by opening it, RDF/XML and Turtle by an RDF parser, SQLite by its integrity check."""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from pathlib import Path

import pyarrow.parquet as pq
from openpyxl import load_workbook

BOM = "\ufeff"
# what validation keeps out of every published text (tab, CR and LF may stay in free text)
CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
ESCAPED = re.compile(r"\\u(00[01][0-9a-fA-F]|007[fF]|00[89][0-9a-fA-F]|202[a-eA-E]|206[6-9])")


class NotStrict(AssertionError):
    pass


def _refuse(constant: str):
    raise NotStrict(f"{constant} is not JSON (RFC 8259)")


def strict_json(data: bytes):
    """JSON as RFC 8259 has it: UTF-8 without a BOM, no NaN or Infinity."""
    text = data.decode("utf-8")
    if text.startswith(BOM):
        raise NotStrict("a BOM before JSON")
    return json.loads(text, parse_constant=_refuse)


def rfc4180(text: str, delimiter: str = ",") -> list[list[str]]:
    """The records of CSV text by RFC 4180's grammar (any Unicode in TEXTDATA, as RFC 7111 and
    W3C's CSV on the Web read it): fields quoted with doubled quotes or holding no quote,
    delimiter, CR or LF; CRLF between records; every record as wide as the header."""
    records, row, i, n = [], [], 0, len(text)
    plain = re.compile(f'[^"{re.escape(delimiter)}\r\n]*')
    while True:
        if text.startswith('"', i):
            parts, j = [], i + 1
            while True:
                k = text.find('"', j)
                if k < 0:
                    raise NotStrict(f"a quoted field that never ends, at character {i}")
                parts.append(text[j:k])
                if text.startswith('""', k):
                    parts.append('"')
                    j = k + 2
                    continue
                i = k + 1
                break
            row.append("".join(parts))
        else:
            end = plain.match(text, i).end()
            row.append(text[i:end])
            i = end
        if i == n:
            if row != [""]:
                records.append(row)
            break
        if text[i] == delimiter:
            i += 1
        elif text.startswith("\r\n", i):
            records.append(row)
            row, i = [], i + 2
            if i == n:
                break
        else:
            raise NotStrict(f"{text[i]!r} at character {i} where a delimiter or CRLF belongs")
    widths = {len(r) for r in records}
    if len(widths) > 1:
        raise NotStrict(f"records of different widths: {sorted(widths)}")
    return records


def check_file(path: Path) -> None:
    """Read one published file the strict way; raise NotStrict (an AssertionError) if not."""
    name, data = path.name, path.read_bytes()
    if name.endswith((".json", ".jsonld")):
        strict_json(data)
    elif name.endswith(".excel.csv"):  # Excel's dialect: a BOM, semicolons
        text = data.decode("utf-8")
        if not text.startswith(BOM):
            raise NotStrict("an Excel CSV without its BOM")
        rfc4180(text[1:], ";")
    elif name.endswith(".csv"):
        rfc4180(data.decode("utf-8"))
    elif name.endswith(".xlsx"):
        with path.open("rb") as handle:
            book = load_workbook(handle, read_only=True)
            for sheet in book.worksheets:
                for _ in sheet.iter_rows(values_only=True):
                    pass
            book.close()
    elif name.endswith(".parquet"):
        pq.read_table(path)
    elif name.endswith((".rdf", ".ttl")):
        from rdflib import Graph

        Graph().parse(data=data, format="xml" if name.endswith(".rdf") else "turtle")
    elif name.endswith(".db"):
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            if db.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                raise NotStrict("the SQLite database fails its integrity check")
    elif name.endswith(".pdf"):
        if not (data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")):
            raise NotStrict("not a complete PDF")
    elif name.endswith((".html", ".md", ".svg", ".css")) or name == "SHA256SUMS":
        data.decode("utf-8")


def check_release(folder: Path, clean_text: bool = True) -> int:
    """Every file of a release strictly parseable; with clean_text, no control or bidi
    character and only NFC text in the data files. Returns how many files were checked."""
    checked = 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        try:
            check_file(path)
            if clean_text and path.suffix in (".csv", ".json"):
                text = path.read_text(encoding="utf-8")
                found = CONTROLS.search(text)
                if found:
                    raise NotStrict(f"U+{ord(found.group()):04X} in published text")
                if ESCAPED.search(text):
                    raise NotStrict(f"{ESCAPED.search(text).group()} in published JSON")
                if not unicodedata.is_normalized("NFC", text):
                    raise NotStrict("text that is not NFC")
        except NotStrict as error:
            raise NotStrict(f"{path.relative_to(folder)}: {error}") from None
        checked += 1
    return checked
