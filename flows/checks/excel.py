"""Excel's error values in a delivered cell (a formula that could not be computed): the row is
rejected with a message that names Excel's error and what it means, rather than a type error.
Excel writes them in the language it runs in, so Swedish Excel's names count too."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from flows.core.problems import Problem, problem

# error value -> (English name, what it means in Swedish, in English)
ERRORS = {
    "#DIV/0!": ("#DIV/0!", "division med noll", "division by zero"),
    "#N/A": ("#N/A", "värdet saknas (en uppslagning hittade inget)",
             "a value is not available (a lookup found nothing)"),
    "#VALUE!": ("#VALUE!", "fel sorts värde i formeln", "the wrong kind of value in the formula"),
    "#REF!": ("#REF!", "formeln pekar på en cell som inte finns längre",
              "the formula refers to a cell that no longer exists"),
    "#NAME?": ("#NAME?", "formeln använder ett namn som Excel inte känner igen",
               "the formula uses a name Excel does not recognise"),
    "#NUM!": ("#NUM!", "ett ogiltigt tal i formeln", "an invalid number in the formula"),
    "#NULL!": ("#NULL!", "områden som inte skär varandra", "ranges that do not intersect"),
    "#SPILL!": ("#SPILL!", "resultatet får inte plats", "the result has no room to spill"),
    "#CALC!": ("#CALC!", "formeln kunde inte beräknas", "the formula could not be calculated"),
    "#GETTING_DATA": ("#GETTING_DATA", "data hämtades fortfarande",
                      "data was still being fetched"),
    "#FIELD!": ("#FIELD!", "ett fält som inte finns", "a field that does not exist"),
    "#BLOCKED!": ("#BLOCKED!", "en blockerad funktion", "a blocked feature"),
    "#CONNECT!": ("#CONNECT!", "en anslutning som misslyckades", "a connection that failed"),
    "#BUSY!": ("#BUSY!", "beräkningen pågick fortfarande", "the calculation was still running"),
    "#UNKNOWN!": ("#UNKNOWN!", "en okänd datatyp", "an unknown data type"),
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
    name, sv, en = ERRORS[error]
    local = f" ({value.strip()})" if value.strip().upper() != name else ""
    return problem(
        "excel-error", file,
        f"Cellen i kolumnen {field} innehåller Excels felvärde {name}{local}: {sv}. Formeln som "
        "skulle räkna fram värdet gick inte att räkna ut. Rätta formeln i Excel (eller lämna "
        "cellen tom om värdet saknas) och lämna filen igen.",
        f"The cell in column {field} holds Excel's error value {name}{local}: {en}. The "
        "formula that should give the value could not be computed. Correct the formula in "
        "Excel (or leave the cell empty when the value is missing) and deliver the file "
        "again.", row=row, field=field, value=value)
