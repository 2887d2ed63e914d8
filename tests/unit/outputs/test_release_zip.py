"""The release's zip on its own: what it holds, in which order, and that the same files give
the same bytes; the room a release needs counts the zip."""

import zipfile

from flows.outputs.release import needed_bytes
from flows.outputs.release_zip import NAME, write_release_zip, zipped_files


def release(folder, files):
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def test_the_zip_holds_every_file_but_itself_and_the_checksums_in_path_order(tmp_path):
    folder = release(tmp_path / "r", {"b/b.csv": b"x\r\n", "a.json": b"[]\n", "SHA256SUMS": b"",
                                      "b/b.parquet": b"PAR1", NAME: b"old"})
    assert zipped_files(folder) == ["a.json", "b/b.csv", "b/b.parquet"]
    with zipfile.ZipFile(write_release_zip(folder)) as bundle:
        assert bundle.namelist() == ["a.json", "b/b.csv", "b/b.parquet"]
        assert bundle.read("b/b.csv") == b"x\r\n"
        kinds = {i.filename: i.compress_type for i in bundle.infolist()}
    assert kinds == {"a.json": zipfile.ZIP_DEFLATED, "b/b.csv": zipfile.ZIP_DEFLATED,
                     "b/b.parquet": zipfile.ZIP_STORED}


def test_the_same_files_give_the_same_zip_whenever_they_were_written(tmp_path):
    import os

    files = {"a.csv": b"a\r\n1\r\n", "d/e.json": b"{}\n"}
    one, two = release(tmp_path / "one", files), release(tmp_path / "two", files)
    os.utime(two / "a.csv", (0, 0))
    assert write_release_zip(one).read_bytes() == write_release_zip(two).read_bytes()


def test_the_room_needed_counts_a_zip_of_everything_when_the_previous_release_had_none(tmp_path):
    previous = release(tmp_path / "p", {"a/a.csv": b"x" * 100, "b/b.csv": b"y" * 50,
                                        "index.html": b"z" * 50})
    assert needed_bytes(previous, {"a"}) == (100 + 200) + (100 + 200) // 10
    (previous / NAME).write_bytes(b"w" * 120)  # a previous zip: its size stands for the next
    assert needed_bytes(previous, {"a"}) == 220 + 22
    assert needed_bytes(None, set()) is None
