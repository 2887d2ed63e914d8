"""Pulling the reports from a source: a folder URL or HTTP served on loopback, with retries on
transient errors and a clear failure on permanent ones."""

import functools
import http.server
import shutil
import threading

import pytest

from flows.intake.sources import SourceError, pull

from conftest import RAW


def test_pull_mirrors_a_folder_url(tmp_path):
    source = tmp_path / "share"
    shutil.copytree(RAW, source)
    mirror = tmp_path / "mirror"
    first = pull(f"file://{source}", mirror)
    assert first.files == len([p for p in source.rglob("*") if p.is_file()])
    assert len(first.updated) == first.files
    again = pull(f"file://{source}", mirror)
    assert again.updated == [] and again.removed == []
    (source / "2019" / "social" / "personal.csv").unlink()
    (source / "2021" / "social" / "ekonomi.csv").write_text("changed\n", encoding="utf-8")
    third = pull(f"file://{source}", mirror)
    assert third.removed == ["2019/social/personal.csv"]
    assert third.updated == ["2021/social/ekonomi.csv"]
    assert (mirror / "2021" / "social" / "ekonomi.csv").read_text(encoding="utf-8") == "changed\n"


def test_a_missing_source_is_a_clear_permanent_error(tmp_path):
    with pytest.raises(SourceError, match="finns inte"):
        pull(f"file://{tmp_path / 'nowhere'}", tmp_path / "mirror")


class Flaky(http.server.SimpleHTTPRequestHandler):
    failures = 0
    fail_first = 0

    def do_GET(self):  # noqa: N802 - the http.server API
        if Flaky.failures < Flaky.fail_first:
            Flaky.failures += 1
            self.send_error(503, "busy")
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "served"
    shutil.copytree(RAW, root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Flaky, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.mark.e2e
@pytest.mark.usefixtures("prefect_harness")
def test_the_flow_pulls_over_http_and_retries_a_transient_error(tmp_path, served):
    from flows.pipeline import publish_open_data

    Flaky.failures, Flaky.fail_first = 0, 1  # the first request answers 503
    state = publish_open_data(raw_dir=tmp_path / "mirror", out_dir=tmp_path / "published",
                              reports_dir=tmp_path / "reports", state_dir=tmp_path / "state",
                              source=served, return_state=True)
    assert state.is_completed(), state.message
    assert Flaky.failures == 1
    assert (tmp_path / "published" / "latest" / "datapackage.json").is_file()

    state = publish_open_data(raw_dir=tmp_path / "mirror2", out_dir=tmp_path / "published2",
                              reports_dir=tmp_path / "reports", state_dir=tmp_path / "state2",
                              source=served + "finns-inte/", return_state=True)
    assert state.is_failed() and "Källan" in state.message
