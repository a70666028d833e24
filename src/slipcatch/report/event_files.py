"""``events.jsonl`` and ``events.parquet`` from the event table, batch by batch.

At scale the full event table never becomes Python objects: the engine hands the writers a
source of record batches of :data:`slipcatch.eventtable.ENRICHED_SCHEMA` (every event with what
its address was at the event's time), and each batch becomes one batch of
:data:`OUTPUT_SCHEMA` — the columns of ``events.jsonl``, nested objects (``attributes``,
``facts``, ``hops``) as their JSON text — which is written to ``events.parquet`` as it is and to
``events.jsonl`` by concatenating columns (pyarrow compute, no per-event Python). Memory stays
at one batch (at most :data:`BATCH_ROWS` rows) whatever the table's size.

Each ``events.jsonl`` line is byte for byte what :func:`.json_doc.event_record` gives for the
same event (keys sorted, compact separators, non-ASCII as UTF-8, lone surrogates as ``\\udcXX``),
with these sources:

* the event columns and ``category``, ``country``, ``asn``, ``actor``, ``projected``, ``tor``,
  ``tor_nearest_listing_days`` from the table; ``cover`` from ``category``;
* ``persona_id`` and ``slip`` from the assessment: the assessed persona (and slip) holding the
  event, null for an event of the unassessed remainder;
* ``prefix``, ``as_org`` and ``facts`` are not in ``ENRICHED_SCHEMA``: taken from the table's
  optional columns of the same names when present (:data:`ADDRESS_DETAIL_FIELDS`; ``facts`` is
  the JSON text of the list of facts), else from the assessment's observation of the event,
  else null.

Text columns of the table hold lone surrogates as their ``\\udXXX`` escape text
(``eventtable.safe_text``); the JSON writer reads such an escape back as the surrogate it stands
for (so the line decodes to the evidence as read), which a literal backslash-``udXXX`` in the
evidence text cannot be told apart from.
"""

from __future__ import annotations

import json
import socket
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from slipcatch import codec
from slipcatch.eventtable import (
    ENRICHED_FIELDS,
    ENRICHED_SCHEMA,
    events_to_table,
    safe_text,
)
from slipcatch.model import COVER, Hop, Observation

from ._view import ReportView

__all__ = [
    "ADDRESS_DETAIL_FIELDS",
    "BATCH_ROWS",
    "OUTPUT_SCHEMA",
    "EventSource",
    "enriched_table",
    "facts_json",
    "jsonl_bytes",
    "output_batches",
    "output_lines",
    "write_event_files",
]

#: A source of the full enriched event table: called once per write, it returns the
#: ``ENRICHED_SCHEMA`` batches in (time, id) order — a ``pyarrow.RecordBatchReader``, or any
#: iterable of record batches (``pyarrow.parquet.ParquetFile(path).iter_batches()``).
EventSource = Callable[[], Iterable[pa.RecordBatch]]

#: Rows per output batch: bounds the memory of one step (and keeps string offsets 32-bit).
BATCH_ROWS = 65_536

#: Optional table columns with the address details ``events.jsonl`` carries that
#: ``ENRICHED_SCHEMA`` does not: the routed prefix, the AS organisation, and every fact behind
#: the answer as JSON text (a list of objects with range, category, source, label, actor,
#: country, asn, projected).
ADDRESS_DETAIL_FIELDS: tuple[pa.Field, ...] = (
    pa.field("prefix", pa.string()),
    pa.field("as_org", pa.string()),
    pa.field("facts", pa.string()),
)

