"""Crash safety and fuzzing: a publish killed at random points never leaves a broken latest;
random and near-valid bytes give a result or a located error, never a traceback."""

import hashlib
import os
import pickle
import random
import signal
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.checks.delivery import check_file
from flows.intake.discover import RawFile

from conftest import RAW

pytestmark = pytest.mark.slow  # fuzzed input, whole releases


def verify(latest):
    for line in (latest / "SHA256SUMS").read_text("utf-8").splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((latest / name).read_bytes()).hexdigest() == digest, name


# Each publish is a process forked from one that has imported the code and loaded the tables:
# a kill lands in the publish, not in Python's start, and the start is paid once. It says the
# publish's pid, then how it ended (-9: killed by SIGKILL).
PUBLISHER = """
import os, pickle, sys, traceback
from flows.core.register import load_register
from flows.outputs.release import write_release
tables, register = pickle.loads(open(sys.argv[1], "rb").read()), load_register()
for _ in sys.stdin:
    child = os.fork()
    if child == 0:
        code = 1
        try:
            write_release(tables, register, sys.argv[2])
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    print(child, flush=True)
    print(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]), flush=True)
"""


def test_sigkill_at_random_points_never_breaks_latest(tmp_path, shipped_tables):
    (tmp_path / "tables.pickle").write_bytes(pickle.dumps(shipped_tables))
    out = tmp_path / "out"
    publisher = subprocess.Popen([sys.executable, "-c", PUBLISHER, str(tmp_path / "tables.pickle"),
                                  str(out)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 text=True)

    def publish() -> int:
        publisher.stdin.write("publish\n")
        publisher.stdin.flush()
        return int(publisher.stdout.readline())

    def ended() -> int:
        return int(publisher.stdout.readline())

    try:
        started = time.monotonic()
        publish()
        assert ended() == 0  # a first, complete release
        duration = time.monotonic() - started
        rng = random.Random(20261129)
        kills = attempts = 0
        while kills < 20 and attempts < 60:  # bounded: at most 60 publishes
            attempts += 1
            child = publish()
            time.sleep(rng.uniform(0.1, 0.95) * duration)
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass  # it had ended and been waited for
            code = ended()
            assert code in (0, -signal.SIGKILL), code  # it published whole or was killed
            kills += code == -signal.SIGKILL
            latest = (out / "latest").resolve()
            assert latest.is_dir() and not latest.name.startswith(".")
            verify(latest)
        assert kills >= 20, f"only {kills} kills landed while publishing"
    finally:
        publisher.stdin.close()
        publisher.wait(timeout=60)


FORMATS = st.sampled_from(["csv", "xlsx", "json"])


def judge(tmp_path, data: bytes, fmt: str, register) -> None:
    path = tmp_path / f"aktiviteter.{fmt}"
    path.write_bytes(data)
    raw = RawFile(path=path, name=f"2020/social/aktiviteter.{fmt}", year=2020,
                  department="social", report_type="aktiviteter", format=fmt)
    result = check_file(raw, register)  # must not raise
    assert result.rows_read == result.rows_published + result.rows_rejected
    for p in result.problems:
        assert p.type and p.message_sv and p.message_en and p.file == raw.name


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2048), fmt=FORMATS)
def test_random_bytes_give_a_result_or_a_located_error(tmp_path, register, data, fmt):
    judge(tmp_path, data, fmt, register)


VALID = (RAW / "2020" / "social" / "aktiviteter.csv").read_bytes()


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.binary(max_size=3)),
                      min_size=1, max_size=8))
def test_near_valid_files_give_a_result_or_a_located_error(tmp_path, register, edits):
    data = bytearray(VALID)
    for position, replacement in edits:
        data[position:position + 1] = replacement
    judge(tmp_path, bytes(data), "csv", register)


@pytest.mark.parametrize("data", [b"\x00" * 100, b"\xff\xfe\x00", b'[{"a": 1}', b"[1, 2]",
                                  b"PK\x03\x04" + b"\x00" * 50, "å;ä;ö\n".encode("cp1252")])
def test_known_nasty_inputs(tmp_path, register, data):
    for fmt in ("csv", "xlsx", "json"):
        judge(tmp_path, data, fmt, register)
