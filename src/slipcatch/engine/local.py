"""The local engine: record batches in, enriched table on disk, findings in SQL, and the
observations of the personas the analysis must weigh.

``run_local`` keeps memory flat whatever the number of events: each batch is enriched as it
arrives (only the few e-mail claims stay in memory) and goes into one Parquet file sorted by
(time, id) — where repeated events are adjacent, so de-duplication (``dedupe``) and the
coverage counts are worked out while it is written. Input that comes nearly in time order (a
log) is sorted chunk by chunk in memory (``_Spill``); once a row comes older than the rows
already written, the rest goes to Parquet parts under ``spill_dir`` and DuckDB sorts them with
the rows written, its memory limited and its temporary files under ``spill_dir``. DuckDB then
computes the findings over the sorted table. Only the selected personas' events become Python
objects (``model.Observation``, built by ``engine.observe.observe``, so equal to the per-event
path); the rest is summarised (``model.Remainder``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from slipcatch.engine.enrich import Enricher, time_micros
from slipcatch.engine.findings import (
    ASSESS_ALL_PERSONAS,
    CLAIM_SCHEMA,
    Findings,
    arrow_reader,
    claim_rows,
)
from slipcatch.engine.observe import observe
from slipcatch.eventtable import ENRICHED_SCHEMA, EVENT_SCHEMA, table_to_events
from slipcatch.intel import IntelPack
from slipcatch.intel.addr import MAPPED_FIRST
from slipcatch.model import LayerCoverage, Observation, Remainder

__all__ = ["EVENTS_FILE", "TOP_ADDRESSES", "EngineResult", "run_local"]

#: The enriched, sorted event table ``run_local`` leaves in its spill directory.
EVENTS_FILE = "events.parquet"
#: How many of the busiest addresses ``Remainder.top_addresses`` lists.
TOP_ADDRESSES = 20
_PART_ROWS = 1 << 16  # rows buffered before they are sorted (or written as a Parquet part)
_READ_ROWS = 1 << 16  # rows of the selected personas turned into objects at a time
_SORT_ROWS = 1 << 16  # rows of the sorted table handled at a time
_LATE_US = 600 * 1_000_000  # how much older than the newest row a later row may be (_Spill)
_CARRY_ROWS = 1 << 15  # rows held back for late rows at most (the window shrinks beyond)
_ORDER = ("time", "id", "src_ip", "_ord")  # the table's order (the last key is unique)
T = TypeVar("T")
#: How the run's Parquet files are written (the sorted table and the parts: files this run
#: reads back and deletes). LZ4, dictionaries only for the columns that repeat (the file's
#: name and hash, persona, categories...: not ids, times, attributes or locators) and
#: statistics only on the columns queries filter or sort on: 1.9x faster to write than zstd
#: with every default (measured on 524,288 rows of the hunt benchmark: 0.26 s against 0.49 s),
#: 1.5x larger.
_PARQUET = {
    "compression": "lz4",
    "use_dictionary": ["src_ip", "persona", "channel", "path", "sha256", "origin_trust",
                       "entry_ip", "hops", "mail", "category", "country", "actor", "tor"],
    "write_statistics": ["time", "id", "persona"],
}


@dataclass(frozen=True)
class EngineResult:
    """What ``run_local`` found.

    ``events_path``: every event with the enrichment columns (``ENRICHED_SCHEMA``), sorted by
    (time, id), as Parquet (``pyarrow.dataset``, DuckDB ``read_parquet``).
    ``observations``: the selected personas' events in (time, id) order, as ``observe`` pairs
    them. ``selected``: those personas, sorted. ``remainder``: the other personas' events
    summarised, None when every persona was selected. ``coverage``: per dated intel layer,
    over all events (as ``engine.observe.coverage`` over every observation). ``slips`` and
    ``persona_stats``: the findings tables (``findings.SLIP_SCHEMA``,
    ``findings.PERSONA_STATS_SCHEMA``) over all personas. ``event_count``: rows read.
    ``duplicates``: with ``dedupe``, the repeated events dropped, counted by the tag their
    batch came with (empty otherwise).
    """

    events_path: Path
    observations: list[Observation]
    selected: tuple[str, ...]
    remainder: Remainder | None
    coverage: tuple[LayerCoverage, ...]
    slips: pa.Table
    persona_stats: pa.Table
    event_count: int
    duplicates: dict[int, int] = field(default_factory=dict)


class _Coverage:
    """Events outside each dated layer, counted batch by batch."""

    def __init__(self, pack: IntelPack):
        self.pack = pack
        self.layers = pack.coverage()
        self.outside = [0] * len(self.layers)

    def reset(self) -> None:
        self.outside = [0] * len(self.layers)

    def add(self, batch: pa.RecordBatch) -> None:
        hi = batch.column("ip_hi").to_numpy()
        lo = batch.column("ip_lo").to_numpy()
        is_v4 = (hi == 0) & (lo >= np.uint64(MAPPED_FIRST))
        us = np.asarray(batch.column("time").cast(pa.int64()).to_numpy(), np.int64)
        for k, c in enumerate(self.layers):
            self.outside[k] += int((~self.pack.covered(c["layer"], is_v4, us)).sum())

    def result(self) -> tuple[LayerCoverage, ...]:
        return tuple(
            LayerCoverage(layer=c["layer"], valid_from=c["from"], valid_to=c["to"],
                          events_outside=n)
            for c, n in zip(self.layers, self.outside, strict=True))


#: The parts' columns: the enriched event, the tag of its source (``dedupe``: the file account
#: it counts against) and its place in arrival order (the first copy of a repeated id wins).
_PART_SCHEMA = pa.schema([*ENRICHED_SCHEMA, pa.field("_tag", pa.int32(), nullable=False),
                          pa.field("_ord", pa.int64(), nullable=False)])


class _PartWriter:
    """Tables of ``_PART_SCHEMA`` into numbered Parquet parts."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.parts = 0

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        pq.write_table(table, self.folder / f"part-{self.parts:06d}.parquet", **_PARQUET)
        self.parts += 1


