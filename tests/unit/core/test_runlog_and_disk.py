"""A run's message on one line, and the disk faults' bilingual messages."""

from flows.core.diskfault import full_message, unwritable_message
from flows.core.messages import Said
from flows.core.runlog import one_line
from flows.core.statefiles import Damaged


def test_one_line_joins_strips_prefect_prefix_and_caps_at_500():
    assert one_line(None) == ""
    assert one_line("Flow run encountered an exception: KeyError:\n  'x'") == "KeyError: 'x'"
    assert len(one_line("a " * 1000)) == 500


def test_a_full_disk_is_said_with_free_and_needed_space_in_each_language(tmp_path):
    message = full_message(tmp_path, needed=3 * 1024 * 1024)
    sv, en = message.split(" / ", 1)
    assert sv.startswith(f"Disken är full där {tmp_path} ligger (") and "ledigt, ungefär 3.0 MB" \
        " behövs)" in sv
    assert en.startswith(f"The disk is full where {tmp_path} is (") and "free, about 3.0 MB " \
        "needed)" in en


def test_an_unwritable_folder_names_it_in_both_languages(tmp_path):
    sv, en = unwritable_message(tmp_path).split(" / ", 1)
    assert sv.startswith(f"Mappen {tmp_path} kan inte skrivas") and en.startswith(
        f"The folder {tmp_path} cannot be written")


def test_a_damaged_state_file_says_why_in_each_language(tmp_path):
    note = Damaged(tmp_path / "a.json", Said("tom", "empty")).note
    assert note == (f"Tillståndsfilen {tmp_path / 'a.json'} var skadad (tom) och ignorerades; den "
                    "byggs om. Inget behöver göras; händer det igen, kontrollera disken. / The "
                    f"state file {tmp_path / 'a.json'} was damaged (empty) and was ignored; it is "
                    "rebuilt. Nothing needs doing; if it happens again, check the disk.")