#: The columns of ``events.parquet``: the keys of an ``events.jsonl`` line. ``attributes``,
#: ``facts`` and ``hops`` are the JSON text the line carries for them; ``origin_trust``,
#: ``entry_ip`` and ``hops`` are null where the line leaves them out (events that are not
#: e-mail); ``time`` is a UTC timestamp.
OUTPUT_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("src_ip", pa.string(), nullable=False),
        pa.field("persona", pa.string(), nullable=False),
        pa.field("persona_id", pa.string()),
        pa.field("channel", pa.string(), nullable=False),
        pa.field("path", pa.string(), nullable=False),
        pa.field("sha256", pa.string(), nullable=False),
        pa.field("locator", pa.string(), nullable=False),
        pa.field("category", pa.string(), nullable=False),
        pa.field("cover", pa.bool_(), nullable=False),
        pa.field("country", pa.string()),
        pa.field("asn", pa.int64()),
        pa.field("as_org", pa.string()),
        pa.field("prefix", pa.string()),
        pa.field("actor", pa.string()),
        pa.field("projected", pa.bool_()),
        pa.field("tor", pa.string()),
        pa.field("tor_nearest_listing_days", pa.int32()),
        pa.field("slip", pa.string()),
        pa.field("facts", pa.string()),
        pa.field("attributes", pa.string(), nullable=False),
        pa.field("origin_trust", pa.string()),
        pa.field("entry_ip", pa.string()),
        pa.field("hops", pa.string()),
    ]
)

_COVER_VALUES = pa.array(sorted(str(c) for c in COVER), pa.string())
_CONTROL = "[\x00-\x1f]"
_NAMED = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# A JSON object of strings without escapes, with json.dumps' default separators.
_PLAIN_OBJECT = r'^\{("[^"\\]*": "[^"\\]*"(, "[^"\\]*": "[^"\\]*")*)?\}$'
# A lone surrogate's escape text (eventtable.safe_text) after JSON escaping doubled its
# backslash: a backslash pair right before ``udXXX`` (always a pair: JSON escapes of control
# characters are ``\u00XX``).
_SURROGATE_ESCAPED = r"\\\\(ud[89a-f][0-9a-f]{2})"


def _line_text(text: str) -> str:
    """Text as ``events.jsonl`` bytes carry it: lone surrogates as ``\\udXXX`` (what the report
    writer's ``backslashreplace`` gives), so it is valid UTF-8 for Arrow."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _dumps(value: Any) -> str:
    return _line_text(
        json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                   allow_nan=False)
    )


def _fact_key(f: Mapping[str, Any]) -> tuple[str, str, str, str]:
    # The order of json_doc.event_record: (source, range, str(category), label or "").
    return (str(f.get("source")), str(f.get("range")), str(f.get("category")),
            f.get("label") or "")


_FACT_KEYS = ("range", "category", "source", "label", "actor", "country", "asn", "projected")


def _fact_dict(f: Any) -> dict[str, Any]:
    d = f if isinstance(f, Mapping) else {
        "range": f.range, "category": None if f.category is None else str(f.category),
        "source": f.source, "label": f.label, "actor": f.actor, "country": f.country,
        "asn": f.asn, "projected": f.projected,
    }
    return {k: d.get(k) for k in _FACT_KEYS}


def facts_json(facts: Iterable[Any]) -> str:
    """The ``facts`` JSON text of ``events.jsonl`` for a fact list (``model.Fact`` objects or
    plain dicts with their keys), sorted as the line sorts them."""
    return _dumps(sorted((_fact_dict(f) for f in facts), key=_fact_key))


class _FactsText:
    """``facts_json`` of many fact lists, each fact encoded once (an intel pack hands out the
    same ``Fact`` objects for every lookup that hits them)."""

    def __init__(self) -> None:
        self._facts: dict[int, tuple[Any, tuple[str, str, str, str], str]] = {}
        self._lists: dict[int, tuple[Any, str]] = {}

    def __call__(self, facts: tuple[Any, ...]) -> str:
        hit = self._lists.get(id(facts))
        if hit is not None and hit[0] is facts:
            return hit[1]
        parts = []
        for f in facts:
            got = self._facts.get(id(f))
            if got is None or got[0] is not f:
                d = _fact_dict(f)
                got = (f, _fact_key(d), _dumps(d))
                self._facts[id(f)] = got
            parts.append(got)
        parts.sort(key=lambda p: p[1])
        text = "[" + ",".join(p[2] for p in parts) + "]"
        self._lists[id(facts)] = (facts, text)
        return text


def _hops_json(text: str) -> str:
    hops = sorted((codec.decode(Hop, h) for h in json.loads(text)), key=lambda h: h.index)
    from .json_doc import _hop  # the line's hop shape, from the one place that defines it

    return _dumps([_hop(h) for h in hops])


def _attributes_json(text: str) -> str:
    return _dumps(json.loads(text))


def _per_unique(arr: pa.Array, convert: Callable[[str], str]) -> pa.Array:
    """``convert`` applied once per distinct value of a string array (nulls stay null)."""
    enc = pc.dictionary_encode(arr).combine_chunks() if isinstance(arr, pa.ChunkedArray) \
        else pc.dictionary_encode(arr)
    values = pa.array([convert(v) for v in enc.dictionary.to_pylist()], pa.string())
    return pc.take(values, enc.indices)


def _compact_attributes(arr: pa.Array) -> pa.Array:
    """``eventtable`` attributes text (ASCII JSON, default separators) as the line's text.

    An object of plain strings (no backslash, so every quote is structural) only changes its
    separators; anything else (escapes, values that are not strings) is re-encoded once per
    distinct value.
    """
    plain = pc.fill_null(pc.match_substring_regex(arr, _PLAIN_OBJECT), False)
    fast = pc.replace_substring(pc.replace_substring(arr, '": "', '":"'), '", "', '","')
    if pc.all(plain).as_py():
        return fast
    slow = _per_unique(pc.if_else(plain, pa.scalar("{}"), arr), _attributes_json)
    return pc.if_else(plain, fast, slow)


def _value_bytes(arr: pa.Array) -> np.ndarray:
    """The bytes of a string array's values (no copy): for cheap whole-column tests."""
    arr = arr.cast(pa.large_string())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)
    data = arr.buffers()[2]
    if data is None:
        return np.zeros(0, np.uint8)
    first, last = offsets[arr.offset], offsets[arr.offset + len(arr)]
    return np.frombuffer(data, dtype=np.uint8)[first:last]


