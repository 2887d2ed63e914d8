"""Changes per key, as a columnar join on disk (flows/outputs/changes.py), against the rule as
first written: whole CSV files read into dictionaries and compared row by row (kept here as
the reference). Random tables, rows added, removed and changed, columns added and dropped."""

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.outputs.changes import diff

SHOWN = 50


def reference(previous: bytes | None, current: bytes, key: list[str]) -> dict:
    def read_rows(data: bytes):
        header, *rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
        return header, rows

    header, rows = read_rows(current)
    positions = [header.index(name) for name in key]
    now = {tuple(r[p] for p in positions): r for r in rows}
    if previous is None:
        before: dict = {}
    else:
        old_header, old_rows = read_rows(previous)
        old_positions = [old_header.index(n) for n in key if n in old_header]
        before = {tuple(r[p] for p in old_positions): dict(zip(old_header, r, strict=False))
                  for r in old_rows} if len(old_positions) == len(key) else {}
        before = {k: [v.get(name, "") for name in header] for k, v in before.items()}
    added = sorted(set(now) - set(before))
    removed = sorted(set(before) - set(now))
    changed = sorted(k for k in set(now) & set(before) if now[k] != before[k])
    shown = {kind: [dict(zip(key, k, strict=True)) for k in keys[:SHOWN]]
             for kind, keys in (("added", added), ("removed", removed), ("changed", changed))}
    return {"rows": len(now), "added": len(added), "removed": len(removed),
            "changed": len(changed), "keys": shown}


def as_csv(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


cell = st.text(alphabet=st.sampled_from(list('ab, "\n;åé=1')), max_size=4)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.tuples(st.sampled_from("xyz"), st.integers(0, 70).map(str)),
                       st.tuples(cell, cell), max_size=80),
       st.dictionaries(st.tuples(st.sampled_from("xyz"), st.integers(0, 70).map(str)),
                       st.tuples(cell, cell), max_size=80),
       st.sampled_from(["same", "added column", "dropped column", "no previous"]))
def test_changes_are_those_of_the_reference(tmp_path_factory, old, new, shape):
    tmp = tmp_path_factory.mktemp("changes")
    key = ["k1", "k2"]
    old_header, new_header = ["k1", "k2", "a", "b"], ["k1", "k2", "a", "b"]
    old_rows = [[*k, *v] for k, v in old.items()]
    new_rows = [[*k, *v] for k, v in new.items()]
    if shape == "added column":
        new_header.append("c")
        new_rows = [[*r, "c" if i % 2 else ""] for i, r in enumerate(new_rows)]
    elif shape == "dropped column":
        new_header.remove("b")
        new_rows = [r[:3] for r in new_rows]
    before = None if shape == "no previous" else as_csv(old_header, old_rows)
    now = as_csv(new_header, new_rows)
    (tmp / "now.csv").write_bytes(now)
    if before is not None:
        (tmp / "before.csv").write_bytes(before)
    found = diff(None if before is None else tmp / "before.csv", tmp / "now.csv", key,
                 tmp / "work")
    assert found == reference(before, now, key)
