"""Hostile cell values (issue 17): one odd cell never stops the release. The corpus's hostile
cases each publish everything else; arbitrary Unicode goes through every writer and the whole
release into files a strict parser reads; a failing `opendata run` says one line, not a screen
of tracebacks, and names its log."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import subprocess

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.outputs.release import write_release
from flows.outputs.writers import write_dataset
from flows.tables.datasets import build_tables

from conftest import OPENDATA, RAW, harness_url, validated
from corpus import CASES, Case
from strictness import NotStrict, check_file, check_release, rfc4180, strict_json

pytestmark = pytest.mark.slow  # hostile input fuzzed, whole releases

HOSTILE_TYPES = {"control-character", "bidi-control", "invisible-character", "not-finite",
                 "excel-error"}
HOSTILE = [c for c in CASES if {t for _, _, t in c.problems} & HOSTILE_TYPES]
# arbitrary Unicode: controls, unassigned and private-use code points, every plane; no
# surrogates (UTF-8 cannot hold a lone one, so no file can deliver it), with the characters
# the rules are about drawn often
ODD = "\x00\x07\x1b\x7f\x85\x9f\u200b\u200d\u2028\u202a\u202e\u2066\u2069\ufeff\ufffe\U0010ffff"
ANY_TEXT = st.text(st.one_of(st.characters(exclude_categories=("Cs",)), st.sampled_from(ODD),
                             st.sampled_from("\t\r\n\"';,=+-@e.0A\u030a")), max_size=40)


def _groups(cases: list[Case]) -> list[list[Case]]:
    """The cases in as few raw trees as they fit: one case per report of a department-year."""
    groups: list[list[Case]] = []
    for case in cases:
        report = case.path.rsplit(".", 1)[0]
        fits = next((g for g in groups if all(c.path.rsplit(".", 1)[0] != report for c in g)),
                    None)
        if fits is None:
            groups.append([case])
        else:
            fits.append(case)
    return groups


def _deliver(cases: list[Case], root):
    """The shipped raw/ of the other years (the corpus's made-up 2020 ids would clash with
    the shipped 2020 ones), and the cases."""
    shutil.copytree(RAW, root, ignore=lambda folder, _: ["2020"] if folder == str(RAW) else [])
    for case in cases:
        case.write(root)
    return root


def test_the_hostile_cases_are_in_the_corpus():
    kinds = {t for c in HOSTILE for _, _, t in c.problems}
    assert kinds == HOSTILE_TYPES
    assert len(HOSTILE) >= 10


# --- the strict reader itself: it must fail where it should --------------------------------
@pytest.mark.parametrize("data", [b'{"a": NaN}', b'[Infinity]', b'[-Infinity]',
                                  "\ufeff[1]".encode(), b"[1,]"])
def test_the_strict_json_reader_refuses_what_is_not_json(data):
    with pytest.raises((NotStrict, ValueError)):
        strict_json(data)


@pytest.mark.parametrize("text", ['a,b\na,b\n', 'a,b\r\n"x,b\r\n', 'a,b\r\nx"y,b\r\n',
                                  'a,b\r\n1,2,3\r\n', 'a,b\r\n"x"y,b\r\n'])
def test_the_rfc4180_reader_refuses_what_is_not_rfc4180(text):
    with pytest.raises(NotStrict):
        rfc4180(text)


def test_the_rfc4180_reader_reads_quoted_quotes_and_line_breaks():
    assert rfc4180('a,b\r\n"x ""y""\r\nz",\r\n') == [["a", "b"], ['x "y"\r\nz', ""]]


# --- the hostile corpus: each case publishes everything else -------------------------------
@pytest.mark.parametrize("group", _groups(HOSTILE),
                         ids=lambda g: " + ".join(c.kind[:24] for c in g))
def test_each_hostile_case_publishes_everything_else(group, tmp_path, register):
    raw = _deliver(group, tmp_path / "raw")
    results = validated(raw, register)
    by_file = {r.file: r for r in results}
    for result in results:
        assert result.rows_read == result.rows_published + result.rows_rejected, result.file
        case = next((c for c in group if c.path == result.file), None)
        if case is None:  # every other delivery publishes whole
            assert result.problems == [] and result.rows_published == result.rows_read
        else:
            assert sorted((p.row, p.field, p.type) for p in result.problems) == sorted(
                case.problems), case.kind
            assert result.rows_published == case.published, case.kind
    assert all(c.path in by_file for c in group)

    release = write_release(build_tables(results, register), register, tmp_path / "out")
    assert release.fallbacks == {}
    assert set(release.rows) == {d for d, spec in register.datasets.items() if spec.published}
    assert check_release(release.path) > 100


# --- arbitrary text through every writer ---------------------------------------------------
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.one_of(st.none(), ANY_TEXT), min_size=0, max_size=12),
       numbers=st.lists(st.one_of(st.none(), st.floats()), min_size=12, max_size=12))
def test_any_text_and_any_number_make_files_a_strict_parser_reads(tmp_path_factory, texts,
                                                                  numbers):
    folder = tmp_path_factory.mktemp("writers")
    table = pa.table({"titel": pa.array(texts, pa.string()),
                      "varde": pa.array(numbers[:len(texts)], pa.float64()),
                      "ar": pa.array(range(len(texts)), pa.int64())})
    files = write_dataset(table.to_batches(), folder, "t", table.num_rows, schema=table.schema)
    assert {f.format for f in files} == {"csv", "excel-csv", "xlsx", "json", "parquet"}
    for item in files:
        check_file(folder / item.path)
    records = strict_json((folder / "t" / "t.json").read_bytes())
    assert [r["titel"] for r in records] == texts  # JSON holds any text exactly
    assert [r["varde"] for r in records] == [
        None if v is None or v != v or v in (float("inf"), float("-inf")) else v
        for v in numbers[:len(texts)]]
    assert pq.read_table(folder / "t" / "t.parquet").column("titel").to_pylist() == texts
    rows = rfc4180((folder / "t" / "t.csv").read_bytes().decode("utf-8"))
    assert len(rows) == len(texts) + 1


def _delivery(fmt: str, titles: list[str], descriptions: list[str]) -> bytes:
    fields = ["aktivitet_id", "rapportar", "mal_id", "titel", "beskrivning", "forvaltning_id",
              "status"]
    rows = [[f"A{n:03d}", "2020", "O1", title, text, "social", "pågående"]
            for n, (title, text) in enumerate(zip(titles, descriptions, strict=True), start=1)]
    rows.append(["A900", "2020", "O1", "En vanlig aktivitet", "", "social", "pågående"])
    if fmt == "json":
        return json.dumps([dict(zip(fields, row, strict=True)) for row in rows],
                          ensure_ascii=False).encode("utf-8")
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows([fields, *rows])
    return buffer.getvalue().encode("utf-8")


# Each example is a whole release (seconds): two per format, each with up to 10 texts (it was
# six examples of up to 5, either format), as much text through the release for fewer of them.
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(titles=st.lists(ANY_TEXT, min_size=1, max_size=10), data=st.data())
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_any_delivered_text_gives_a_release_a_strict_parser_reads(tmp_path_factory, register,
                                                                  titles, data, fmt):
    """Through validation, the tables, every writer, the portal, the PDF report, the database
    and the catalogue: the release is written and every file of it reads strictly."""
    descriptions = data.draw(st.lists(ANY_TEXT, min_size=len(titles), max_size=len(titles)))
    tmp = tmp_path_factory.mktemp("release")
    delivered = tmp / "raw" / "2020" / "social" / f"aktiviteter.{fmt}"
    delivered.parent.mkdir(parents=True)
    delivered.write_bytes(_delivery(fmt, titles, descriptions))
    for other in ("2020/kommunledning/aktiviteter.csv", "2020/social/nyckeltal.csv"):
        (tmp / "raw" / other).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(RAW / other, tmp / "raw" / other)
    results = validated(tmp / "raw", register)
    for result in results:
        assert result.rows_read == result.rows_published + result.rows_rejected
    release = write_release(build_tables(results, register), register, tmp / "out")
    assert release.fallbacks == {}
    check_release(release.path)
    with sqlite3.connect(release.path / "opendata.db") as db:
        [(count,)] = db.execute("select count(*) from aktiviteter")
    assert count == release.rows["aktiviteter"]


# --- the console: one clear line and the log named -----------------------------------------
def _run(tmp_path, raw, out):
    """`opendata run` in its own process, on the session's Prefect test server (Prefect's
    temporary server, which costs seconds to start, has tests of its own)."""
    return subprocess.run(
        [OPENDATA, "run", "--raw", str(raw), "--out", str(out), "--reports",
         str(tmp_path / "reports"), "--state", str(tmp_path / "state")],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"),
             "PREFECT_API_URL": harness_url(), "COLUMNS": "200"})


@pytest.mark.usefixtures("prefect_harness")
def test_a_run_with_hostile_cells_exits_0_and_a_failed_run_says_one_line(tmp_path):
    raw = tmp_path / "raw"
    for case in _groups(HOSTILE)[0]:
        case.write(raw)
    shutil.copytree(RAW / "2020" / "kommunledning", raw / "2020" / "kommunledning")
    done = _run(tmp_path, raw, tmp_path / "published")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "Publicerad / published" in done.stdout
    assert check_release((tmp_path / "published" / "latest").resolve()) > 100

    (tmp_path / "not-a-folder").write_text("")
    failed = _run(tmp_path, raw, tmp_path / "not-a-folder")
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines() == [
        f"Körningen startade inte / the run did not start: {tmp_path / 'not-a-folder'} är ingen "
        "mapp. Ta bort eller flytta filen, eller välj en annan mapp. / "
        f"{tmp_path / 'not-a-folder'} is not a folder. Remove or move the file, or choose "
        "another folder."], failed.stderr