def _sort_order(table: pa.Table) -> pa.Array:
    """The indices that put ``table`` in the table's order: (time, id, src_ip, ``_ord``),
    byte order for text, as DuckDB's ``ORDER BY`` with its default (binary) collation."""
    return pc.sort_indices(table, sort_keys=[(k, "ascending") for k in _ORDER])


#: Rows in a row of consecutive positions that ``_gathered`` passes on as a slice.
_RUN_ROWS = 1024


def _gathered(table: pa.Table, positions: npt.NDArray[np.int64]) -> Iterator[pa.Table]:
    """``table.take(positions)`` in pieces: a run of at least ``_RUN_ROWS`` consecutive
    positions as a slice of ``table`` (no copy: the rows held back from the chunk before,
    already in order, come first in every chunk), the rest gathered ``_SORT_ROWS`` at a time
    (one large gather would fault in fresh memory for all of it at once)."""
    if len(positions) == 0:
        return
    breaks = np.flatnonzero(np.diff(positions) != 1) + 1
    starts = np.concatenate([[0], breaks])
    ends = np.concatenate([breaks, [len(positions)]])
    done = 0
    for a, b in zip(starts[(ends - starts) >= _RUN_ROWS].tolist(),
                    ends[(ends - starts) >= _RUN_ROWS].tolist(), strict=True):
        for start in range(done, a, _SORT_ROWS):
            yield _take(table, positions[start:min(start + _SORT_ROWS, a)])
        yield table.slice(int(positions[a]), b - a)
        done = b
    for start in range(done, len(positions), _SORT_ROWS):
        yield _take(table, positions[start:min(start + _SORT_ROWS, len(positions))])


def _take(table: pa.Table, positions: npt.NDArray[np.int64]) -> pa.Table:
    """``table.take(positions)`` from the slice of ``table`` the positions span: taking from
    a table of many chunks joins every chunk of every column first (the whole table, for a
    few rows at the edge of two sorted blocks)."""
    low, high = int(positions.min()), int(positions.max())
    return table.slice(low, high - low + 1).take(pa.array(positions - low))


