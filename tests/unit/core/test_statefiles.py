"""State files are written whole or not at all, and a damaged one (missing, empty, a folder,
cut off, swapped) is found before it is read, with a warning that says what happens."""

import hashlib
import os

import pytest

from flows.core.messages import Said
from flows.core.statefiles import (
    Damaged,
    check_digest,
    discard,
    make_folder,
    present,
    readable_file,
    write_atomic,
)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_an_atomic_write_leaves_the_data_and_no_temporary_file(tmp_path):
    target = tmp_path / "verdicts" / "a.json"
    write_atomic(target, b"first")
    write_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.json"]


def test_an_atomic_write_replaces_a_folder_in_the_files_place(tmp_path):
    target = tmp_path / "a.json"
    (target / "inside").mkdir(parents=True)
    write_atomic(target, b"data")
    assert target.is_file() and target.read_bytes() == b"data"


def test_a_failed_write_keeps_what_was_there(tmp_path, monkeypatch):
    target = tmp_path / "a.json"
    write_atomic(target, b"old")

    def full_disk(*_):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old"


@pytest.mark.parametrize(("make", "said"), [
    (lambda p: None, "missing or a folder"),
    (lambda p: p.mkdir(), "missing or a folder"),
    (lambda p: p.write_bytes(b""), "empty"),
])
def test_a_missing_empty_or_folder_state_file_is_damaged(tmp_path, make, said):
    path = tmp_path / "state.json"
    make(path)
    with pytest.raises(Damaged) as found:
        readable_file(path)
    assert (found.value.path, found.value.why.en) == (path, said)


def test_a_file_whose_digest_differs_is_damaged_and_a_matching_one_is_not(tmp_path):
    path = tmp_path / "rows.parquet"
    path.write_bytes(b"rows as written")
    check_digest(path, sha(b"rows as written"))
    path.write_bytes(b"rows as wr")  # cut off
    with pytest.raises(Damaged, match="sha256 does not match"):
        check_digest(path, sha(b"rows as written"))
    with pytest.raises(Damaged):
        check_digest(path, None)  # a note without a digest


def test_the_warning_names_the_file_and_what_happens_in_both_languages(tmp_path):
    note = Damaged(tmp_path / "x.json", Said("tom", "empty")).note
    assert str(tmp_path / "x.json") in note
    swedish, english = note.split(" / ")
    assert "(tom)" in swedish and "byggs om" in swedish
    assert "(empty)" in english and "rebuilt" in english


def test_make_folder_removes_a_file_where_a_folder_belongs_and_says_so(tmp_path):
    root = tmp_path / "state"
    root.mkdir()
    (root / "verdicts").write_text("not a folder")
    found = make_folder(root / "verdicts" / "2021", root)
    assert (root / "verdicts" / "2021").is_dir()
    assert [(d.path, d.why.en) for d in found] == [(root / "verdicts", "a file where a folder belongs")]
    assert make_folder(root / "verdicts" / "2021", root) == []


def test_discard_removes_files_folders_and_broken_links(tmp_path):
    (tmp_path / "folder" / "inner").mkdir(parents=True)
    (tmp_path / "file").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    assert present(tmp_path / "link") and not (tmp_path / "link").exists()
    discard(tmp_path / "folder", tmp_path / "file", tmp_path / "link", tmp_path / "absent")
    assert list(tmp_path.iterdir()) == []
