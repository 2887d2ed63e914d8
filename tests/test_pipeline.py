"""End-to-end: the real Prefect flow on real files, under one session-wide Prefect harness."""

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.processes import stop_server

from conftest import OPENDATA, free_port, port_is_free, wait_for_port

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_harness")]

INITIATIVES = ["ekonomi i balans", "näringsliv", "Vireda skola", "Hälsocenter", "civilsamhälle",
               "Agenda 2030", "elhybrid", "förebyggande", "trafikmiljö", "attraktiv arbetsgivare"]


def run_flow(raw: Path, tmp_path: Path):
    from flows.pipeline import publish_open_data

    state = publish_open_data(raw_dir=raw, out_dir=tmp_path / "published",
                              reports_dir=tmp_path / "reports", state_dir=tmp_path / "state",
                              return_state=True)
    return state, state.result(raise_on_failure=False)


def read(out: Path, dataset_id: str) -> pd.DataFrame:
    return pd.read_csv(out / "latest" / dataset_id / f"{dataset_id}.csv", dtype=str,
                       keep_default_na=False)


@pytest.fixture(scope="module")
def shipped(shipped_site):
    """The shipped raw/ published once by the flow (for the whole run) for the module's checks."""
    return shipped_site


def test_shipped_reports_publish_a_release_that_frictionless_validates(shipped):
    tmp, state, summary = shipped
    assert state.is_completed(), state.message
    assert summary.published and summary.rows_rejected == 0
    assert summary.rows_read == summary.rows_published > 200
    package = tmp / "published" / "latest" / "datapackage.json"
    check = subprocess.run([str(Path(sys.executable).parent / "frictionless"), "validate",
                            str(package)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout[-2000:]


def test_every_published_file_reads_with_a_strict_parser(shipped):
    """JSON and JSON-LD without NaN or Infinity, CSV by RFC 4180, XLSX opens, RDF parses, the
    database is whole; no control or bidi character and only NFC text in the data."""
    from strictness import check_release

    tmp, _, _ = shipped
    assert check_release((tmp / "published" / "latest").resolve()) > 150


def test_every_goal_has_activities_and_every_initiative_is_published(shipped):
    tmp, _, _ = shipped
    out = tmp / "published"
    activities = read(out, "aktiviteter")
    assert set(read(out, "malprogram")["mal_id"]) == set(activities["mal_id"])
    titles = " | ".join(activities["titel"]).lower()
    for initiative in INITIATIVES:
        assert initiative.lower() in titles, initiative
    status = read(out, "aktivitetsstatus_per_mal")
    assert status["antal_totalt"].astype(int).sum() == len(activities)


def test_published_rows_match_the_run_summary(shipped):
    tmp, _, summary = shipped
    out = tmp / "published"
    for report_type in ("aktiviteter", "nyckeltal", "ekonomi", "fordon", "personal"):
        published = sum(f.rows_published for f in summary.files if f.report_type == report_type)
        assert len(read(out, report_type)) == published
        assert json.loads((out / "latest" / report_type / f"{report_type}.json").read_text(
            encoding="utf-8")).__len__() == published


def test_the_run_report_stays_internal(shipped):
    tmp, _, summary = shipped
    written = json.loads((tmp / "reports" / "latest" / "summary.json").read_text("utf-8"))
    assert written["published"] is True
    assert len(written["files"]) == len(summary.files)
    assert not list((tmp / "published").rglob("summary.json"))


def test_bad_rows_and_files_are_rejected_and_the_rest_still_publishes(raw_copy, tmp_path):
    target = raw_copy / "2020" / "social" / "aktiviteter.csv"
    lines = target.read_text(encoding="utf-8").splitlines()
    good_rows = len(lines) - 1
    lines.append("A099,2020,O1,Trasig rad,Text,social,klar,2020-01-01,,1,,")
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (raw_copy / "2020" / "okand").mkdir()
    (raw_copy / "2020" / "okand" / "ekonomi.csv").write_text("x\n1\n", encoding="utf-8")
    (raw_copy / "2021" / "social" / "personal.csv").write_bytes(b"")

    state, summary = run_flow(raw_copy, tmp_path)
    assert state.is_completed()
    by_path = {f.path: f for f in summary.files}
    edited = by_path["2020/social/aktiviteter.csv"]
    assert (edited.rows_read, edited.rows_published, edited.rows_rejected) == (
        good_rows + 1, good_rows, 1)
    assert [(p.row, p.field, p.type) for p in edited.problems] == [
        (good_rows + 2, "status", "constraint-error")]
    assert [p.type for p in by_path["2020/okand/ekonomi.csv"].problems] == ["unknown-department"]
    assert [p.type for p in by_path["2021/social/personal.csv"].problems] == ["empty-file"]
    for file in summary.files:
        assert file.rows_read == file.rows_published + file.rows_rejected
    assert "A099" not in set(read(tmp_path / "published", "aktiviteter")["aktivitet_id"])


def test_nothing_valid_publishes_nothing_and_leaves_latest(tmp_path, deliver, shipped):
    from conftest import copy_site

    _, state, first = shipped
    assert state.is_completed()
    copy_site(shipped, tmp_path)  # the shipped raw/ published here first
    deliver("2020/social/aktiviteter.csv", "fel,kolumner\n1,2\n")
    shutil.rmtree(tmp_path / "state")  # no earlier valid delivery to fall back on
    state, summary = run_flow(deliver.root, tmp_path)
    assert state.is_failed()
    assert not summary.published and "Inga giltiga rader" in summary.reason
    latest = (tmp_path / "published" / "latest").resolve()
    assert latest.name == first.release.version


def test_opendata_run_prints_the_summary_and_exits_0(tmp_path, raw_copy):
    result = CliRunner().invoke(app, ["run", "--raw", str(raw_copy), "--out",
                                      str(tmp_path / "out"), "--reports", str(tmp_path / "rep"),
                                      "--state", str(tmp_path / "state")])
    assert result.exit_code == 0, result.output
    assert "Sammanfattning / summary" in result.output
    assert "2020/social/ekonomi.xlsx" in result.output
    assert (tmp_path / "out" / "latest" / "datapackage.json").is_file()


def test_opendata_run_exits_1_when_nothing_could_be_published(tmp_path, deliver):
    deliver("2020/social/aktiviteter.csv", "")
    result = CliRunner().invoke(app, ["run", "--raw", str(deliver.root), "--out",
                                      str(tmp_path / "out"), "--reports", str(tmp_path / "rep"),
                                      "--state", str(tmp_path / "state")])
    assert result.exit_code == 1
    assert "Ingen release publicerades" in result.output
    assert not (tmp_path / "out" / "latest").exists()


def test_agenda2030_datasets_are_complete_and_add_up(shipped, register):
    tmp, _, _ = shipped
    out = tmp / "published"
    targets = read(out, "sdg_delmal")
    assert len(targets) == 169 and set(targets["delmal_id"]) == set(register.codes("sdg_delmal"))
    assert len(read(out, "sdg_mal")) == 17
    links = read(out, "agenda2030_koppling")
    assert set(links["delmal_id"]) <= set(targets["delmal_id"])
    assert set(links["objekttyp"]) == {"programmal", "nyckeltal", "aktivitet"}
    assert set(read(out, "malprogram")["mal_id"]) <= set(
        links.loc[links["objekttyp"] == "programmal", "objekt_id"])
    assert set(read(out, "aktiviteter")["aktivitet_id"]) == set(
        links.loc[links["objekttyp"] == "aktivitet", "objekt_id"])
    view = read(out, "agenda2030_oversikt")
    assert list(view["sdg_mal"].astype(int)) == list(range(1, 18))
    assert view["antal_kopplingar"].astype(int).sum() == len(links)
    for row in view.itertuples():
        goal_links = links[links["sdg_mal"].astype(int) == int(row.sdg_mal)]
        assert int(row.antal_delmal) == goal_links["delmal_id"].nunique()
        for kind, column in (("programmal", "antal_programmal"), ("nyckeltal", "antal_nyckeltal"),
                             ("aktivitet", "antal_aktiviteter")):
            expected = goal_links.loc[goal_links["objekttyp"] == kind, "objekt_id"].nunique()
            assert int(getattr(row, column)) == expected, (row.sdg_mal, column)
    trends = read(out, "nyckeltal_trend")
    assert set(trends["nyckeltal_id"]) == set(read(out, "nyckeltal_definitioner")["nyckeltal_id"])


def test_the_flow_gives_each_corpus_file_the_same_verdict_as_validate(tmp_path, register):
    from corpus import CASES
    from test_corpus import verdict

    chosen, paths = [], set()
    for case in CASES:  # one case per path, so they fit in one raw tree
        if case.path not in paths:
            paths.add(case.path)
            chosen.append(case)
    root = tmp_path / "raw"
    expected = {case.path: verdict(case, tmp_path / "single" / case.kind, register)
                for case in chosen}
    for case in chosen:
        case.write(root)
    _, summary = run_flow(root, tmp_path)
    by_path = {f.path: f for f in summary.files}
    for path, result in expected.items():
        file = by_path[path]
        assert [(p.type, p.row, p.field) for p in file.problems] == [
            (p.type, p.row, p.field) for p in result.problems], path
        assert (file.rows_read, file.rows_published, file.rows_rejected) == (
            result.rows_read, result.rows_published, result.rows_rejected), path


def test_a_broken_redelivery_keeps_the_last_valid_delivery_published(tmp_path, raw_copy,
                                                                     shipped):
    from flows.pipeline import publish_open_data

    from conftest import copy_site

    def run():
        state = publish_open_data(raw_dir=raw_copy, out_dir=tmp_path / "published",
                                  reports_dir=tmp_path / "reports", state_dir=tmp_path / "state",
                                  return_state=True)
        return state.result(raise_on_failure=False)

    copy_site(shipped, tmp_path)  # the flow's first run of the shipped reports (raw_copy's)
    first = shipped[2]
    economy = read(tmp_path / "published", "ekonomi")
    social_2020 = economy[(economy.forvaltning_id == "social") & (economy.ar == "2020")]
    assert len(social_2020) == 4

    (raw_copy / "2020" / "social" / "ekonomi.xlsx").write_bytes(b"not a workbook")
    (raw_copy / "2021" / "social" / "personal.csv").write_text(
        "forvaltning_id,ar,antal_anstallda\n", encoding="utf-8")
    second = run()
    files = {f.path: f for f in second.files}
    broken = files["2020/social/ekonomi.xlsx"]
    assert broken.file_rejected and broken.rows_kept == 4
    assert broken.kept_from == first.release.version
    assert files["2021/social/personal.csv"].rows_kept == 1
    economy = read(tmp_path / "published", "ekonomi")
    assert economy[(economy.forvaltning_id == "social") & (economy.ar == "2020")].equals(
        social_2020)
    assert len(read(tmp_path / "published", "personal")) == 12

    (raw_copy / "2020" / "social" / "ekonomi.xlsx").unlink()
    (raw_copy / "2020" / "social" / "ekonomi.csv").write_text(
        "forvaltning_id,verksamhet,ar,budget_tkr,utfall_tkr\nsocial,Hemtjänst,2020,100,90\n",
        encoding="utf-8")
    third = run()
    assert not any(f.kept_from for f in third.files if f.path.startswith("2020/social/ekonomi"))
    economy = read(tmp_path / "published", "ekonomi")
    replaced = economy[(economy.forvaltning_id == "social") & (economy.ar == "2020")]
    assert list(replaced.verksamhet) == ["Hemtjänst"]


def test_the_run_reports_are_prefect_artifacts(shipped):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        keys = {"validering-sammanfattning", "validering-social", "validering-barn-utbildning"}
        found = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=sorted(keys))))
    assert keys <= {artifact.key for artifact in found}


