"""engine.enrich: every enrichment column says what ``observe`` (``IntelPack.lookup``) says
for the event, on the demo case, on generated addresses and times, and in the corners (IPv6
forms carrying IPv4, a Tor listing under a fact of higher precedence, bad addresses)."""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slipcatch.engine.enrich import Enricher, address_keys, enrich
from slipcatch.engine.observe import observe
from slipcatch.eventtable import ENRICHED_SCHEMA, events_to_table, table_to_events
from slipcatch.evidence import PersonaMap, ReadOptions, ingest
from slipcatch.intel import load_pack
from slipcatch.intel.addr import ip_to_int, lookup_address

from .generate import ACTOR, DEMO, HOSTING, RESIDENTIAL, VPN, demo_pack, event_table, tor_exits


def demo_events() -> list:
    manifest = json.loads((DEMO / "case.json").read_text(encoding="utf-8"))
    options = ReadOptions(
        trusted_relays=tuple(manifest["trusted_relays"]),
        persona_map=PersonaMap.load(DEMO / manifest["persona_map"]),
    )
    return ingest([DEMO / p for p in manifest["evidence"]], options).events


def expected_row(obs) -> dict:  # type: ignore[no-untyped-def]
    a = obs.address
    v = ip_to_int(lookup_address(obs.event.src_ip))
    return {
        "ip_hi": v >> 64, "ip_lo": v & ((1 << 64) - 1), "category": str(a.category),
        "country": a.country, "asn": a.asn, "actor": a.actor, "projected": a.projected,
        "tor": a.tor, "tor_nearest_listing_days": a.tor_nearest_listing_days,
    }


def assert_matches_observe(table: pa.Table, pack) -> None:  # type: ignore[no-untyped-def]
    enriched = enrich(table, pack)
    assert enriched.schema == ENRICHED_SCHEMA
    rows = enriched.to_pylist()
    observed = observe(table_to_events(table), pack)
    names = [f.name for f in ENRICHED_SCHEMA][len(table.schema):]
    for row, obs in zip(rows, observed, strict=True):
        assert {k: row[k] for k in names} == expected_row(obs), obs.event.src_ip
        assert row["id"] == obs.event.id


def test_every_demo_event_is_enriched_as_observe_reads_it() -> None:
    events = demo_events()
    table = events_to_table(events)
    assert table.num_rows == 452
    assert_matches_observe(table, demo_pack())
    # the demo holds each of the answers the columns carry
    enriched = enrich(table, demo_pack())
    assert set(enriched.column("tor").to_pylist()) == {"listed", "not-listed", "no-data"}
    assert set(enriched.column("category").to_pylist()) == {
        "tor", "vpn", "proxy", "hosting", "residential", "actor", "unknown"}
    assert enriched.column("projected").to_pylist().count(True) > 0


def test_a_large_batch_takes_the_fast_path_and_agrees() -> None:
    # 6000 rows: the kernel's /24 table answers (>= 4096 queries), observe's lookup too
    rng = np.random.default_rng(7)
    pools = [tor_exits(), VPN, HOSTING, RESIDENTIAL, ACTOR,
             rng.integers(1 << 24, 223 << 24, 2000).tolist()]
    addr = np.concatenate([rng.choice(np.array(p, np.int64), 1000) for p in pools])
    t0 = int(datetime(2014, 11, 15, tzinfo=UTC).timestamp()) * 10**6
    times = rng.integers(t0, t0 + 40 * 86_400 * 10**6, len(addr))
    texts = pa.array([str(ipaddress.IPv4Address(int(a))) for a in addr])
    table = event_table(np.zeros(len(addr), np.int64), ["p"], texts, times)
    assert_matches_observe(table, demo_pack())


def _v4_forms(v4: int) -> list[str]:
    a = ipaddress.IPv4Address(v4)
    return [
        str(a),
        f"64:ff9b::{a}",  # NAT64
        str(ipaddress.IPv6Address((0x2002 << 112) | (v4 << 80) | 1)),  # 6to4
        f"::{a}",  # IPv4-compatible
        f"::ffff:{a}",  # IPv4-mapped
    ]


