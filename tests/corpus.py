"""A corpus of real-world department files, good and bad, built on the fly. Each case says what
the department delivered, the exact problems (type, row, field) the verdict must hold, and how
many rows must still publish."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook

AKT = "aktivitet_id,rapportar,mal_id,titel,forvaltning_id,status"
EKO = "forvaltning_id,verksamhet,ar,budget_tkr,utfall_tkr"
NYC = "nyckeltal_id,kommun_id,ar,kon,varde"


def akt(n: int, **change: str) -> str:
    values = {"aktivitet_id": f"A0{n:02d}", "rapportar": "2020", "mal_id": "O1",
              "titel": f"Aktivitet nummer {n}", "forvaltning_id": "social", "status": "pågående"}
    values.update(change)
    return ",".join(values.values())


def lines(*rows: str, end: str = "\n") -> bytes:
    return (end.join(rows) + end).encode("utf-8")


def workbook(rows: list[list], sheet: str = "ekonomi", merge: str | None = None,
             extra_sheet_first: bool = False) -> bytes:
    book = Workbook()
    if extra_sheet_first:
        book.active.title = "Instruktioner"
        book.active.append(["Fyll i fliken ekonomi"])
        worksheet = book.create_sheet(sheet)
    else:
        worksheet = book.active
        worksheet.title = sheet
    for row in rows:
        worksheet.append(row)
    if merge:
        worksheet.merge_cells(merge)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def with_cached_values(data: bytes, values: dict[str, str]) -> bytes:
    """Give formula cells the value Excel would have saved (openpyxl writes none)."""
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as out:
        for item in source.infolist():
            content = source.read(item)
            if item.filename.startswith("xl/worksheets/"):
                text = content.decode()
                for cell, value in values.items():
                    text = re.sub(rf'(<c r="{cell}"[^>]*><f>[^<]*</f>)<v\s*/>',
                                  rf"\g<1><v>{value}</v>", text)
                content = text.encode()
            out.writestr(item, content)
    return target.getvalue()


@dataclass
class Case:
    kind: str
    path: str  # relative to raw/
    content: bytes | Callable[[], bytes]
    problems: list[tuple[str, int | None, str | None]]
    published: int
    check: Callable[[list[dict]], None] | None = None
    extra: dict[str, bytes] = field(default_factory=dict)

    def data(self) -> bytes:
        return self.content() if callable(self.content) else self.content

    def write(self, root: Path) -> Path:
        path = root / self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.data())
        return path


def _values(field_name: str, expected: list):
    def check(records: list[dict]) -> None:
        got = [r[field_name] for r in records]
        assert [float(v) if v is not None and not isinstance(v, str) and field_name != "startdatum"
                else v for v in got] == expected, got
    return check


EKO_ROWS = [["social", "Hemtjänst", 2020, 1200, 1250], ["social", "LSS", 2020, 800, 790]]

CASES = [
    Case("utf-8 with BOM", "2020/social/aktiviteter.csv",
         b"\xef\xbb\xbf" + lines(AKT, akt(1), akt(2)), [], 2),
    Case("windows-1252, semicolon, decimal comma, space thousands", "2020/social/ekonomi.csv",
         "förvaltning;verksamhet;år;budget;utfall\nsocial;Äldreomsorg;2020;1 234,5;1 300\n"
         "social;Hemtjänst;2020;-12,5;0\n".encode("cp1252"), [], 2,
         _values("budget_tkr", [1234.5, -12.5])),
    Case("iso-8859-1", "2020/social/personal.csv",
         "forvaltning_id,ar,antal_anstallda,sjukfranvaro_procent\nsocial,2020,330,7.5\n"
         .encode("latin-1"), [], 1),
    Case("utf-16 tab-delimited (Excel Unicode text)", "2020/social/personal.csv",
         "forvaltning_id\tar\tantal_anstallda\nsocial\t2020\t330\n".encode("utf-16"), [], 1),
    Case("tab delimiter", "2020/social/aktiviteter.csv",
         lines(AKT.replace(",", "\t"), akt(1).replace(",", "\t")), [], 1),
    Case("no-break space thousands separator", "2020/social/ekonomi.csv",
         lines(EKO, "social,Hemtjänst,2020,\"1\u00a0200\",\"1\u202f250,5\"",
               "social,LSS,2020,\u22123,0"), [], 2,
         _values("utfall_tkr", [1250.5, 0.0])),
    Case("mixed delimiters", "2020/social/aktiviteter.csv",
         lines(AKT.replace(",", ";"), akt(1).replace(",", ";"), akt(2), akt(3).replace(",", ";")),
         [(3, "aktivitet_id", "constraint-error"), (3, "mal_id", "missing-cell"),
          (3, "titel", "missing-cell"), (3, "forvaltning_id", "missing-cell"),
          (3, "status", "missing-cell"), (3, "rapportar", "missing-cell")], 2),
    Case("ragged rows", "2020/social/aktiviteter.csv",
         lines(AKT, akt(1), "A002,2020,O1", akt(3) + ",extra"),
         [(3, "titel", "missing-cell"), (3, "forvaltning_id", "missing-cell"),
          (3, "status", "missing-cell"), (4, None, "extra-cell")], 1),
    Case("short first row (Frictionless would guess it is the header)",
         "2020/social/aktiviteter.csv", lines(AKT, "A001,2020,O1", akt(2)),
         [(2, "titel", "missing-cell"), (2, "forvaltning_id", "missing-cell"),
          (2, "status", "missing-cell")], 1),
    Case("duplicate keys", "2020/social/aktiviteter.csv",
         lines(AKT, akt(1), akt(1, titel="Samma id igen")),
         [(3, "aktivitet_id,rapportar", "primary-key")], 1),
    Case("empty file", "2020/social/aktiviteter.csv", b"", [(None, None, "empty-file")], 0),
    Case("header-only file", "2020/social/aktiviteter.csv", lines(AKT),
         [(None, None, "no-rows")], 0),
    Case("merged cells", "2020/social/ekonomi.xlsx",
         lambda: workbook([["forvaltning_id", "verksamhet", "ar", "budget_tkr", "utfall_tkr"],
                           ["social", "Hemtjänst", 2020, 100, 90], ["social", "LSS", 2020, 50, 60],
                           ["social", "IFO", 2020, 70, 70]], merge="B3:B4"),
         [(None, None, "strict-file-rejected"), (3, None, "merged-cells"),
          (4, None, "merged-cells"), (4, "verksamhet", "constraint-error")], 0),
    Case("title rows above the header", "2020/social/ekonomi.xlsx",
         lambda: workbook([["Ekonomirapport Socialförvaltningen 2020"], [],
                           ["Förvaltning", "Verksamhet", "År", "Budget", "Utfall"], *EKO_ROWS],
                          extra_sheet_first=True), [], 2),
    Case("formula without a saved value", "2020/social/ekonomi.xlsx",
         lambda: workbook([["forvaltning_id", "verksamhet", "ar", "budget_tkr", "utfall_tkr"],
                           ["social", "Hemtjänst", 2020, 100, "=D2*2"]]),
         [(None, None, "strict-file-rejected"), (2, None, "formula-without-value")], 0),
    Case("formula with its saved value", "2020/social/ekonomi.xlsx",
         lambda: with_cached_values(workbook(
             [["forvaltning_id", "verksamhet", "ar", "budget_tkr", "utfall_tkr"],
              ["social", "Hemtjänst", 2020, 100, "=D2*2"]]), {"E2": "200"}), [], 1,
         _values("utfall_tkr", [200.0])),
    Case("dates as Excel serials", "2020/social/fordon.xlsx",
         lambda: workbook([["fordon_id", "rapportar", "fordonstyp", "drivmedel",
                            "forvaltning_id", "i_trafik_fran"],
                           ["F050", 2020, "personbil", "el", "social", 43922]], sheet="fordon"),
         [], 1, lambda records: _assert_equal(str(records[0]["i_trafik_fran"]), "2020-04-01")),
    Case("wrong types", "2020/social/personal.csv",
         lines("forvaltning_id,ar,antal_anstallda,sjukfranvaro_procent", "social,2020,många,7.5"),
         [(2, "antal_anstallda", "type-error")], 0),
    Case("dates in the wrong format", "2020/social/fordon.csv",
         lines("fordon_id,rapportar,fordonstyp,drivmedel,forvaltning_id,i_trafik_fran",
               "F050,2020,personbil,el,social,31/03/2020",
               "F051,2020,personbil,el,social,2020-03-31 00:00:00"),
         [(2, "i_trafik_fran", "type-error")], 1),
    Case("unknown department", "2020/socialen/aktiviteter.csv", lines(AKT, akt(1)),
         [(None, None, "unknown-department")], 0),
    Case("year outside the programme (folder)", "2031/social/aktiviteter.csv",
         lines(AKT, akt(1)), [(None, None, "year-outside-programme")], 0),
    Case("year outside the programme (row)", "2020/social/aktiviteter.csv",
         lines(AKT, akt(1), akt(2, rapportar="2018")),
         [(3, "rapportar", "constraint-error")], 1),
    Case("unknown column", "2020/social/aktiviteter.csv",
         lines(AKT + ",ansvarig", akt(1) + ",Anna"), [(None, "ansvarig", "extra-label")], 0),
    Case("missing required column", "2020/social/aktiviteter.csv",
         lines(AKT.replace(",status", ""), akt(1).rsplit(",", 1)[0]),
         [(None, "status", "missing-label")], 0),
    Case("headers typed by hand", "2020/social/aktiviteter.csv",
         lines("Aktivitets-ID;RAPPORT ÅR;Mål;Titel;Förvaltning;  Status ",
               akt(1).replace(",", ";")), [], 1),
    Case("blank rows between rows", "2020/social/aktiviteter.csv",
         lines(AKT, akt(1), ",,,,,", akt(2)), [(3, None, "blank-row")], 2),
    Case("binary file named .csv", "2020/social/aktiviteter.csv", b"PK\x03\x04\x00\x00binary",
         [(None, None, "unreadable-file")], 0),
    Case("invalid JSON", "2020/social/nyckeltal.json", b'[{"nyckeltal_id": "N00090",',
         [(None, None, "unreadable-file")], 0),
    Case("Kolada API data response", "2020/social/nyckeltal.json",
         json.dumps({"count": 1, "values": [{"kpi": "N03935", "municipality": "0604",
                                              "period": 2020, "values": [
                                                  {"count": 1, "gender": "T", "status": "",
                                                   "value": 10.2},
                                                  {"count": 1, "gender": "K", "status": "",
                                                   "value": None}]}]}).encode(), [], 2),
    Case("JSON records with a bad code", "2020/social/nyckeltal.json",
         json.dumps([{"nyckeltal_id": "N03935", "kommun_id": "0604", "ar": 2020, "kon": "T",
                      "varde": 1}, {"nyckeltal_id": "N9999", "kommun_id": "0604", "ar": 2020,
                                    "kon": "X", "varde": 2}]).encode(),
         [(2, "kon", "constraint-error"), (2, "nyckeltal_id", "foreign-key")], 1),
    Case("unknown Agenda 2030 target", "2020/social/aktiviteter.csv",
         lines(AKT + ",sdg_delmal", akt(1) + ",3.4", akt(2) + ",11.12", akt(3) + ",\"18.1; 7.x\""),
         [(3, "sdg_delmal", "unknown-sdg-target"), (4, "sdg_delmal", "unknown-sdg-target"),
          (4, "sdg_delmal", "unknown-sdg-target")], 1),
    Case("strict report type with one bad row", "2020/social/ekonomi.csv",
         lines(EKO, "social,Hemtjänst,2020,1200,1250", "social,LSS,2020,800,x"),
         [(None, None, "strict-file-rejected"), (3, "utfall_tkr", "type-error")], 0),
    Case("unsupported format", "2020/social/aktiviteter.docx", b"not a report",
         [(None, None, "unsupported-format")], 0),
    Case("department does not match the folder", "2020/social/aktiviteter.csv",
         lines(AKT, akt(1), akt(2, forvaltning_id="kommunledning")),
         [(3, "forvaltning_id", "department-mismatch")], 1),
    Case("column without a header but with values", "2020/social/aktiviteter.csv",
         lines(AKT + ",", akt(1) + ",glömd"), [(None, "7", "blank-label")], 0),
    Case("trailing delimiters (empty unnamed columns)", "2020/social/aktiviteter.csv",
         lines(AKT + ",,", akt(1) + ",,", akt(2) + ",,"), [], 2),
    Case("decimal comma in a quoted comma-delimited cell", "2020/social/personal.csv",
         lines("forvaltning_id,ar,antal_anstallda,sjukfranvaro_procent", 'social,2020,330,"7,5"'),
         [], 1, _values("sjukfranvaro_procent", [7.5])),
    # one odd cell: the row is rejected or the character removed, never the release
    Case("BEL in a description (removed, a warning)", "2020/social/aktiviteter.csv",
         lines(AKT + ",beskrivning", akt(1) + ",Klistrat\x07 in", akt(2) + ",Vanlig text"),
         [(2, "beskrivning", "control-character")], 2,
         lambda records: _assert_equal(records[0]["beskrivning"], "Klistrat in")),
    Case("ESC in a title (removed, a warning)", "2020/social/aktiviteter.csv",
         lines(AKT, akt(1, titel="Ny\x1b[1m rubrik")),
         [(2, "titel", "control-character")], 1),
    Case("U+0085 NEXT LINE in a description (removed, a warning)",
         "2020/social/aktiviteter.csv",
         lines(AKT + ",beskrivning", akt(1) + ",rad ett\u0085rad två"),
         [(2, "beskrivning", "control-character")], 1),
    Case("U+202E RIGHT-TO-LEFT OVERRIDE in a title", "2020/social/aktiviteter.csv",
         lines(AKT, akt(1, titel="Faktura \u202efdp.exe"), akt(2)),
         [(2, "titel", "bidi-control")], 1),
    Case("U+2067-U+2069 isolates in descriptions", "2020/social/aktiviteter.csv",
         lines(AKT + ",beskrivning", akt(1) + ",a\u2067b", akt(2) + ",a\u2068b",
               akt(3) + ",a\u2069b", akt(4) + ",vanlig"),
         [(2, "beskrivning", "bidi-control"), (3, "beskrivning", "bidi-control"),
          (4, "beskrivning", "bidi-control")], 1),
    Case("a zero-width joiner in an id", "2020/social/aktiviteter.csv",
         lines(AKT, akt(1, aktivitet_id="A0\u200d12"), akt(2)),
         [(2, "aktivitet_id", "invisible-character")], 1),
    Case("INF, -INF, 1e309 and NaN in key-figure values", "2020/social/nyckeltal.csv",
         lines(NYC, "N03935,0604,2020,T,INF", "N03935,0604,2020,K,-INF",
               "N03935,0604,2020,M,1e309", "N03935,0000,2020,T,NaN", "N03935,0000,2020,K,12.5"),
         [(2, "varde", "not-finite"), (3, "varde", "not-finite"), (4, "varde", "not-finite"),
          (5, "varde", "not-finite")], 1),
    Case("Excel error values in a CSV (English and Swedish Excel)",
         "2020/social/nyckeltal.csv",
         lines(NYC, *(f"N03935,{kommun},2020,{kon},{error}" for (kommun, kon), error in zip(
             [(k, g) for k in ("0604", "0000", "0114") for g in "TKM"],
             ["#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#SAKNAS!",
              "#DIVISION/0!", "7.5"], strict=True))),
         [(n, "varde", "excel-error") for n in range(2, 10)], 1),
    Case("an Excel error value in a text column", "2020/social/aktiviteter.csv",
         lines(AKT, akt(1, titel="#N/A"), akt(2)), [(2, "titel", "excel-error")], 1),
    Case("an Excel error cell in a workbook", "2020/social/nyckeltal.xlsx",
         lambda: workbook([["nyckeltal_id", "kommun_id", "ar", "kon", "varde"],
                           ["N03935", "0604", 2020, "T", "#DIV/0!"],
                           ["N03935", "0604", 2020, "K", 3.5]], sheet="nyckeltal"),
         [(2, "varde", "excel-error")], 1),
]


def _assert_equal(got, expected):
    assert got == expected, (got, expected)
