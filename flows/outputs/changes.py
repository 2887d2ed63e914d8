"""What changed since the previous release, per dataset and primary key: rows added, removed
and changed. Written into each release as changes.json and CHANGELOG.md.

Two releases' CSV files are compared as published text by a columnar join on the key (DuckDB,
on disk, in bounded memory): each side is reduced to its key and a 64-bit hash of the row, so
a dataset of any size is compared without holding it (two different rows with the same hash
would be missed as changed: about one chance in 10^19 per row). The counts are complete and
the first keys of each kind are listed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flows.core.messages import say

SHOWN = 50  # keys listed per kind and dataset; the counts are always complete
SMALL = 64 * 2**20  # bytes of CSV compared in memory; larger ones in a database on disk
COUNTED = ("rows", "added", "removed", "changed")  # the columns of CHANGELOG.md
MEMORY_LIMIT = "256MB"  # DuckDB spills to disk beyond this (memory stays flat at any size)


def unchanged(rows: int) -> dict[str, Any]:
    """A dataset whose rows are the previous release's."""
    return {"rows": rows, "added": 0, "removed": 0, "changed": 0,
            "keys": {"added": [], "removed": [], "changed": []}, "new_dataset": False}


def diff(previous: Path | None, current: Path, key: list[str], work: Path | None = None
         ) -> dict[str, Any]:
    """Rows added, removed and changed (any cell's text differs) between two CSV files of a
    dataset, by key. A column only one of them has counts as empty in the other."""
    connection, database = _connect(previous, current, work)
    try:
        now = _read(connection, current)
        if previous is None:
            return _all_added(connection, now, key)
        header = _header(connection, now)
        before, old_header = _comparable(connection, _read(connection, previous), header, key)
        _hash_rows(connection, now, before, header, old_header, key)
        return _compared(connection, key)
    finally:
        connection.close()
        if database != ":memory:":
            for leftover in Path(database).parent.glob(Path(database).name + "*"):
                leftover.unlink(missing_ok=True)


def _connect(previous: Path | None, current: Path, work: Path | None) -> tuple[Any, str]:
    """DuckDB in memory, or - for large files, given a work folder - in a database on disk
    there, so that a join beyond memory spills to it -> (connection, database)."""
    import duckdb

    config = {"memory_limit": MEMORY_LIMIT, "threads": max(1, os.cpu_count() or 1),
              "preserve_insertion_order": False}
    database = ":memory:"
    large = current.stat().st_size + (previous.stat().st_size if previous else 0) > SMALL
    if work is not None and large:
        Path(work).mkdir(parents=True, exist_ok=True)
        database = str(Path(work) / f"changes-{os.getpid()}-{id(current)}.duckdb")
    return duckdb.connect(database, config=config), database


def _all_added(connection: Any, now: str, key: list[str]) -> dict[str, Any]:
    """Without a previous file every row is added."""
    rows = connection.execute(f"SELECT count(*) FROM {now}").fetchone()[0]
    added = _keys(connection, f"SELECT {_cols(key)} FROM {now}", key)
    return {"rows": rows, "added": rows, "removed": 0, "changed": 0,
            "keys": {"added": added, "removed": [], "changed": []}}


def _comparable(connection: Any, before: str, header: list[str], key: list[str]
                ) -> tuple[str, list[str]]:
    """The previous file and its header; one without the key's columns has another key, so
    it counts as empty (every row is new)."""
    old_header = _header(connection, before)
    if set(key) <= set(old_header):
        return before, old_header
    empty = f"(SELECT {', '.join(_text('') + ' AS ' + _name(n) for n in header)} WHERE false)"
    return empty, header


def _hash_rows(connection: Any, now: str, before: str, header: list[str],
               old_header: list[str], key: list[str]) -> None:
    """new_rows and old_rows: each side as its key (text and a hash to join on) and a hash of
    the row as the current header reads it (a column the old file lacks is empty): 8 bytes a
    row and the key, not the rows, go into the join."""
    cells = [f"coalesce({_name(c)}, '')" if c in old_header else "''" for c in header]
    for table, source, row in (("new_rows", now, [f"coalesce({_name(c)}, '')" for c in header]),
                               ("old_rows", before, cells)):
        connection.execute(f"""
            CREATE TABLE {table} AS
            SELECT {', '.join(f"coalesce({_name(k)}, '') AS {_name(k)}" for k in key)},
                   hash({', '.join(f"coalesce({_name(k)}, '')" for k in key)}) AS k_,
                   hash({', '.join(row)}) AS h_
            FROM {source}""")


