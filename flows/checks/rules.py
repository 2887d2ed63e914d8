"""The domain rules that Table Schema cannot say, a column at a time: the row belongs to its
folder (year and department), declared date pairs are in order, Agenda 2030 target codes exist.
Only rows that passed the schema are judged; a problem object is made only for a row that
breaks a rule (and target codes are explained once per distinct cell)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from flows.checks.sdg import check_targets, targets_by_goal
from flows.core.problems import Problem, problem
from flows.core.register import DatasetSpec, Register, SdgTargets
from flows.intake.discover import RawFile


def rule_problems(spec: DatasetSpec, raw: RawFile, typed: dict[str, pa.Array],
                  lines: np.ndarray, judged: np.ndarray, register: Register
                  ) -> dict[int, list[Problem]]:
    """Problems by position in the piece, for the rows marked in `judged`."""
    found: dict[int, list[Problem]] = {}

    def add(mask: Any, make: Any) -> None:
        hits = np.flatnonzero(np.asarray(pc.fill_null(mask, False).to_numpy(
            zero_copy_only=False), dtype=bool) & judged)
        for position in hits.tolist():
            found.setdefault(position, []).append(make(position, int(lines[position])))

    def value(name: str, position: int) -> Any:
        return typed[name][position].as_py()

    dept, year = spec.department_field, spec.year_field
    if dept and raw.department and dept in typed:
        add(pc.invert(pc.fill_null(pc.equal(typed[dept], raw.department), False)),
            lambda p, line: department_mismatch(raw, line, dept, value(dept, p)))
    if year and raw.year and year in typed:
        add(pc.invert(pc.fill_null(pc.equal(typed[year], raw.year), False)),
            lambda p, line: year_mismatch(raw, line, year, value(year, p)))
    for rule in spec.rules:
        if isinstance(rule, SdgTargets):
            if rule.field in typed:
                _targets(raw, typed[rule.field], lines, judged, register, rule.field, found)
            continue
        if rule.start in typed and rule.end in typed:
            add(pc.less(typed[rule.end], typed[rule.start]),
                lambda p, line, r=rule: problem(
                    "date-order", raw.name, "problem.date-order.dates",
                    {"end": r.end, "end_value": value(r.end, p), "start": r.start,
                     "start_value": value(r.start, p)}, row=line, field=r.end, value=value(r.end, p)))
    return found


def _targets(raw: RawFile, column: pa.Array, lines: np.ndarray, judged: np.ndarray,
             register: Register, field: str, found: dict[int, list[Problem]]) -> None:
    """Agenda 2030 target codes: each cell's codes checked once per distinct cell."""
    goals = targets_by_goal(register.codes("sdg_delmal"))
    present = np.flatnonzero(pc.is_valid(column).to_numpy(zero_copy_only=False) & judged)
    if not len(present):
        return
    cells = column.take(pa.array(present)).to_pylist()
    verdicts = {text: check_targets(raw.name, 0, field, text, goals) for text in set(cells)}
    for position, text in zip(present.tolist(), cells, strict=True):
        if verdicts[text]:
            found.setdefault(position, []).extend(
                p.model_copy(update={"row": int(lines[position])}) for p in verdicts[text])


def department_mismatch(raw: RawFile, line: int, field: str, value: Any) -> Problem:
    return problem("department-mismatch", raw.name, "problem.department-mismatch.row",
                   {"value": value, "department": raw.department}, row=line, field=field,
                   value=value)


def year_mismatch(raw: RawFile, line: int, field: str, value: Any) -> Problem:
    return problem("year-mismatch", raw.name, "problem.year-mismatch.row",
                   {"value": value, "year": raw.year}, row=line, field=field, value=value)
