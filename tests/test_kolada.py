"""The Kolada client against responses served on loopback: pages followed, a transient 503
retried, a permanent 404 reported; the file it writes is a valid nyckeltal delivery."""

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
            if self.path.startswith("/v2/data/kpi/N00090/municipality/0604/"):
                body = (FIXTURES / "page1.json").read_text().replace(
                    "NEXT", f"{base}/v2/page2")
            elif self.path == "/v2/page2":
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
    yield f"http://127.0.0.1:{server.server_address[1]}/v2", seen
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
