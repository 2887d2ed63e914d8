"""Excel's error values in a delivered cell (a formula that could not be computed): the row is
rejected with a message that names Excel's error and what it means, rather than a type error.
Excel writes them in the language it runs in, so Swedish Excel's names count too."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from flows.core.messages import say
from flows.core.problems import Problem, problem

# Excel's (English) error value -> the key of what it means (checks.excel.<meaning>)
ERRORS = {
    "#DIV/0!": "div-0", "#N/A": "n-a", "#VALUE!": "value", "#REF!": "ref", "#NAME?": "name",
    "#NUM!": "num", "#NULL!": "null", "#SPILL!": "spill", "#CALC!": "calc",
    "#GETTING_DATA": "getting-data", "#FIELD!": "field", "#BLOCKED!": "blocked",
    "#CONNECT!": "connect", "#BUSY!": "busy", "#UNKNOWN!": "unknown",
}
SWEDISH = {"#DIVISION/0!": "#DIV/0!", "#SAKNAS!": "#N/A", "#VÄRDEFEL!": "#VALUE!",
           "#REFERENS!": "#REF!", "#NAMN?": "#NAME?", "#OGILTIGT!": "#NUM!",
           "#SKÄRNING!": "#NULL!", "#BLOCKERAD!": "#BLOCKED!"}
KNOWN = {**{k: k for k in ERRORS}, **SWEDISH}


def excel_errors(column: pa.Array) -> list[tuple[int, str, str]]:
    """(position, the cell, Excel's English name) of every cell that is an error value. Only
    cells that begin with '#' are looked at."""
    _, offsets, data = column.buffers()
    if data is None or not len(column):
        return []
    offsets = np.frombuffer(offsets, dtype=np.int32, count=len(column) + 1,
                            offset=column.offset * 4)
    data = np.frombuffer(data, dtype=np.uint8)
    filled = offsets[1:] > offsets[:-1]
    first = np.zeros(len(column), dtype=np.uint8)
    first[filled] = data[offsets[:-1][filled]]
    candidates = np.flatnonzero(first == ord("#"))
    if not len(candidates):
        return []
    cells = column.take(pa.array(candidates)).to_pylist()
    shown = pc.utf8_upper(pc.utf8_trim_whitespace(pa.array(cells, pa.string()))).to_pylist()
    return [(int(p), cell, KNOWN[upper]) for p, cell, upper in zip(
        candidates.tolist(), cells, shown, strict=True) if upper in KNOWN]


def excel_problem(file: str, row: int, field: str, value: str, error: str) -> Problem:
    local = f" ({value.strip()})" if value.strip().upper() != error else ""
    return problem("excel-error", file, "problem.excel-error.value",
                   {"column": field, "name": error, "local": local,
                    "meaning": say(f"checks.excel.{ERRORS[error]}")},
                   row=row, field=field, value=value)
