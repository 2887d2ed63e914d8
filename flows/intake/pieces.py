"""Reading a CSV in pieces cut at row borders (outside quoted values, which may hold newlines),
parsed by pyarrow in a pool a few pieces ahead of the caller. Used by the flow's reader and by
the standalone validator (checks/fastcheck)."""

from __future__ import annotations

import codecs
import mmap
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

T = TypeVar("T")
R = TypeVar("R")


class Piece(NamedTuple):
    data: memoryview
    done: Callable[[], None]  # call once parsed: the piece's bytes may leave memory


def parse_piece(piece: Piece, names: list[str], encoding: str, parse: dict[str, Any],
                convert: dict[str, Any]):
    """-> (table of text columns, rows set aside as (number in the piece, text)): rows pyarrow
    could not split into the header's width, for Frictionless to judge."""
    set_aside: list[tuple[int, str]] = []

    def on_invalid(row: Any) -> str:
        set_aside.append((row.number, row.text))
        return "skip"

    # one thread per piece: only then does pyarrow say where a set-aside row stood
    table = pacsv.read_csv(pa.BufferReader(piece.data), read_options=pacsv.ReadOptions(
        column_names=names, use_threads=False,
        block_size=len(piece.data) + 1, encoding=encoding),
        parse_options=pacsv.ParseOptions(**parse, invalid_row_handler=on_invalid),
        # plain ASCII (a 1 ms look at 8 MB) is valid UTF-8: pyarrow need not check each value
        convert_options=pacsv.ConvertOptions(**convert, check_utf8=encoding != "utf8" or bool(
            np.frombuffer(piece.data, dtype=np.uint8).max(initial=0) >= 128)))
    piece.done()  # the table holds its own copy of the text
    return table, set_aside


def in_order(work: Callable[[T], R], items: Iterator[T], pool: Executor, ahead: int):
    """work(item) for each item, run in the pool with at most `ahead` items in flight,
    yielded in the items' order: memory stays bounded by `ahead` pieces, whatever the file."""
    flight: deque[Future[R]] = deque()
    for item in items:
        flight.append(pool.submit(work, item))
        if len(flight) >= ahead:
            yield flight.popleft().result()
    while flight:
        yield flight.popleft().result()


def one_byte(encoding: str) -> bool:
    """Whether the encoding spends one byte a character (a byte cut is a character cut) and
    writes newlines, quotes and delimiters as ASCII does (EBCDIC does not)."""
    try:
        name = codecs.lookup(encoding).name
        return "\n\r\",;\t|".encode(name) == b"\n\r\",;\t|" and len(
            "é".encode(name, errors="replace")) == 1
    except LookupError:
        return False


def pieces(path: Path, size: int, quote: str | None, delimiter: str):
    """The rows after the header in pieces of about `size` bytes, each cut after a newline
    outside quoted values (which may hold newlines). Byte cuts are safe for UTF-8 and
    one-byte encodings. The pieces are views of the memory-mapped file: nothing is copied
    before pyarrow parses."""
    with path.open("rb") as handle:
        if not os.fstat(handle.fileno()).st_size:
            return
        # not closed here: the views handed out keep the map alive until pyarrow is done
        data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    start = first_row_end(data, quote, delimiter)
    if start is None:
        return
    view = memoryview(data)
    for begin, cut in spans(data, start, size, quote, delimiter):
        yield Piece(view[begin:cut], partial(_forget, data, begin, cut))


def first_row_end(data: Any, quote: str | None, delimiter: str, start: int = 0) -> int | None:
    """Just after the first row from `start` (its first newline outside quotes), or None."""
    quote_byte = quote.encode("ascii")[0] if quote else None
    delimiter_byte = delimiter.encode("ascii")[0]
    end = start
    while True:
        end = min(len(data), end + (1 << 20))
        found = _cut(data, start, end, quote_byte, delimiter_byte, last=False)
        if found is not None or end == len(data):
            return found


