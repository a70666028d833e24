"""engine.findings: the per-persona stats and the slip table in SQL are what the analysis
finds persona by persona (``find_slips`` over ``in_time_order`` of the observations as
``read_observation`` reads them), and ``needs_assessment`` picks the personas its rules say."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slipcatch.analysis.personas import _order_key, group_by_persona
from slipcatch.analysis.reading import EXPOSED, asn_owners, read_observation
from slipcatch.analysis.slips import find_slips, network_of, works_under_cover
from slipcatch.engine.findings import (
    ASSESS_ALL_PERSONAS,
    PERSONA_STATS_SCHEMA,
    SLIP_SCHEMA,
    Findings,
    claims_from_observations,
    needs_assessment,
)
from slipcatch.eventtable import ENRICHED_SCHEMA
from slipcatch.intel.addr import ip_to_int
from slipcatch.model import (
    ANONYMOUS,
    COVER,
    Actor,
    AddressFacts,
    Category,
    Event,
    EvidenceRef,
    MailOrigin,
    Observation,
)

T0 = datetime(2014, 12, 1, tzinfo=UTC)
ACTORS = (
    Actor(id="act1", name="Actor One", asns=(100, 200)),
    Actor(id="act2", name="Actor Two", asns=(200,)),  # AS200 is claimed twice: no owner
)
# two /24s and two /48s, two addresses in one of each: runs meet and break often
IPS = ["175.45.176.1", "175.45.176.9", "175.45.177.1", "2001:db8:1:1::1", "2001:db8:1:2::1",
       "2001:db8:2::1"]


def table_of(observations: list[Observation]) -> pa.Table:
    """The enriched table holding ``observations`` (what ``engine.enrich`` would write)."""
    cols: dict[str, list[Any]] = {f.name: [] for f in ENRICHED_SCHEMA}
    for o in observations:
        e, a = o.event, o.address
        v = ip_to_int(a.ip)
        row = {
            "id": e.id, "time": e.time, "src_ip": e.src_ip, "persona": e.persona,
            "channel": e.channel, "path": e.evidence.path, "sha256": e.evidence.sha256,
            "locator": e.evidence.locator, "origin_trust": None, "entry_ip": None,
            "attributes": "{}", "hops": "[]", "mail": None,
            "ip_hi": v >> 64, "ip_lo": v & ((1 << 64) - 1), "category": str(a.category),
            "country": a.country, "asn": a.asn, "actor": a.actor, "projected": a.projected,
            "tor": a.tor, "tor_nearest_listing_days": a.tor_nearest_listing_days,
        }
        for k, value in row.items():
            cols[k].append(value)
    return pa.table(cols, schema=ENRICHED_SCHEMA)


def facts(ip: str, when: datetime, category: Category, actor: str | None = None,
          asn: int | None = None, country: str | None = None, tor: str = "not-listed",
          days: int | None = None) -> AddressFacts:
    return AddressFacts(ip=ip, time=when, category=category, actor=actor, asn=asn,
                        country=country, tor=tor, tor_nearest_listing_days=days)


def obs(eid: str, persona: str, seconds: float, ip: str, category: Category,
        channel: str = "web", claimed: AddressFacts | None = None,
        **kw: Any) -> Observation:
    when = T0 + timedelta(seconds=seconds)
    mail = MailOrigin(claimed_client_ip=claimed.ip) if claimed is not None else None
    event = Event(id=eid, time=when, src_ip=ip, persona=persona, channel=channel,
                  evidence=EvidenceRef("gen.log", "0" * 64, f"line {eid}"), mail=mail)
    return Observation(event=event, address=facts(ip, when, category, **kw), claimed=claimed)


def expected(observations: list[Observation]) -> tuple[dict[str, tuple], list[tuple]]:
    owners = asn_owners(ACTORS)
    groups = group_by_persona([read_observation(o, owners) for o in observations])
    stats, slips = {}, []
    for persona, pobs in groups:
        covered = sum(1 for o in pobs if o.address.category in COVER)
        stats[persona.name] = (len(pobs), covered, persona.cover_ratio,
                               works_under_cover(persona, pobs))
        for s in find_slips(persona, pobs):
            slips.append((s.id, persona.name, s.first_seen, s.last_seen, s.events,
                          s.event_ids[0], s.event_ids[-1], s.ip, network_of(s.ip),
                          str(s.category), s.attributed_to, s.asn, s.country,
                          s.closed_after_seconds))
    return stats, slips


def expected_counts(observations: list[Observation]) -> dict[str, tuple[int, ...]]:
    """Per persona: exposed, actor events, exposed events in an actor's AS, e-mail events,
    over the events ``in_time_order`` keeps (the first of each id in its order)."""
    owners = asn_owners(ACTORS)
    actor_asns = {n for a in ACTORS for n in a.asns}
    pairs = sorted(((o, read_observation(o, owners)) for o in observations),
                   key=lambda pair: _order_key(pair[1]))
    seen: set[str] = set()
    out: dict[str, list[int]] = {}
    for raw, read in pairs:
        if raw.event.id in seen:
            continue
        seen.add(raw.event.id)
        c = out.setdefault(raw.event.persona, [0, 0, 0, 0])
        c[0] += read.address.category in EXPOSED
        c[1] += read.address.actor is not None or raw.address.actor is not None
        c[2] += raw.address.category in EXPOSED and raw.address.asn in actor_asns
        c[3] += raw.event.channel == "email"
    return {k: tuple(v) for k, v in out.items()}


def found(observations: list[Observation], unique_ids: bool = False) -> Findings:
    con = duckdb.connect()
    return Findings(con, table_of(observations), ACTORS,
                    claims=claims_from_observations(observations), unique_ids=unique_ids)


def slip_rows(table: pa.Table) -> list[tuple]:
    keys = ("slip_id", "persona", "first_seen", "last_seen", "events", "first_event",
            "last_event", "ip", "network", "category", "attributed_to", "asn", "country",
            "closed_after_seconds")
    return [tuple(r[k] for k in keys) for r in table.to_pylist()]


def check(observations: list[Observation], unique_ids: bool = False) -> None:
    want_stats, want_slips = expected(observations)
    f = found(observations, unique_ids)
    stats = f.persona_stats()
    assert stats.schema == PERSONA_STATS_SCHEMA
    got = {r["persona"]: (r["events"], r["covered"], r["cover_ratio"], r["works_under_cover"])
           for r in stats.to_pylist()}
    assert got == want_stats
    counts = {r["persona"]: (r["exposed"], r["actor_events"], r["actor_as_events"],
                             r["email_events"]) for r in stats.to_pylist()}
    assert counts == expected_counts(observations)
    assert stats.column("persona").to_pylist() == sorted(want_stats)
    slips = f.slips()
    assert slips.schema == SLIP_SCHEMA
    assert slip_rows(slips) == want_slips
    per = {r["persona"]: r["slips"] for r in stats.to_pylist()}
    assert per == {p: sum(1 for s in want_slips if s[1] == p) for p in want_stats}


# --- worked by hand -------------------------------------------------------------------------

def test_a_slip_worked_by_hand() -> None:
    # "op": VPN at 0 s, Tor at 100 s; at 300 s and 360 s it connects from the actor's /24 (two
    # addresses of 175.45.176.0/24: one run), a reserved address between them changes
    # nothing; at 420.5 s it is back on the VPN: closed after 60.5 s. At 500 s a residential
    # address (another key) is a second slip, closed by the VPN at 600 s (100 s).
    vpn, tor = Category.VPN, Category.TOR
    rows = [
        obs("e1", "op", 0, "95.211.118.5", vpn),
        obs("e2", "op", 100, "95.211.118.5", tor),
        obs("e3", "op", 300, "175.45.176.1", Category.ACTOR, actor="act1", asn=131279,
            country="KP"),
        obs("e4", "op", 330, "10.0.0.1", Category.RESERVED),
        obs("e5", "op", 360, "175.45.176.9", Category.ACTOR, actor="act1", asn=131279,
            country="KP"),
        obs("e6", "op", 420.5, "95.211.118.5", vpn),
        obs("e7", "op", 500, "126.209.64.1", Category.RESIDENTIAL, country="JP"),
    ]
    # 3 of 7 events covered: below MIN_COVER_RATIO, it does not work under cover, no slips
    assert found(rows).slips().num_rows == 0
    assert found(rows).persona_stats().to_pylist() == [
        {"persona": "op", "events": 7, "covered": 3, "exposed": 3, "actor_events": 2,
         "actor_as_events": 0, "email_events": 0, "cover_ratio": 3 / 7,
         "works_under_cover": False, "slips": 0}]
    # one more covered event: 4 of 8, it works under cover
    rows.append(obs("e8", "op", 600, "95.211.118.5", vpn))
    table = found(rows).slips().to_pylist()
    assert [(r["first_event"], r["last_event"], r["events"], r["network"], r["category"],
             r["attributed_to"], r["asn"], r["country"], r["closed_after_seconds"])
            for r in table] == [
        ("e3", "e5", 2, "175.45.176.0/24", "actor", "act1", 131279, "KP", 60.5),
        ("e7", "e7", 1, "126.209.64.0/24", "residential", None, None, "JP", 100.0),
    ]
    assert table[0]["first_seen"] == T0 + timedelta(seconds=300)
    assert table[0]["last_seen"] == T0 + timedelta(seconds=360)
    # the VPN at 420.5 s moved to 520 s (and another at 530 s instead of 600 s): the actor run
    # (last event 360 s) and the residential one (500 s) both close at 520 s
    rows = [*rows[:5], rows[6], obs("e6", "op", 520, "95.211.118.5", vpn),
            obs("e9", "op", 530, "95.211.118.5", vpn)]
    closing = [(r["first_event"], r["closed_after_seconds"]) for r in found(rows).slips()
               .to_pylist()]
    assert closing == [("e3", 160.0), ("e7", 20.0)]
    check(rows)


def test_another_actor_or_category_in_one_network_is_another_slip() -> None:
    vpn, actor = Category.VPN, Category.ACTOR
    rows = [
        obs("e1", "p", 0, "95.211.118.5", vpn),
        obs("e2", "p", 1, "95.211.118.5", vpn),
        obs("e3", "p", 2, "175.45.176.1", actor, actor="act1"),
        obs("e4", "p", 3, "175.45.176.1", actor, actor="act2"),
        obs("e5", "p", 4, "175.45.176.1", Category.UNKNOWN, actor="act2"),
        obs("e6", "p", 5, "175.45.176.1", Category.UNKNOWN, actor="act2"),
        obs("e7", "p", 6, "95.211.118.5", vpn),
        obs("e8", "p", 7, "95.211.118.5", vpn),
    ]
    slips = found(rows).slips().to_pylist()
    assert [(r["first_event"], r["last_event"], r["actor"], r["attributed_to"],
             r["closed_after_seconds"]) for r in slips] == [
        ("e3", "e3", "act1", "act1", 4.0), ("e4", "e4", "act2", "act2", 3.0),
        ("e5", "e6", "act2", None, 1.0)]
    check(rows)


def test_cover_first_within_one_instant_and_repeated_ids() -> None:
    # At 100 s a VPN record and an exposed record share the instant: cover sorts first, so
    # the exposed record is not closed by it; the copy of e3 counts once.
    vpn = Category.VPN
    rows = [
        obs("e1", "p", 0, "95.211.118.5", vpn),
        obs("e2", "p", 50, "95.211.118.5", vpn),
        obs("e3", "p", 100, "126.209.64.1", Category.RESIDENTIAL),
        obs("e4", "p", 100, "95.211.118.5", vpn),
        obs("e3", "p", 100, "126.209.64.1", Category.RESIDENTIAL),
        obs("e5", "p", 160, "95.211.118.5", vpn),
    ]
    slips = found(rows).slips().to_pylist()
    assert [(r["first_event"], r["events"], r["closed_after_seconds"]) for r in slips] == [
        ("e3", 1, 60.0)]
    assert found(rows).persona_stats().column("events").to_pylist() == [5]
    check(rows)


def test_the_analysis_reading_applies() -> None:
    # A near Tor listing (no-data, 3 days) is cover; an unknown address in AS100 (owned by
    # act1 alone) is an actor hit; one in AS200 (claimed by both) is not, but counts as an
    # exposed address in an actor's AS; an e-mail through a VPN claiming a residential client
    # is read at the client.
    client = facts("126.209.64.7", T0 + timedelta(seconds=40), Category.RESIDENTIAL,
                   country="JP")
    rows = [
        obs("e1", "p", 0, "95.211.118.5", Category.UNKNOWN, tor="no-data", days=3),
        obs("e2", "p", 10, "95.211.118.6", Category.VPN),
        obs("e3", "p", 20, "81.2.3.4", Category.UNKNOWN, asn=100),
        obs("e4", "p", 30, "81.2.3.5", Category.UNKNOWN, asn=200),
        obs("e5", "p", 40, "95.211.118.7", Category.VPN, channel="email", claimed=client),
        obs("e6", "p", 50, "95.211.118.7", Category.VPN),
        obs("e7", "p", 60, "95.211.118.7", Category.VPN),
        obs("e8", "p", 70, "95.211.118.7", Category.VPN),
    ]
    slips = found(rows).slips().to_pylist()
    assert [(r["first_event"], r["last_event"], r["category"], r["actor"], r["ip"])
            for r in slips] == [
        ("e3", "e3", "actor", "act1", "81.2.3.4"),
        ("e4", "e4", "unknown", None, "81.2.3.5"),
        ("e5", "e5", "residential", None, "126.209.64.7"),
    ]
    [stats] = found(rows).persona_stats().to_pylist()
    assert (stats["covered"], stats["exposed"], stats["actor_events"],
            stats["actor_as_events"], stats["email_events"]) == (5, 3, 1, 2, 1)
    check(rows)


# --- generated ------------------------------------------------------------------------------

@st.composite
def address(draw: st.DrawFn, when: datetime) -> AddressFacts:
    category = draw(st.sampled_from(list(Category)))
    tor = draw(st.sampled_from(["listed", "not-listed", "no-data"]))
    return facts(
        draw(st.sampled_from(IPS)), when, category,
        actor=draw(st.sampled_from([None, None, "act1", "act2"])),
        asn=draw(st.sampled_from([None, 100, 200, 300])),
        country=draw(st.sampled_from([None, "KP", "RU"])),
        tor=tor, days=draw(st.sampled_from([None, -9, -7, 0, 3, 7, 8])),
    )


@st.composite
def observations(draw: st.DrawFn) -> list[Observation]:
    n = draw(st.integers(1, 40))
    out: list[Observation] = []
    for k in range(n):
        persona = draw(st.sampled_from(["a", "b", ANONYMOUS]))
        when = T0 + timedelta(microseconds=250_000 * draw(st.integers(0, 30)))
        a = draw(address(when))
        email = draw(st.booleans()) and draw(st.booleans())
        claimed = draw(address(when)) if email and draw(st.booleans()) else None
        mail = MailOrigin(claimed_client_ip=claimed.ip) if claimed is not None else None
        event = Event(id=f"e{k:03d}", time=when, src_ip=a.ip, persona=persona,
                      channel="email" if email else "web",
                      evidence=EvidenceRef("gen.log", "0" * 64, f"line {k}"), mail=mail)
        out.append(Observation(event=event, address=a, claimed=claimed))
        if not email and draw(st.integers(0, 9)) == 0:  # a copy of the record
            out.append(Observation(event=event, address=a))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(observations())
def test_findings_equal_find_slips_persona_by_persona(rows: list[Observation]) -> None:
    check(rows)
    if len({o.event.id for o in rows}) == len(rows):
        check(rows, unique_ids=True)


# --- needs_assessment -----------------------------------------------------------------------

def selection_case() -> list[Observation]:
    vpn = Category.VPN
    res = Category.RESIDENTIAL
    rows = [
        obs("a1", "hit", 0, "175.45.176.1", Category.ACTOR, actor="act1"),
        obs("b1", "as-exposed", 0, "81.2.3.5", Category.UNKNOWN, asn=200),
        obs("c1", "mailer", 0, "126.209.64.2", res, channel="email"),
        obs("d1", "slipper", 0, "95.211.118.5", vpn),
        obs("d2", "slipper", 10, "95.211.118.5", vpn),
        obs("d3", "slipper", 20, "126.209.64.3", res),
        obs("e1", "all-cover", 0, "95.211.118.5", vpn),
        obs("e2", "all-cover", 10, "95.211.118.5", vpn),
        obs("f1", "plain", 0, "126.209.64.4", res),
        obs("g1", "asked", 0, "126.209.64.5", res),
        obs("h1", ANONYMOUS, 0, "175.45.176.2", Category.ACTOR, actor="act1"),
        # a VPN address in an actor's AS is not exposed: no reason to assess
        obs("i1", "vpn-in-as", 0, "95.211.118.9", vpn, asn=100),
    ]
    return rows


def test_needs_assessment_follows_its_rules() -> None:
    rows = selection_case()
    table = table_of(rows)
    assert needs_assessment(table, ACTORS, ["asked", "not-in-the-table"], assess_all=5) == [
        "as-exposed", "asked", "hit", "mailer", "slipper"]
    # the anonymous persona only when asked for
    assert ANONYMOUS in needs_assessment(table, ACTORS, [ANONYMOUS], assess_all=5)
    # at most ASSESS_ALL_PERSONAS personas: every one
    assert len({o.event.persona for o in rows}) <= ASSESS_ALL_PERSONAS
    assert needs_assessment(table, ACTORS) == sorted({o.event.persona for o in rows})


def test_findings_read_a_parquet_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pyarrow.parquet as pq

    rows = selection_case()
    path = tmp_path / "events.parquet"
    pq.write_table(table_of(rows), path)
    assert needs_assessment(path, ACTORS, assess_all=5) == needs_assessment(
        table_of(rows), ACTORS, assess_all=5)
    # a glob over parts: the slipper's events split across two files
    (tmp_path / "parts").mkdir()
    pq.write_table(table_of(rows[:5]), tmp_path / "parts" / "a.parquet")
    pq.write_table(table_of(rows[5:]), tmp_path / "parts" / "b.parquet")
    con = duckdb.connect()
    parts = Findings(con, f"{tmp_path}/parts/*.parquet", ACTORS)
    assert parts.needs_assessment(assess_all=5) == [
        "as-exposed", "hit", "mailer", "slipper"]
    assert parts.slips().column("first_event").to_pylist() == ["d3"]
    with pytest.raises(duckdb.Error):
        needs_assessment(tmp_path / "missing.parquet", ACTORS)


def test_network_text_of_ipv6_slips() -> None:
    v6 = [obs("e1", "p", 0, "95.211.118.5", Category.VPN),
          obs("e2", "p", 1, "95.211.118.5", Category.VPN),
          obs("e3", "p", 2, "2001:db8:1:1::1", Category.UNKNOWN),
          obs("e4", "p", 3, "2001:db8:1:2::1", Category.UNKNOWN)]
    [slip] = found(v6).slips().to_pylist()
    assert (slip["network"], slip["events"], slip["ip"]) == ("2001:db8:1::/48", 2,
                                                             "2001:db8:1:1::1")
    assert str(ipaddress.ip_network("2001:db8:1::/48")) == network_of("2001:db8:1:2::1")
