"""Reading a CSV in pieces cut at row borders, parsed (and checked) by pyarrow in a pool a few
pieces ahead of the caller."""

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
    first: bool  # the piece that starts with the header
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
        skip_rows=1 if piece.first else 0, column_names=names, use_threads=False,
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
    """Whether the encoding spends one byte a character (a byte cut is a character cut)."""
    try:
        return len("\n".encode(codecs.lookup(encoding).name)) == 1 and len(
            "é".encode(encoding, errors="replace")) == 1
    except LookupError:
        return False


def pieces(path: Path, encoding: str, size: int, quote: str | None):
    """The file in pieces of about `size` bytes, each cut after a newline outside quotes (a
    quoted value may hold newlines). Byte cuts are safe for UTF-8 and one-byte encodings.
    The pieces are views of the memory-mapped file: nothing is copied before pyarrow parses."""
    quote_byte = (quote or '"').encode("ascii")[0]
    with path.open("rb") as handle:
        if not os.fstat(handle.fileno()).st_size:
            return
        # not closed here: the views handed out keep the map alive until pyarrow is done
        data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    view, start, first = memoryview(data), 0, True
    while start < len(data):
        end = start + size
        cut = _last_cut(data, start, end, quote_byte) if end < len(data) else len(data)
        while cut is None:  # a row longer than the piece: take more
            end += size
            cut = _last_cut(data, start, end, quote_byte) if end < len(data) else len(data)
        yield Piece(first, view[start:cut], partial(_forget, data, start, cut))
        first, start = False, cut


def _forget(data: mmap.mmap, start: int, end: int) -> None:
    """Drop the mapped pages of a parsed piece from this process (they stay in the system's
    file cache): otherwise every page of the file read so far would count as its memory."""
    low, high = -(-start // mmap.PAGESIZE) * mmap.PAGESIZE, end // mmap.PAGESIZE * mmap.PAGESIZE
    if high > low and hasattr(mmap, "MADV_DONTNEED"):
        data.madvise(mmap.MADV_DONTNEED, low, high - low)


def _last_cut(data: mmap.mmap, start: int, end: int, quote: int) -> int | None:
    """Just after the last newline in data[start:end] outside quotes (quote parity from
    `start`, which is outside quotes), or None."""
    if data.find(bytes([quote]), start, end) < 0:  # no quotes at all (memchr): the last newline
        position = data.rfind(b"\n", start, end)
        return position + 1 if position >= 0 else None
    raw = np.frombuffer(data, dtype=np.uint8, count=end - start, offset=start)
    quotes = np.flatnonzero(raw == quote)
    position = end - start
    for _ in range(64):
        position = data.rfind(b"\n", start, start + position) - start
        if position < 0:
            return None
        if np.searchsorted(quotes, position) % 2 == 0:
            return start + position + 1
    # many quoted newlines: all at once
    inside = (np.cumsum(raw == quote, dtype=np.uint8) & 1).astype(bool)
    cuts = np.flatnonzero((raw == 10) & ~inside)
    return start + int(cuts[-1]) + 1 if len(cuts) else None


def numbers_from(start: int, count: int, invalid: set[int]) -> np.ndarray:
    """The next `count` row numbers from `start`, skipping the rows pyarrow set aside."""
    skipped = sorted(n for n in invalid if n >= start)
    numbers = np.arange(start, start + count + len(skipped), dtype=np.int64)
    if skipped:
        numbers = numbers[~np.isin(numbers, skipped)]
    return numbers[:count]