class _Spill:
    """Enriched batches in arrival order in, the table sorted by (time, id) out.

    Logs come nearly in time order, so the sort is done chunk by chunk in memory while that
    holds: each chunk of about ``_PART_ROWS`` rows is sorted together with the rows held
    back from the chunks before it (``carry``: those of the last ``_LATE_US`` of the
    time seen so far, at most about ``_CARRY_ROWS``), and every row older than that goes to
    the table at once: nothing can come before it any more unless a row later in the input
    is older than the rows written (``cutoff``). When one is, the rows written stay as one
    sorted run, everything after goes to Parquet parts, and DuckDB sorts the run and the
    parts together at the end (``finish``), bounded by its memory limit and spilling to disk:
    the same table, in the same order, with the same rows dropped as repeats.
    """

    def __init__(self, folder: Path, counts: _Coverage, dedupe: bool):
        self.folder = folder
        self.counts = counts
        self.dedupe = dedupe
        self.parts = _PartWriter(folder)
        self.seen = _Sorted()
        self.run_path = folder / "run.parquet"
        self.sink: _SortedSink | None = None
        self.in_order = True
        self.carry: pa.Table | None = None
        self.cutoff: int | None = None  # every row written to the run is older than this
        self.buffer: list[pa.RecordBatch] = []
        self.rows = 0
        self.written = 0  # rows in arrival order so far (the next row's ``_ord``)

    def add(self, batch: pa.RecordBatch, tag: int = 0) -> None:
        n = batch.num_rows
        self.buffer.append(pa.RecordBatch.from_arrays(
            [*batch.columns, pa.array(np.full(n, tag, np.int32)),
             pa.array(np.arange(self.written, self.written + n, dtype=np.int64))],
            schema=_PART_SCHEMA))
        self.written += n
        self.rows += n
        if self.rows >= _PART_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        chunk = pa.Table.from_batches(self.buffer, schema=_PART_SCHEMA)
        self.buffer, self.rows = [], 0
        if self.in_order and self._merge(chunk):
            return
        if self.in_order:  # a row older than the rows written: the rest goes to parts
            self.in_order = False
            if self.sink is not None:
                self.sink.close()
            if self.carry is not None:
                self.parts.write(self.carry)
                self.carry = None
        self.parts.write(chunk)

    def _merge(self, chunk: pa.Table) -> bool:
        """Add a chunk to the run; False (nothing done) when a row of it is older than the
        rows already written. The sorted rows go to the run as ``_gathered`` gives them:
        rows already in place as slices, the rest gathered a batch at a time."""
        us = time_micros(chunk.column("time"))
        if self.cutoff is not None and int(us.min()) < self.cutoff:
            return False
        table = chunk if self.carry is None else pa.concat_tables([self.carry, chunk])
        positions = _sort_order(table).to_numpy()
        us = time_micros(table.column("time"))[positions]
        cutoff = int(us[-1]) - _LATE_US
        if len(us) - int(np.searchsorted(us, cutoff)) > _CARRY_ROWS:
            cutoff = int(us[len(us) - _CARRY_ROWS])
        if self.cutoff is not None:
            cutoff = max(cutoff, self.cutoff)
        k = int(np.searchsorted(us, cutoff))
        for part in _gathered(table, positions[:k]):
            for batch in part.to_batches():
                self._run().write(batch)
        self.carry = (pa.concat_tables(list(_gathered(table, positions[k:])))
                      if k < len(us) else None)
        self.cutoff = cutoff
        return True

    def _run(self) -> _SortedSink:
        """The writer of the sorted run, opened with its first row."""
        if self.sink is None:
            self.sink = _SortedSink(self.run_path, self.counts, self.dedupe, self.seen)
        return self.sink

    def finish(self, con: duckdb.DuckDBPyConnection, out: Path) -> _Sorted:
        """Write the sorted table to ``out``; what was seen while writing it."""
        self.flush()
        if self.in_order:
            if self.carry is not None:
                for batch in self.carry.to_batches(_SORT_ROWS):
                    self._run().write(batch)
                self.carry = None
            if self.sink is None:
                pq.write_table(ENRICHED_SCHEMA.empty_table(), out)
            else:
                self.sink.close()
                os.replace(self.run_path, out)
            return self.seen
        # Everything again, through DuckDB's sort: the run written before the input fell out
        # of order (its rows, de-duplicated and first in arrival order, ahead of any part's
        # rows of the same key) and the parts. Coverage and the id check start again; the
        # repeats dropped while the run was written stay counted.
        self.counts.reset()
        self.seen.unique = True
        sources = [f"SELECT * FROM read_parquet({_sql_text(self.folder / 'part-*.parquet')})"]
        if self.sink is not None:
            sources.insert(0, (
                "SELECT * EXCLUDE (file_row_number), 0::INTEGER AS _tag, "
                f"(file_row_number - {1 << 62})::BIGINT AS _ord "
                f"FROM read_parquet({_sql_text(self.run_path)}, file_row_number = true)"))
        _write_sorted(con, " UNION ALL BY NAME ".join(sources), out, self.counts,
                      self.dedupe, self.seen)
        return self.seen


