"""Property: whatever a department delivers, in any format, encoding or delimiter, every row
read is either published or rejected with a located problem - never lost, never a crash."""

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from flows.checks.delivery import check_file
from flows.intake.discover import RawFile

pytestmark = pytest.mark.slow  # property tests

FIELDS = ["aktivitet_id", "rapportar", "mal_id", "titel", "forvaltning_id", "status",
          "kostnad_tkr"]
KINDS = ["good", "good", "good", "bad-status", "bad-date-year", "bad-number", "unknown-goal",
         "duplicate", "short"]


def make_row(n: int, kind: str) -> list:
    row = [f"A{n:03d}", "2020", "O1", f"Åtgärd för äldre nr {n}", "social", "pågående", "1 200,5"]
    if kind == "bad-status":
        row[5] = "klar"
    elif kind == "bad-date-year":
        row[1] = "tjugo"
    elif kind == "bad-number":
        row[6] = "mycket"
    elif kind == "unknown-goal":
        row[2] = "Ö7"
    elif kind == "duplicate":
        row[0] = "A999"
    elif kind == "short":
        row = row[:3]
    return row


def deliver(tmp, fmt: str, encoding: str, delimiter: str, rows: list[list]) -> RawFile:
    name = f"aktiviteter.{fmt}"
    path = tmp / name
    if fmt == "csv":
        text = "\n".join(delimiter.join(f'"{c}"' if delimiter in c or "," in c else c
                                        for c in row) for row in [FIELDS, *rows]) + "\n"
        path.write_bytes(text.encode(encoding))
    elif fmt == "xlsx":
        book = Workbook()
        book.active.title = "aktiviteter"
        for row in [FIELDS, *rows]:
            book.active.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        path.write_bytes(buffer.getvalue())
    else:
        records = [dict(zip(FIELDS, row, strict=False)) for row in rows]
        path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return RawFile(path=path, name=f"2020/social/{name}", year=2020, department="social",
                   report_type="aktiviteter", format=fmt)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=20),
       fmt=st.sampled_from(["csv", "csv", "xlsx", "json"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]),
       delimiter=st.sampled_from([",", ";", "\t"]))
def test_every_row_is_published_or_rejected_whatever_the_format(
        tmp_path_factory, register, kinds, fmt, encoding, delimiter):
    rows = [make_row(n, kind) for n, kind in enumerate(kinds)]
    raw = deliver(tmp_path_factory.mktemp("gen"), fmt, encoding, delimiter, rows)
    result = check_file(raw, register)

    good = sum(kind == "good" for kind in kinds) + ("duplicate" in kinds)
    assert result.rows_read == len(rows)
    if fmt == "json" and set(kinds) == {"short"}:
        # JSON columns are the records' keys: if no record has 'status', the column is missing
        assert result.file_rejected and result.rows_rejected == len(rows)
        return
    assert not result.file_rejected, [p.type for p in result.problems]
    assert result.rows_read == result.rows_published + result.rows_rejected
    assert result.rows_published == good
    assert sorted(result.rejected_rows) == sorted(set(result.rejected_rows))
    for number in result.rejected_rows:
        assert any(p.row == number for p in result.problems)
    for record in result.records:
        assert float(record["kostnad_tkr"]) == 1200.5
