"""PRIVATE FALLBACKS for the Spark engine, until the columnar modules land.

The Spark engine (``engine.spark``) needs four things other work provides: the bulk chunk
parser (``evidence.bulk``: ``ChunkContext``, ``chunk_context``, ``parse_chunk``,
``BULK_FORMATS``), the column enrichment (``engine.enrich.enrich``), the engine result type
(``engine.local.EngineResult``) and the events -> observations step (``pipeline.observe``,
which the engine layer may not import). ``engine.spark`` imports each of them lazily in one
place (``_parse``, ``_enrich``, ``_chunk_context``, ``_result_type``, ``_observe``) and falls
back to the functions here when the real one is not importable. Every fallback calls the
existing per-line readers and ``IntelPack.lookup`` (so the results are exactly those of the
local path, only slower); none of them is used once the real modules are present.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from slipcatch.eventtable import ENRICHED_SCHEMA, EVENT_SCHEMA, events_to_table, table_to_events
from slipcatch.model import Event, Observation, Rejection, canonical_ip

if TYPE_CHECKING:
    from slipcatch.intel import IntelPack

#: Line formats whose records are one line each and need at most the file's header to parse
#: (``authlog`` is not: a yearless syslog stamp takes its year from the lines before it).
BULK_FORMATS: frozenset[str] = frozenset({"weblog", "weblog_json", "zeek", "table"})


@dataclass(frozen=True)
class ChunkContext:
    """What a worker needs to parse any range of one file (picklable, small)."""

    fmt: str
    path: str
    sha256: str
    options: Any
    header: bytes = b""


def _first_line(head: bytes) -> bytes:
    for line in head.split(b"\n"):
        if line.strip():
            return line.rstrip(b"\r")
    return b""


def chunk_context(source: Any, fmt: str) -> ChunkContext:
    """The context of ``source`` read as ``fmt``: its header lines (a CSV header, Zeek ``#``
    directives) so that a range in the middle of the file parses like the whole file."""
    head = source.head()
    header = b""
    if fmt == "table" and not _first_line(head).lstrip().startswith(b"{"):
        header = _first_line(head) + b"\n"
    elif fmt == "zeek":
        kept = []
        for line in head.split(b"\n"):
            if not line.startswith(b"#"):
                break
            kept.append(line)
        header = b"\n".join(kept) + b"\n" if kept else b""
    return ChunkContext(fmt, str(source.path), source.sha256, source.options, header)


class _ChunkSource:
    """A ``Source`` look-alike over a given list of lines, for the per-line readers."""

    def __init__(self, ctx: ChunkContext, lines: Sequence[bytes], numbers: Sequence[int]):
        from slipcatch.evidence._source import Line

        self.path = Path(ctx.path)
        self.name = str(ctx.path).encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        self.sha256 = ctx.sha256
        self.options = ctx.options
        self.compression = None
        self.encoding = ""
        first = numbers[0] if len(numbers) else 1
        prefix: list[Any] = []
        if ctx.header and first > 1:
            # Header lines are numbered 0 and never numbered records: their outcomes are dropped.
            prefix = [Line(0, h.rstrip(b"\r")) for h in ctx.header.split(b"\n") if h.strip()]
        self._items = prefix + [Line(n, d) for n, d in zip(numbers, lines, strict=True)]
        self._head = ctx.header or (lines[0] + b"\n" if len(lines) else b"")

    def head(self) -> bytes:
        return self._head

    def lines(self, *_: Any, **__: Any) -> Iterator[Any]:
        return iter(self._items)


def parse_chunk(
    ctx: ChunkContext, lines: pa.BinaryArray, numbers: pa.Int64Array
) -> tuple[pa.RecordBatch, list[Rejection]]:
    """Events (``EVENT_SCHEMA``) and rejections of the given lines, by the per-line reader."""
    from slipcatch.evidence._ingest import FORMATS

    reader = next(f for f in FORMATS if ctx.fmt == f.NAME)
    source = _ChunkSource(ctx, lines.to_pylist(), numbers.to_pylist())
    events: list[Event] = []
    rejections: list[Rejection] = []
    for item in reader.read(source):
        locator = item.locator if isinstance(item, Rejection) else item.evidence.locator
        if locator == "line 0":
            continue  # the header, repeated for this range
        (rejections if isinstance(item, Rejection) else events).append(item)
    table = events_to_table(events) if events else EVENT_SCHEMA.empty_table()
    return _one_batch(table, EVENT_SCHEMA), rejections


def _one_batch(table: pa.Table, schema: pa.Schema) -> pa.RecordBatch:
    table = table.combine_chunks()
    batches = table.to_batches()
    if not batches:
        return pa.RecordBatch.from_pylist([], schema=schema)
    return batches[0]


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def lookup_address(ip: str) -> str:
    """``pipeline.lookup_address`` (the engine may not import the pipeline)."""
    if ":" not in ip:
        return ip
    try:
        addr = ipaddress.IPv6Address(ip)
    except ValueError:
        return ip
    if addr in _NAT64 or (addr in _IPV4_COMPATIBLE and int(addr) > 1):
        return str(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
    if addr.sixtofour is not None:
        return str(addr.sixtofour)
    return ip


def enrich(batch: pa.RecordBatch | pa.Table, pack: IntelPack) -> pa.RecordBatch:
    """``batch`` with the ``ENRICHED_FIELDS`` columns, from ``IntelPack.lookup``."""
    from slipcatch.intel.addr import ips_to_arrays

    table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
    n = table.num_rows
    ips = [lookup_address(ip) for ip in table.column("src_ip").to_pylist()]
    times = [e.time for e in table_to_events(table)] if n else []
    facts = pack.lookup(ips, times) if n else []
    hi, lo = ips_to_arrays(ips) if n else (np.zeros(0, np.uint64), np.zeros(0, np.uint64))
    cols = {
        "ip_hi": pa.array(hi, pa.uint64()),
        "ip_lo": pa.array(lo, pa.uint64()),
        "category": pa.array([str(f.category) for f in facts], pa.string()),
        "country": pa.array([f.country for f in facts], pa.string()),
        "asn": pa.array([f.asn for f in facts], pa.int64()),
        "actor": pa.array([f.actor for f in facts], pa.string()),
        "projected": pa.array([f.projected for f in facts], pa.bool_()),
        "tor": pa.array([f.tor or "no-data" for f in facts], pa.string()),
        "tor_nearest_listing_days": pa.array(
            [f.tor_nearest_listing_days for f in facts], pa.int32()
        ),
    }
    arrays = [table.column(name) for name in EVENT_SCHEMA.names] + [
        cols[f.name] for f in ENRICHED_SCHEMA if f.name not in EVENT_SCHEMA.names
    ]
    return _one_batch(pa.Table.from_arrays(arrays, schema=ENRICHED_SCHEMA), ENRICHED_SCHEMA)


def observe(events: Sequence[Event], pack: IntelPack) -> list[Observation]:
    """``pipeline.observe``: each event with its address's facts, and an e-mail's claimed
    client behind the entry relay."""
    facts = pack.lookup([lookup_address(e.src_ip) for e in events], [e.time for e in events])
    order: list[int] = []
    ips: list[str] = []
    for k, e in enumerate(events):
        text = e.mail.claimed_client_ip if e.mail is not None else None
        if not text:
            continue
        try:
            ip = canonical_ip(text)
        except ValueError:
            continue
        if ip != e.src_ip:
            order.append(k)
            ips.append(lookup_address(ip))
    found = pack.lookup(ips, [events[k].time for k in order])
    claimed = dict(zip(order, found, strict=True))
    return [
        Observation(event=e, address=f, claimed=claimed.get(k))
        for k, (e, f) in enumerate(zip(events, facts, strict=True))
    ]


@dataclass(frozen=True)
class EngineResult:
    """Stand-in for ``engine.local.EngineResult`` (same fields)."""

    events_path: Path
    observations: tuple[Observation, ...]
    remainder: Any
    coverage: tuple[Any, ...]
    slips: pa.Table
    persona_stats: pa.Table
    event_count: int