def _normalized(frame):
    import math

    def value(v):
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v == "":
            return None
        if hasattr(v, "isoformat"):
            return v.isoformat()[:10]
        if isinstance(v, bool) or v in ("true", "false"):
            return v in (True, "true")
        try:
            return float(v)
        except (TypeError, ValueError):
            return str(v)
    return [[value(v) for v in row] for row in frame.astype(object).itertuples(index=False)]


def test_every_format_holds_the_same_rows(shipped, register):
    tmp, _, _ = shipped
    latest = tmp / "published" / "latest"
    for dataset_id in ("aktiviteter", "ekonomi", "fordon", "nyckeltal", "agenda2030_oversikt"):
        base = latest / dataset_id / dataset_id
        plain = pd.read_csv(f"{base}.csv", keep_default_na=False, dtype=str)
        excel = pd.read_csv(f"{base}.excel.csv", sep=";", decimal=",", encoding="utf-8-sig",
                            keep_default_na=False, dtype=str)
        assert list(excel.columns) == list(plain.columns)
        reference = _normalized(plain)
        # the Excel CSV read with ';' and decimal comma is the same table as the plain CSV
        numbers = [f.name for f in register.schema(dataset_id).fields if f.type == "number"]
        for column in numbers:
            excel[column] = excel[column].str.replace(",", ".", regex=False)
        assert _normalized(excel) == reference
        records = json.loads(Path(f"{base}.json").read_text(encoding="utf-8"))
        assert _normalized(pd.DataFrame(records, columns=list(plain.columns))) == reference
        assert _normalized(pd.read_parquet(f"{base}.parquet")) == reference
        assert _normalized(pd.read_excel(f"{base}.xlsx", dtype=object)) == reference
        assert (base.parent / f"{dataset_id}.excel.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_every_published_file_checksum_verifies(shipped):
    import hashlib

    tmp, _, _ = shipped
    latest = tmp / "published" / "latest"
    lines = (latest / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    listed = {}
    for line in lines:
        digest, name = line.split("  ", 1)
        listed[name] = digest
        assert hashlib.sha256((latest / name).read_bytes()).hexdigest() == digest, name
    on_disk = {p.relative_to(latest).as_posix() for p in latest.rglob("*") if p.is_file()}
    assert set(listed) == on_disk - {"SHA256SUMS"}
    descriptor = json.loads((latest / "datapackage.json").read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:
        for item in [resource, *resource["alternates"]]:
            assert item["hash"] == "sha256:" + listed[item["path"]]


def test_datasette_serves_the_published_rows_over_http(shipped, tmp_path):
    import urllib.parse
    import urllib.request

    tmp, _, _ = shipped
    port = free_port()
    with (tmp_path / "browse.log").open("w") as log:
        server = subprocess.Popen([OPENDATA, "browse", "--out", str(tmp / "published"), "--port",
                                   str(port)], stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    base = f"http://127.0.0.1:{port}/opendata"

    def get(path):
        with urllib.request.urlopen(base + path, timeout=10) as response:
            return response.read()
    try:
        wait_for_port(port, server)
        rows = json.loads(get("/aktiviteter.json?_shape=array&_size=max"))
        published = read(tmp / "published", "aktiviteter")
        assert len(rows) == len(published)
        assert {(r["aktivitet_id"], str(r["rapportar"])) for r in rows} == set(
            zip(published.aktivitet_id, published.rapportar, strict=True))
        found = json.loads(get("/aktiviteter.json?_shape=array&_search=" +
                               urllib.parse.quote("Hälsocenter")))
        assert found and all("Hälsocenter" in r["titel"] + (r["beskrivning"] or "")
                             for r in found)
        sql = urllib.parse.quote("select count(*) as n from nyckeltal")
        assert json.loads(get(f".json?sql={sql}&_shape=array")) == [
            {"n": len(read(tmp / "published", "nyckeltal"))}]
        assert get("/ekonomi.csv?_size=max").decode().startswith("forvaltning_id,")
        metadata = json.loads(get("/aktiviteter.json?_shape=objects"))
        assert metadata["rows"]
        server.terminate()
        assert server.wait(timeout=15) == -signal.SIGTERM  # Datasette's own status
        assert port_is_free(port)
    finally:
        stop_server(server)  # also when an assertion failed
