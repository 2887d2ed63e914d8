"""Nothing personal leaks and no formula runs: personal data seeded into reports appears in no
published file (any format, the portal, the database, the catalogue), the internal report
lists each; text cells that would run as spreadsheet formulas are neutralised."""

import gzip
import io
import shutil
import sqlite3

import pandas as pd
import pytest
from openpyxl import load_workbook

from flows.checks.delivery import check_file
from flows.checks.privacy import find_personal, luhn_ok
from flows.intake.discover import discover
from flows.outputs.release import write_release
from flows.tables.datasets import build_tables

from conftest import RAW, validated, written

pytestmark = pytest.mark.slow  # whole releases in every format

SEEDED = {
    "personnummer": "811218-9876",
    "personnummer (12 siffror)": "198112189876",
    "samordningsnummer": "701063-2391",
    "e-post": "anna.svensson@exempel.se",
    "telefonnummer": "070-123 45 67",
}


@pytest.mark.parametrize("text, kinds", [
    ("811218-9876", ["personnummer"]),
    ("19811218-9876", ["personnummer"]),
    ("811218+9876", ["personnummer"]),
    ("8112189876", ["personnummer"]),
    ("701063-2391", ["samordningsnummer"]),
    ("811218-9875", []),  # wrong check digit
    ("811318-9876", []),  # no 13th month
    ("mejla a.b@c.se nu", ["e-post"]),
    ("tel +46 70 123 45 67", ["telefonnummer"]),
    ("tel 036-10 20 30", ["telefonnummer"]),
    ("Mellan 2019-01-01 och 2021-12-31, kommun 0604, 1 250 000 kr", []),
])
def test_personal_data_is_found_and_nothing_else(text, kinds):
    assert [kind for kind, _ in find_personal(text)] == kinds


def test_luhn():
    assert luhn_ok("8112189876") and not luhn_ok("8112189875")


def test_formula_cells_are_neutralised_and_numbers_stay_numbers(tmp_path):
    frame = pd.DataFrame({"text": pd.Series(["=1+1", "+46", "-x", "@SUM(A1)", "\tx", "ok"],
                                            dtype="string"),
                          "number": pd.Series([-1.5, 2.0, -3.0, 0.0, 1.0, 5.0], dtype="Float64")})
    files = written(frame, tmp_path)
    plain = pd.read_csv(io.BytesIO(files["csv"]), dtype=str)
    assert list(plain.text) == ["'=1+1", "'+46", "'-x", "'@SUM(A1)", "'\tx", "ok"]
    assert list(plain.number) == ["-1.5", "2", "-3", "0", "1", "5"]
    excel = pd.read_csv(io.BytesIO(files["excel-csv"]), sep=";", dtype=str,
                        encoding="utf-8-sig")
    assert excel.text[0] == "'=1+1" and excel.number[0] == "-1,5"
    sheet = load_workbook(io.BytesIO(files["xlsx"])).active
    assert sheet["A2"].value == "'=1+1" and sheet["A2"].data_type == "s"
    assert sheet["B2"].value == -1.5 and sheet["B2"].data_type == "n"


def to_csv_line(cells):
    buffer = io.StringIO()
    __import__("csv").writer(buffer, lineterminator="").writerow(cells)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def seeded_release(tmp_path_factory, register):
    tmp = tmp_path_factory.mktemp("privacy")
    raw = tmp / "raw"
    shutil.copytree(RAW, raw)
    target = raw / "2021" / "social" / "aktiviteter.csv"
    lines = target.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    column = header.index("beskrivning")
    seeded = []
    for number, (kind, value) in enumerate(SEEDED.items(), start=1):
        cells = next(__import__("csv").reader([lines[number]]))
        cells[column] = f"Kontakt för {kind}: {value}"
        seeded.append((number + 1, kind))
        lines[number] = to_csv_line(cells)
    cells = next(__import__("csv").reader([lines[-1]]))
    cells[header.index("titel")] = '=HYPERLINK("http://x")'
    lines[-1] = to_csv_line(cells)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = validated(raw, register)
    release = write_release(build_tables(results, register), register, tmp / "out")
    return release, results, seeded


def test_seeded_personal_data_appears_in_no_published_file(seeded_release):
    release, _, _ = seeded_release
    needles = [v for v in SEEDED.values()] + ["8112189876", "anna.svensson"]
    for path in release.path.rglob("*"):
        if not path.is_file():
            continue
        if path.suffix == ".xlsx":
            text = " ".join(str(c.value) for row in load_workbook(path).active.iter_rows()
                            for c in row)
        elif path.suffix == ".parquet":
            text = pd.read_parquet(path).to_csv()
        elif path.suffix == ".db":
            with sqlite3.connect(path) as db:
                text = " ".join(str(row) for table, in db.execute(
                    "select name from sqlite_master where type='table'")
                    for row in db.execute(f'select * from "{table}"'))
        elif path.suffix.startswith(".pf_"):  # the search index (#15): gzip-compressed
            text = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
        else:
            text = path.read_bytes().decode("utf-8", errors="replace")
        for needle in needles:
            assert needle not in text, (path, needle)


def test_the_internal_report_lists_every_withheld_value(seeded_release):
    _, results, seeded = seeded_release
    [result] = [r for r in results if r.file == "2021/social/aktiviteter.csv"]
    found = [(p.row, p.field, p.type) for p in result.problems if p.type == "personal-data"]
    assert found == [(row, "beskrivning", "personal-data") for row, _ in seeded]
    assert all("****" in p.value or "***" in p.value for p in result.problems
               if p.type == "personal-data")
    assert result.rows_published == result.rows_read  # the cells are withheld, not the rows


