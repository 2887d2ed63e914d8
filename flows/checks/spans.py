"""A large delivery checked span by span, each span a task of its own - on the flow's threads or
on the workers of a Dask cluster - with the same verdict as one task checking it whole: a span
is checked by the very same per-piece checks (`FileCheck.check`), and the findings are put
together in file order by the same accumulator (`DeliveryCheck`).

Only UTF-8 CSV files are split (their spans can be read straight from the file's bytes); a span
writes its accepted rows to a part file next to the verdict, so what travels back to the flow is
small (the problems and 9 bytes of key hash a row)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import NamedTuple

import pyarrow.parquet as pq
from pydantic import BaseModel

from flows.checks.delivery import DeliveryCheck, FileCheck, PieceVerdict, _frame
from flows.checks.verdict import RowWriter, ValidatedFile
from flows.core.labels import label_index
from flows.core.memory import give_back
from flows.core.problems import Problem
from flows.core.register import Register
from flows.intake.discover import RawFile
from flows.intake.reading import Reading, Span, csv_spans, read_delivery, read_span


class Plan(BaseModel):
    """A large CSV delivery, opened: its header and its spans."""

    raw: RawFile
    header: list[str]
    delimiter: str
    spans: list[tuple[int, int, int]]


class SpanFindings(NamedTuple):
    verdicts: list[tuple[PieceVerdict, Span, int]]  # its pieces' findings, where they were
    # read and how many rows they accept (not in `accepted`: a row group each in `part`)
    part: Path
    rows: int


def plan_delivery(raw: RawFile, register: Register, split_bytes: int
                  ) -> Plan | ValidatedFile | None:
    """A plan when the file is a UTF-8 CSV larger than `split_bytes`; the verdict at once when
    it cannot be read; None when it is to be checked whole."""
    if raw.format != "csv" or not raw.path.is_file() or raw.path.stat().st_size <= split_bytes:
        return None
    reading = read_delivery(raw, label_index(register.schema(raw.report_type)))
    if isinstance(reading, Problem):
        return _frame(raw, None, problems=[reading])
    if not reading.in_place:
        return None
    return Plan(raw=raw, header=reading.header, delimiter=reading.delimiter or ",",
                spans=[tuple(s) for s in csv_spans(reading, split_bytes)])


# spans checked at once in one process (the flow's threads): their memory stays bounded
AT_ONCE = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))


def check_span(plan: Plan, index: int, register: Register, part: Path) -> SpanFindings:
    """One span's findings; its accepted rows go to `part`."""
    with AT_ONCE:  # each piece's rows become one row group of the part (see combine_spans)
        check = FileCheck(plan.raw, plan.header, register)
        writer, found, rows = RowWriter(part, check.stored_type), [], 0
        none = check.stored_type.empty_table()
        for piece in read_span(plan.raw.path, Span(*plan.spans[index]), len(plan.header),
                               plan.delimiter):
            verdict = check.check(piece)
            accepted = verdict.accepted.num_rows
            if accepted:
                writer.write(verdict.accepted)
            rows += accepted
            found.append((verdict._replace(accepted=none), piece.span, accepted))  # not a
            # zero-length slice: it would keep the rows' memory alive
        writer.close()
    give_back()
    return SpanFindings(found, part, rows)


def combine_spans(plan: Plan, findings: list[SpanFindings], register: Register,
                  into: Path | None) -> ValidatedFile:
    """The file's verdict from its spans' findings, in file order; the parts are removed."""
    reading = read_delivery(plan.raw, label_index(register.schema(plan.raw.report_type)))
    if not isinstance(reading, Reading):  # changed since it was planned
        return _frame(plan.raw, None, problems=[reading])
    check = DeliveryCheck(plan.raw, reading, register, into)
    try:
        for found in findings:  # a piece's rows are a row group of its span's part
            part, group = pq.ParquetFile(found.part), 0
            for verdict, span, accepted in found.verdicts:
                if accepted:
                    verdict = verdict._replace(accepted=part.read_row_group(group))
                    group += 1
                check.add(verdict, span)
        return check.verdict()
    finally:
        for found in findings:
            Path(found.part).unlink(missing_ok=True)
        give_back()
