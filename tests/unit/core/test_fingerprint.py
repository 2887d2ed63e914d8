"""The code hash that keys the cache describes the source, not what Python compiled from it."""

from pathlib import Path

from flows.core.fingerprint import code_hash


def test_compiled_files_do_not_change_the_code_hash():
    from flows.core import settings

    before = code_hash()
    cache = Path(settings.__file__).parent / "__pycache__"
    cache.mkdir(exist_ok=True)
    marker = cache / "hash-probe.cpython-311.pyc"
    marker.write_bytes(b"compiled")
    try:
        assert code_hash() == before
    finally:
        marker.unlink()


def test_a_changed_source_file_changes_the_code_hash(tmp_path):
    from flows.core import settings

    before = code_hash()
    probe = Path(settings.__file__).parent / "hash_probe_module.py"
    probe.write_text("X = 1\n", encoding="utf-8")
    try:
        assert code_hash() != before
    finally:
        probe.unlink()
    assert code_hash() == before