def _needs_escape(arr: pa.Array) -> bool:
    """Whether any value holds a quote, a backslash or a control character."""
    b = _value_bytes(arr)
    return bool(((b < 0x20) | (b == 0x22) | (b == 0x5C)).any())


def _json_string(arr: pa.Array) -> pa.Array:
    """Each value as a JSON string literal (``null`` for nulls), as ``json.dumps`` with
    ``ensure_ascii=False`` writes it, lone-surrogate escapes read back (module docstring)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.string())
    if _needs_escape(arr):
        arr = pc.replace_substring(arr, "\\", "\\\\")
        arr = pc.replace_substring(arr, '"', '\\"')
        if pc.any(pc.match_substring_regex(arr, _CONTROL)).as_py():
            for code in range(0x20):
                ch = chr(code)
                arr = pc.replace_substring(arr, ch, _NAMED.get(ch, f"\\u{code:04x}"))
        if pc.any(pc.match_substring_regex(arr, _SURROGATE_ESCAPED)).as_py():
            arr = pc.replace_substring_regex(arr, _SURROGATE_ESCAPED, r"\\\1")
    quoted = pc.binary_join_element_wise('"', arr, '"', "")
    return pc.fill_null(quoted, "null")


def _json_scalar(arr: pa.Array) -> pa.Array:
    """Integers and booleans as JSON (``null`` for nulls)."""
    if pa.types.is_boolean(arr.type):
        text = pc.if_else(arr, pa.scalar("true"), pa.scalar("false"))
    else:
        text = arr.cast(pa.string())
    return pc.fill_null(text, "null")


def _json_time(arr: pa.Array) -> pa.Array:
    """``_format.iso``: seconds unless the time has a fractional part, then microseconds."""
    # UTC wall time as "YYYY-MM-DD HH:MM:SS.ffffff" (casting the tz-naive view is much
    # cheaper than strftime).
    text = arr.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us")).cast(pa.string())
    text = pc.replace_substring(text, " ", "T", max_replacements=1)
    text = pc.replace_substring_regex(text, r"\.000000$", "")
    return pc.binary_join_element_wise('"', text, 'Z"', "")


class _Known:
    """What the assessment itself says per event id, as aligned Arrow columns: the assessed
    persona and slip holding it and (for tables without ``ADDRESS_DETAIL_FIELDS``) the address
    details of its observation. Built once; each batch looks its ids up in one hash join."""

    _NAMES = ("persona_id", "slip", "prefix", "as_org", "facts")

    def __init__(self, view: ReportView, details: bool = True) -> None:
        keys: dict[str, int] = {}
        for eid in (*view.persona_of_event, *view.slip_of_event,
                    *(o.event.id for o in view.observations)):
            keys.setdefault(eid, len(keys))
        cols: dict[str, list[str | None]] = {n: [None] * len(keys) for n in self._NAMES}
        for eid, pid in view.persona_of_event.items():
            cols["persona_id"][keys[eid]] = pid
        for eid, sid in view.slip_of_event.items():
            cols["slip"][keys[eid]] = sid
        text = _FactsText()
        for o in view.observations if details else ():
            k, a = keys[o.event.id], o.address
            cols["prefix"][k], cols["as_org"][k] = a.prefix, a.as_org
            cols["facts"][k] = text(a.facts)
        self.keys = pa.array([_line_text(k) for k in keys], pa.string())
        self.values = {
            n: pa.array([None if v is None else _line_text(v) for v in cols[n]], pa.string())
            for n in self._NAMES
        }

    def columns(self, ids: pa.Array) -> dict[str, pa.Array]:
        """The known values for ``ids`` (null where the assessment says nothing)."""
        if len(self.keys) == 0:
            return {n: pa.nulls(len(ids), pa.string()) for n in self._NAMES}
        index = pc.index_in(ids, value_set=self.keys)
        return {n: pc.take(v, index) for n, v in self.values.items()}


def _output_batch(batch: pa.RecordBatch, known: _Known) -> pa.RecordBatch:
    ids = batch.column("id")
    channel = batch.column("channel")
    trust = batch.column("origin_trust")
    hops_in = batch.column("hops")
    email = pc.fill_null(
        pc.or_(pc.or_(pc.equal(channel, "email"), pc.is_valid(trust)),
               pc.not_equal(hops_in, "[]")),
        False,
    )
    has_hops = pc.fill_null(pc.not_equal(hops_in, "[]"), False)
    hops = pc.if_else(email, pa.scalar("[]"), pa.scalar(None, pa.string()))
    if pc.any(has_hops).as_py():
        hops = pc.if_else(has_hops, _per_unique(pc.if_else(has_hops, hops_in, pa.scalar("[]")),
                                                _hops_json), hops)
    null = pa.scalar(None, pa.string())
    found = known.columns(ids)
    for name in ("prefix", "as_org", "facts"):
        if name in batch.schema.names:
            found[name] = batch.column(name)
    columns = {
        "id": ids,
        "time": batch.column("time"),
        "src_ip": batch.column("src_ip"),
        "persona": batch.column("persona"),
        "persona_id": found["persona_id"],
        "channel": channel,
        "path": batch.column("path"),
        "sha256": batch.column("sha256"),
        "locator": batch.column("locator"),
        "category": batch.column("category"),
        "cover": pc.fill_null(pc.is_in(batch.column("category"), value_set=_COVER_VALUES),
                              False),
        "country": batch.column("country"),
        "asn": batch.column("asn"),
        "as_org": found["as_org"],
        "prefix": found["prefix"],
        "actor": batch.column("actor"),
        "projected": batch.column("projected"),
        "tor": batch.column("tor"),
        "tor_nearest_listing_days": batch.column("tor_nearest_listing_days"),
        "slip": found["slip"],
        "facts": found["facts"],
        "attributes": _compact_attributes(batch.column("attributes")),
        "origin_trust": pc.if_else(email, trust, null),
        "entry_ip": pc.if_else(email, batch.column("entry_ip"), null),
        "hops": hops,
    }
    return pa.RecordBatch.from_arrays(
        [columns[f.name].cast(f.type) for f in OUTPUT_SCHEMA], schema=OUTPUT_SCHEMA
    )


def _parts(
    reader: Iterable[pa.RecordBatch], view: ReportView
) -> Iterator[tuple[pa.RecordBatch, _Known]]:
    """An enriched table's batches in slices of at most :data:`BATCH_ROWS` rows, each with
    what the assessment says of its events."""
    known: _Known | None = None
    for batch in reader:
        if known is None:  # the address details only when the table does not carry them
            names = set(batch.schema.names)
            known = _Known(view, details=not {f.name for f in ADDRESS_DETAIL_FIELDS} <= names)
        for start in range(0, batch.num_rows, BATCH_ROWS):
            part = batch.slice(start, BATCH_ROWS)
            if part.num_rows:
                yield part, known


def output_batches(
    reader: Iterable[pa.RecordBatch], view: ReportView
) -> Iterator[pa.RecordBatch]:
    """The ``OUTPUT_SCHEMA`` batches of an enriched table's batches (at most
    :data:`BATCH_ROWS` rows each), in the table's order."""
    for part, known in _parts(reader, view):
        yield _output_batch(part, known)


