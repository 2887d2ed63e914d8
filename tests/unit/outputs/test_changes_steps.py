"""The steps of comparing two releases' CSV files, and the CHANGELOG.md they give."""

from flows.outputs.changes import changelog_markdown, diff, unchanged


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_added_removed_and_changed_by_key(tmp_path):
    old = write(tmp_path / "old.csv", "id,v\n1,a\n2,b\n3,c\n")
    new = write(tmp_path / "new.csv", "id,v\n1,a\n2,B\n4,d\n")
    found = diff(old, new, ["id"])
    assert (found["rows"], found["added"], found["removed"], found["changed"]) == (3, 1, 1, 1)
    assert found["keys"] == {"added": [{"id": "4"}], "removed": [{"id": "3"}],
                             "changed": [{"id": "2"}]}


def test_without_a_previous_file_every_row_is_added(tmp_path):
    new = write(tmp_path / "new.csv", "id,v\n2,b\n1,a\n")
    found = diff(None, new, ["id"])
    assert (found["rows"], found["added"]) == (2, 2)
    assert found["keys"]["added"] == [{"id": "1"}, {"id": "2"}]


def test_a_previous_file_with_another_key_counts_as_empty(tmp_path):
    old = write(tmp_path / "old.csv", "nr,v\n1,a\n")
    new = write(tmp_path / "new.csv", "id,v\n1,a\n")
    found = diff(old, new, ["id"])
    assert (found["added"], found["removed"], found["changed"]) == (1, 0, 0)


def test_a_column_the_old_file_lacks_counts_as_empty(tmp_path):
    old = write(tmp_path / "old.csv", "id\n1\n2\n")
    new = write(tmp_path / "new.csv", "id,v\n1,\n2,x\n")
    assert diff(old, new, ["id"])["keys"]["changed"] == [{"id": "2"}]


def test_the_changelog_is_bilingual_and_lists_what_is_not_shown_as_a_count():
    changes = {"a": {"rows": 2, "added": 3, "removed": 0, "changed": 0,
                     "keys": {"added": [{"id": "1"}], "removed": [], "changed": []}},
               "b": unchanged(5)}
    text = changelog_markdown("V2", "V1", changes)
    assert text.splitlines()[:4] == ["# Ändringar i release V2 / changes in release V2", "",
                                     "Jämfört med / compared with: V1", ""]
    assert "| a | 2 | 3 | 0 | 0 |" in text and "| b | 5 | 0 | 0 | 0 |" in text
    assert text.endswith("## a\n\n- added: id=1\n- … 2 more added\n")
    assert "ingen tidigare release / none" in changelog_markdown("V1", None, changes)
