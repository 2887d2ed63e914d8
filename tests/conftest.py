"""Shared fixtures. Prefect's home goes to a temp folder and its analytics off before anything
imports Prefect; one Prefect test harness serves the whole test session (it costs seconds).
The run fails when a test leaves a process running (leakcheck.py)."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_PREFECT_HOME = tempfile.mkdtemp(prefix="opendata-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ.pop("PREFECT_API_URL", None)
# Child processes (`opendata ...`, `python -c ...`) run this checkout's code, not the one an
# editable install elsewhere points at
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(Path(__file__).resolve().parent.parent), *filter(None, [os.environ.get("PYTHONPATH")])])

pytest_plugins = ["leakcheck", "pytester"]

import pytest  # noqa: E402

from flows.core.register import load_register  # noqa: E402
from flows.core.settings import PROJECT_ROOT  # noqa: E402

RAW = PROJECT_ROOT / "raw"
SHARED = PROJECT_ROOT.parent / "shared"
OPENDATA = str(Path(sys.executable).parent / "opendata")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Nothing listens on the port: a connection is refused, and a new server could bind it
    (with SO_REUSEADDR, as servers do: closed connections in TIME_WAIT do not count)."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_for_port(port: int, process, timeout: float = 60) -> None:
    """Wait until a server the test started accepts connections on `port`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited with {process.returncode}"
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on port {port} after {timeout} s")


def validated(raw: Path, register) -> list:
    """The flow's per-file steps without Prefect: discover, read and validate, merge."""
    from flows.checks.delivery import check_file
    from flows.checks.keys import merge_duplicates
    from flows.intake.discover import discover

    found = discover(raw, register)
    return merge_duplicates([check_file(f, register) for f in found.files], register)


def publish_raw(raw: Path, out: Path, register):
    """A release from a raw tree, as the flow builds it, without Prefect."""
    from flows.outputs.release import write_release
    from flows.tables.datasets import build_tables

    return write_release(build_tables(validated(raw, register), register), register, out)


@contextmanager
def kept_environment() -> Iterator[None]:
    """os.environ as it was on entry, again on exit: variables set, changed or removed inside
    are put back (os.environ, so that child processes see it too)."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        for name in [n for n in os.environ if n not in saved]:
            del os.environ[name]
        for name, value in saved.items():
            if os.environ.get(name) != value:
                os.environ[name] = value


@pytest.fixture(autouse=True)
def restored_environment() -> Iterator[None]:
    """Each test ends with the environment it started with, so that an OPENDATA_* or PREFECT_*
    variable one test sets cannot change the next. Session fixtures (the Prefect harness) are
    set up before it, so what they set stays for the session."""
    with kept_environment():
        yield


@pytest.fixture(scope="session")
def register():
    return load_register()


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect server (SQLite) for every test that runs a flow."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def harness_url() -> str:
    """The session's Prefect test server, for an `opendata run` in a process of its own (which
    would otherwise start Prefect's temporary server, seconds of work): ask for prefect_harness."""
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    assert url, "the test asks for the prefect_harness fixture"
    return url


@pytest.fixture(scope="session")
def shipped_tables(register):
    """The shipped raw/ validated and built into the release's tables, once for the whole run:
    for tests that write releases of them (write_release does not change them)."""
    from flows.tables.datasets import build_tables

    return build_tables(validated(RAW, register), register)


@pytest.fixture(scope="session")
def shipped_release(tmp_path_factory, register, shipped_tables):
    """One release of the shipped raw/, published once for the whole run (it costs seconds):
    for tests that only read it. A test that changes or damages a release changes a copy
    (copy_release)."""
    from flows.outputs.release import write_release

    return write_release(shipped_tables, register, tmp_path_factory.mktemp("shipped") / "out")


@pytest.fixture(scope="session")
def shipped_site(tmp_path_factory, prefect_harness):
    """The shipped raw/ published once by the real flow for the whole run: (folder, final
    state, summary), published/, reports/ and state/ in the folder. For tests that read it;
    a test that runs the flow on from it runs on a copy (copy_site)."""
    from flows.pipeline import publish_open_data

    site = tmp_path_factory.mktemp("shipped-site")
    state = publish_open_data(raw_dir=RAW, out_dir=site / "published",
                              reports_dir=site / "reports", state_dir=site / "state",
                              return_state=True)
    return site, state, state.result(raise_on_failure=False)


def copy_site(shipped_site, target: Path) -> Path:
    """A copy of shipped_site's published/, reports/ and state/ in `target` (links stay links,
    pointing inside the copy), as if the flow had published there. Returns the copied
    release (latest)."""
    site, _, summary = shipped_site
    for part in ("reports", "state"):
        shutil.copytree(site / part, target / part, symlinks=True)
    return copy_release(summary.release, target / "published")


def copy_release(release, out: Path) -> Path:
    """A copy of the published folder around `release` (releases/ and the `latest` link) in
    `out`, to change or damage: the link is relative, so it points inside the copy, and the
    quick check's note of the files (inodes change) is made for the copy, as publishing makes
    it. Returns the copied release."""
    from flows.outputs.verify import remember_seen

    shutil.copytree(Path(release.path).parent.parent, out, symlinks=True, dirs_exist_ok=True)
    copied = out / "releases" / Path(release.path).name
    assert (out / "latest").resolve() == copied.resolve()
    remember_seen(out, copied)
    return copied


@pytest.fixture
def raw_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped raw/ reports."""
    target = tmp_path / "raw"
    shutil.copytree(RAW, target)
    return target


@pytest.fixture
def deliver(tmp_path: Path):
    """Write one delivered file into a raw tree: deliver("2020/social/aktiviteter.csv", text)."""
    root = tmp_path / "raw"

    def write(relative: str, content: str | bytes) -> Path:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return path

    write.root = root
    return write


def pytest_configure(config):
    from leakcheck import watch

    watch(config, _PREFECT_HOME)


def pytest_collection_modifyitems(config, items):  # noqa: ARG001
    """Besides the marks in the test files: every property test (hypothesis) is slow and every
    test on the Prefect harness is e2e, so that a new one cannot slip into make test-quick."""
    for item in items:
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.slow)
        if "prefect_harness" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.e2e)


def pytest_sessionfinish(session, exitstatus):  # noqa: ARG001
    shutil.rmtree(_PREFECT_HOME, ignore_errors=True)


def written(frame, folder: Path, dataset_id: str = "t") -> dict[str, bytes]:
    """What the release writers make of a small frame: format -> bytes (Excel CSV, XLSX...)."""
    import pyarrow as pa

    from flows.outputs.writers import write_dataset

    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.cast(pa.schema([(f.name, pa.string() if pa.types.is_large_string(f.type)
                                   else f.type) for f in table.schema]))
    files = write_dataset(table.to_batches(), folder, dataset_id, table.num_rows,
                          schema=table.schema)
    return {f.format: (folder / f.path).read_bytes() for f in files}


# --- the real browser (#15): Debian's Chromium driven by chromedriver, and a loopback server
# for a release; used by test_portal.py and test_accessibility.py ------------------------------
BUILD = PROJECT_ROOT / "build"  # what `make test` leaves for review: axe reports, screenshots


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for a test module (skips when Chromium is not installed)."""
    if not shutil.which("chromium") or not shutil.which("chromedriver"):
        pytest.skip("Debian chromium and chromium-driver are not installed (make browser)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,1800"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def serve_folder(folder: Path):
    """Serve a folder over HTTP on loopback (as `python -m http.server` does); yields its URL."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