def spans(data: Any, start: int, size: int, quote: str | None, delimiter: str,
          stop: int | None = None):
    """(begin, end) byte spans of about `size` bytes from `start` (a row's start) to `stop`
    (a row's end; default the end of data), each cut just after a newline outside quoted
    values."""
    quote_byte = quote.encode("ascii")[0] if quote else None
    delimiter_byte = delimiter.encode("ascii")[0]
    stop = len(data) if stop is None else stop
    while start < stop:
        end = start + size
        cut = None
        while cut is None:  # a row longer than the piece: take more
            cut = _cut(data, start, end, quote_byte, delimiter_byte) if end < stop else stop
            end += size
        yield start, cut
        start = cut


def _forget(data: mmap.mmap, start: int, end: int) -> None:
    """Drop the mapped pages of a parsed piece from this process (they stay in the system's
    file cache): otherwise every page of the file read so far would count as its memory."""
    low, high = -(-start // mmap.PAGESIZE) * mmap.PAGESIZE, end // mmap.PAGESIZE * mmap.PAGESIZE
    if high > low and hasattr(mmap, "MADV_DONTNEED"):
        data.madvise(mmap.MADV_DONTNEED, low, high - low)


def _cut(data: Any, start: int, end: int, quote: int | None, delimiter: int, *,
         last: bool = True) -> int | None:
    """Just after the last (or first) newline in data[start:end] outside quoted values, or
    None. `start` is the start of a row."""
    if quote is None or data.find(bytes([quote]), start, end) < 0:  # memchr: no quotes
        position = (data.rfind if last else data.find)(b"\n", start, end)
        return position + 1 if position >= 0 else None
    toggles = _toggles(np.frombuffer(data, dtype=np.uint8, count=end - start, offset=start),
                       quote, delimiter)
    position = end if last else start - 1
    while True:
        position = data.rfind(b"\n", start, position) if last else \
            data.find(b"\n", position + 1, end)
        if position < 0:
            return None
        if np.searchsorted(toggles, position - start) % 2 == 0:  # not inside quotes
            return position + 1


def _toggles(raw: np.ndarray, quote: int, delimiter: int) -> np.ndarray:
    """Where quoted values open and close in `raw`, which starts at a row's start, as
    pyarrow's parser reads them: a quote opens a value only at the start of a field (a quote
    inside an unquoted field, as in 5" screen, is a character), and inside a value a run of
    quotes of odd length closes it (an even run is escaped quotes)."""
    quotes = np.flatnonzero(raw == quote)
    if not len(quotes):
        return quotes
    first_of_run = np.flatnonzero(np.diff(quotes, prepend=-2) != 1)
    starts = quotes[first_of_run]
    odd = np.diff(np.append(first_of_run, len(quotes))) % 2 == 1  # even runs change nothing
    before = raw[np.maximum(starts - 1, 0)]
    at_field_start = (starts == 0) | (before == delimiter) | (before == 10) | (before == 13)
    starts, at_field_start = starts[odd], at_field_start[odd]
    # assume every odd run toggles; where one would open a value outside a field's start it
    # is a character: drop it and look again (the runs before it were judged right)
    toggles = np.ones(len(starts), dtype=bool)
    for _ in range(64):
        outside = (np.cumsum(toggles) - toggles) % 2 == 0
        literal = toggles & outside & ~at_field_start
        if not literal.any():
            return starts[toggles]
        toggles[int(np.argmax(literal))] = False
    inside, kept = False, []  # many stray quotes: one pass in Python
    for position, opens in zip(starts.tolist(), at_field_start.tolist(), strict=True):
        if inside or opens:
            inside = not inside
            kept.append(position)
    return np.array(kept, dtype=np.int64)


def numbers_from(start: int, count: int, invalid: set[int]) -> np.ndarray:
    """The next `count` row numbers from `start`, skipping the rows pyarrow set aside."""
    skipped = sorted(n for n in invalid if n >= start)
    numbers = np.arange(start, start + count + len(skipped), dtype=np.int64)
    if skipped:
        numbers = numbers[~np.isin(numbers, skipped)]
    return numbers[:count]
