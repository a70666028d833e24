"""Findings over the whole enriched table, in SQL: per-persona cover, actor hits and slips.

The analysis weighs a persona through its observations *as it reads them*
(``analysis.reading.read_observation``): a near Tor listing read as cover (``read_tor``), an
e-mail that entered through cover read at the exposed client its sender-written headers claim
(``read_claim``), an exposed address in an actor's AS read as that actor's space
(``read_asn``). ``Findings`` builds the same reading as columns of a DuckDB table (the e-mail
claims, which need the per-event analysis, come in as a small table: ``claim_rows``), then:

- ``persona_stats``: per persona the events, covered, exposed and actor events, the cover
  ratio and whether it works under cover (``analysis.slips.MIN_COVER_RATIO``,
  ``MIN_COVERED_EVENTS``);
- ``slips``: the slip table, with exactly ``analysis.slips.find_slips``'s semantics over
  ``analysis.personas.in_time_order`` (one row per event id; records of one instant put cover
  first; reserved events skipped; runs of exposed events keyed by /24 or /48, category and
  actor; a slip closes at the persona's next covered event), by window functions over
  (persona, time);
- ``needs_assessment``: the personas the analysis must weigh one by one.

The source is an Arrow table or a Parquet file or glob of ``eventtable.ENRICHED_SCHEMA``;
nothing is held as Python objects per event (tests/engine/test_findings.py checks the slip
table against ``find_slips`` persona by persona).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slipcatch.analysis.personas import persona_id
from slipcatch.analysis.reading import EXPOSED, asn_owners, read_claim
from slipcatch.analysis.slips import MIN_COVER_RATIO, MIN_COVERED_EVENTS
from slipcatch.analysis.tor_coverage import NEAR_LISTING_DAYS, read_tor
from slipcatch.eventtable import EVENT_SCHEMA, table_to_events
from slipcatch.intel import IntelPack
from slipcatch.intel.addr import MAPPED_FIRST, ip_to_int
from slipcatch.model import ANONYMOUS, COVER, Actor, Category, Observation, stable_id

__all__ = [
    "ASSESS_ALL_PERSONAS",
    "CLAIM_SCHEMA",
    "PERSONA_STATS_SCHEMA",
    "SLIP_SCHEMA",
    "Findings",
    "claim_rows",
    "claims_from_observations",
    "needs_assessment",
]

#: Up to this many personas, every one is assessed (a small case keeps its whole output);
#: above it, only those ``needs_assessment`` names.
ASSESS_ALL_PERSONAS = 1000

#: E-mail events the analysis reads at their claimed client (``reading.read_claim``): the
#: event id and what the claimed client was at the event's time.
CLAIM_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("ip_hi", pa.uint64(), nullable=False),
        pa.field("ip_lo", pa.uint64(), nullable=False),
        pa.field("category", pa.string(), nullable=False),
        pa.field("actor", pa.string()),
        pa.field("asn", pa.int64()),
        pa.field("country", pa.string()),
    ]
)

#: One row per persona (sorted by name); counts are of distinct event ids, as read.
PERSONA_STATS_SCHEMA = pa.schema(
    [
        pa.field("persona", pa.string(), nullable=False),
        pa.field("events", pa.int64(), nullable=False),
        pa.field("covered", pa.int64(), nullable=False),
        pa.field("exposed", pa.int64(), nullable=False),
        pa.field("actor_events", pa.int64(), nullable=False),  # an actor's range or AS
        pa.field("actor_as_events", pa.int64(), nullable=False),  # exposed, in an actor's AS
        pa.field("email_events", pa.int64(), nullable=False),
        pa.field("cover_ratio", pa.float64(), nullable=False),
        pa.field("works_under_cover", pa.bool_(), nullable=False),
        pa.field("slips", pa.int64(), nullable=False),
    ]
)

#: One row per slip, by persona then first event (the order ``find_slips`` gives).
SLIP_SCHEMA = pa.schema(
    [
        pa.field("slip_id", pa.string(), nullable=False),  # = Slip.id
        pa.field("persona", pa.string(), nullable=False),
        pa.field("first_seen", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("last_seen", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("events", pa.int64(), nullable=False),
        pa.field("first_event", pa.string(), nullable=False),
        pa.field("last_event", pa.string(), nullable=False),
        pa.field("ip", pa.string(), nullable=False),  # the first event's address, as read
        pa.field("network", pa.string(), nullable=False),  # /24 or /48
        pa.field("category", pa.string(), nullable=False),
        pa.field("actor", pa.string()),  # the run's actor (any category)
        pa.field("attributed_to", pa.string()),  # = Slip.attributed_to (actor category only)
        pa.field("asn", pa.int64()),
        pa.field("country", pa.string()),
        pa.field("closed_after_seconds", pa.float64()),
    ]
)

_COVER_SQL = ", ".join(f"'{c}'" for c in sorted(COVER))
_EXPOSED_SQL = ", ".join(f"'{c}'" for c in sorted(EXPOSED))
_OPEN_SQL = f"'{Category.UNKNOWN}', '{Category.RESIDENTIAL}'"  # what read_tor may make cover
_ASN_SQL = f"'{Category.RESIDENTIAL}', '{Category.UNKNOWN}'"  # what read_asn may make actor
_V4 = f"(ip_hi = 0 AND ip_lo >= {MAPPED_FIRST}::UBIGINT)"


def _is_email(channel: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``reading.is_email`` on a column: channel ``email`` or starting with it."""
    return pc.fill_null(pc.starts_with(channel, "email"), False)


