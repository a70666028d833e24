"""The local engine: record batches in, enriched table on disk, findings in SQL, and the
observations of the personas the analysis must weigh.

``run_local`` keeps memory flat whatever the number of events: each batch is enriched and
written to a Parquet part under ``spill_dir`` as it arrives (only the coverage counts and the
few e-mail claims stay in memory); DuckDB then sorts the parts into one Parquet file by
(time, id) and computes the findings over it, with its memory limited and its temporary files
under ``spill_dir``. Only the selected personas' events become Python objects
(``model.Observation``, built by ``engine.observe.observe``, so equal to the per-event path);
the rest is summarised (``model.Remainder``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from slipcatch.engine.enrich import Enricher
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
_PART_ROWS = 1 << 18  # rows buffered before a Parquet part is written
_READ_ROWS = 1 << 16  # rows of the selected personas turned into objects at a time
T = TypeVar("T")
_COMPRESSION = "zstd"  # as fast as snappy here, and about half the size


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
    """

    events_path: Path
    observations: list[Observation]
    selected: tuple[str, ...]
    remainder: Remainder | None
    coverage: tuple[LayerCoverage, ...]
    slips: pa.Table
    persona_stats: pa.Table
    event_count: int


class _Coverage:
    """Events outside each dated layer, counted batch by batch."""

    def __init__(self, pack: IntelPack):
        self.pack = pack
        self.layers = pack.coverage()
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


class _PartWriter:
    """Enriched batches into Parquet parts of about ``_PART_ROWS`` rows."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.buffer: list[pa.RecordBatch] = []
        self.rows = 0
        self.parts = 0

    def add(self, batch: pa.RecordBatch) -> None:
        self.buffer.append(batch)
        self.rows += batch.num_rows
        if self.rows >= _PART_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        table = pa.Table.from_batches(self.buffer, schema=ENRICHED_SCHEMA)
        pq.write_table(table, self.folder / f"part-{self.parts:06d}.parquet",
                       compression=_COMPRESSION)
        self.parts += 1
        self.buffer, self.rows = [], 0


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


def _write_sorted(con: duckdb.DuckDBPyConnection, parts: str, out: Path) -> bool:
    """The parts, sorted by (time, id), as one Parquet file of ``ENRICHED_SCHEMA``; whether
    every event id is distinct. An event id hashes the event's time (``model.event_id``), so
    the rows of a repeated id are adjacent in this order and are seen while writing."""
    tmp = out.with_name(f".{out.name}.{secrets.token_hex(4)}.tmp")
    reader = arrow_reader(
        con, f"SELECT * FROM read_parquet({_sql_text(parts)}) ORDER BY time, id, src_ip",
        _PART_ROWS)
    unique = True
    last: str | None = None
    with pq.ParquetWriter(tmp, ENRICHED_SCHEMA, compression=_COMPRESSION) as writer:
        for batch in reader:
            if batch.num_rows == 0:
                continue
            ids = batch.column("id")
            if unique and (ids[0].as_py() == last or (len(ids) > 1 and pc.any(
                    pc.equal(ids.slice(1), ids.slice(0, len(ids) - 1))).as_py())):
                unique = False
            last = ids[-1].as_py()
            writer.write_batch(pa.RecordBatch.from_arrays(
                [batch.column(f.name).cast(f.type) for f in ENRICHED_SCHEMA],
                schema=ENRICHED_SCHEMA))
    os.replace(tmp, out)
    return unique


def _remainder(con: duckdb.DuckDBPyConnection, events: str) -> Remainder:
    """The events of the personas not in ``sc_selected``, summarised."""
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE sc_rest AS
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
    batches: Iterable[pa.RecordBatch],
    pack: IntelPack,
    *,
    spill_dir: Path,
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
    (``EVENTS_FILE``, replaced if present) and, while running, the Parquet parts and DuckDB's
    temporary files (``memory_limit`` bounds DuckDB's memory). Memory does not grow with the
    number of events beyond the selected personas' observations.

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
        writer = _PartWriter(work)
        claims: list[pa.Table] = []
        total = 0
        clock = _Clock(timings)
        for batch in clock.iterate("read", batches):
            if batch.num_rows == 0:
                continue
            with clock("enrich"):
                enriched = enricher.enrich(batch)
                total += enriched.num_rows
                counts.add(enriched)
                found = claim_rows(enriched, pack)
                if found.num_rows:
                    claims.append(found)
            with clock("spill"):
                writer.add(enriched)
            if progress is not None:
                progress(total)
        with clock("spill"):
            writer.flush()
        events_path = spill_dir / EVENTS_FILE
        if writer.parts == 0:
            pq.write_table(ENRICHED_SCHEMA.empty_table(), events_path)
        con = _connect(scratch, memory_limit)
        try:
            unique = True
            with clock("spill"):
                if writer.parts:
                    unique = _write_sorted(con, str(work / "*.parquet"), events_path)
                shutil.rmtree(work, ignore_errors=True)
            source = str(events_path)
            with clock("findings"):
                found_all = Findings(
                    con, source, pack.actors,
                    claims=pa.concat_tables(claims) if claims else CLAIM_SCHEMA.empty_table(),
                    unique_ids=unique)
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
        event_count=total,
    )
