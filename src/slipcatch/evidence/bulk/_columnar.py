"""``ColumnarIngest``: every evidence file as a stream of ``EVENT_SCHEMA`` record batches.

Files are walked, recognised and accounted exactly as ``ingest()`` does; bulk formats are read in
blocks of lines through ``parse_chunk_next``, other formats (e-mail) by their per-line reader and
converted with ``events_to_table``. Events are de-duplicated by id across all files (the first
seen wins); the ids seen are kept as 64-bit integers in sorted numpy runs, so memory grows by 8
bytes per distinct event instead of a Python string each.

For input of any size, ``tagged()`` leaves the de-duplication to the consumer instead (memory
flat): it yields every event with the index of its file's account, and ``settle()`` moves the
repeats the consumer found into the accounts (``engine.local.run_local`` with ``dedupe=True``
drops them while writing its sorted table).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import sys
import tempfile
import types
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slipcatch.errors import EvidenceError
from slipcatch.eventtable import events_to_table
from slipcatch.evidence._common import reject_problem
from slipcatch.evidence._ingest import (
    REJECTION_SAMPLE,
    FileRead,
    Skipped,
    skipped_file,
    walk,
)
from slipcatch.evidence._source import MAX_LINE, Problem, Source, _StreamFault
from slipcatch.model import Event, EvidenceFile, Rejection

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

    from slipcatch.evidence import ReadOptions
    from slipcatch.evidence.bulk import ChunkContext

__all__ = ["ColumnarIngest", "ReadStatus"]

#: Stands in for a line that grew past ``MAX_LINE`` across read chunks (discarded as it
#: streamed, as ``Source.lines`` does): ``parse_chunk`` rejects it as ``line-too-long``.
_STAND_IN = b"\x00" * (MAX_LINE + 2)

_HEX = np.full(256, 255, dtype=np.uint8)
_HEX[np.frombuffer(b"0123456789", np.uint8)] = np.arange(10, dtype=np.uint8)
_HEX[np.frombuffer(b"abcdef", np.uint8)] = np.arange(10, 16, dtype=np.uint8)
_SHIFTS = np.arange(60, -1, -4, dtype=np.uint64)


def id_keys(ids: pa.Array) -> np.ndarray | None:
    """The 64 bits of each ``ev--`` + 16 hex digit id, or None when any id has another form."""
    n = len(ids)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    ids = ids.cast(pa.string())
    if ids.null_count:
        return None
    offsets = np.frombuffer(ids.buffers()[1], np.int32)[ids.offset : ids.offset + n + 1]
    if offsets[-1] - offsets[0] != 20 * n or np.any(np.diff(offsets) != 20):
        return None
    raw = np.frombuffer(ids.buffers()[2], np.uint8)[offsets[0] : offsets[-1]].reshape(n, 20)
    if np.any(raw[:, :4] != np.frombuffer(b"ev--", np.uint8)):
        return None
    nibbles = _HEX[raw[:, 4:]]
    if np.any(nibbles == 255):
        return None
    return np.bitwise_or.reduce(nibbles.astype(np.uint64) << _SHIFTS, axis=1)


class _Seen:
    """Ids seen so far: sorted runs of uint64 merged as they grow (a small log-structured set),
    plus a set of strings for ids of another form (none come from today's readers)."""

    def __init__(self) -> None:
        self._runs: list[np.ndarray] = []
        self._other: set[str] = set()

    def _contains(self, keys: np.ndarray) -> np.ndarray:
        found = np.zeros(len(keys), dtype=bool)
        for run in self._runs:
            pos = np.searchsorted(run, keys)
            pos[pos == len(run)] = 0
            found |= run[pos] == keys
        return found

    def _add(self, keys: np.ndarray) -> None:
        """Remember ``keys`` (distinct, none seen before)."""
        self._runs.append(np.sort(keys))
        while len(self._runs) > 1 and len(self._runs[-2]) <= 2 * len(self._runs[-1]):
            last = self._runs.pop()
            # Two sorted runs: the stable sort (timsort) merges them in linear time.
            self._runs[-1] = np.sort(np.concatenate([self._runs[-1], last]), kind="stable")

    def fresh(self, ids: pa.Array) -> np.ndarray:
        """Which of ``ids`` are new (first within the batch and not seen before); remembers
        them."""
        keys = id_keys(ids)
        if keys is None:  # some id of another form: one by one (no reader makes such ids)
            mask = np.zeros(len(ids), dtype=bool)
            batch: set[int] = set()
            for k, value in enumerate(ids.to_pylist()):
                one = id_keys(pa.array([value], pa.string()))
                if one is None:
                    mask[k] = value not in self._other
                    self._other.add(value)
                elif int(one[0]) not in batch and not self._contains(one)[0]:
                    batch.add(int(one[0]))
                    mask[k] = True
            if batch:
                self._add(np.array(sorted(batch), dtype=np.uint64))
            return mask
        # First occurrences within the batch: sort (stable, so the earliest copy leads its run).
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        leads = np.ones(len(keys), dtype=bool)
        leads[1:] = ordered[1:] != ordered[:-1]
        first = np.zeros(len(keys), dtype=bool)
        first[order[leads]] = True
        mask = first & ~self._contains(keys)
        if mask.any():
            self._add(keys[mask])
        return mask


@dataclass(frozen=True, slots=True)
class Span:
    """A block of a plain file's lines as a byte range: ``file[start:stop].split(b"\\n")``
    are its lines (``stop`` is the offset of the newline ending its last line, or the end of
    the file), the first numbered ``first``."""

    start: int
    stop: int
    first: int


def line_blocks(
    source: Source, size: int, spans: bool = False
) -> Iterator[tuple[list[bytes], int] | Span | Problem]:
    """The file's physical lines in blocks of at most ``size``: (raw lines, first number), then
    a ``Problem`` if the stream broke. Splits exactly as ``Source.lines`` does (same chunks, same
    over-long rule), without building an object per line.

    ``spans``: a plain file (not compressed, not re-encoded) is given as ``Span`` byte ranges
    of the same blocks instead (whoever parses a block reads it from the file), counting its
    lines without splitting them; from the first line that grows past ``MAX_LINE`` at a chunk's
    end (which ``Source.lines`` discards as it streams), the rest is given as lines."""
    chunks = source.chunks()
    state: _Lines | None = _Lines()
    if spans:
        first = next(chunks, None)
        if first is None:
            return
        chunks = itertools.chain([first], chunks)
        if source.compression is None and source.encoding == "":
            state = yield from _span_blocks(source, chunks, size)
    yield from _line_blocks(chunks, size, state)


@dataclass
class _Lines:
    """Where ``_line_blocks`` starts: lines of the block so far, lines complete before the
    partial one, the first line's number, and whether the partial line is over-long."""

    pending: list[bytes] = field(default_factory=list)
    number: int = 0
    first: int = 1
    overlong: bool = False


def _span_blocks(
    source: Source, chunks: Iterator[bytes | _StreamFault], size: int
) -> Generator[Span, None, _Lines | None]:
    """``line_blocks`` as spans, until a line grows past ``MAX_LINE`` at a chunk's end: then
    the state from which ``_line_blocks`` reads the rest (None at the end of the file)."""
    offset = 0  # bytes consumed
    block = 0  # where the block starts
    line = 0  # where the partial line starts
    count = 0  # lines complete in the block
    first = 1
    for chunk in chunks:
        assert not isinstance(chunk, _StreamFault)  # a plain file fails with EvidenceError
        at = 0
        n = newlines = chunk.count(b"\n")
        while count + n >= size:  # the block ends at its ``size``-th line's newline
            nl = _nth_newline(chunk, at, size - count)
            yield Span(block, offset + nl, first)
            n -= size - count
            block = offset + nl + 1
            first += size
            count, at = 0, nl + 1
        count += n
        if newlines:
            line = offset + chunk.rfind(b"\n") + 1
        offset += len(chunk)
        if offset - line > MAX_LINE:  # over-long: the lines so far, the rest as lines
            pending = (_read_range(source.path, source.name, block, line - 1).split(b"\n")
                       if count else [])
            return _Lines(pending, first - 1 + count, first, overlong=True)
    if offset > line:  # the last line has no newline
        yield Span(block, offset, first)
    elif count:
        yield Span(block, line - 1, first)
    return None


def _line_blocks(
    chunks: Iterator[bytes | _StreamFault], size: int, state: _Lines | None
) -> Iterator[tuple[list[bytes], int] | Problem]:
    """``line_blocks`` as lines, from ``state`` on (nothing when it is None)."""
    if state is None:
        return
    pending, number, first, overlong = state.pending, state.number, state.first, state.overlong
    carry = b""
    for chunk in chunks:
        if isinstance(chunk, _StreamFault):
            if pending:
                yield pending, first
            yield Problem(number + 1, chunk.reason, chunk.detail)
            return
        if overlong:
            nl = chunk.find(b"\n")
            if nl < 0:
                continue
            number += 1
            overlong = False
            pending.append(_STAND_IN)
            chunk = chunk[nl + 1 :]
        pieces = (carry + chunk if carry else chunk).split(b"\n")
        carry = pieces.pop()
        pending.extend(pieces)
        number += len(pieces)
        if len(carry) > MAX_LINE:
            overlong = True
            carry = b""
        while len(pending) >= size:
            yield pending[:size], first
            pending = pending[size:]
            first += size
    if overlong:
        pending.append(_STAND_IN)
    elif carry:
        pending.append(carry)
    if pending:
        yield pending, first


def _nth_newline(chunk: bytes, at: int, k: int) -> int:
    """The offset in ``chunk`` of the ``k``-th newline from ``at`` (there are at least k)."""
    if k <= 8:
        for _ in range(k):
            nl = chunk.find(b"\n", at)
            at = nl + 1
        return nl
    found = np.flatnonzero(np.frombuffer(chunk, np.uint8, offset=at) == 10)
    return at + int(found[k - 1])


def _read_range(path: Path, name: str, start: int, stop: int) -> bytes:
    """Bytes ``start:stop`` of the plain evidence file at ``path`` (``Span``; ``name``: the
    file's name in errors).

    Raises:
        EvidenceError: the file cannot be read, or holds fewer bytes than when it was hashed.
    """
    try:
        with path.open("rb") as fh:
            fh.seek(start)
            data = fh.read(stop - start)
    except OSError as exc:
        raise EvidenceError(f"cannot read: {exc.strerror or exc}", source=name) from exc
    if len(data) != stop - start:
        raise EvidenceError("the file changed while it was read", source=name)
    return data


@dataclass(frozen=True, slots=True)
class ReadStatus:
    """How far a ``ColumnarIngest`` has come: files finished of all, records (events,
    rejections and duplicates) read, and bytes on disk consumed of all the files' sizes."""

    files_done: int
    files_total: int
    records: int
    bytes_read: int
    bytes_total: int

    @property
    def fraction(self) -> float | None:
        """Share of the input's bytes consumed (None when the input is empty)."""
        return self.bytes_read / self.bytes_total if self.bytes_total else None


#: Files at least this large are parsed by the worker processes (``ColumnarIngest.workers``):
#: below it, starting them (an interpreter importing the readers, about a second) costs more
#: than it saves.
PARALLEL_BYTES = 64 << 20
#: Formats whose blocks carry no state from one to the next (``parse_chunk_next`` returns the
#: context unchanged), so any process may parse any block.
_STATELESS = frozenset({"weblog", "table"})


def parse_block(
    ctx: ChunkContext, data: bytes, first: int
) -> tuple[pa.RecordBatch, list[Rejection]]:
    """``parse_chunk`` of one block given as its lines joined by ``\\n`` (the first numbered
    ``first``): what a worker process runs."""
    from slipcatch.evidence.bulk import parse_chunk

    # split by Arrow (4x faster than bytes.split and an array built from the list)
    whole = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), 1, [None, pa.py_buffer(np.array([0, len(data)], np.int64)),
                               pa.py_buffer(data)])
    lines = pc.split_pattern(whole, "\n").values
    numbers = pa.array(np.arange(first, first + len(lines), dtype=np.int64))
    return parse_chunk(ctx, lines, numbers)