def _converted(part: pa.RecordBatch, known: _Known, lines: bool) -> tuple[pa.RecordBatch, bytes]:
    out = _output_batch(part, known)
    return out, jsonl_bytes(out) if lines else b""


def output_lines(
    reader: Iterable[pa.RecordBatch], view: ReportView, lines: bool = True, threads: int = 2
) -> Iterator[tuple[pa.RecordBatch, bytes]]:
    """``output_batches`` with each batch's ``jsonl_bytes`` (``b""`` unless ``lines``), in the
    table's order, worked out by ``threads`` threads (pyarrow compute releases the GIL, so
    they run on as many cores) with at most one slice a thread in flight."""
    if threads <= 1:
        for part, known in _parts(reader, view):
            yield _converted(part, known, lines)
        return
    with ThreadPoolExecutor(threads) as pool:
        pending: deque[Future[tuple[pa.RecordBatch, bytes]]] = deque()
        try:
            for part, known in _parts(reader, view):
                pending.append(pool.submit(_converted, part, known, lines))
                if len(pending) >= threads:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for item in pending:
                item.cancel()


def jsonl_bytes(out: pa.RecordBatch) -> bytes:
    """The ``events.jsonl`` lines of one output batch (each ending in a newline)."""
    if out.num_rows == 0:
        return b""
    col = {name: out.column(name) for name in OUTPUT_SCHEMA.names}
    email = pc.is_valid(col["hops"])

    def opt(key: str, value: pa.Array) -> pa.Array:
        return pc.if_else(email, pc.binary_join_element_wise(f',"{key}":', value, ""),
                          pa.scalar(""))

    s, j = _json_string, _json_scalar
    parts = [
        '{"actor":', s(col["actor"]),
        ',"as_org":', s(col["as_org"]),
        ',"asn":', j(col["asn"]),
        ',"attributes":', pc.fill_null(col["attributes"], "null"),
        ',"category":', s(col["category"]),
        ',"channel":', s(col["channel"]),
        ',"country":', s(col["country"]),
        ',"cover":', j(col["cover"]),
        opt("entry_ip", s(col["entry_ip"])),
        ',"facts":', pc.fill_null(col["facts"], "null"),
        opt("hops", pc.fill_null(col["hops"], "[]")),
        ',"id":', s(col["id"]),
        ',"locator":', s(col["locator"]),
        opt("origin_trust", s(col["origin_trust"])),
        ',"path":', s(col["path"]),
        ',"persona":', s(col["persona"]),
        ',"persona_id":', s(col["persona_id"]),
        ',"prefix":', s(col["prefix"]),
        ',"projected":', j(col["projected"]),
        ',"sha256":', s(col["sha256"]),
        ',"slip":', s(col["slip"]),
        ',"src_ip":', s(col["src_ip"]),
        ',"time":', pc.fill_null(_json_time(col["time"]), "null"),
        ',"tor":', s(col["tor"]),
        ',"tor_nearest_listing_days":', j(col["tor_nearest_listing_days"]),
        "}\n",
    ]
    # 64-bit offsets: the lines of one batch may pass 2 GiB though each column does not.
    wide = [p.cast(pa.large_string()) if isinstance(p, pa.Array | pa.ChunkedArray)
            else pa.scalar(p, pa.large_string()) for p in parts]
    lines = pc.binary_join_element_wise(*wide, pa.scalar("", pa.large_string()))
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    if lines.null_count:  # every part is filled above: a null line would lose an event
        raise ValueError("events.jsonl: a line could not be built")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    first, last = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return lines.buffers()[2].to_pybytes()[first:last]


