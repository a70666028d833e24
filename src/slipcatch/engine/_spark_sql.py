"""The findings of the Spark engine in Spark SQL: per-persona statistics and the slip table.

Same semantics as ``analysis.slips.find_slips`` and ``analysis.personas.in_time_order``
(docs/model.md, "Slips"), written as sort + window operations over (persona, time):

- order within a persona: time, then covered events first at one instant, then event id
  (``personas._order_key``; ids are unique once the table is de-duplicated);
- covered (tor, vpn, proxy, hosting), exposed (actor, residential, unknown), neutral
  (reserved: skipped, it neither extends nor breaks a run);
- a persona works under cover with at least 2 covered events making at least half its events;
- a slip is a maximal run of consecutive exposed events (neutral ones skipped) with the same
  network (/24 for IPv4, /48 for IPv6, from the looked-up address's ``ip_hi``/``ip_lo``),
  category and actor; it closes at the persona's next covered event after its last one.

The input view ``sc_events`` holds the de-duplicated enriched events (``ENRICHED_SCHEMA``, the
address halves as signed 64-bit integers with the same bits).
"""

from __future__ import annotations

from collections.abc import Iterable

from slipcatch.model import ANONYMOUS

__all__ = ["CLASSIFY", "ORDERED", "SLIPS", "persona_stats_sql", "statements"]

#: ``model.COVER`` and ``analysis.reading.EXPOSED`` as SQL lists.
_COVER = "'tor', 'vpn', 'proxy', 'hosting'"
_EXPOSED = "'actor', 'residential', 'unknown'"

#: Each event's class (C covered, E exposed, N neutral) and network key. An IPv4 address is
#: held IPv4-mapped (``ip_hi`` 0, ``ip_lo`` 0x0000ffff_xxxxxxxx): its /24 keeps ``ip_lo`` but
#: the last 8 bits (``& -256``); any other address keeps the first 48 bits of ``ip_hi``.
CLASSIFY = f"""
CREATE OR REPLACE TEMP VIEW sc_cls AS
SELECT persona, id, time, category, actor, asn, channel, src_ip, country, mail,
       CASE WHEN category IN ({_COVER}) THEN 'C'
            WHEN category IN ({_EXPOSED}) THEN 'E'
            ELSE 'N' END AS cls,
       CASE WHEN ip_hi = 0 AND shiftright(ip_lo, 32) = 65535 THEN 0
            ELSE ip_hi & -65536 END AS net_hi,
       CASE WHEN ip_hi = 0 AND shiftright(ip_lo, 32) = 65535 THEN ip_lo & -256
            ELSE 0 END AS net_lo
FROM sc_events
"""

#: The persona's time order as a row number ``k`` (covered first at one instant), for the
#: personas that can have slips only: those working under cover, and never the anonymous one
#: (``model.ANONYMOUS``: not one operator, no slips). A window partitioned by persona puts a
#: persona's events in one task; the anonymous visitors of an access log are most of its lines.
ORDERED = f"""
CREATE OR REPLACE TEMP VIEW sc_ordered AS
SELECT *, row_number() OVER (
           PARTITION BY persona
           ORDER BY time, CASE WHEN cls = 'C' THEN 0 ELSE 1 END, id) AS k
FROM sc_cls
WHERE persona IN (SELECT persona FROM sc_persona_stats WHERE under_cover)
  AND persona <> '{ANONYMOUS.replace("'", "''")}'
"""


def persona_stats_sql(actor_asns: Iterable[int]) -> str:
    """Per persona: events, covered, exposed, neutral, actor-range hits, exposed events in an
    AS an actor's side operates (``Actor.asns``), e-mails whose sender-written headers name a
    client behind the entry relay (``claims``: the analysis may read them at that client),
    first and last seen, cover ratio and whether it works under cover."""
    asns = sorted({int(a) for a in actor_asns})
    asn_hit = f"cls = 'E' AND asn IN ({', '.join(map(str, asns))})" if asns else "false"
    return f"""
CREATE OR REPLACE TEMP VIEW sc_persona_stats AS
SELECT persona, events, covered, exposed, neutral, actor_events, actor_asn_events,
       claims, first_seen, last_seen, covered / events AS cover_ratio,
       (covered >= 2 AND covered / events >= 0.5) AS under_cover
FROM (
  SELECT persona, count(*) AS events,
         sum(CASE WHEN cls = 'C' THEN 1 ELSE 0 END) AS covered,
         sum(CASE WHEN cls = 'E' THEN 1 ELSE 0 END) AS exposed,
         sum(CASE WHEN cls = 'N' THEN 1 ELSE 0 END) AS neutral,
         sum(CASE WHEN actor IS NOT NULL THEN 1 ELSE 0 END) AS actor_events,
         sum(CASE WHEN {asn_hit} THEN 1 ELSE 0 END) AS actor_asn_events,
         sum(CASE WHEN get_json_object(mail, '$.claimed_client_ip') IS NOT NULL
                  THEN 1 ELSE 0 END) AS claims,
         min(time) AS first_seen, max(time) AS last_seen
  FROM sc_cls GROUP BY persona
)
"""


#: The slips: runs of exposed events among the covered and exposed ones (neutral skipped),
#: each with its first and last event, and the seconds to the persona's next covered event.
SLIPS = """
CREATE OR REPLACE TEMP VIEW sc_slips AS
WITH ce AS (
  SELECT o.*,
         lag(cls) OVER w AS p_cls,
         lag(net_hi) OVER w AS p_hi,
         lag(net_lo) OVER w AS p_lo,
         lag(category) OVER w AS p_cat,
         lag(coalesce(actor, '')) OVER w AS p_actor,
         min(CASE WHEN cls = 'C' THEN time END) OVER (
             PARTITION BY persona ORDER BY k
             ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_cover
  FROM sc_ordered o
  WHERE cls <> 'N'
  WINDOW w AS (PARTITION BY persona ORDER BY k)
),
starts AS (
  SELECT *, CASE WHEN cls = 'E' AND (p_cls IS NULL OR p_cls = 'C' OR p_hi <> net_hi
                      OR p_lo <> net_lo OR p_cat <> category
                      OR p_actor <> coalesce(actor, '')) THEN 1 ELSE 0 END AS start
  FROM ce
),
runs AS (
  SELECT *, sum(start) OVER (PARTITION BY persona ORDER BY k
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run
  FROM starts
)
SELECT r.persona, r.run,
       min_by(r.id, r.k) AS first_event, max_by(r.id, r.k) AS last_event,
       min_by(r.src_ip, r.k) AS ip, min_by(r.category, r.k) AS category,
       min_by(r.actor, r.k) AS actor, min_by(r.asn, r.k) AS asn,
       min_by(r.country, r.k) AS country,
       min(r.time) AS first_seen, max(r.time) AS last_seen, count(*) AS events,
       array_sort(collect_set(r.channel)) AS channels,
       CAST((unix_micros(max_by(r.next_cover, r.k)) - unix_micros(max(r.time))) AS DOUBLE)
           / 1000000.0 AS closed_after_seconds
FROM runs r JOIN sc_persona_stats s ON r.persona = s.persona
WHERE r.cls = 'E' AND s.under_cover
GROUP BY r.persona, r.run
"""


def statements(actor_asns: Iterable[int]) -> list[str]:
    """The statements that define ``sc_persona_stats`` and ``sc_slips`` over ``sc_events``,
    in order."""
    return [CLASSIFY, persona_stats_sql(actor_asns), ORDERED, SLIPS]
