"""File names as people save them (#16): upper-case extensions, names in NFD (as macOS writes
them), spaces around a name. Each file is published, or rejected by its name as on disk with
the exact rename - never skipped without a word."""

import re
import shutil
import unicodedata

import pytest

from flows.intake.discover import discover

from conftest import RAW, publish_raw

pytestmark = pytest.mark.slow  # whole releases

CSV = "aktivitet_id,forvaltning_id,ar\n"


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def test_upper_case_names_are_published_as_their_report_type(tmp_path, register, shipped_release):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    (raw / "2020/social/aktiviteter.csv").rename(raw / "2020/social/AKTIVITETER.CSV")
    (raw / "2021/social/nyckeltal.csv").rename(raw / "2021/social/Nyckeltal.Csv")
    found = discover(raw, register)
    assert found.rejected == []
    by_name = {f.name: (f.report_type, f.format) for f in found.files}
    assert by_name["2020/social/AKTIVITETER.CSV"] == ("aktiviteter", "csv")
    assert by_name["2021/social/Nyckeltal.Csv"] == ("nyckeltal", "csv")
    renamed = publish_raw(raw, tmp_path / "out", register)
    assert renamed.rows == shipped_release.rows  # every row of the renamed files is published


def test_a_raw_folder_below_an_nfd_folder_is_read_whole(tmp_path, register):
    raw = tmp_path / nfd("Förvaltningarnas rapporter") / "raw"
    shutil.copytree(RAW, raw)
    found = discover(raw, register)
    assert found.rejected == []
    assert len(found.files) == len([p for p in RAW.rglob("*.*") if p.is_file()
                                    and not p.name.upper().startswith("README")])


@pytest.mark.parametrize("folder", [nfd("samhällsbyggnad"), "samhällsbyggnad", "Social"])
def test_a_department_folder_written_differently_gets_the_exact_rename(deliver, register,
                                                                         folder):
    deliver(f"2020/{folder}/aktiviteter.csv", CSV)
    found = discover(deliver.root, register)
    assert found.files == []
    [rejected] = found.rejected
    code = folder.casefold() if folder == "Social" else "samhallsbyggnad"
    assert rejected.type == "unknown-department"
    assert rejected.file == f"2020/{folder}/aktiviteter.csv"  # the name on disk, as it is
    assert f"Byt namn på mappen '{folder}' till '{code}'" in rejected.message_sv
    assert f"Rename the folder '{folder}' to '{code}'" in rejected.message_en


SPACED = [
    ("2020/social/aktiviteter.csv ", "filen 'aktiviteter.csv ' till 'aktiviteter.csv'"),
    ("2020/social/ aktiviteter.csv", "filen ' aktiviteter.csv' till 'aktiviteter.csv'"),
    ("2020/social/aktiviteter .csv", "filen 'aktiviteter .csv' till 'aktiviteter.csv'"),
    ("2020/social /aktiviteter.csv", "mappen 'social ' till 'social'"),
    ("2020 /social/aktiviteter.csv", "mappen '2020 ' till '2020'"),
    ("2020/social /AKTIVITETER.CSV ",
     "mappen 'social ' till 'social' och filen 'AKTIVITETER.CSV ' till 'AKTIVITETER.CSV'"),
]


@pytest.mark.parametrize(("name", "rename"), SPACED)
def test_spaces_around_a_name_are_rejected_with_the_exact_rename(deliver, register, name,
                                                                  rename):
    deliver(name, CSV)
    found = discover(deliver.root, register)
    assert found.files == []
    [rejected] = found.rejected
    assert (rejected.type, rejected.file) == ("bad-path", name)
    assert f"Byt namn på {rename}." in rejected.message_sv
    assert "Rename " in rejected.message_en
    # doing what the message says makes the file a delivery (the next run publishes it)
    for old, new in re.findall(r"'([^']*)' till '([^']*)'", rejected.message_sv):
        for path in sorted(deliver.root.rglob("*"), key=lambda p: -len(p.parts)):
            if path.name == old:
                path.rename(path.with_name(new))
    again = discover(deliver.root, register)
    assert again.rejected == [] and len(again.files) == 1


def test_two_names_for_one_delivery_are_both_rejected_by_name(deliver, register):
    deliver("2020/social/aktiviteter.csv", CSV)
    deliver("2020/social/AKTIVITETER.CSV", CSV)
    deliver("2020/social/fordon.csv", "x")
    found = discover(deliver.root, register)
    assert [f.name for f in found.files] == ["2020/social/fordon.csv"]
    assert sorted((p.file, p.type) for p in found.rejected) == [
        ("2020/social/AKTIVITETER.CSV", "bad-path"), ("2020/social/aktiviteter.csv", "bad-path")]
    for p in found.rejected:
        assert "'2020/social/AKTIVITETER.CSV', '2020/social/aktiviteter.csv'" in p.message_sv
        assert "remove or move the others" in p.message_en
    (deliver.root / "2020/social/aktiviteter.csv").unlink()
    again = discover(deliver.root, register)
    assert again.rejected == []
    assert [f.name for f in again.files] == ["2020/social/AKTIVITETER.CSV",
                                             "2020/social/fordon.csv"]


def test_no_file_is_skipped_without_a_word(deliver, register):
    names = ["2020/social/AKTIVITETER.CSV", "2020/social/Fordon.Csv", "2020/social/nyckeltal.JSON",
             "2020/social/ekonomi.csv ", "2020/social /personal.csv",
             f"2021/{nfd('samhällsbyggnad')}/ekonomi.csv", "2021/social/personal .csv",
             "2021/Social/fordon.csv", "2021/social/aktiviteter.csv",
             "2021/social/Aktiviteter.csv"]
    for name in names:
        deliver(name, CSV)
    found = discover(deliver.root, register)
    accounted = [f.name for f in found.files] + [p.file for p in found.rejected]
    assert sorted(accounted) == sorted(names)
    assert [f.name for f in found.files] == names[:3]