def enriched_table(observations: Iterable[Observation], details: bool = True) -> pa.Table:
    """The assessment's observations as an ``ENRICHED_SCHEMA`` table (with
    :data:`ADDRESS_DETAIL_FIELDS` unless ``details`` is false), in the given order.

    Per-observation Python: for assessments that hold every event (the small path) and for
    tests; the engine builds the same columns from the table without objects. ``ip_hi`` /
    ``ip_lo`` are the address itself (IPv4 as IPv4-mapped); the writers do not read them.
    """
    obs = list(observations)
    base = events_to_table(o.event for o in obs)
    addr = [o.address for o in obs]
    ip_cache: dict[str, int] = {}
    ips = [ip_cache.get(a.ip) or ip_cache.setdefault(a.ip, _ip_int(a.ip)) for a in addr]
    cols: dict[str, pa.Array] = {
        "ip_hi": pa.array([n >> 64 for n in ips], pa.uint64()),
        "ip_lo": pa.array([n & 0xFFFF_FFFF_FFFF_FFFF for n in ips], pa.uint64()),
        "category": pa.array([str(a.category) for a in addr], pa.string()),
        "country": pa.array([safe_text(a.country) for a in addr], pa.string()),
        "asn": pa.array([a.asn for a in addr], pa.int64()),
        "actor": pa.array([safe_text(a.actor) for a in addr], pa.string()),
        "projected": pa.array([a.projected for a in addr], pa.bool_()),
        "tor": pa.array([a.tor for a in addr], pa.string()),
        "tor_nearest_listing_days": pa.array([a.tor_nearest_listing_days for a in addr],
                                             pa.int32()),
    }
    fields = list(ENRICHED_SCHEMA)
    arrays = [base.column(n) for n in base.schema.names] + [cols[f.name] for f in
                                                             ENRICHED_FIELDS]
    if details:
        text = _FactsText()
        facts = [text(a.facts) for a in addr]
        arrays += [
            pa.array([safe_text(a.prefix) for a in addr], pa.string()),
            pa.array([safe_text(a.as_org) for a in addr], pa.string()),
            pa.array(facts, pa.string()),
        ]
        fields += list(ADDRESS_DETAIL_FIELDS)
    # Nullability is the engine's promise, not checked here (an answer built outside a pack
    # has no Tor answer): a plain schema keeps the nulls.
    schema = pa.schema([f.with_nullable(True) for f in fields])
    return pa.Table.from_arrays([_chunked(x) for x in arrays], schema=schema)