def parse_span(
    ctx: ChunkContext, path: Path, span: Span
) -> tuple[pa.RecordBatch, list[Rejection]]:
    """``parse_block`` of a block given as its byte range in the file at ``path``: what a
    worker process runs for a plain file (it reads the block itself, so the lines do not
    pass through the reading process)."""
    return parse_block(ctx, _read_range(path, ctx.path, span.start, span.stop), span.first)


def _warm() -> None:
    """A worker's first task when started ahead of the reading: import the readers."""
    import slipcatch.evidence.bulk._table
    import slipcatch.evidence.bulk._weblog
    import slipcatch.evidence.bulk._zeek  # noqa: F401


#: The order of the rows of a batch from a worker when the reader asks for sorted blocks
#: (``ColumnarIngest.sorted_blocks``): that of the engine's table (``engine.local``), rows of
#: equal keys kept in line order (Arrow's sort is stable).
BLOCK_ORDER = (("time", "ascending"), ("id", "ascending"), ("src_ip", "ascending"))


def _handed_over(
    folder: str, ordered: bool, parse: Callable[..., tuple[pa.RecordBatch, list[Rejection]]],
    *args: object,
) -> tuple[str, list[Rejection]]:
    """``parse(*args)`` in a worker, its batch (sorted by ``BLOCK_ORDER`` when ``ordered``)
    handed back as an Arrow IPC file in ``folder`` (the name is returned): the reading
    process maps it instead of receiving it pickled through a pipe (which copied every byte
    three more times)."""
    batch, rejections = parse(*args)
    if ordered and batch.num_rows > 1:
        order = pc.sort_indices(batch, sort_keys=BLOCK_ORDER).to_numpy()
        if np.any(order != np.arange(len(order))):
            batch = batch.take(pa.array(order))
    fd, name = tempfile.mkstemp(suffix=".arrow", dir=folder)
    os.close(fd)
    with pa.OSFile(name, "wb") as sink, pa.ipc.new_file(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return name, rejections


def _taken_back(name: str) -> pa.RecordBatch:
    """The batch ``_handed_over`` wrote to ``name``, mapped (no copy); the file is removed (the
    mapping lives as long as the batch)."""
    try:
        with pa.memory_map(name) as source:
            return pa.ipc.open_file(source).get_batch(0)
    finally:
        os.unlink(name)


_JEMALLOC = "_RJEM_MALLOC_CONF"


@contextlib.contextmanager
def _bare_main() -> Iterator[None]:
    """``__main__`` as an empty module while worker processes may start (they start on
    ``submit``), with the workers' allocator settings in the environment. A spawned worker
    would otherwise run the caller's main script again, which fails (or repeats its work) when
    the script has no ``if __name__ == "__main__"`` guard; the workers need nothing from it:
    they run ``parse_block``."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    # polars' allocator (jemalloc) in a worker hands freed pages back after a second instead
    # of ten (about 100 MB less per worker), unless the caller chose. Not at once: a block's
    # pages would then be faulted in anew for every block (measured on 2 M lines: 2.4 M page
    # faults in the workers and 4 s more system time than with one second).
    unset = _JEMALLOC not in os.environ
    if unset:
        os.environ[_JEMALLOC] = "dirty_decay_ms:1000,muzzy_decay_ms:1000"
    try:
        yield
    finally:
        if unset:
            os.environ.pop(_JEMALLOC, None)
        if main is not None:
            sys.modules["__main__"] = main


def _result(
    item: Future[tuple[str, list[Rejection]]] | Problem,
) -> tuple[pa.RecordBatch, list[Rejection]] | Problem:
    if isinstance(item, Problem):
        return item
    name, rejections = item.result()
    return _taken_back(name), rejections


class ColumnarIngest:
    """Read evidence files as record batches; ``files``, ``rejections`` and
    ``rejection_counts`` are complete once ``batches()`` is exhausted (see module doc)."""

    def __init__(
        self,
        paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
        options: ReadOptions,
        sink: Callable[[Rejection], None] | None = None,
        batch_lines: int = 32_768,
        workers: int = 1,
        parallel_bytes: int = PARALLEL_BYTES,
        sorted_blocks: bool = False,
    ):
        if isinstance(paths, str | os.PathLike):
            paths = [paths]
        self.paths = list(paths)
        #: A batch parsed by a worker comes sorted by ``BLOCK_ORDER`` instead of in line order
        #: (the worker sorts the block it just built: the engine's sort then finds it in
        #: order, and passes it on without gathering its rows again).
        self.sorted_blocks = sorted_blocks
        self.options = options
        self.sink = sink
        self.batch_lines = max(1, int(batch_lines))
        self.workers = max(1, int(workers))
        self.parallel_bytes = parallel_bytes
        self.files: list[EvidenceFile] = []
        self.rejections: list[Rejection] = []
        self.rejection_counts: Counter[str] = Counter()
        self._seen: _Seen | None = _Seen()
        self._pool: ProcessPoolExecutor | None = None
        self._folder = ""  # the workers' batches, while they run (``_handed_over``)
        self._walked: list[Path | Skipped] | None = None
        self._files_total = 0
        self._bytes_total = 0
        self._bytes_done = 0  # sizes of the files finished
        self._records = 0
        self._current: Source | None = None

    def status(self) -> ReadStatus:
        """Progress so far (cheap: counters only; call it between batches)."""
        current = self._current.bytes_read if self._current is not None else 0
        return ReadStatus(
            files_done=len(self.files),
            files_total=self._files_total,
            records=self._records,
            bytes_read=min(self._bytes_done + current, self._bytes_total),
            bytes_total=self._bytes_total,
        )

    def _reject(self, rejection: Rejection) -> None:
        self.rejection_counts[rejection.reason] += 1
        if len(self.rejections) < REJECTION_SAMPLE:
            self.rejections.append(rejection)
        if self.sink is not None:
            self.sink(rejection)

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The events of every file, in walk order and line order (with ``sorted_blocks``,
        a batch parsed by a worker in ``BLOCK_ORDER``), de-duplicated.

        Raises:
            EvidenceError: a path does not exist or cannot be read.
        """
        for _, batch in self._read():
            yield batch

    def tagged(self) -> Iterator[tuple[int, pa.RecordBatch]]:
        """The events of every file, in walk order and line order (with ``sorted_blocks``,
        a batch parsed by a worker in ``BLOCK_ORDER``), *not* de-duplicated, each
        batch with the index in ``files`` its file's account takes. Until ``settle()`` the
        accounts count every event read as an event (no duplicates); nothing is kept per event,
        so memory does not grow with the input.

        Raises:
            EvidenceError: a path does not exist or cannot be read.
        """
        self._seen = None
        yield from self._read()

    def settle(self, duplicates: Mapping[int, int]) -> None:
        """Move ``duplicates[i]`` events of ``files[i]`` to its duplicates (after ``tagged()``:
        the repeats of an event id found downstream, counted against the file of each copy
        that is not the first in walk and line order).

        Raises:
            ValueError: an index is not a file's, or a count exceeds the file's events.
        """
        for index, count in duplicates.items():
            if not 0 <= index < len(self.files):
                raise ValueError(f"no file account {index}")
            account = self.files[index]
            if not 0 <= count <= account.events:
                raise ValueError(f"{account.path}: {count} duplicates of {account.events} events")
            if count:
                self.files[index] = replace(account, events=account.events - count,
                                            duplicates=account.duplicates + count)

    def start(self) -> None:
        """Start the worker processes now if the reading may use them (``workers`` > 1, no
        persona map, and a file of at least ``parallel_bytes``), so that they import the
        readers (about a second each) while the caller prepares, e.g. loads the intel pack.
        Optional: the reading starts them when it needs them. ``close()`` stops them if it
        never runs.

        Raises:
            EvidenceError: a path does not exist or cannot be read.
        """
        if self._pool is not None:
            return
        if any(not isinstance(p, Skipped) and self._may_parallel(_size(p))
               for p in self._entries()):
            pool = self._start_pool()
            with _bare_main():
                for _ in range(self.workers):
                    pool.submit(_warm)

    def close(self) -> None:
        """Stop the worker processes (done by the reading when it ends; needed only after
        ``start()`` without a reading)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            shutil.rmtree(self._folder, ignore_errors=True)

    def _entries(self) -> list[Path | Skipped]:
        if self._walked is None:
            self._walked = list(walk(self.paths, follow_outside=self.options.follow_outside))
        return self._walked

    def _start_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # spawn: a fresh interpreter (forking a process that runs polars or DuckDB threads
            # is not safe); the workers import only the readers. Kept until the reading ends,
            # with the folder through which they hand their batches back.
            self._folder = tempfile.mkdtemp(prefix="slipcatch-blocks-")
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def _read(self) -> Iterator[tuple[int, pa.RecordBatch]]:
        from slipcatch.evidence.bulk import BULK_FORMATS

        entries = self._entries()
        self._files_total = len(entries)
        self._bytes_total = sum(_size(p) for p in entries if not isinstance(p, Skipped))
        try:
            for path in entries:
                if isinstance(path, Skipped):
                    account, rejection = skipped_file(path)
                    self._reject(rejection)
                    self.files.append(account)
                    self._records += account.records
                    continue
                reading = FileRead(path, self.options)
                self._current = reading.source
                fmt = reading.format.NAME if reading.format is not None else None
                index = len(self.files)  # where this file's account goes
                if fmt in BULK_FORMATS and not (fmt == "table" and self.options.columns):
                    for batch in self._bulk(reading):
                        yield index, batch
                else:
                    for batch in self._per_line(reading):
                        yield index, batch
                self._current = None
                self._bytes_done += reading.source.size
        finally:
            self.close()

    def _keep(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, int]:
        if self._seen is None:  # tagged(): the consumer de-duplicates
            return batch, 0
        mask = self._seen.fresh(batch.column(0))
        kept = int(mask.sum())
        if kept < batch.num_rows:
            batch = batch.filter(pa.array(mask))
        return batch, len(mask) - kept

    def _parallel(self, ctx: ChunkContext, size: int) -> bool:
        """Whether a file's blocks are parsed by worker processes: with ``workers`` > 1, for a
        file of at least ``parallel_bytes`` whose blocks read alike wherever they are parsed
        (access logs and tables carry no state from block to block; a persona map does, its
        patterns' time-out counts, so not with one)."""
        return ctx.fmt in _STATELESS and self._may_parallel(size)

    def _may_parallel(self, size: int) -> bool:
        """``_parallel`` but for the format (``start`` decides before any file is sniffed)."""
        return (self.workers > 1 and size >= self.parallel_bytes
                and self.options.persona_map is None)

    def _parsed(
        self, source: Source, ctx: ChunkContext
    ) -> Iterator[tuple[pa.RecordBatch, list[Rejection]] | Problem]:
        """The parsed blocks of ``source`` in order (or the ``Problem`` that ended the stream):
        in this process, or by ``workers`` processes, each given a block as it finishes one,
        the results taken back in block order (at most two blocks a worker in flight)."""
        from slipcatch.evidence.bulk import parse_chunk_next

        parallel = self._parallel(ctx, source.size or 0)
        blocks = line_blocks(source, self.batch_lines, spans=parallel)
        if not parallel:
            for block in blocks:
                if isinstance(block, Problem):
                    yield block
                    continue
                assert not isinstance(block, Span)  # spans only for the workers
                lines, first = block
                numbers = pa.array(np.arange(first, first + len(lines), dtype=np.int64))
                batch, found, ctx = parse_chunk_next(
                    ctx, pa.array(lines, pa.large_binary()), numbers)
                yield batch, found
            return
        pool = self._start_pool()
        pending: deque[Future[tuple[str, list[Rejection]]] | Problem] = deque()
        try:
            for block in blocks:
                if isinstance(block, Problem):
                    pending.append(block)
                elif isinstance(block, Span):
                    with _bare_main():
                        pending.append(pool.submit(
                            _handed_over, self._folder, self.sorted_blocks, parse_span, ctx,
                            source.path, block))
                else:
                    lines, first = block
                    with _bare_main():
                        pending.append(pool.submit(
                            _handed_over, self._folder, self.sorted_blocks, parse_block, ctx,
                            b"\n".join(lines), first))
                while len(pending) > 2 * self.workers or (
                        pending and isinstance(pending[0], Problem)):
                    yield _result(pending.popleft())
            while pending:
                yield _result(pending.popleft())
        finally:
            for item in pending:  # left unread: an error upstream, or the reader closed
                if not isinstance(item, Problem):
                    item.cancel()

    def _bulk(self, reading: FileRead) -> Iterator[pa.RecordBatch]:
        from slipcatch.evidence.bulk import chunk_context

        source = reading.source
        assert reading.format is not None
        ctx = chunk_context(source, reading.format.NAME)
        records = events = rejected = duplicates = 0
        for item in self._parsed(source, ctx):
            if isinstance(item, Problem):
                records += 1
                self._records += 1
                rejected += 1
                self._reject(reject_problem(source, item))
                continue
            batch, found = item
            for rejection in found:
                self._reject(rejection)
            records += batch.num_rows + len(found)
            self._records += batch.num_rows + len(found)
            rejected += len(found)
            batch, dups = self._keep(batch)
            duplicates += dups
            events += batch.num_rows
            if batch.num_rows:
                yield batch
        self.files.append(
            EvidenceFile(
                path=source.name,
                sha256=source.sha256,
                size=source.size,
                format=reading.format_name,
                records=records,
                events=events,
                rejected=rejected,
                duplicates=duplicates,
                confidence=reading.confidence,
            )
        )

    def _per_line(self, reading: FileRead) -> Iterator[pa.RecordBatch]:
        events = duplicates = 0
        pending: list[Event] = []

        def flush() -> Iterator[pa.RecordBatch]:
            nonlocal events, duplicates
            for batch in events_to_table(pending).to_batches():
                kept, dups = self._keep(batch)
                events += kept.num_rows
                duplicates += dups
                if kept.num_rows:
                    yield kept
            pending.clear()

        for item in reading.items():
            self._records += 1
            if isinstance(item, Rejection):
                self._reject(item)
                continue
            pending.append(item)
            if len(pending) >= self.batch_lines:
                yield from flush()
        if pending:
            yield from flush()
        self.files.append(reading.account(events, duplicates))


def _size(path: Path) -> int:
    """A file's size for progress (0 when it cannot be read: its reading will say why)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0
