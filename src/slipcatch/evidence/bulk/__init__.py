"""Bulk reading: raw lines in, Arrow record batches of ``EVENT_SCHEMA`` out.

``parse_chunk(ctx, lines, numbers)`` turns one chunk of a file's physical lines into the events
and rejections the format's per-line reader gives for exactly those lines: same ids, times,
addresses, personas, attributes, locators and rejection reasons. ``ChunkContext`` carries what
a chunk needs from the rest of the file (it is picklable, so a Spark task can take it):

- ``weblog``: nothing. Lines of the common shape (one bare client address, single spaces,
  printable ASCII without backslashes, a valid stamp) are parsed with vectorised work
  (RE2 validation, polars splitting, numpy date arithmetic); every other line (vhosts, client
  lists, escapes, bad encodings, bad times or addresses) and every chunk read with a persona
  map of ``path:``/``attr:`` rows goes through the per-line reader.
- ``zeek``: ``header`` holds the directive lines in force at the chunk's start (``#separator``,
  ``#fields``, ``#path``, ``#unset_field``, ``#empty_field``); JSON Zeek logs need none but the
  first line (it tells JSON from TSV). TSV rows of plain text (printable ASCII, tab-separated,
  epoch ``ts``, a valid address) are read column-wise (``_zeek``); other rows, and JSON Zeek
  logs, by the per-line reader.
- ``table``: ``header`` is the file's first non-blank line (the CSV header row, or the first
  JSON object, which tells JSON lines from CSV) and ``header_line`` its number; lines numbered up
  to ``header_line`` are the header, not records. Plain CSV rows (``_table``) are read
  column-wise; other rows, and JSON lines, by the per-line reader.
- ``authlog``: the year of yearless syslog stamps depends on earlier lines, so ``years`` carries
  the reader's year state (year, where it came from, last month) into the chunk and ``mtime``
  the file's modification time; a file's chunks must be parsed in order with
  ``parse_chunk_next`` for the state to follow (``parse_chunk`` on a later chunk alone treats
  it as the file's start). Lines are read by the per-line reader.

Blank lines are not records (as in ``Source.lines``), a trailing ``\\r`` is removed, and a line
longer than ``MAX_LINE + 1`` bytes is a ``line-too-long`` rejection.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from slipcatch.eventtable import EVENT_SCHEMA, events_to_table
from slipcatch.evidence import authlog, table, weblog, zeek
from slipcatch.evidence._common import reject_problem
from slipcatch.evidence._source import MAX_LINE, Line, Problem, Source
from slipcatch.evidence.bulk._perline import ChunkSource, read_items
from slipcatch.model import Event, Rejection

if TYPE_CHECKING:
    from slipcatch.evidence import ReadOptions

__all__ = [
    "BULK_FORMATS",
    "ChunkContext",
    "ColumnarIngest",
    "ReadStatus",
    "chunk_context",
    "parse_chunk",
    "parse_chunk_next",
]

#: Formats ``parse_chunk`` reads (reader NAMEs).
BULK_FORMATS: frozenset[str] = frozenset({weblog.NAME, zeek.NAME, table.NAME, authlog.NAME})

_MODULES = {m.NAME: m for m in (weblog, zeek, table, authlog)}


@dataclass(frozen=True)
class ChunkContext:
    """What a chunk of a file needs to be read on its own (picklable; see the module doc)."""

    fmt: str
    path: str
    sha256: str
    options: ReadOptions
    header: bytes = b""
    #: table: the number of the CSV header line (lines up to it are not records).
    header_line: int = 0
    #: authlog: the file's modification time (the last resort for a stamp's year).
    mtime: float | None = None
    #: authlog: the reader's year state at the chunk's start (year, its source, last month),
    #: or None at the file's start.
    years: tuple[int | None, str | None, int | None] | None = None


def _first_line(head: bytes) -> tuple[int, bytes]:
    """(number, text) of the first non-blank line of ``head``, as ``Source.lines`` numbers it."""
    for number, data in enumerate(head.split(b"\n"), 1):
        if data.strip():
            return number, data.rstrip(b"\r")
    return 0, b""


def chunk_context(source: Source, fmt: str) -> ChunkContext:
    """The context of ``source``'s first chunk, read as format ``fmt`` (one of ``BULK_FORMATS``).

    Raises:
        ValueError: ``fmt`` is not a bulk format, or is ``table`` read with a column mapping
            (``ReadOptions.columns``: such files are read whole by the per-line reader).
    """
    if fmt not in BULK_FORMATS:
        raise ValueError(f"not a bulk format: {fmt!r}")
    if fmt == table.NAME and source.options.columns:
        # A column mapping may read JSON documents spanning lines: whole files, per line reader.
        raise ValueError("a table read with a column mapping is not read in chunks")
    ctx = ChunkContext(fmt=fmt, path=source.name, sha256=source.sha256, options=source.options)
    head = source.head()
    if fmt == zeek.NAME:
        number, first = _first_line(head)
        if first.startswith(b"{"):
            return replace(ctx, header=first)
        directives = []
        for data in head.split(b"\n"):
            if not data.strip():
                continue
            if not data.startswith(b"#"):
                break
            directives.append(data.rstrip(b"\r"))
        return replace(ctx, header=b"\n".join(directives))
    if fmt == table.NAME:
        number, first = _first_line(head)
        return replace(ctx, header=first, header_line=number)
    if fmt == authlog.NAME:
        try:
            mtime: float | None = source.path.stat().st_mtime
        except OSError:
            mtime = None
        return replace(ctx, mtime=mtime)
    return ctx


def parse_chunk(
    ctx: ChunkContext, lines: pa.Array, numbers: pa.Array
) -> tuple[pa.RecordBatch, list[Rejection]]:
    """The events (``EVENT_SCHEMA``, in line order) and rejections (in line order) of a chunk.

    ``lines``: binary or large_binary raw lines without their ``\\n``; ``numbers``: their
    1-based line numbers in the file (int64), ascending.
    """
    batch, rejections, _ = parse_chunk_next(ctx, lines, numbers)
    return batch, rejections


def parse_chunk_next(
    ctx: ChunkContext, lines: pa.Array, numbers: pa.Array
) -> tuple[pa.RecordBatch, list[Rejection], ChunkContext]:
    """``parse_chunk``, and the context of the chunk that follows this one in the file."""
    if ctx.fmt not in BULK_FORMATS:
        raise ValueError(f"not a bulk format: {ctx.fmt!r}")
    data, nums, rejections = _prepare(ctx, lines, numbers)
    if ctx.fmt == weblog.NAME or (
        ctx.fmt == zeek.NAME and not _first_line(ctx.header)[1].startswith(b"{")
    ):
        return _vectorised(ctx, data, nums, rejections)
    if ctx.fmt == table.NAME:
        from slipcatch.evidence.bulk._table import layout

        if layout(ctx) is not None:
            body = pc.greater(nums, ctx.header_line)  # the header row is no record
            return _vectorised(ctx, data.filter(body), nums.filter(body), rejections)
    items: list[Line | Problem] = [
        Line(n, d) for n, d in zip(nums.to_pylist(), data.to_pylist(), strict=True)
    ]
    if ctx.fmt == table.NAME:
        return _read_table(ctx, items, rejections)
    if ctx.fmt == zeek.NAME:
        return _read_zeek(ctx, items, rejections)
    return _read_authlog(ctx, items, rejections)


#: Rows the vectorised paths work on at a time: their intermediate columns take a few KB a row,
#: so a large chunk is worked through in slices (the result is the same).
_SLICE = 65_536


def _vectorised(
    ctx: ChunkContext, data: pa.Array, nums: pa.Array, rejections: list[Rejection]
) -> tuple[pa.RecordBatch, list[Rejection], ChunkContext]:
    """An access-log or Zeek TSV chunk, slice by slice (the Zeek state carried along)."""
    from slipcatch.evidence.bulk._weblog import parse_weblog
    from slipcatch.evidence.bulk._zeek import parse_zeek_tsv

    batches: list[pa.RecordBatch] = []
    found: list[Rejection] = []
    for start in range(0, max(len(data), 1), _SLICE):
        part, numbers = data.slice(start, _SLICE), nums.slice(start, _SLICE)
        if ctx.fmt == weblog.NAME:
            batch, more = parse_weblog(ctx, part, numbers)
        elif ctx.fmt == table.NAME:
            batch, more = _table_slice(ctx, part, numbers)
        else:
            pieces, order, more, ctx = parse_zeek_tsv(ctx, part, numbers)
            batch, more = _in_order(pieces, order), _sorted(more)
        batches.append(batch)
        found.extend(more)
    if len(batches) == 1:
        return batches[0], _merge(rejections, found), ctx
    joined = pa.Table.from_batches(batches, schema=EVENT_SCHEMA).combine_chunks()
    out = joined.to_batches()[0] if joined.num_rows else batches[0]
    return out, _merge(rejections, found), ctx


def _table_slice(
    ctx: ChunkContext, data: pa.Array, nums: pa.Array
) -> tuple[pa.RecordBatch, list[Rejection]]:
    """CSV records (header row excluded): plain rows column-wise, the rest per line."""
    from slipcatch.evidence.bulk._table import fast_rows, layout

    shape = layout(ctx)
    assert shape is not None
    batches: list[pa.RecordBatch] = []
    order: list[pa.Array] = []
    taken = None
    if len(data):
        found = fast_rows(ctx, shape, data, nums)
        if found is not None:
            batch, taken_np = found
            taken = pa.array(taken_np)
            if batch.num_rows:
                batches.append(batch)
                order.append(nums.filter(taken))
    rest = pc.invert(taken) if taken is not None else pa.array([True] * len(data), pa.bool_())
    items: list[Line | Problem] = [
        Line(n, d)
        for n, d in zip(nums.filter(rest).to_pylist(), data.filter(rest).to_pylist(), strict=True)
    ]
    rejections: list[Rejection] = []
    if items:
        batch, rejections, _ = _read_table(ctx, items, [])
        if batch.num_rows:
            batches.append(batch)
            order.append(pa.array([_number_of(x) for x in batch.column("locator").to_pylist()]))
    return _in_order(batches, order), rejections


def _number_of(locator: str) -> int:
    return int(locator.removeprefix("line "))


def _prepare(
    ctx: ChunkContext, lines: pa.Array, numbers: pa.Array
) -> tuple[pa.Array, pa.Array, list[Rejection]]:
    """The chunk's records as ``Source.lines`` gives them: over-long lines rejected, one
    trailing ``\\r`` removed, blank lines dropped."""
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    if isinstance(numbers, pa.ChunkedArray):
        numbers = numbers.combine_chunks()
    data = lines.cast(pa.large_binary())
    nums = numbers.cast(pa.int64())
    rejections: list[Rejection] = []
    long = pc.greater(pc.binary_length(data), MAX_LINE + 1)
    if pc.any(long).as_py():
        source = ChunkSource(ctx, (), b"")
        too_long = f"line longer than {MAX_LINE} bytes"
        for n in nums.filter(long).to_pylist():
            rejections.append(reject_problem(source, Problem(n, "line-too-long", too_long)))  # type: ignore[arg-type]
        keep = pc.invert(long)
        data, nums = data.filter(keep), nums.filter(keep)
    text = data.view(pa.large_string())  # byte-wise functions only: no UTF-8 assumed
    cr = pc.ends_with(text, "\r")
    if pc.any(cr).as_py():
        data = pc.if_else(cr, pc.binary_slice(data, 0, -1), data)
        text = data.view(pa.large_string())
    blank = pc.match_substring_regex(text, r"^[\t\n\x0b\x0c\r ]*$")
    if pc.any(blank).as_py():
        keep = pc.invert(blank)
        data, nums = data.filter(keep), nums.filter(keep)
    return data, nums, rejections


def _number(rejection: Rejection) -> int:
    tail = rejection.locator.removeprefix("line ")
    return int(tail) if tail.isdigit() else 0


def _merge(first: list[Rejection], second: list[Rejection]) -> list[Rejection]:
    if not first:
        return second
    return sorted(first + second, key=_number)  # stable: equal numbers keep their order


def _sorted(rejections: list[Rejection]) -> list[Rejection]:
    return sorted(rejections, key=_number)


def _in_order(batches: list[pa.RecordBatch], order: list[pa.Array]) -> pa.RecordBatch:
    """One batch of ``batches`` (rows numbered by ``order``), in line order."""
    if not batches:
        return pa.RecordBatch.from_pylist([], schema=EVENT_SCHEMA)
    if len(batches) == 1:
        return batches[0]
    joined = pa.Table.from_batches(batches, schema=EVENT_SCHEMA).combine_chunks()
    idx = pc.sort_indices(pa.chunked_array(order, pa.int64()).combine_chunks())
    return joined.take(idx).to_batches()[0]


def _events_batch(events: list[Event], numbers: list[int]) -> pa.RecordBatch:
    table_ = events_to_table(events)
    return pa.RecordBatch.from_arrays(
        [table_.column(i).combine_chunks() for i in range(table_.num_columns)],
        schema=EVENT_SCHEMA,
    )


def _read_table(
    ctx: ChunkContext, items: list[Line | Problem], rejections: list[Rejection]
) -> tuple[pa.RecordBatch, list[Rejection], ChunkContext]:
    _, first = _first_line(ctx.header)
    if first.lstrip().startswith(b"{"):
        head, body = first, items
    else:  # CSV: the header row first, then the records after it
        body = [it for it in items if it.number > ctx.header_line]
        head = first
        body = [Line(0, first), *body] if first else body
    events, numbers, found = read_items(table, ChunkSource(ctx, body, head))
    return _events_batch(events, numbers), _merge(rejections, found), ctx


def _read_zeek(
    ctx: ChunkContext, items: list[Line | Problem], rejections: list[Rejection]
) -> tuple[pa.RecordBatch, list[Rejection], ChunkContext]:
    """A chunk of a Zeek JSON log (TSV chunks go to ``_zeek.parse_zeek_tsv``)."""
    _, first = _first_line(ctx.header)
    events, numbers, found = read_items(zeek, ChunkSource(ctx, items, first))
    return _events_batch(events, numbers), _merge(rejections, found), ctx


def _read_authlog(
    ctx: ChunkContext, items: list[Line | Problem], rejections: list[Rejection]
) -> tuple[pa.RecordBatch, list[Rejection], ChunkContext]:
    source = ChunkSource(ctx, items, b"")
    years = authlog._Years(source)  # type: ignore[arg-type]
    if ctx.years is not None:
        years.year, years.source, years.last_month = ctx.years
    events: list[Event] = []
    numbers: list[int] = []
    found: list[Rejection] = []
    for item in authlog.read_years(source, years):  # type: ignore[arg-type]
        if isinstance(item, Rejection):
            found.append(item)
        else:
            events.append(item)
            numbers.append(int(item.evidence.locator.removeprefix("line ")))
    nxt = replace(ctx, years=(years.year, years.source, years.last_month))
    return _events_batch(events, numbers), _merge(rejections, found), nxt


from slipcatch.evidence.bulk._columnar import ColumnarIngest, ReadStatus  # noqa: E402