def claims_from_observations(observations: Iterable[Observation]) -> pa.Table:
    """``CLAIM_SCHEMA`` rows for the observations the analysis reads at their claimed client
    (``read_claim`` after ``read_tor``, as ``read_observation`` does)."""
    out: dict[str, list[Any]] = {f.name: [] for f in CLAIM_SCHEMA}
    for obs in observations:
        seen = read_tor(obs)
        read = read_claim(seen)
        if read is seen:
            continue
        a = read.address
        v = ip_to_int(a.ip)
        for key, value in (("id", obs.event.id), ("ip_hi", v >> 64),
                           ("ip_lo", v & ((1 << 64) - 1)), ("category", str(a.category)),
                           ("actor", a.actor), ("asn", a.asn), ("country", a.country)):
            out[key].append(value)
    return pa.table(out, schema=CLAIM_SCHEMA)


def claim_rows(batch: pa.RecordBatch | pa.Table, pack: IntelPack) -> pa.Table:
    """The e-mail events of ``batch`` (``EVENT_SCHEMA`` columns at least) that the analysis
    reads at their claimed client, as ``CLAIM_SCHEMA`` rows (``claims_from_observations``).
    E-mail is never millions of events: this is the per-event path (``observe``)."""
    from slipcatch.engine.observe import observe

    rows = batch.filter(_is_email(batch.column("channel")))
    if rows.num_rows == 0:
        return CLAIM_SCHEMA.empty_table()
    return claims_from_observations(
        observe(table_to_events(rows.select(EVENT_SCHEMA.names)), pack))


