"""The lookup kernel against a naive reference on random (overlapping) ranges and times."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from slipcatch.intel import kernel as kernel_module
from slipcatch.intel.addr import MAPPED_FIRST, parse_cidr, range_text
from slipcatch.intel.fastindex import Answers, build_fast4, build_fast6, fact_bits
from slipcatch.intel.index import (
    CATEGORY_ORDER,
    FactTable,
    GeoPartition,
    build_fact_partitions,
    build_geo_partition,
    combine,
    key16,
)
from slipcatch.intel.kernel import lookup_arrays
from slipcatch.intel.records import FactRow
from slipcatch.model import Category, Fact

EPOCH = datetime(2010, 1, 1, tzinfo=UTC)
NONE = np.zeros(0, np.int32)


Geo = list[tuple[int, int, int, int]]  # first, last (128-bit), country index, org index
COUNTRIES = ["CN", "KP", "US"]


def _geo_partition(nets: Geo, v6: bool):  # type: ignore[no-untyped-def]
    nets = sorted(nets)
    if v6:
        first = key16(
            np.array([a >> 64 for a, *_ in nets], np.uint64),
            np.array([a & ((1 << 64) - 1) for a, *_ in nets], np.uint64),
        )
        last = key16(
            np.array([b >> 64 for _, b, *_ in nets], np.uint64),
            np.array([b & ((1 << 64) - 1) for _, b, *_ in nets], np.uint64),
        )
    else:
        first = np.array([a - MAPPED_FIRST for a, *_ in nets], np.uint32)
        last = np.array([b - MAPPED_FIRST for _, b, *_ in nets], np.uint32)
    # the same networks for both layers: country values and org values per network
    geo = build_geo_partition(first, last, first, last, v6)
    return geo, (
        np.array([c for *_, c, _ in nets], np.int32),
        np.array([o for *_, o in nets], np.int32),
    )


_EMPTY = kernel_module._empty_answers(0)


def kernel(rows: list[FactRow], geo: Geo = ()):  # type: ignore[no-untyped-def,assignment]
    countries = list(COUNTRIES)
    table = FactTable.build(rows, countries)
    p4, p6 = build_fact_partitions(table)
    geo4 = [g for g in geo if g[0] >= MAPPED_FIRST and g[1] <= MAPPED_FIRST + 0xFFFFFFFF]
    geo6 = [g for g in geo if g not in geo4]
    if geo4:
        g4, v4 = _geo_partition(geo4, False)
    else:
        g4 = GeoPartition(
            np.zeros(1, np.uint32), np.full(1, -1, np.int32), np.full(1, -1, np.int32)
        )
        v4 = (NONE, NONE)
    if geo6:
        g6, v6 = _geo_partition(geo6, True)
    else:
        g6 = GeoPartition(np.zeros(1, "S16"), np.full(1, -1, np.int32), np.full(1, -1, np.int32))
        v6 = (NONE, NONE)
    parts = (combine(g4, p4, v4), combine(g6, p6, v6))

    bits = fact_bits(table)
    fast4 = build_fast4(parts[0], p4, table, bits)
    fast6 = build_fast6(parts[1], p6, table, bits)
    assert fast4 is not None

    def run(ips: list[int], times: list[datetime], fast: bool = False,  # type: ignore[no-untyped-def]
            extras: bool = False, into: bool = False):
        hi = np.array([v >> 64 for v in ips], np.uint64)
        lo = np.array([v & ((1 << 64) - 1) for v in ips], np.uint64)
        us = np.array(
            [
                int((t - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))
                for t in times
            ],
            np.int64,
        )
        return lookup_arrays(
            hi,
            lo,
            us,
            parts=parts,
            facts=(p4, p6),
            table=table,
            fast4=fast4 if fast else None,
            fast6=fast6 if fast else None,
            bits=bits if extras else None,
            # arrays of the caller's, filled with junk: every row must be written
            into=Answers(**{k: np.full(len(ips), 77, np.asarray(getattr(_EMPTY, k)).dtype)
                            for k in Answers.FIELDS}) if into else None,
            into_extras=(np.full(len(ips), 77, np.int32), np.ones(len(ips), np.bool_))
            if into and extras else None,
        )

    run.countries = countries  # type: ignore[attr-defined]
    run.bits = bits  # type: ignore[attr-defined]
    return run, table


@st.composite
def networks(draw: st.DrawFn) -> tuple[int, int]:
    if draw(st.booleans()):
        # IPv4 in a small corner of the space, so that ranges overlap often
        plen = draw(st.integers(8, 32))
        addr = draw(st.sampled_from([0x0A000000, 0xAF2DB000, 0xFFFFFF00, 0])) | draw(
            st.integers(0, 0xFFFF)
        )
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
        country = draw(st.sampled_from([None, None, "KP", "RU"]))
        rows.append(
            FactRow(
                first,
                last,
                Fact(
                    range=range_text(first, last),
                    category=cat,
                    source=f"s{i}",
                    actor=actor,
                    asn=asn,
                    country=country,
                    valid_from=a,
                    valid_to=b,
                    projected=draw(st.booleans()),
                ),
                generic=generic,
            )
        )
    return rows


@st.composite
def geo_networks(draw: st.DrawFn) -> Geo:
    """Non-overlapping geo networks (as the geo layers are), often shorter than /24 and in
    the corners where the facts lie, so that /24 blocks are split at random places."""
    nets: Geo = []
    for _ in range(draw(st.integers(0, 8))):
        first, last = draw(networks())
        inside = first >= MAPPED_FIRST and last <= MAPPED_FIRST + 0xFFFFFFFF
        apart = last < MAPPED_FIRST or first > MAPPED_FIRST + 0xFFFFFFFF
        # the compiler splits geo networks by family; these are already split
        if not (inside or apart) or any(not (last < a or first > b) for a, b, *_ in nets):
            continue
        nets.append(
            (first, last, draw(st.integers(0, len(COUNTRIES) - 1)), draw(st.integers(0, 5)))
        )
    return nets


def geo_reference(geo: Geo, ip: int) -> tuple[int, int]:
    for first, last, country, org in geo:
        if first <= ip <= last:
            return country, org
    return -1, -1


def reference(rows: list[FactRow], ip: int, t: datetime) -> list[int]:
    """Ids of the facts that hold ``ip`` at ``t``, in precedence/specificity/id order."""
    hits = [
        i
        for i, r in enumerate(rows)
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


@settings(max_examples=200, deadline=None)
@given(rows=fact_rows(), geo=geo_networks(), data=st.data())
def test_kernel_matches_reference(rows: list[FactRow], geo: Geo, data: st.DataObject) -> None:
    edges = [v for r in rows for v in (r.first - 1, r.first, r.last, r.last + 1)]
    edges += [v for g in geo for v in (g[0] - 1, g[0], g[1], g[1] + 1)]
    # the first and last address of the /24 around every edge (a split /24's other rows)
    edges += [
        v
        for e in list(edges)
        if MAPPED_FIRST <= e <= MAPPED_FIRST + 0xFFFFFFFF
        for v in (e & ~0xFF, e | 0xFF)
    ]
    edges = [v for v in edges if 0 <= v < (1 << 128)]
    ips = data.draw(
        st.lists(
            st.one_of(
                st.sampled_from(edges),
                st.integers(0, (1 << 128) - 1),
                st.integers(MAPPED_FIRST, MAPPED_FIRST + 0xFFFFFFFF),
            ),
            min_size=1,
            max_size=40,
        )
    )
    when = data.draw(
        st.lists(
            st.integers(0, 1000).map(lambda h: EPOCH + timedelta(hours=h)),
            min_size=len(ips),
            max_size=len(ips),
        )
    )
    run, table = kernel(rows, geo)
    r = run(ips, when)
    saved = kernel_module._SORT_THRESHOLD, kernel_module._FAST_MIN, kernel_module._CHUNK
    try:
        kernel_module._SORT_THRESHOLD = 0  # the sorted path of large batches must agree
        r_sorted = run(ips, when)
        kernel_module._FAST_MIN = 0  # and so must the /24 and /64 fast paths,
        r_fast = run(ips, when, fast=True)
        x_fast = run(ips, when, fast=True, extras=True)
        x_into = run(ips, when, fast=True, extras=True, into=True)
        kernel_module._CHUNK = data.draw(st.integers(1, 7))  # in chunks, some mixed v4/v6
        r_chunked = run(ips, when, fast=True)
        x_chunked = run(ips, when, fast=True, extras=True)
    finally:
        (kernel_module._SORT_THRESHOLD, kernel_module._FAST_MIN, kernel_module._CHUNK) = saved
    for name in ("category", "actor", "asn", "decisive", "segment", "fact_ids"):
        assert getattr(r, name).tolist() == getattr(r_sorted, name).tolist(), name
    for other in (r_fast, r_chunked):
        for name in (
            "category",
            "country",
            "as_org",
            "actor",
            "asn",
            "asn_fact",
            "decisive",
            "projected",
            "is_v4",
            "segment",
            "fact_offsets",
            "fact_ids",
        ):
            assert getattr(r, name).tolist() == getattr(other, name).tolist(), name
    # the per-row extras: the source bits and Tor flag of the valid facts, on every path
    bits = run.bits  # type: ignore[attr-defined]
    want_bits, want_tor = [], []
    for i in range(len(ips)):
        ids = r.fact_ids[r.fact_offsets[i] : r.fact_offsets[i + 1]]
        m = 0
        for fid in ids.tolist():
            m |= 1 << bits.names.index(table.strings[int(table.source[fid])])
        want_bits.append(m)
        want_tor.append(any(rows[k].fact.category == Category.TOR for k in ids.tolist()))
    assert r.source_bits is None and r.tor_fact is None
    x_into_full = run(ips, when, extras=True, into=True)  # the general kernel's path
    for x in (x_into, x_into_full):  # answers written into the caller's arrays
        for name in Answers.FIELDS:
            assert getattr(x, name).tolist() == getattr(r, name).tolist(), name
    for x in (run(ips, when, extras=True), x_fast, x_chunked, x_into, x_into_full):
        assert [int(v) for v in x.source_bits] == want_bits
        assert x.tor_fact.tolist() == want_tor
        assert x.category.tolist() == r.category.tolist()
    countries = run.countries  # type: ignore[attr-defined]
    for i, (ip, t) in enumerate(zip(ips, when, strict=True)):
        want = reference(rows, ip, t)
        got = r.fact_ids[r.fact_offsets[i] : r.fact_offsets[i + 1]].tolist()
        assert got == want, (ipaddress.ip_address(ip), t)
        cat = CATEGORY_ORDER[r.category[i]]
        assert cat == (Category(rows[want[0]].fact.category) if want else Category.UNKNOWN)
        actors = [rows[k].fact.actor for k in want if rows[k].fact.actor]
        got_actor = table.actor_ids[r.actor[i]] if r.actor[i] >= 0 else None
        assert got_actor == (actors[0] if actors else None)
        asns = [(rows[k].fact.asn, k) for k in want if rows[k].fact.asn is not None]
        assert (asns[0] if asns else (-1, -1)) == (r.asn[i], r.asn_fact[i])
        assert bool(r.projected[i]) == bool(
            want and rows[want[0]].fact.projected and rows[want[0]].fact.category is not None
        )
        assert r.decisive[i] == (want[0] if want else -1)
        assert bool(r.is_v4[i]) == (MAPPED_FIRST <= ip <= MAPPED_FIRST + 0xFFFFFFFF)
        # geo first; a fact's country only where no geo network holds the address
        g_country, g_org = geo_reference(geo, ip)
        fact_countries = [rows[k].fact.country for k in want if rows[k].fact.country]
        want_country = (
            COUNTRIES[g_country]
            if g_country >= 0
            else (fact_countries[0] if fact_countries else None)
        )
        assert (countries[r.country[i]] if r.country[i] >= 0 else None) == want_country
        assert r.as_org[i] == g_org


def _fast(run, ips: list[int], times: list[datetime],  # type: ignore[no-untyped-def]
          extras: bool = False):
    saved = kernel_module._FAST_MIN, kernel_module._CHUNK
    try:
        kernel_module._FAST_MIN, kernel_module._CHUNK = 0, 4
        return run(ips, times, fast=True, extras=extras)
    finally:
        kernel_module._FAST_MIN, kernel_module._CHUNK = saved


def test_fast_path_at_24_boundaries_and_in_time() -> None:
    """A /24 split by a /25 geo network and by a time-bounded /30 fact; a whole /24 with an
    unbounded actor fact; a time-bounded fact over a whole /24."""
    v4 = lambda text: MAPPED_FIRST + int(ipaddress.IPv4Address(text))  # noqa: E731
    day = timedelta(days=1)
    rows = [
        FactRow(
            *parse_cidr("10.1.2.4/30"),
            Fact("10.1.2.4/30", Category.TOR, "tor", valid_from=EPOCH, valid_to=EPOCH + day),
        ),
        FactRow(
            *parse_cidr("10.1.3.0/24"),
            Fact("10.1.3.0/24", Category.ACTOR, "reg", actor="dprk", asn=131279),
        ),
        FactRow(
            *parse_cidr("10.1.4.0/24"),
            Fact("10.1.4.0/24", Category.HOSTING, "h", valid_from=EPOCH + day, projected=True),
        ),
    ]
    geo = [(v4("10.1.2.0"), v4("10.1.2.127"), 1, 3), (v4("10.1.2.128"), v4("10.1.3.255"), 2, 4)]
    run, table = kernel(rows, geo)
    ips = [
        v4("10.1.1.255"),
        v4("10.1.2.0"),
        v4("10.1.2.3"),
        v4("10.1.2.4"),
        v4("10.1.2.7"),
        v4("10.1.2.4"),
        v4("10.1.2.127"),
        v4("10.1.2.128"),
        v4("10.1.3.0"),
        v4("10.1.3.255"),
        v4("10.1.4.9"),
        v4("10.1.4.9"),
        0x20010DB8 << 96,
    ]
    late = EPOCH + 2 * day
    times = [EPOCH] * 5 + [late] + [EPOCH] * 4 + [EPOCH, late, EPOCH]
    r = _fast(run, ips, times)
    names = [CATEGORY_ORDER[c].value for c in r.category]
    assert names == [
        "unknown",
        "unknown",
        "unknown",
        "tor",
        "tor",
        "unknown",
        "unknown",
        "unknown",
        "actor",
        "actor",
        "unknown",
        "hosting",
        "unknown",
    ]
    assert r.country.tolist() == [-1, 1, 1, 1, 1, 1, 1, 2, 2, 2, -1, -1, -1]
    assert r.as_org.tolist() == [-1, 3, 3, 3, 3, 3, 3, 4, 4, 4, -1, -1, -1]
    assert r.asn.tolist() == [-1] * 8 + [131279, 131279] + [-1] * 3
    assert r.asn_fact.tolist() == [-1] * 8 + [1, 1] + [-1] * 3
    assert [table.actor_ids[a] if a >= 0 else None for a in r.actor] == [None] * 8 + [
        "dprk",
        "dprk",
    ] + [None] * 3
    assert r.decisive.tolist() == [-1, -1, -1, 0, 0, -1, -1, -1, 1, 1, -1, 2, -1]
    assert r.projected.tolist() == [False] * 11 + [True, False]
    assert r.is_v4.tolist() == [True] * 12 + [False]
    # extras: sources sorted h, reg, tor -> bits 1, 2, 4; the Tor fact only while valid
    x = _fast(run, ips, times, extras=True)
    assert run.bits.names == ("h", "reg", "tor")  # type: ignore[attr-defined]
    assert x.source_bits.tolist() == [0, 0, 0, 4, 4, 0, 0, 0, 2, 2, 0, 1, 0]
    assert x.tor_fact.tolist() == [False] * 3 + [True, True] + [False] * 8


def test_edges_of_the_address_space() -> None:
    rows = [
        FactRow(*parse_cidr("0.0.0.0/0"), Fact("0.0.0.0/0", Category.UNKNOWN, "a")),
        FactRow(*parse_cidr("255.255.255.255/32"), Fact("x", Category.RESERVED, "b")),
        FactRow(*parse_cidr("::/0"), Fact("::/0", Category.HOSTING, "c")),
        FactRow(
            *parse_cidr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"), Fact("y", Category.TOR, "d")
        ),
    ]
    ips = [MAPPED_FIRST, MAPPED_FIRST + 0xFFFFFFFF, 0, (1 << 128) - 1, 1 << 127]
    run, _ = kernel(rows)
    r = run(ips, [EPOCH] * len(ips))
    assert [CATEGORY_ORDER[c] for c in r.category] == [
        Category.HOSTING,
        Category.RESERVED,
        Category.HOSTING,
        Category.TOR,
        Category.HOSTING,
    ]
    # ::/0 covers the IPv4-mapped block, so IPv4 queries see it too
    assert r.fact_ids[r.fact_offsets[0] : r.fact_offsets[1]].tolist() == [2, 0]