def _sql_text(value: str | Path) -> str:
    """``value`` as a SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def _connect(tmp: Path, memory_limit: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection bounded by ``memory_limit``, spilling into ``tmp``."""
    con = duckdb.connect()
    tmp.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(f"SET temp_directory = {_sql_text(tmp)}")
    con.execute("SET TimeZone = 'UTC'")
    return con


@dataclass
class _Sorted:
    """What ``_write_sorted`` saw: whether every event id is distinct, and (``dedupe``) the
    repeats dropped, counted by tag."""

    unique: bool = True
    duplicates: dict[int, int] = field(default_factory=dict)


def _repeats(batch: pa.RecordBatch, last: tuple[str, int] | None) -> tuple[np.ndarray,
                                                                           np.ndarray]:
    """Which rows of ``batch`` (sorted by time, id) repeat the id of the row before them, and
    which repeat its (id, time); ``last`` is the (id, time) of the row before the batch's
    first."""
    ids = batch.column("id")
    us = time_micros(batch.column("time"))
    same_id = np.zeros(batch.num_rows, dtype=bool)
    same_time = np.zeros(batch.num_rows, dtype=bool)
    if batch.num_rows > 1:
        same_id[1:] = np.asarray(pc.equal(ids.slice(1), ids.slice(0, len(ids) - 1))
                                 .to_numpy(zero_copy_only=False), bool)
        same_time[1:] = us[1:] == us[:-1]
    if last is not None:
        same_id[0] = ids[0].as_py() == last[0]
        same_time[0] = int(us[0]) == last[1]
    return same_id, same_id & same_time


class _SortedSink:
    """Sorted batches of ``_PART_SCHEMA`` in, one Parquet file of ``ENRICHED_SCHEMA`` out
    (written to a temporary name, renamed by ``close``), the coverage counted over the rows
    written. An event id hashes the event's time (``model.event_id``), so the copies of a
    repeated event are adjacent in this order (the first in arrival order leads: ``_ord``):
    with ``dedupe`` every copy after the first is dropped and counted against its tag;
    without, whether any id repeats is noted."""

    def __init__(self, out: Path, counts: _Coverage, dedupe: bool, seen: _Sorted):
        self.out = out
        self.tmp = out.with_name(f".{out.name}.{secrets.token_hex(4)}.tmp")
        self.counts = counts
        self.dedupe = dedupe
        self.seen = seen
        self.last: tuple[str, int] | None = None
        self.writer = pq.ParquetWriter(self.tmp, ENRICHED_SCHEMA, **_PARQUET)
        # rows kept but not written yet: the file gets row groups of ``_SORT_ROWS`` rows
        # whatever the sizes of the batches written (DuckDB reads it back by row group)
        self.pending: list[pa.RecordBatch] = []
        self.pending_rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        same_id, same = _repeats(batch, self.last)
        self.last = (batch.column("id")[-1].as_py(),
                     int(time_micros(batch.column("time").slice(batch.num_rows - 1))[0]))
        if not self.dedupe:
            same[:] = False
        # an id kept twice: at two times (ids collide), or repeats left in (no dedupe);
        # a dropped row equals the row kept before it, so the test holds after dropping
        if self.seen.unique and (same_id & ~same).any():
            self.seen.unique = False
        if same.any():
            tags = np.asarray(batch.column("_tag").to_numpy(), np.int64)[same]
            for tag, n in zip(*np.unique(tags, return_counts=True), strict=True):
                self.seen.duplicates[int(tag)] = self.seen.duplicates.get(int(tag), 0) + int(n)
            batch = batch.filter(pa.array(~same))
            if batch.num_rows == 0:
                return
        out_batch = pa.RecordBatch.from_arrays(
            [batch.column(f.name).cast(f.type) for f in ENRICHED_SCHEMA],
            schema=ENRICHED_SCHEMA)
        self.counts.add(out_batch)
        self.pending.append(out_batch)
        self.pending_rows += out_batch.num_rows
        if self.pending_rows >= _SORT_ROWS:
            table = pa.Table.from_batches(self.pending, schema=ENRICHED_SCHEMA)
            full = table.num_rows // _SORT_ROWS * _SORT_ROWS
            self.writer.write_table(table.slice(0, full), row_group_size=_SORT_ROWS)
            rest = table.slice(full)
            self.pending = rest.to_batches() if rest.num_rows else []
            self.pending_rows = rest.num_rows

    def close(self) -> None:
        if self.pending_rows:
            self.writer.write_table(pa.Table.from_batches(self.pending, schema=ENRICHED_SCHEMA),
                                    row_group_size=_SORT_ROWS)
        self.pending, self.pending_rows = [], 0
        self.writer.close()
        os.replace(self.tmp, self.out)