_POOL = sorted({*tor_exits()[:40], *VPN[:20], *HOSTING[:20], *RESIDENTIAL[:20], *ACTOR[:20]})
addresses = st.one_of(
    st.sampled_from(_POOL).flatmap(lambda v: st.sampled_from(_v4_forms(v))),
    st.integers(0, (1 << 32) - 1).flatmap(lambda v: st.sampled_from(_v4_forms(v))),
    st.integers(0, (1 << 128) - 1).map(lambda v: str(ipaddress.IPv6Address(v))),
    st.sampled_from(["::", "::1", "2001:db8::1", "fe80::1", "10.0.0.1", "127.0.0.1",
                     "2002::", "64:ff9b::"]),
)
times = st.one_of(
    st.datetimes(datetime(2014, 11, 10), datetime(2014, 12, 31), timezones=st.just(UTC)),
    st.datetimes(datetime(2000, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(addresses, times), min_size=1, max_size=60))
def test_generated_addresses_and_times_are_enriched_as_observe_reads_them(
    rows: list[tuple[str, datetime]],
) -> None:
    us = np.array([(t - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
                   for _, t in rows], np.int64)
    table = event_table(np.zeros(len(rows), np.int64), ["p"], pa.array([a for a, _ in rows]),
                        us)
    assert_matches_observe(table, demo_pack())


def test_ipv6_forms_are_looked_up_as_the_ipv4_address_they_carry() -> None:
    actor = str(ipaddress.IPv4Address(ACTOR[2]))  # 175.45.176.3
    forms = ["64:ff9b::af2d:b003", "2002:af2d:b003::1", "::175.45.176.3", "::ffff:175.45.176.3"]
    hi, lo = address_keys(pa.array([actor, *forms]))
    assert hi.tolist() == [0] * 5
    assert lo.tolist() == [(0xFFFF << 32) | ACTOR[2]] * 5
    # '::' and '::1' are not IPv4-compatible forms: looked up as themselves
    hi, lo = address_keys(pa.array(["::", "::1", "2001:db8::1"]))
    assert hi.tolist() == [0, 0, 0x20010DB800000000]
    assert lo.tolist() == [0, 1, 1]


def test_a_tor_listing_under_a_fact_of_higher_precedence_is_still_listed(
    tmp_path: Path,
) -> None:
    # 5.9.167.21 is on every demo exit list; marked reserved (which outranks Tor) it keeps
    # the category reserved, and the Tor answer says listed, as IntelPack.lookup does.
    exit_ip = "5.9.167.21"
    assert int(ipaddress.IPv4Address(exit_ip)) in tor_exits()
    extra = tmp_path / "hide.csv"
    extra.write_text("cidr,category,label,valid_from,valid_to\n"
                     f"{exit_ip}/32,reserved,test range,2014-01-01,2015-12-31\n",
                     encoding="utf-8")
    manifest = json.loads((DEMO / "case.json").read_text(encoding="utf-8"))
    pack = load_pack([*(DEMO / p for p in manifest["intel"]), extra])
    when = int(datetime(2014, 12, 1, 12, tzinfo=UTC).timestamp()) * 10**6
    table = event_table(np.zeros(2, np.int64), ["p"], pa.array([exit_ip, "10.1.1.1"]),
                        np.array([when, when]))
    row, private = enrich(table, pack).to_pylist()
    assert (row["category"], row["tor"], row["tor_nearest_listing_days"]) == (
        "reserved", "listed", None)
    assert (private["category"], private["tor"]) == ("reserved", "not-listed")
    assert_matches_observe(table, pack)


def test_not_an_address_names_its_row() -> None:
    table = event_table(np.zeros(3, np.int64), ["p"], pa.array(["1.2.3.4", "1.2.3", "::1"]),
                        np.zeros(3, np.int64))
    with pytest.raises(ValueError, match=r"^generated\.log line 2: row 1: not an IP address: "
                       r"'1\.2\.3'$"):
        enrich(table, demo_pack())


def test_one_enricher_over_many_batches_equals_one_pass() -> None:
    table = events_to_table(demo_events())
    whole = enrich(table, demo_pack())
    e = Enricher(demo_pack())
    parts = [e.enrich(b) for b in table.to_batches(max_chunksize=37)]
    assert pa.Table.from_batches(parts).equals(pa.Table.from_batches([whole]))
