"""A large delivery checked span by span (each span a task: threads or Dask workers) gets the
very verdict it gets checked whole: the same problems at the same rows, the same rows kept."""

import random

import pytest

from flows.checks.delivery import check_file
from flows.checks.spans import Plan, check_span, combine_spans, plan_delivery
from flows.intake.discover import classify


def national(rows: int, seed: int = 7) -> str:
    """Key-figure rows with errors of every kind scattered over the file: bad codes, unknown
    key figures, a key repeated far below its first row, blank lines, short rows, quoted
    values (one with a line break), a Unicode minus and decimal commas."""
    rng = random.Random(seed)
    kpis = ["N03107", "N00097", "N00090", "ANB-0001"]
    lines = ["nyckeltal_id,kommun_id,ar,kon,varde"]
    for n in range(rows):
        kpi, kommun, kon = kpis[n % 4], f"{n // 12 % 290 + 114:04d}", "TKM"[n // 4 % 3]
        value = f"{rng.random() * 100:.1f}"
        roll = rng.random()
        if roll < 0.002:
            kon = "X"
        elif roll < 0.004:
            kpi = "N99999"
        elif roll < 0.005:
            lines.append("")
        elif roll < 0.006:
            lines.append(f"{kpi},{kommun},2020")
            continue
        elif roll < 0.008:
            value = f'"{value.replace(".", ",")}"'
        elif roll < 0.009:
            value = "\u2212" + value
        elif roll < 0.0095:
            kommun = '"06\n04"'
        lines.append(f"{kpi},{kommun},2020,{kon},{value}")
    lines.insert(len(lines) - 10, lines[5])  # a key already delivered, near the end
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def delivery(tmp_path_factory, register):
    root = tmp_path_factory.mktemp("raw")
    path = root / "2020" / "kommunledning" / "nyckeltal.csv"
    path.parent.mkdir(parents=True)
    path.write_text(national(30_000), encoding="utf-8")
    return classify(path, "2020/kommunledning/nyckeltal.csv", register, strict_layout=True)


def shape(result):
    return (result.rows_read, result.rows_published, result.rows_rejected,
            [(p.type, p.row, p.field, p.value, p.message_sv) for p in result.problems],
            result.records)


def test_spans_give_the_verdict_of_the_whole_file(delivery, register, tmp_path):
    whole = check_file(delivery, register)
    plan = plan_delivery(delivery, register, 64 * 1024)
    assert isinstance(plan, Plan) and len(plan.spans) > 5
    findings = [check_span(plan, index, register, tmp_path / f"part{index}.parquet")
                for index in reversed(range(len(plan.spans)))][::-1]  # any order of work
    split = combine_spans(plan, findings, register, tmp_path / "rows.parquet")
    assert shape(split) == shape(whole)
    assert {p.type for p in whole.problems} >= {"constraint-error", "foreign-key",
                                                "blank-row", "missing-cell", "primary-key"}
    assert whole.rows_read == whole.rows_published + whole.rows_rejected
    assert not list(tmp_path.glob("part*.parquet"))  # the parts are gone


def test_small_or_other_files_are_checked_whole(delivery, register):
    assert plan_delivery(delivery, register, 2**30) is None
