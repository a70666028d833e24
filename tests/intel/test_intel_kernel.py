"""The lookup kernel against a naive reference on random (overlapping) ranges and times."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from slipcatch.intel import lookup as lookup_module
from slipcatch.intel.addr import MAPPED_FIRST, parse_cidr, range_text
from slipcatch.intel.lookup import (
    CATEGORY_ORDER,
    FactTable,
    GeoPartition,
    build_fact_partitions,
    build_fast4,
    build_fast6,
    combine,
    lookup_arrays,
)
from slipcatch.intel.records import FactRow
from slipcatch.model import Category, Fact

EPOCH = datetime(2010, 1, 1, tzinfo=UTC)
NONE = np.zeros(0, np.int32)


def kernel(rows: list[FactRow]):  # type: ignore[no-untyped-def]
    table = FactTable.build(rows, [])
    p4, p6 = build_fact_partitions(table)
    g4 = GeoPartition(np.zeros(1, np.uint32), np.full(1, -1, np.int32), np.full(1, -1, np.int32))
    g6 = GeoPartition(np.zeros(1, "S16"), np.full(1, -1, np.int32), np.full(1, -1, np.int32))
    parts = (combine(g4, p4, (NONE, NONE)), combine(g6, p6, (NONE, NONE)))

    fast4 = build_fast4(parts[0], p4, table)
    fast6 = build_fast6(parts[1], p6, table)

    def run(ips: list[int], times: list[datetime], fast: bool = False):  # type: ignore[no-untyped-def]
        hi = np.array([v >> 64 for v in ips], np.uint64)
        lo = np.array([v & ((1 << 64) - 1) for v in ips], np.uint64)
        us = np.array([int((t - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))
                       for t in times], np.int64)
        return lookup_arrays(hi, lo, us, parts=parts, facts=(p4, p6), table=table,
                             fast4=fast4 if fast else None, fast6=fast6 if fast else None)

    return run, table


@st.composite
def networks(draw: st.DrawFn) -> tuple[int, int]:
    if draw(st.booleans()):
        # IPv4 in a small corner of the space, so that ranges overlap often
        plen = draw(st.integers(8, 32))
        addr = draw(st.sampled_from([0x0A000000, 0xAF2DB000, 0xFFFFFF00, 0])) | draw(
            st.integers(0, 0xFFFF))
        net = ipaddress.IPv4Network((addr, plen), strict=False)
    else:
        plen = draw(st.integers(0, 128))
        base = draw(st.sampled_from([0, MAPPED_FIRST, 0x20010DB8 << 96, (1 << 128) - 1]))
        addr = (base | draw(st.integers(0, (1 << 40) - 1))) & ((1 << 128) - 1)
        net6 = ipaddress.IPv6Network((addr, plen), strict=False)
        return int(net6.network_address), int(net6.broadcast_address)
    first, last = parse_cidr(str(net))
    return first, last


times_st = st.one_of(st.none(), st.integers(0, 1000).map(lambda h: EPOCH + timedelta(hours=h)))


@st.composite
def fact_rows(draw: st.DrawFn) -> list[FactRow]:
    rows = []
    for i in range(draw(st.integers(1, 12))):
        first, last = draw(networks())
        a, b = draw(times_st), draw(times_st)
        generic = draw(st.booleans())
        if a is not None and b is not None and a >= b:
            a, b = b, (a if a > b else None)
        cat = draw(st.sampled_from(list(Category)))
        actor = f"actor-{i % 3}" if cat is Category.ACTOR else None
        asn = draw(st.one_of(st.none(), st.integers(1, 70000)))
        rows.append(FactRow(first, last, Fact(
            range=range_text(first, last), category=cat, source=f"s{i}", actor=actor, asn=asn,
            valid_from=a, valid_to=b, projected=draw(st.booleans())), generic=generic))
    return rows


def reference(rows: list[FactRow], ip: int, t: datetime) -> list[int]:
    """Ids of the facts that hold ``ip`` at ``t``, in precedence/specificity/id order."""
    hits = [
        i for i, r in enumerate(rows)
        if r.first <= ip <= r.last
        and (r.fact.valid_from is None or r.fact.valid_from <= t)
        and (r.fact.valid_to is None or t < r.fact.valid_to)
    ]
    rank = {c: k for k, c in enumerate(CATEGORY_ORDER)}
    cover = {Category.TOR, Category.VPN, Category.PROXY, Category.HOSTING}

    def precedence(r: FactRow) -> float:
        cat = Category(r.fact.category)
        # a generic (catch-all list) cover fact ranks just below hosting
        return rank[Category.HOSTING] + 0.5 if r.generic and cat in cover else rank[cat]

    return sorted(hits, key=lambda i: (precedence(rows[i]), rows[i].last - rows[i].first, i))


@settings(max_examples=150, deadline=None)
@given(rows=fact_rows(), data=st.data())
def test_kernel_matches_reference(rows: list[FactRow], data: st.DataObject) -> None:
    edges = [v for r in rows for v in (r.first - 1, r.first, r.last, r.last + 1)]
    edges = [v for v in edges if 0 <= v < (1 << 128)]
    ips = data.draw(st.lists(
        st.one_of(st.sampled_from(edges), st.integers(0, (1 << 128) - 1),
                  st.integers(MAPPED_FIRST, MAPPED_FIRST + 0xFFFFFFFF)),
        min_size=1, max_size=40))
    when = data.draw(st.lists(st.integers(0, 1000).map(lambda h: EPOCH + timedelta(hours=h)),
                              min_size=len(ips), max_size=len(ips)))
    run, table = kernel(rows)
    r = run(ips, when)
    saved = lookup_module._SORT_THRESHOLD, lookup_module._FAST_MIN
    try:
        lookup_module._SORT_THRESHOLD = 0  # the sorted path of large batches must agree
        r_sorted = run(ips, when)
        lookup_module._FAST_MIN = 0  # and so must the /24 and /64 fast paths
        r_fast = run(ips, when, fast=True)
    finally:
        lookup_module._SORT_THRESHOLD, lookup_module._FAST_MIN = saved
    for name in ("category", "actor", "asn", "decisive", "segment", "fact_ids"):
        assert getattr(r, name).tolist() == getattr(r_sorted, name).tolist(), name
    for name in ("category", "country", "as_org", "actor", "asn", "asn_fact", "decisive",
                 "projected", "is_v4", "segment", "fact_offsets", "fact_ids"):
        assert getattr(r, name).tolist() == getattr(r_fast, name).tolist(), name
    for i, (ip, t) in enumerate(zip(ips, when, strict=True)):
        want = reference(rows, ip, t)
        got = r.fact_ids[r.fact_offsets[i]:r.fact_offsets[i + 1]].tolist()
        assert got == want, (ipaddress.ip_address(ip), t)
        cat = CATEGORY_ORDER[r.category[i]]
        assert cat == (Category(rows[want[0]].fact.category) if want else Category.UNKNOWN)
        actors = [rows[k].fact.actor for k in want if rows[k].fact.actor]
        got_actor = table.actor_ids[r.actor[i]] if r.actor[i] >= 0 else None
        assert got_actor == (actors[0] if actors else None)
        asns = [rows[k].fact.asn for k in want if rows[k].fact.asn is not None]
        assert (asns[0] if asns else -1) == r.asn[i]
        assert bool(r.projected[i]) == bool(want and rows[want[0]].fact.projected and
                                            rows[want[0]].fact.category is not None)
        assert bool(r.is_v4[i]) == (MAPPED_FIRST <= ip <= MAPPED_FIRST + 0xFFFFFFFF)


def test_edges_of_the_address_space() -> None:
    rows = [
        FactRow(*parse_cidr("0.0.0.0/0"), Fact("0.0.0.0/0", Category.UNKNOWN, "a")),
        FactRow(*parse_cidr("255.255.255.255/32"), Fact("x", Category.RESERVED, "b")),
        FactRow(*parse_cidr("::/0"), Fact("::/0", Category.HOSTING, "c")),
        FactRow(*parse_cidr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"),
                Fact("y", Category.TOR, "d")),
    ]
    ips = [MAPPED_FIRST, MAPPED_FIRST + 0xFFFFFFFF, 0, (1 << 128) - 1, 1 << 127]
    run, _ = kernel(rows)
    r = run(ips, [EPOCH] * len(ips))
    assert [CATEGORY_ORDER[c] for c in r.category] == [
        Category.HOSTING, Category.RESERVED, Category.HOSTING, Category.TOR, Category.HOSTING]
    # ::/0 covers the IPv4-mapped block, so IPv4 queries see it too
    assert r.fact_ids[r.fact_offsets[0]:r.fact_offsets[1]].tolist() == [2, 0]