def _chunked(x: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    return x if isinstance(x, pa.ChunkedArray) else pa.chunked_array([x])


def _ip_int(ip: str) -> int:
    """The address as a 128-bit integer, IPv4 as IPv4-mapped IPv6 (0 if not an address)."""
    try:
        if ":" in ip:
            return int.from_bytes(socket.inet_pton(socket.AF_INET6, ip.split("%")[0]))
        return (0xFFFF << 32) | int.from_bytes(socket.inet_pton(socket.AF_INET, ip))
    except (OSError, ValueError):
        return 0


def write_event_files(
    batches: Iterable[pa.RecordBatch | tuple[pa.RecordBatch, bytes]],
    jsonl: Any | None,
    parquet: Any | None,
) -> int:
    """Write output batches to an open binary ``jsonl`` file and/or a ``parquet`` path (either
    may be None). A batch may come with its ``jsonl_bytes`` already made (``output_lines``).
    Returns the number of events written."""
    writer = pq.ParquetWriter(parquet, OUTPUT_SCHEMA, compression="zstd") if parquet else None
    n = 0
    try:
        for item in batches:
            out, made = item if isinstance(item, tuple) else (item, None)
            n += out.num_rows
            if writer is not None:
                writer.write_batch(out)
            if jsonl is not None:
                jsonl.write(jsonl_bytes(out) if made is None else made)
        if writer is not None and n == 0:
            writer.write_table(OUTPUT_SCHEMA.empty_table())
    finally:
        if writer is not None:
            writer.close()
    return n