def test_a_formula_title_is_neutralised_in_csv_and_xlsx(seeded_release):
    release, _, _ = seeded_release
    plain = pd.read_csv(release.path / "aktiviteter" / "aktiviteter.csv", dtype=str)
    assert "'=HYPERLINK(\"http://x\")" in set(plain.titel)
    sheet = load_workbook(release.path / "aktiviteter" / "aktiviteter.xlsx").active
    assert all(not (isinstance(c.value, str) and c.value.startswith("="))
               for row in sheet.iter_rows() for c in row)


def test_hostile_files_are_refused_with_a_clear_error(tmp_path, register, monkeypatch):
    import zipfile

    from flows.intake import discover as discovery
    from flows.intake.discover import RawFile

    root = tmp_path / "raw"
    (root / "2020" / "social").mkdir(parents=True)
    secret = tmp_path / "secret.csv"
    secret.write_text("hemligt\n", encoding="utf-8")
    (root / "2020" / "social" / "personal.csv").symlink_to(secret)
    outside = tmp_path / "elsewhere"
    (outside / "social").mkdir(parents=True)
    (outside / "social" / "ekonomi.csv").write_text("x\n", encoding="utf-8")
    (root / "2021").symlink_to(outside)  # a linked folder is not followed at all
    big = root / "2020" / "social" / "fordon.csv"
    big.write_text("x" * 2000, encoding="utf-8")
    found = discovery.discover(root, register, max_bytes=1000)
    assert sorted((p.file, p.type) for p in found.rejected) == [
        ("2020/social/fordon.csv", "file-too-large"),
        ("2020/social/personal.csv", "unsafe-path")]
    assert found.files == []

    bomb = tmp_path / "ekonomi.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (250 * 2**20))
    raw = RawFile(path=bomb, name="2020/social/ekonomi.xlsx", year=2020, department="social",
                  report_type="ekonomi", format="xlsx")
    verdict = check_file(raw, register)
    assert [p.type for p in verdict.problems] == ["unreadable-file"]
    assert "packas upp" in verdict.problems[0].message_sv

    long = tmp_path / "aktiviteter.csv"
    long.write_text("aktivitet_id,rapportar,mal_id,titel,forvaltning_id,status,beskrivning\n"
                    "A001,2020,O1,Titel ett,social,planerad,kort\n"
                    f"A002,2020,O1,Titel två,social,planerad,{'x' * 200_000}\n",
                    encoding="utf-8")
    raw = RawFile(path=long, name="2020/social/aktiviteter.csv", year=2020,
                  department="social", report_type="aktiviteter", format="csv")
    verdict = check_file(raw, register)
    assert [(p.row, p.type) for p in verdict.problems] == [(3, "cell-too-long"),
                                                            (3, "constraint-error")]
    assert verdict.rows_published == 1


def test_fields_marked_never_published_are_read_but_never_published(tmp_path):
    import yaml

    from flows.core.register import load_register
    from flows.core.settings import PROJECT_ROOT

    schemas = tmp_path / "schemas"
    shutil.copytree(PROJECT_ROOT / "schemas", schemas)
    path = schemas / "personal.schema.yaml"
    descriptor = yaml.safe_load(path.read_text(encoding="utf-8"))
    descriptor["fields"].append({
        "name": "kontaktperson", "type": "string", "published": False,
        "title": "Kontaktperson", "description": "Vem som lämnat uppgifterna (publiceras inte).",
        "en": {"title": "Contact", "description": "Who delivered the figures (never published)."}})
    path.write_text(yaml.safe_dump(descriptor, allow_unicode=True), encoding="utf-8")
    register = load_register(schemas)
    raw = tmp_path / "raw" / "2020" / "social"
    raw.mkdir(parents=True)
    (raw / "personal.csv").write_text("forvaltning_id,ar,antal_anstallda,kontaktperson\n"
                                      "social,2020,330,Anna Andersson\n", encoding="utf-8")
    found = discover(tmp_path / "raw", register)
    results = [check_file(f, register) for f in found.files]
    assert results[0].records[0]["kontaktperson"] == "Anna Andersson"  # read and validated
    release = write_release(build_tables(results, register), register, tmp_path / "out")
    published = (release.path / "personal" / "personal.csv").read_text(encoding="utf-8")
    assert "kontaktperson" not in published and "Anna Andersson" not in published
    for file in release.path.rglob("*"):
        if file.is_file() and file.suffix in (".json", ".html", ".csv", ".md", ".rdf"):
            assert "Anna Andersson" not in file.read_text(encoding="utf-8", errors="replace")


def test_personal_data_in_a_required_field_rejects_the_row_not_the_release(tmp_path, register):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    target = raw / "2021" / "social" / "ekonomi.csv"
    target.write_text(target.read_text(encoding="utf-8").replace(
        "Hemtjänst", "Hemtjänst (chef: anna.svensson@aneby.se)", 1), encoding="utf-8")
    results = validated(raw, register)
    [economy] = [r for r in results if r.file == "2021/social/ekonomi.csv"]
    assert "personal-data" in {p.type for p in economy.problems}
    release = write_release(build_tables(results, register), register, tmp_path / "out")
    assert "anna.svensson" not in (release.path / "ekonomi" / "ekonomi.csv").read_text("utf-8")
