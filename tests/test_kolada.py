"""The Kolada client and the flow's Kolada source against responses in the API's documented
(v3) shape served on loopback: pages followed (`next_url`), a transient 503 retried, a permanent
404 reported, every answer kept by content; the deliveries it writes are valid, and replace
raw/'s illustrative ones. Real Kolada files in ../shared/reference/kolada are read when there."""

import http.server
import json
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.checks.delivery import check_file
from flows.cli import app
from flows.intake.discover import RawFile
from flows.intake.kolada import KoladaError, fetch_values

FIXTURES = Path(__file__).parent / "fixtures" / "kolada"


@pytest.fixture
def api():
    seen = {"requests": 0}

    class Kolada(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            seen["requests"] += 1
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            if seen["requests"] == 1:  # the first request meets a busy server
                self.send_response(503)
                self.send_header("Retry-After", "0")
                self.end_headers()
                return
            if self.path.startswith("/v3/data/kpi/N00090/municipality/0604/"):
                assert "per_page=5000" in self.path
                body = (FIXTURES / "page1.json").read_text().replace(
                    "NEXT", f"{base}/v3/page2")
            elif self.path == "/v3/page2":
                body = (FIXTURES / "page2.json").read_text()
            else:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Kolada)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v3", seen
    server.shutdown()
    server.server_close()


def test_pages_are_followed_and_a_busy_server_retried(api):
    url, seen = api
    result = fetch_values(["N00090"], ["0604"], [2019, 2020, 2021], api=url, backoff=0)
    assert result["count"] == 3 and [v["period"] for v in result["values"]] == [2020, 2021, 2019]
    assert seen["requests"] == 3  # 503, page 1, page 2


def test_a_permanent_error_is_not_retried(api):
    url, seen = api
    with pytest.raises(KoladaError, match="404"):
        fetch_values(["U99999"], ["0604"], [2020], api=url, backoff=0)
    assert seen["requests"] == 2


