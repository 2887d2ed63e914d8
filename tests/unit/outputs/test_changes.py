"""What changed between two releases' CSV files of a dataset, per key: small files written on
the fly, the counts and keys the release's changes.json and CHANGELOG.md carry."""

from flows.outputs.changes import SHOWN, changelog_markdown, diff, release_changes, unchanged


def csv_file(path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.replace("\n", "\r\n"), encoding="utf-8")
    return path


def test_rows_added_removed_and_changed_are_counted_by_key(tmp_path):
    old = csv_file(tmp_path / "old.csv", "id,namn\n1,a\n2,b\n3,c\n")
    new = csv_file(tmp_path / "new.csv", "id,namn\n1,a\n2,B\n4,d\n")
    found = diff(old, new, ["id"])
    assert {k: found[k] for k in ("rows", "added", "removed", "changed")} == {
        "rows": 3, "added": 1, "removed": 1, "changed": 1}
    assert found["keys"] == {"added": [{"id": "4"}], "removed": [{"id": "3"}],
                             "changed": [{"id": "2"}]}


def test_without_a_previous_file_every_row_is_added(tmp_path):
    new = csv_file(tmp_path / "new.csv", "id,namn\n2,b\n1,a\n")
    found = diff(None, new, ["id"])
    assert (found["rows"], found["added"], found["keys"]["added"]) == (2, 2, [{"id": "1"},
                                                                              {"id": "2"}])


def test_a_new_column_changes_only_rows_that_have_a_value_in_it(tmp_path):
    old = csv_file(tmp_path / "old.csv", "id,namn\n1,a\n2,b\n")
    new = csv_file(tmp_path / "new.csv", "id,namn,not\n1,a,\n2,b,x\n")
    assert diff(old, new, ["id"])["keys"]["changed"] == [{"id": "2"}]


def test_a_changed_key_makes_every_row_new(tmp_path):
    old = csv_file(tmp_path / "old.csv", "nr,namn\n1,a\n")
    new = csv_file(tmp_path / "new.csv", "id,namn\n1,a\n")
    found = diff(old, new, ["id"])
    assert (found["added"], found["removed"], found["changed"]) == (1, 0, 0)


def test_the_counts_are_complete_but_only_the_first_keys_are_listed(tmp_path):
    rows = "".join(f"{n:03d},x\n" for n in range(SHOWN + 5))
    new = csv_file(tmp_path / "new.csv", "id,namn\n" + rows)
    found = diff(None, new, ["id"])
    assert found["added"] == SHOWN + 5 and len(found["keys"]["added"]) == SHOWN
    assert found["keys"]["added"][0] == {"id": "000"}


def test_a_reused_dataset_is_unchanged_and_a_new_one_is_marked_new(tmp_path):
    previous, current = tmp_path / "R1", tmp_path / "R2"
    csv_file(previous / "a" / "a.csv", "id\n1\n")
    csv_file(current / "a" / "a.csv", "id\n1\n2\n")
    csv_file(current / "b" / "b.csv", "id\n1\n")
    found = release_changes(previous, current, {"a": ["id"], "b": ["id"]}, reused={"a"},
                            rows={"a": 1, "b": 1})
    assert found["a"] == unchanged(1)
    assert (found["b"]["new_dataset"], found["b"]["added"]) == (True, 1)
    again = release_changes(previous, current, {"a": ["id"]}, reused=set(), rows={"a": 2})
    assert (again["a"]["added"], again["a"]["new_dataset"]) == (1, False)


def test_the_changelog_has_a_row_per_dataset_and_the_keys_beyond_the_list_counted():
    change = {"rows": 60, "added": 3, "removed": 0, "changed": 1,
              "keys": {"added": [{"id": "1", "ar": "2021"}], "removed": [], "changed": []}}
    text = changelog_markdown("R2", "R1", {"a": change, "b": unchanged(4)})
    lines = text.splitlines()
    assert lines[0] == "# Ändringar i release R2 / changes in release R2"
    assert "| a | 60 | 3 | 0 | 1 |" in lines and "| b | 4 | 0 | 0 | 0 |" in lines
    assert "- added: id=1, ar=2021" in lines
    assert "- … 2 more added" in lines and "- … 1 more changed" in lines
    assert "## b" not in lines


def test_the_first_release_lists_no_keys():
    text = changelog_markdown("R1", None, {"a": {**unchanged(2), "added": 2}})
    assert "ingen tidigare release / none" in text and "## a" not in text