def _compared(connection: Any, key: list[str]) -> dict[str, Any]:
    """The two sides joined on the key: the counts of each kind and the first keys."""
    on = " AND ".join(["n.k_ = b.k_", *(f"n.{_name(k)} = b.{_name(k)}" for k in key)])
    connection.execute(f"""
        CREATE TABLE joined AS
        SELECT {', '.join(f'coalesce(n.{_name(k)}, b.{_name(k)}) AS {_name(k)}' for k in key)},
               n.k_ IS NULL AS removed, b.k_ IS NULL AS added,
               n.k_ IS NOT NULL AND b.k_ IS NOT NULL AND n.h_ <> b.h_ AS changed
        FROM new_rows n FULL OUTER JOIN old_rows b ON {on}""")
    counts = connection.execute(
        "SELECT count(*) FILTER (WHERE NOT removed), count(*) FILTER (WHERE added), "
        "count(*) FILTER (WHERE removed), count(*) FILTER (WHERE changed) FROM joined"
    ).fetchone()
    keys = {kind: _keys(connection, f"SELECT {_cols(key)} FROM joined WHERE {kind}", key)
            if counts[index] else [] for index, kind in
            ((1, "added"), (2, "removed"), (3, "changed"))}
    return {"rows": counts[0], "added": counts[1], "removed": counts[2],
            "changed": counts[3], "keys": keys}


def _read(connection: Any, path: Path) -> str:
    """A CSV file as text columns (the published text, empty cells as '')."""
    return (f"read_csv({_text(str(path))}, header = true, all_varchar = true, "
            "auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
            "null_padding = false, strict_mode = true, "
            f"columns = {_columns(connection, path)})")


def _columns(connection: Any, path: Path) -> str:
    """The header's names, each read as text."""
    import csv

    with Path(path).open(encoding="utf-8", newline="") as handle:
        names = next(csv.reader(handle), [])
    return "{" + ", ".join(f"{_text(n)}: 'VARCHAR'" for n in names) + "}"


def _header(connection: Any, source: str) -> list[str]:
    return [row[0] for row in connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]


def _keys(connection: Any, query: str, key: list[str]) -> list[dict[str, str]]:
    rows = connection.execute(f"{query} ORDER BY {_cols(key)} LIMIT {SHOWN}").fetchall()
    return [{k: "" if v is None else v for k, v in zip(key, row, strict=True)} for row in rows]


def _cols(names: list[str]) -> str:
    return ", ".join(_name(n) for n in names)


def _name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def release_changes(previous_release: Path | None, current: Path,
                    keys: dict[str, list[str]], reused: set[str], rows: dict[str, int],
                    work: Path | None = None) -> dict[str, dict[str, Any]]:
    """Per dataset: reused ones are unchanged; the others are compared with the previous
    release's CSV (a dataset new in this release has none)."""
    found = {}
    for dataset_id, key in keys.items():
        old = None
        if previous_release is not None:
            candidate = previous_release / dataset_id / f"{dataset_id}.csv"
            old = candidate if candidate.is_file() else None
        if dataset_id in reused and old is not None:
            found[dataset_id] = unchanged(rows[dataset_id])
            continue
        now = current / dataset_id / f"{dataset_id}.csv"
        found[dataset_id] = diff(old, now, key, work) | {"new_dataset": old is None}
    return found


def changelog_markdown(version: str, previous: str | None, changes: dict[str, dict]) -> str:
    """CHANGELOG.md of a release: a table of counts per dataset, then the first keys of each
    kind per changed dataset (the headings bilingual, the key lines as data)."""
    lines = [f"# {say('changes.heading', version=version)}", "",
             f"{say('changes.compared-with')}: {previous or say('changes.no-previous')}", "",
             "| " + " | ".join(["dataset", *(str(say(f"changes.{c}")) for c in COUNTED)]) + " |",
             "|---|---:|---:|---:|---:|"]
    for dataset_id, change in changes.items():
        lines.append(f"| {dataset_id} | {change['rows']} | {change['added']} | "
                     f"{change['removed']} | {change['changed']} |")
    for dataset_id, change in changes.items():
        if previous and (change["added"] or change["removed"] or change["changed"]):
            lines += ["", f"## {dataset_id}", "", *_key_lines(change)]
    return "\n".join(lines) + "\n"


def _key_lines(change: dict[str, Any]) -> list[str]:
    lines = []
    for kind in ("added", "removed", "changed"):
        for key in change["keys"][kind]:
            shown = ", ".join(f"{k}={v}" for k, v in key.items())
            lines.append(f"- {kind}: {shown}")
        if change[kind] > len(change["keys"][kind]):
            lines.append(f"- … {change[kind] - len(change['keys'][kind])} more {kind}")
    return lines
