"""Events as an Arrow table: the one columnar shape every stage shares.

The bulk readers (``evidence.bulk``) write record batches of ``EVENT_SCHEMA``; the case store
keeps the same columns in its ``events`` table; the engines (``engine``) add the enrichment
columns of ``ENRICHED_SCHEMA`` (what each source address was at the event's time). Events that
the analysis weighs one by one (the personas it assesses) come back as ``model.Event`` objects
through ``table_to_events``; everything else stays in the table.

Text columns hold evidence as read. Lone surrogates (undecodable bytes kept with
``surrogateescape``) are stored as their backslash-escaped form, because Arrow, Parquet and
DuckDB want valid UTF-8; ``attributes``, ``hops`` and ``mail`` are JSON text written with
``ensure_ascii`` so they round-trip losslessly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC
from typing import Any

import pyarrow as pa

from slipcatch import codec
from slipcatch.model import Event, EvidenceRef, Hop, MailOrigin, OriginTrust

__all__ = [
    "ENRICHED_FIELDS",
    "ENRICHED_SCHEMA",
    "EVENT_SCHEMA",
    "events_to_table",
    "json_text",
    "safe_text",
    "table_to_events",
]

#: One row per event, in the column order of the case store's ``events`` table. ``time`` is
#: UTC; ``attributes`` is a JSON object of strings (keys sorted), ``hops`` a JSON list (``[]``
#: except for e-mail), ``mail`` a JSON object or null (e-mail only).
EVENT_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("src_ip", pa.string(), nullable=False),
        pa.field("persona", pa.string(), nullable=False),
        pa.field("channel", pa.string(), nullable=False),
        pa.field("path", pa.string(), nullable=False),
        pa.field("sha256", pa.string(), nullable=False),
        pa.field("locator", pa.string(), nullable=False),
        pa.field("origin_trust", pa.string()),
        pa.field("entry_ip", pa.string()),
        pa.field("attributes", pa.string(), nullable=False),
        pa.field("hops", pa.string(), nullable=False),
        pa.field("mail", pa.string()),
    ]
)

#: Columns the enrichment adds (``engine.enrich``): the address looked up as two 64-bit
#: halves (IPv4 as IPv4-mapped IPv6, the IPv4 address an IPv6 form carries — NAT64, 6to4 —
#: looked up as that address), then what it was at the event's time: category
#: (``model.Category`` value), country, AS, the actor whose range holds it, whether a fact
#: behind the category comes from data dated after the event, and the three-way Tor answer.
ENRICHED_FIELDS: tuple[pa.Field, ...] = (
    pa.field("ip_hi", pa.uint64(), nullable=False),
    pa.field("ip_lo", pa.uint64(), nullable=False),
    pa.field("category", pa.string(), nullable=False),
    pa.field("country", pa.string()),
    pa.field("asn", pa.int64()),
    pa.field("actor", pa.string()),
    pa.field("projected", pa.bool_(), nullable=False),
    pa.field("tor", pa.string(), nullable=False),
    pa.field("tor_nearest_listing_days", pa.int32()),
)
ENRICHED_SCHEMA = pa.schema([*EVENT_SCHEMA, *ENRICHED_FIELDS])


def safe_text(value: str | None) -> str | None:
    """``value`` as valid UTF-8 text: lone surrogates become their ``\\udcXX`` escapes."""
    if value is None:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def json_text(value: Any) -> str:
    """Canonical JSON of ``value`` (keys sorted, ASCII only: lossless for lone surrogates)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=True)


def events_to_table(events: Iterable[Event]) -> pa.Table:
    """The events as an Arrow table of ``EVENT_SCHEMA``, in the given order."""
    rows = list(events)
    return pa.table(
        {
            "id": pa.array([e.id for e in rows], pa.string()),
            "time": pa.array([e.time for e in rows], pa.timestamp("us", tz="UTC")),
            "src_ip": pa.array([e.src_ip for e in rows], pa.string()),
            "persona": pa.array([safe_text(e.persona) for e in rows], pa.string()),
            "channel": pa.array([safe_text(e.channel) for e in rows], pa.string()),
            "path": pa.array([safe_text(e.evidence.path) for e in rows], pa.string()),
            "sha256": pa.array([e.evidence.sha256 for e in rows], pa.string()),
            "locator": pa.array([e.evidence.locator for e in rows], pa.string()),
            "origin_trust": pa.array(
                [str(e.origin_trust) if e.origin_trust else None for e in rows], pa.string()
            ),
            "entry_ip": pa.array([e.entry_ip for e in rows], pa.string()),
            "attributes": pa.array([json_text(dict(e.attributes)) for e in rows], pa.string()),
            "hops": pa.array([json_text(codec.encode(e.hops)) for e in rows], pa.string()),
            "mail": pa.array(
                [None if e.mail is None else json_text(codec.encode(e.mail)) for e in rows],
                pa.string(),
            ),
        },
        schema=EVENT_SCHEMA,
    )


def table_to_events(table: pa.Table | pa.RecordBatch) -> list[Event]:
    """The ``Event`` objects of a table holding (at least) the ``EVENT_SCHEMA`` columns, in
    row order."""
    cols = {name: table.column(name).to_pylist() for name in EVENT_SCHEMA.names}
    out = []
    for k in range(table.num_rows):
        attributes = json.loads(cols["attributes"][k])
        raw_mail = cols["mail"][k]
        channel = cols["channel"][k]
        mail: MailOrigin | None
        if raw_mail is not None:
            mail = codec.decode(MailOrigin, json.loads(raw_mail))
        elif channel == "email":  # stored before the column existed: the attributes' view
            mail = MailOrigin.from_attributes(attributes)
        else:
            mail = None
        trust = cols["origin_trust"][k]
        out.append(
            Event(
                id=cols["id"][k],
                time=cols["time"][k].astimezone(UTC),
                src_ip=cols["src_ip"][k],
                persona=cols["persona"][k],
                channel=channel,
                evidence=EvidenceRef(
                    path=cols["path"][k], sha256=cols["sha256"][k], locator=cols["locator"][k]
                ),
                attributes=attributes,
                origin_trust=OriginTrust(trust) if trust else None,
                entry_ip=cols["entry_ip"][k],
                hops=tuple(codec.decode(Hop, h) for h in json.loads(cols["hops"][k])),
                mail=mail,
            )
        )
    return out