def test_the_written_file_is_a_valid_nyckeltal_delivery(api, tmp_path, register):
    url, _ = api
    out = tmp_path / "2020" / "kommunledning" / "nyckeltal.json"
    result = CliRunner().invoke(app, ["kolada", "--kpi", "N00090", "--years", "2019-2021",
                                      "--api", url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["count"] == 3
    raw = RawFile(path=out, name="2020/kommunledning/nyckeltal.json", year=2020,
                  department="kommunledning", report_type="nyckeltal", format="json")
    verdict = check_file(raw, register)
    assert verdict.rows_read == 7
    # only the 2020 values belong in the 2020 folder: the others are located year errors
    assert verdict.rows_published == 3
    assert {p.type for p in verdict.problems} == {"year-mismatch"}


# --- the flow's Kolada source ------------------------------------------------------------
def serve(routes, seen):
    """A loopback Kolada answering path prefixes from `routes`; the first request is a 503."""

    class Kolada(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            seen.append(self.path)
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            found = next((name for prefix, name in routes if self.path.startswith(prefix)), None)
            if len(seen) == 1 or found is None or seen[0] == "down":
                self.send_response(503 if found or len(seen) == 1 else 404)
                self.send_header("Retry-After", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write((FIXTURES / found).read_text().replace(
                "NEXT", f"{base}/v3/municipality/page2").encode())

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Kolada)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


SOURCE = [("/v3/municipality_groups?", "municipality_groups.json"),
          ("/v3/municipality/page2", "municipality_page2.json"),
          ("/v3/municipality?", "municipality_page1.json"),
          ("/v3/data/kpi/", "data_all.json")]


@pytest.fixture
def kolada_api():
    seen: list[str] = []
    server = serve(SOURCE, seen)
    yield f"http://127.0.0.1:{server.server_address[1]}/v3", seen
    server.shutdown()
    server.server_close()


def test_the_source_pulls_pages_retries_and_writes_valid_deliveries(kolada_api, tmp_path,
                                                                    register):
    from flows.intake.kolada_source import kolada_key_figures, pull

    url, seen = kolada_api
    files, told = pull(url, register, tmp_path, backoff=0)
    # 503, the groups, the municipalities' two pages, the values: one request each
    assert len(seen) == 5 and seen[2].startswith("/v3/municipality?per_page=5000")
    assert seen[3] == "/v3/municipality/page2"
    data = seen[4]  # every Kolada key figure of the programme, every municipality and 0000
    assert data.startswith(f"/v3/data/kpi/{','.join(kolada_key_figures(register))}/")
    assert "/municipality/0000,0604,0682,0684,0686/year/2019,2020,2021,2022" in data
    assert [f.name for f in files] == [
        "2020/kommunledning/kolada_varden.json", "2021/kommunledning/kolada_varden.json",
        "2022/kommunledning/kolada_jamforelsegrupper.json"]
    verdicts = [check_file(f, register) for f in files]
    assert [(v.rows_read, v.rows_published, v.problems) for v in verdicts] == [
        (6, 6, []), (1, 1, []), (3, 3, [])]  # G999 does not contain Aneby: not pulled
    assert "Kolada:" in str(told[0]) and len(told) == 1


def test_the_same_answers_change_nothing_and_kept_answers_stand_in(kolada_api, tmp_path,
                                                                  register):
    from flows.intake.kolada_source import pull

    url, seen = kolada_api
    files, _ = pull(url, register, tmp_path, backoff=0)
    before = {f.path: (f.path.read_bytes(), f.path.stat().st_mtime_ns) for f in files}
    kept = sorted(p.name for p in (tmp_path / "svar").iterdir())
    assert len(kept) == 5  # four distinct answers by content, and the index
    again, _ = pull(url, register, tmp_path, backoff=0)
    assert {f.path: (f.path.read_bytes(), f.path.stat().st_mtime_ns) for f in again} == before
    assert sorted(p.name for p in (tmp_path / "svar").iterdir()) == kept
    seen[:] = ["down"]  # Kolada stops answering: the answers kept stand in, and that is said
    third, told = pull(url, register, tmp_path, backoff=0, attempts=2)
    assert {f.path: f.path.read_bytes() for f in third} == {p: b for p, (b, _) in before.items()}
    assert "4" in str(told[-1]) and "senast sparade" in str(told[-1])


def test_without_a_kept_answer_an_unreachable_api_is_said(tmp_path, register):
    from flows.intake.kolada_source import pull

    seen = ["down"]
    server = serve(SOURCE, seen)
    try:
        with pytest.raises(KoladaError, match="OPENDATA_KOLADA_API"):
            pull(f"http://127.0.0.1:{server.server_address[1]}/v3", register, tmp_path,
                 backoff=0, attempts=2)
    finally:
        server.shutdown()
        server.server_close()


def test_the_run_takes_the_pulled_deliveries_in_place_of_raws(kolada_api, tmp_path):
    from flows.core.settings import Settings
    from flows.inputs import run_inputs

    url, _ = kolada_api
    raw = Path(__file__).parents[1] / "raw"
    offline = run_inputs(raw, Settings.defaults().schemas_dir,
                         Settings.defaults().model_copy(update={"state_dir": tmp_path}))
    assert offline.notes and "OPENDATA_KOLADA_API" in offline.notes[0]
    assert "2019/kommunledning/kolada_varden.json" in offline.digests
    settings = Settings.defaults().model_copy(update={"kolada_api": url, "state_dir": tmp_path})
    online = run_inputs(raw, settings.schemas_dir, settings)
    pulled = {f.name: f.path for f in online.found.files if f.report_type.startswith("kolada")}
    assert sorted(pulled) == ["2020/kommunledning/kolada_varden.json",
                              "2021/kommunledning/kolada_varden.json",
                              "2022/kommunledning/kolada_jamforelsegrupper.json"]
    assert all(tmp_path in p.parents for p in pulled.values())
    assert len(online.found.files) == len(offline.found.files) - 4 + 3
    assert online.inputs != offline.inputs and "Kolada:" in online.notes[0]


# --- real Kolada files, when ../shared/reference/kolada is there ---------------------------
REFERENCE = Path(__file__).parents[1].parent / "shared" / "reference" / "kolada"
GROUPS_CSV = REFERENCE / "municipality_groups_containing_0604.csv"


@pytest.mark.skipif(not GROUPS_CSV.is_file(), reason="../shared/reference/kolada is absent")
def test_kolada_s_real_groups_containing_aneby_are_a_valid_delivery(tmp_path, register):
    import shutil

    import pandas as pd

    from flows.tables.comparison import compare

    path = tmp_path / "2021" / "kommunledning" / "kolada_jamforelsegrupper.csv"
    path.parent.mkdir(parents=True)
    shutil.copy(GROUPS_CSV, path)  # a copy in the test's own folder, never in the project
    raw = RawFile(path=path, name="2021/kommunledning/kolada_jamforelsegrupper.csv", year=2021,
                  department="kommunledning", report_type="kolada_jamforelsegrupper",
                  format="csv")
    verdict = check_file(raw, register)
    groups = pd.read_csv(GROUPS_CSV, dtype=str).rename(columns={
        "group_id": "grupp_id", "group_title": "grupp_namn", "member_id": "kommun_id"})
    assert (verdict.problems, verdict.rows_read, verdict.rows_published) == ([], len(groups),
                                                                              len(groups))
    assert groups["grupp_id"].nunique() == 85 and "G168177" in set(groups["grupp_id"])
    values = pd.DataFrame({"nyckeltal_id": "N00090", "ar": 2021, "kon": "T",
                           "kommun_id": ["0604", "0682", "0684", "0685", "0686", "0000"],
                           "varde": [7.0, 6.0, 5.0, 4.0, 3.0, 5.5]})
    definitions = pd.DataFrame({"nyckeltal_id": ["N00090"], "onskad_riktning": ["minskande"]})
    rows = compare(values, groups, definitions, "0604").set_index("grupp_id")
    assert len(rows) == 85  # a row for every group that contains Aneby
    highland = rows.loc["G168177"]  # Höglandskommunerna: Aneby, Nässjö, Sävsjö, Vetlanda, Eksjö
    assert (highland["grupp_medel"], highland["grupp_antal"]) == (5.0, 5)
    assert (highland["rang"], highland["antal_kommuner"], highland["farg"]) == (5, 5, "rod")