def arrow_table(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """The result of ``sql`` as an Arrow table (read from a relation: no extra copy)."""
    rel = con.sql(sql)
    if hasattr(rel, "to_arrow_table"):
        return rel.to_arrow_table()
    return rel.arrow()  # DuckDB before 1.4


def arrow_reader(con: duckdb.DuckDBPyConnection, sql: str, rows: int) -> pa.RecordBatchReader:
    """The result of ``sql`` streamed as record batches of ``rows`` rows; no other query may
    run on ``con`` until the reader is read to its end."""
    rel = con.sql(sql)
    if hasattr(rel, "to_arrow_reader"):
        return rel.to_arrow_reader(rows)
    return rel.fetch_arrow_reader(rows)  # DuckDB before 1.4


def _source_sql(con: duckdb.DuckDBPyConnection, source: pa.Table | str | Path) -> str:
    """A FROM clause for ``source``: an Arrow table (registered) or Parquet path/glob."""
    if isinstance(source, (pa.Table, pa.RecordBatch)):
        con.register("sc_source", source)
        return "sc_source"
    text = str(source).replace("'", "''")
    return f"read_parquet('{text}')"


def _ip_text(hi: int, lo: int) -> str:
    v = (hi << 64) | lo
    if hi == 0 and lo >> 32 == 0xFFFF:
        return str(ipaddress.IPv4Address(v & 0xFFFFFFFF))
    return str(ipaddress.IPv6Address(v))


def _network_text(hi: int, lo: int) -> str:
    if hi == 0 and lo >> 32 == 0xFFFF:
        return f"{ipaddress.IPv4Address((lo & 0xFFFFFFFF) >> 8 << 8)}/24"
    return f"{ipaddress.IPv6Address((hi >> 16 << 16) << 64)}/48"


class Findings:
    """The findings over one enriched table, in a DuckDB connection.

    On construction a temporary view ``sc_read`` defines every event as the analysis reads it
    (narrow columns only); the methods query it, each query scanning the source (two scans in
    all: the persona statistics, then the slips of the personas that work under cover). A view,
    not a table: copying every event into DuckDB made it spill to disk beyond its memory limit
    (20 M events: 15.6 s and 865 MB against 2.2 s and 414 MB). ``claims``:
    the ``claim_rows`` of the table's e-mail events (without them, e-mails are read without
    their claimed clients). ``unique_ids``: the caller knows that no event id repeats (as
    ``run_local`` does, having checked while writing the sorted table); otherwise repeats
    are dropped as ``analysis.personas.in_time_order`` drops them (the first in the order
    below is kept).

    Raises:
        duckdb.Error: the source cannot be read (a missing Parquet file, a wrong schema).
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        source: pa.Table | str | Path,
        actors: Sequence[Actor],
        *,
        claims: pa.Table | None = None,
        unique_ids: bool = False,
    ):
        self.con = con
        self.actors = tuple(actors)
        con.execute("SET TimeZone = 'UTC'")
        src = _source_sql(con, source)
        owners = asn_owners(self.actors)
        con.register("sc_owners", pa.table({
            "asn": pa.array(list(owners), pa.int64()),
            "actor": pa.array(list(owners.values()), pa.string()),
        }))
        asns = sorted({n for a in self.actors for n in a.asns})
        con.register("sc_actor_asns", pa.table({"asn": pa.array(asns, pa.int64())}))
        con.register("sc_claims", claims if claims is not None else CLAIM_SCHEMA.empty_table())
        con.execute(self._read_sql(src, unique_ids))
        self._stats: pa.Table | None = None

    @staticmethod
    def _read_sql(src: str, unique_ids: bool) -> str:
        # in_time_order: by time, cover first within one instant, then id, category, address
        dedupe = "" if unique_ids else """
            QUALIFY row_number() OVER (
                PARTITION BY id ORDER BY time, NOT cover, category, src_ip) = 1"""
        return f"""
        CREATE OR REPLACE TEMP VIEW sc_read AS
        WITH base AS (
            SELECT id, time, persona, starts_with(channel, 'email') AS email, src_ip,
                   ip_hi, ip_lo, asn, country, category AS raw_category, actor AS raw_actor,
                   CASE WHEN tor = 'no-data' AND category IN ({_OPEN_SQL})
                             AND abs(tor_nearest_listing_days) <= {NEAR_LISTING_DAYS}
                        THEN '{Category.TOR}' ELSE category END AS cat_t
            FROM {src}
        ), claimed AS (
            SELECT b.id, b.time, b.persona, b.email, b.src_ip, b.raw_category, b.raw_actor,
                   b.asn AS raw_asn,
                   coalesce(c.ip_hi, b.ip_hi) AS ip_hi,
                   coalesce(c.ip_lo, b.ip_lo) AS ip_lo,
                   CASE WHEN c.id IS NULL THEN b.cat_t ELSE c.category END AS cat_c,
                   CASE WHEN c.id IS NULL THEN b.raw_actor ELSE c.actor END AS actor_c,
                   CASE WHEN c.id IS NULL THEN b.asn ELSE c.asn END AS asn,
                   CASE WHEN c.id IS NULL THEN b.country ELSE c.country END AS country
            FROM base b LEFT JOIN (SELECT DISTINCT ON (id) * FROM sc_claims) c ON b.id = c.id
        ), asn_read AS (
            SELECT r.* EXCLUDE (cat_c, actor_c, raw_asn),
                   CASE WHEN o.actor IS NOT NULL AND r.cat_c IN ({_ASN_SQL})
                        THEN '{Category.ACTOR}' ELSE r.cat_c END AS category,
                   CASE WHEN o.actor IS NOT NULL AND r.cat_c IN ({_ASN_SQL})
                        THEN o.actor ELSE r.actor_c END AS actor,
                   r.raw_category IN ({_EXPOSED_SQL}) AND a.asn IS NOT NULL AS actor_as
            FROM claimed r
            LEFT JOIN sc_owners o ON r.asn = o.asn
            -- the entry address as observed: exposed and in an actor's AS (a claim behind
            -- it is weighed through its own category and actor above)
            LEFT JOIN sc_actor_asns a ON r.raw_asn = a.asn
        )
        SELECT *, category IN ({_COVER_SQL}) AS cover,
               category IN ({_EXPOSED_SQL}) AS exposed
        FROM asn_read{dedupe}
        """

    def persona_stats(self) -> pa.Table:
        """``PERSONA_STATS_SCHEMA``: one row per persona, sorted by name."""
        if self._stats is None:
            self.con.execute(f"""
            CREATE OR REPLACE TEMP TABLE sc_stats AS
            SELECT persona, count(*) AS events,
                   count(*) FILTER (WHERE cover) AS covered,
                   count(*) FILTER (WHERE exposed) AS exposed,
                   count(*) FILTER (WHERE actor IS NOT NULL OR raw_actor IS NOT NULL)
                       AS actor_events,
                   count(*) FILTER (WHERE actor_as) AS actor_as_events,
                   count(*) FILTER (WHERE email) AS email_events,
                   count(*) FILTER (WHERE cover)::DOUBLE / count(*) AS cover_ratio,
                   count(*) FILTER (WHERE cover) >= {MIN_COVERED_EVENTS}
                       AND count(*) FILTER (WHERE cover)::DOUBLE / count(*)
                           >= {MIN_COVER_RATIO!r} AS works_under_cover
            FROM sc_read GROUP BY persona
            """)
            self._slips_sql()
            stats = arrow_table(self.con, """
            SELECT s.*, coalesce(k.n, 0) AS slips FROM sc_stats s
            LEFT JOIN (SELECT persona, count(*) AS n FROM sc_slips GROUP BY persona) k
                USING (persona)
            ORDER BY s.persona
            """)
            self._stats = stats.cast(PERSONA_STATS_SCHEMA)
        return self._stats

    def _slips_sql(self) -> None:
        # Only personas that work under cover have slips: their covered and exposed events
        # (reserved ones skipped) in time order, cover first within one instant. A run starts
        # at an exposed event whose predecessor is cover, another run's key, or nothing; it
        # closes at the next covered event after its last one.
        self.con.execute(f"""
        CREATE OR REPLACE TEMP TABLE sc_slips AS
        WITH seq AS (
            SELECT r.*, row_number() OVER (
                       PARTITION BY persona ORDER BY time, NOT cover, id, category, src_ip
                   ) AS pos,
                   CASE WHEN cover THEN NULL ELSE
                       CASE WHEN {_V4} THEN 0::UBIGINT ELSE ip_hi >> 16 END END AS net_hi,
                   CASE WHEN cover THEN NULL ELSE
                       CASE WHEN {_V4} THEN ip_lo >> 8 ELSE 0::UBIGINT END END AS net_lo,
                   CASE WHEN cover THEN NULL ELSE coalesce(actor, '') END AS run_actor
            FROM sc_read r
            WHERE (r.cover OR r.exposed)
              AND r.persona IN (SELECT persona FROM sc_stats WHERE works_under_cover)
        ), marked AS (
            SELECT *,
                   exposed AND (
                       lag(cover, 1, true) OVER w
                       OR lag(net_hi) OVER w IS DISTINCT FROM net_hi
                       OR lag(net_lo) OVER w IS DISTINCT FROM net_lo
                       OR lag(category) OVER w IS DISTINCT FROM category
                       OR lag(run_actor) OVER w IS DISTINCT FROM run_actor) AS starts,
                   min(CASE WHEN cover THEN time END) OVER (
                       PARTITION BY persona ORDER BY pos
                       ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_cover
            FROM seq
            WINDOW w AS (PARTITION BY persona ORDER BY pos)
        ), runs AS (
            SELECT *, sum(starts::INTEGER) OVER (
                PARTITION BY persona ORDER BY pos ROWS UNBOUNDED PRECEDING) AS run
            FROM marked
        )
        SELECT persona, run,
               min(time) AS first_seen, max(time) AS last_seen, count(*) AS events,
               arg_min(id, pos) AS first_event, arg_max(id, pos) AS last_event,
               arg_min(ip_hi, pos) AS ip_hi, arg_min(ip_lo, pos) AS ip_lo,
               arg_min(category, pos) AS category, arg_min_null(actor, pos) AS actor,
               arg_min_null(asn, pos) AS asn, arg_min_null(country, pos) AS country,
               arg_max_null(next_cover, pos) AS closing  -- NULL: never closed
        FROM runs WHERE exposed GROUP BY persona, run
        """)

    def slips(self) -> pa.Table:
        """``SLIP_SCHEMA``: the slips of every persona, by persona then first event."""
        self.persona_stats()
        t = arrow_table(self.con, """
        SELECT persona, first_seen, last_seen, events, first_event, last_event,
               ip_hi, ip_lo, category, actor, asn, country,
               (epoch_us(closing) - epoch_us(last_seen)) / 1e6 AS closed_after_seconds
        FROM sc_slips ORDER BY persona, run
        """)
        hi = t.column("ip_hi").to_pylist()
        lo = t.column("ip_lo").to_pylist()
        category = t.column("category")
        names = t.column("persona").to_pylist()
        ids = [stable_id("slip", persona_id(p), f, la) for p, f, la in zip(
            names, t.column("first_event").to_pylist(), t.column("last_event").to_pylist(),
            strict=True)]
        attributed = pc.if_else(pc.equal(category, str(Category.ACTOR)), t.column("actor"),
                                pa.nulls(t.num_rows, pa.string()))
        return pa.table({
            "slip_id": pa.array(ids, pa.string()),
            "persona": t.column("persona"),
            "first_seen": t.column("first_seen"),
            "last_seen": t.column("last_seen"),
            "events": t.column("events"),
            "first_event": t.column("first_event"),
            "last_event": t.column("last_event"),
            "ip": pa.array([_ip_text(h, x) for h, x in zip(hi, lo, strict=True)], pa.string()),
            "network": pa.array([_network_text(h, x) for h, x in zip(hi, lo, strict=True)],
                                pa.string()),
            "category": category,
            "actor": t.column("actor"),
            "attributed_to": attributed,
            "asn": t.column("asn"),
            "country": t.column("country"),
            "closed_after_seconds": t.column("closed_after_seconds"),
        }).cast(SLIP_SCHEMA)

    def needs_assessment(
        self, asked: Iterable[str] = (), *, assess_all: int = ASSESS_ALL_PERSONAS
    ) -> list[str]:
        """The personas the analysis must weigh one by one, sorted by name.

        Every persona when there are at most ``assess_all``; else those with an event in an
        actor's range or read as an actor's (``actor_events``), an exposed address in an AS an
        actor's side operates (``Actor.asns``), an e-mail event (its claimed clients need the
        per-event analysis), or that work under cover and have an exposed event; and the
        names in ``asked`` that the table holds. The anonymous persona (``model.ANONYMOUS``)
        is assessed as nobody in particular (no slips, no actor hypothesis): it is taken only
        when asked for or when every persona is.
        """
        stats = self.persona_stats()
        names = stats.column("persona")
        if stats.num_rows <= assess_all:
            return names.to_pylist()
        col = {k: np.asarray(stats.column(k).to_numpy()) for k in (
            "actor_events", "actor_as_events", "email_events", "exposed")}
        works = np.asarray(stats.column("works_under_cover").to_numpy(zero_copy_only=False))
        hit = (col["actor_events"] > 0) | (col["actor_as_events"] > 0) \
            | (col["email_events"] > 0) | (works & (col["exposed"] > 0))
        wanted = set(asked)
        out = [n for n, h in zip(names.to_pylist(), hit.tolist(), strict=True)
               if (h and n != ANONYMOUS) or n in wanted]
        return out


def needs_assessment(
    source: pa.Table | str | Path,
    actors: Sequence[Actor],
    asked: Collection[str] = (),
    *,
    claims: pa.Table | None = None,
    assess_all: int = ASSESS_ALL_PERSONAS,
) -> list[str]:
    """``Findings.needs_assessment`` over ``source`` (an enriched Arrow table or Parquet
    path/glob) in a fresh in-memory DuckDB connection."""
    with duckdb.connect() as con:
        return Findings(con, source, actors, claims=claims).needs_assessment(
            asked, assess_all=assess_all)
