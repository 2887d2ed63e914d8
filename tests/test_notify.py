"""The operator is told: a webhook on a real loopback HTTP server gets each run's outcome in one
JSON shape, each department with problems gets its own report from a real local SMTP server,
and neither a webhook nor a mail server that fails changes the run's outcome."""

import email
import email.policy
import http.server
import json
import os
import shutil
import subprocess
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from flows.cli import app
from flows.outputs.notify import FORMAT, department_addresses, notification
from flows.outputs.run_summary import FileSummary, RunSummary

from conftest import OPENDATA, RAW, free_port, harness_url

KEYS = {"format", "status", "text", "reason", "summary", "report", "report_url", "flow_run"}


class _Recorder(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.posts.append({"path": self.path, "type": self.headers["Content-Type"],
                                  "json": json.loads(body)})
        self.send_response(self.server.answer)
        self.end_headers()

    def log_message(self, *args):
        pass


@contextmanager
def _webhook():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.posts, server.answer = [], 200
    server.url = f"http://127.0.0.1:{server.server_port}/hooks/hemlig-token"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def webhook():
    """A loopback HTTP server that records every POST and answers server.answer."""
    with _webhook() as server:
        yield server


class _Mailbox:
    def __init__(self):
        self.mails = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.mails.append((list(envelope.rcpt_tos), email.message_from_bytes(
            envelope.content, policy=email.policy.default)))
        return "250 OK"


@contextmanager
def _smtp(monkeypatch):
    box = _Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setenv("OPENDATA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("OPENDATA_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("OPENDATA_SMTP_FROM", "oppnadata@aneby.example")
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def smtp(monkeypatch):
    """aiosmtpd on loopback; the run's settings point at it."""
    with _smtp(monkeypatch) as box:
        yield box


def run_flow(raw: Path, tmp_path: Path, **notify):
    from flows.pipeline import publish_open_data

    state = publish_open_data(raw_dir=raw, out_dir=tmp_path / "published",
                              reports_dir=tmp_path / "reports", state_dir=tmp_path / "state",
                              return_state=True, **notify)
    return state, state.result(raise_on_failure=False)


def partly_rejected(raw: Path) -> None:
    """One bad row for social, an empty file for barn_utbildning, a folder nobody owns."""
    target = raw / "2020" / "social" / "aktiviteter.csv"
    target.write_text(target.read_text(encoding="utf-8").rstrip("\n")
                      + "\nA099,2020,O1,Trasig rad,Text,social,klar,2020-01-01,,1,,\n",
                      encoding="utf-8")
    (raw / "2021" / "barn_utbildning" / "personal.csv").write_bytes(b"")
    (raw / "2020" / "okand").mkdir()
    (raw / "2020" / "okand" / "ekonomi.csv").write_text("x\n1\n", encoding="utf-8")


# --- the JSON shape, without a run ---------------------------------------------------------
def _summary(**given) -> RunSummary:
    files = [FileSummary(path="2020/social/a.csv", report_type="aktiviteter",
                         department="social", year=2020, rows_read=3, rows_published=3,
                         rows_rejected=0, file_rejected=False, problems=[])]
    return RunSummary(raw_dir="raw", finished="2024-01-01T02:00:00Z", files=files, **given)


@pytest.mark.parametrize(("given", "failed", "status"), [
    ({"published": True}, False, "published"),
    ({"published": False, "unchanged_since": "20240101T020000Z"}, False, "unchanged"),
    ({"published": False, "reason": "Inga giltiga rader / no valid rows"}, False, "failed"),
    ({"published": True}, True, "failed"),
])
def test_every_status_has_the_same_keys_and_a_bilingual_line(given, failed, status):
    payload = notification(_summary(**given), failed, "boom", None)
    assert set(payload) == KEYS and payload["format"] == FORMAT
    assert payload["status"] == status
    assert payload["text"].startswith("Aneby öppna data: ") and " / " in payload["text"]


def test_a_run_that_stopped_before_counting_has_no_summary_but_says_why():
    payload = notification(None, True, "Flow run encountered an exception: FileExistsError: x",
                           None)
    assert set(payload) == KEYS
    assert (payload["status"], payload["summary"], payload["report"]) == ("failed", None, None)
    assert payload["reason"] == "FileExistsError: x"


def test_a_report_url_links_the_run_folder():
    payload = notification(_summary(published=True), False, None,
                           Path("/srv/reports/20240101T020000Z"),
                           reports_url="https://intra.example/rapporter/")
    assert payload["report_url"] == "https://intra.example/rapporter/20240101T020000Z/"
    assert payload["report_url"] in payload["text"]


def test_department_addresses_skip_what_is_not_department_address(caplog):
    import logging

    found = department_addresses("social=a@x.se, social=b@x.se,trasig,kommunledning=c@x.se",
                                 logging.getLogger("t"))
    assert found == {"social": ["a@x.se", "b@x.se"], "kommunledning": ["c@x.se"]}
    assert "'trasig'" in caplog.text


# --- the real flow -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def partly_rejected_run(tmp_path_factory, prefect_harness):
    """One real run of a partly rejected delivery, told both ways: to a webhook, and by mail
    to each department with problems (the two tests below read what each got)."""
    tmp_path = tmp_path_factory.mktemp("partly-rejected")
    shutil.copytree(RAW, tmp_path / "raw")
    partly_rejected(tmp_path / "raw")
    with pytest.MonkeyPatch.context() as monkeypatch, _webhook() as webhook, \
            _smtp(monkeypatch) as smtp:
        monkeypatch.setenv("OPENDATA_DEPARTMENT_EMAILS",
                           "social=soc@aneby.example,barn_utbildning=bou@aneby.example,"
                           "kommunledning=kl@aneby.example,social=chef@aneby.example")
        state, summary = run_flow(tmp_path / "raw", tmp_path, notify_url=webhook.url)
    return tmp_path, state, summary, webhook, smtp


@pytest.mark.e2e
def test_a_partly_rejected_run_posts_its_counts_and_report(partly_rejected_run):
    tmp_path, state, summary, webhook, _ = partly_rejected_run
    assert state.is_completed()
    [post] = webhook.posts
    assert post["path"] == "/hooks/hemlig-token" and post["type"].startswith("application/json")
    body = post["json"]
    assert set(body) == KEYS and body["status"] == "published_with_rejections"
    latest = (tmp_path / "published" / "latest").resolve()
    counts = body["summary"]
    assert counts["release"] == latest.name == summary.release.version
    assert (counts["rows_rejected"], counts["files_rejected"]) == (1, 2)
    assert counts["rows_read"] == counts["rows_published"] + counts["rows_rejected"]
    departments = counts["departments"]
    assert departments["social"]["rows_rejected"] == 1
    assert departments["barn_utbildning"]["files_rejected"] == 1
    assert departments["okand"]["files_rejected"] == 1
    assert departments["kommunledning"]["rows_rejected"] == 0
    report = Path(body["report"])
    assert report == (tmp_path / "reports" / "latest").resolve()
    assert (report / "summary.json").is_file() and Path(departments["social"]["report"]).is_file()
    assert f"release {latest.name} publicerad; 1 rader och 2 filer avvisade" in body["text"]
    assert body["reason"] is None and body["flow_run"]["name"].startswith("publicering-raw-")


@pytest.mark.e2e
@pytest.mark.usefixtures("prefect_harness")
def test_a_failed_run_posts_why_and_a_clean_run_posts_nothing(webhook, deliver, tmp_path):
    deliver("2020/social/aktiviteter.csv", "fel,kolumner\n1,2\n")
    state, _ = run_flow(deliver.root, tmp_path, notify_url=webhook.url)
    assert state.is_failed()
    [post] = webhook.posts
    body = post["json"]
    assert body["status"] == "failed" and "Inga giltiga rader" in body["reason"]
    assert body["summary"]["release"] is None and body["summary"]["rows_published"] == 0
    assert body["text"].startswith("Aneby öppna data: körningen misslyckades / the run failed: ")
    assert Path(body["report"], "social.md").is_file()

    webhook.posts.clear()
    state, _ = run_flow(RAW, tmp_path, notify_url=webhook.url)  # clean: nothing to say
    assert state.is_completed() and webhook.posts == []
    state, _ = run_flow(RAW, tmp_path, notify_url=webhook.url, notify_on="always")
    assert state.is_completed()
    assert [p["json"]["status"] for p in webhook.posts] == ["unchanged"]


@pytest.mark.e2e
@pytest.mark.usefixtures("prefect_harness")
def test_an_exception_in_the_flow_is_told(webhook, tmp_path):
    (tmp_path / "published").write_text("")  # the output folder is a file: the flow raises
    state, _ = run_flow(RAW, tmp_path, notify_url=webhook.url, notify_on="failure")
    assert state.is_failed()
    [post] = webhook.posts
    body = post["json"]
    assert body["status"] == "failed" and body["summary"] is None and body["report"] is None
    assert body["reason"].startswith("FileExistsError")


@pytest.mark.e2e
def test_each_department_with_problems_gets_its_own_report(partly_rejected_run):
    tmp_path, state, _, _, smtp = partly_rejected_run
    assert state.is_completed()
    got = {rcpt: mail for rcpts, mail in smtp.mails for rcpt in rcpts}
    assert sorted(got) == ["bou@aneby.example", "chef@aneby.example", "soc@aneby.example"]
    assert len(smtp.mails) == 3  # kommunledning had no problems: no mail
    report = tmp_path / "reports" / "latest"
    for address, department in [("soc@aneby.example", "social"),
                                ("chef@aneby.example", "social"),
                                ("bou@aneby.example", "barn_utbildning")]:
        mail = got[address]
        assert mail["To"] == address and mail["From"] == "oppnadata@aneby.example"
        assert mail.get_content_type() == "text/markdown"
        assert f"valideringsrapport för {department}" in mail["Subject"]
        assert f"validation report for {department}" in mail["Subject"]
        text = mail.get_content().replace("\r\n", "\n")  # SMTP carries lines as CRLF
        assert text == (report / f"{department}.md").read_text(encoding="utf-8")
    assert "2020/social/aktiviteter.csv" in got["soc@aneby.example"].get_content()
    assert "constraint-error" in got["soc@aneby.example"].get_content()
    assert "2021/barn_utbildning/personal.csv" in got["bou@aneby.example"].get_content()
    assert "empty-file" in got["bou@aneby.example"].get_content()


@pytest.mark.e2e
@pytest.mark.usefixtures("prefect_harness")
def test_a_failing_webhook_or_mail_server_never_changes_the_outcome(webhook, monkeypatch,
                                                                    raw_copy, tmp_path):
    monkeypatch.setenv("OPENDATA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("OPENDATA_SMTP_PORT", str(free_port()))  # nothing listens
    monkeypatch.setenv("OPENDATA_DEPARTMENT_EMAILS", "social=soc@aneby.example")
    partly_rejected(raw_copy)
    webhook.answer = 500
    args = ["run", "--raw", str(raw_copy), "--out", str(tmp_path / "out"), "--reports",
            str(tmp_path / "rep"), "--state", str(tmp_path / "state"), "--notify", webhook.url]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert len(webhook.posts) == 1  # it was tried
    assert "Webhooken http://127.0.0.1:" in result.output and "500" in result.output
    assert "hemlig-token" not in result.output  # the URL's path (a token) stays out of logs
    assert "E-postservern 127.0.0.1" in result.output
    assert "Publicerad / published" in result.output

    (tmp_path / "in").mkdir()  # nothing valid: exit 1 whatever the webhook does
    (tmp_path / "in" / "2020" / "social").mkdir(parents=True)
    (tmp_path / "in" / "2020" / "social" / "aktiviteter.csv").write_text("")
    closed = f"http://127.0.0.1:{free_port()}/"
    result = CliRunner().invoke(app, ["run", "--raw", str(tmp_path / "in"), "--out",
                                      str(tmp_path / "out2"), "--reports", str(tmp_path / "rep"),
                                      "--state", str(tmp_path / "state2"), "--notify", closed])
    assert result.exit_code == 1
    assert "Ingen release publicerades" in result.output and "ConnectError" in result.output


@pytest.mark.e2e
@pytest.mark.usefixtures("prefect_harness")  # its server: Prefect's temporary one is tested elsewhere
def test_opendata_run_notify_posts_from_the_command(webhook, raw_copy, tmp_path):
    partly_rejected(raw_copy)
    done = subprocess.run(
        [OPENDATA, "run", "--raw", str(raw_copy), "--out", str(tmp_path / "published"),
         "--reports", str(tmp_path / "reports"), "--state", str(tmp_path / "state"),
         "--notify", webhook.url],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "COLUMNS": "200",
             "PREFECT_API_URL": harness_url(), "OPENDATA_REPORTS_URL": "https://intra.example/rapporter"})
    assert done.returncode == 0, done.stderr
    [post] = webhook.posts
    body = post["json"]
    assert body["status"] == "published_with_rejections"
    folder = (tmp_path / "reports" / "latest").resolve()
    assert body["report"] == str(folder)
    assert body["report_url"] == f"https://intra.example/rapporter/{folder.name}/"
    assert body["summary"]["release"] == (tmp_path / "published" / "latest").resolve().name