def _write_sorted(con: duckdb.DuckDBPyConnection, rows: str, out: Path,
                  counts: _Coverage, dedupe: bool, seen: _Sorted) -> None:
    """The rows of the query ``rows`` (``_PART_SCHEMA``), sorted by DuckDB, through a
    ``_SortedSink`` into ``out``."""
    reader = arrow_reader(
        con, f"SELECT * FROM ({rows}) ORDER BY {', '.join(_ORDER)}", _SORT_ROWS)
    sink = _SortedSink(out, counts, dedupe, seen)
    try:
        for batch in reader:
            sink.write(batch)
    finally:
        sink.close()


def _remainder(con: duckdb.DuckDBPyConnection, events: str) -> Remainder:
    """The events of the personas not in ``sc_selected``, summarised."""
    con.execute(f"""
    CREATE OR REPLACE TEMP VIEW sc_rest AS
    SELECT persona, src_ip, category, country FROM read_parquet({_sql_text(events)})
    WHERE persona NOT IN (SELECT persona FROM sc_selected)
    """)
    events_n, personas_n = con.execute(
        "SELECT count(*), count(DISTINCT persona) FROM sc_rest").fetchone()  # type: ignore[misc]
    by_category = con.execute(
        "SELECT category, count(*) AS n FROM sc_rest GROUP BY category ORDER BY n DESC, category"
    ).fetchall()
    by_country = con.execute(
        "SELECT country, count(*) AS n FROM sc_rest WHERE country IS NOT NULL "
        "GROUP BY country ORDER BY n DESC, country").fetchall()
    top = con.execute(f"""
    WITH per AS (SELECT src_ip, category, count(*) AS n FROM sc_rest GROUP BY src_ip, category)
    SELECT src_ip, arg_min(category, (-n, category)) AS category, sum(n)::BIGINT AS events
    FROM per GROUP BY src_ip ORDER BY events DESC, src_ip LIMIT {TOP_ADDRESSES}
    """).fetchall()
    return Remainder(
        events=int(events_n), personas=int(personas_n),
        by_category=tuple((str(c), int(n)) for c, n in by_category),
        by_country=tuple((str(c), int(n)) for c, n in by_country),
        top_addresses=tuple((str(ip), str(c), int(n)) for ip, c, n in top),
    )


def _observations(con: duckdb.DuckDBPyConnection, events: str, pack: IntelPack,
                  every: bool) -> list[Observation]:
    cols = ", ".join(EVENT_SCHEMA.names)
    where = "" if every else "WHERE persona IN (SELECT persona FROM sc_selected)"
    reader = arrow_reader(
        con, f"SELECT {cols} FROM read_parquet({_sql_text(events)}) {where} "
        "ORDER BY time, id, src_ip", _READ_ROWS)
    out: list[Observation] = []
    for batch in reader:
        out.extend(observe(table_to_events(batch), pack))
    return out


class _Clock:
    """Seconds per stage, added into ``timings`` (nothing is measured without it)."""

    def __init__(self, timings: dict[str, float] | None):
        self.timings = timings

    @contextlib.contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        if self.timings is None:
            yield
            return
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - start

    def iterate(self, stage: str, items: Iterable[T]) -> Iterator[T]:
        """``items``, with the time spent producing each added to ``stage``."""
        it = iter(items)
        while True:
            with self(stage):
                try:
                    item = next(it)
                except StopIteration:
                    return
            yield item


def run_local(
    batches: Iterable[pa.RecordBatch] | Iterable[tuple[int, pa.RecordBatch]],
    pack: IntelPack,
    *,
    spill_dir: Path,
    dedupe: bool = False,
    assess: Collection[str] = (),
    memory_limit: str = "512MB",
    assess_all: int = ASSESS_ALL_PERSONAS,
    timings: dict[str, float] | None = None,
    progress: Callable[[int], None] | None = None,
) -> EngineResult:
    """Enrich ``batches`` (events of ``EVENT_SCHEMA``), find slips and cover over all of them,
    and return the observations of the personas the analysis must weigh
    (``findings.Findings.needs_assessment``: every persona when there are at most
    ``assess_all``; ``assess`` names personas to take in any case).

    ``spill_dir`` (created if missing; one run's own) receives the enriched table
    (``EVENTS_FILE``, replaced if present) and, while running, the sorted run, the Parquet
    parts of input that came out of time order and DuckDB's temporary files (``memory_limit``
    bounds DuckDB's memory). Memory does not grow with the
    number of events beyond the selected personas' observations.

    ``dedupe``: ``batches`` yields ``(tag, batch)`` pairs (``ColumnarIngest.tagged``) that may
    repeat events; every copy of an event (same id and time) after the first in arrival order
    is dropped while the sorted table is written, and counted in
    ``EngineResult.duplicates`` by its tag. Nothing is kept per event: memory stays flat.

    ``timings``, when given, receives the seconds each stage took: ``read`` (waiting for the
    next batch: the readers upstream), ``enrich``, ``spill`` (writing and sorting the table),
    ``findings`` and ``observe``. ``progress`` is called with the number of events enriched
    so far after each batch.

    Raises:
        ValueError: an event's source address is not an address.
        OSError: ``spill_dir`` cannot be written.
    """
    spill_dir = Path(spill_dir)
    spill_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(4)
    work = spill_dir / f"parts-{token}"
    work.mkdir()
    scratch = spill_dir / f"duckdb-{token}"
    try:
        enricher = Enricher(pack)
        counts = _Coverage(pack)
        spill = _Spill(work, counts, dedupe)
        claims: list[pa.Table] = []
        total = 0
        clock = _Clock(timings)
        for item in clock.iterate("read", batches):
            tag, batch = item if dedupe else (0, item)
            if batch.num_rows == 0:
                continue
            with clock("enrich"):
                enriched = enricher.enrich(batch)
                total += enriched.num_rows
                found = claim_rows(enriched, pack)
                if found.num_rows:
                    claims.append(found)
            with clock("spill"):
                spill.add(enriched, tag)
            if progress is not None:
                progress(total)
        events_path = spill_dir / EVENTS_FILE
        con = _connect(scratch, memory_limit)
        try:
            with clock("spill"):
                written = spill.finish(con, events_path)
                shutil.rmtree(work, ignore_errors=True)
            source = str(events_path)
            with clock("findings"):
                found_all = Findings(
                    con, source, pack.actors,
                    claims=pa.concat_tables(claims) if claims else CLAIM_SCHEMA.empty_table(),
                    unique_ids=written.unique)
                stats = found_all.persona_stats()
                slips = found_all.slips()
                selected = found_all.needs_assessment(assess, assess_all=assess_all)
                every = len(selected) == stats.num_rows
                con.register("sc_selected",
                             pa.table({"persona": pa.array(selected, pa.string())}))
                remainder = None if every else _remainder(con, source)
            with clock("observe"):
                observations = _observations(con, source, pack, every)
        finally:
            con.close()
            shutil.rmtree(scratch, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return EngineResult(
        events_path=events_path, observations=observations, selected=tuple(selected),
        remainder=remainder, coverage=counts.result(), slips=slips, persona_stats=stats,
        event_count=total, duplicates=written.duplicates,
    )
