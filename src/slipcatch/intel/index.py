"""The interval indexes the lookup kernel searches: fact table, partitions, combined partitions.

Two families are indexed separately: IPv4 with ``uint32`` keys and IPv6 with 16-byte
big-endian ``S16`` keys (NumPy sorts and searches those as 128-bit numbers). IPv4-mapped IPv6
queries are IPv4 queries; an IPv6 range that covers part of ``::ffff:0:0/96`` is also entered
in the IPv4 family.

Each family has two *partitions* of its whole address space into elementary segments, so a
query is one ``searchsorted`` per partition (:func:`combine` merges them, so it is one):

* the geo partition: every segment carries the index of the geoip2fast country network and
  AS-organisation network holding it (-1 for none);
* the fact partition: every segment carries the list (CSR ``offsets``/``ids``) of every fact
  whose range covers it, pre-sorted by category precedence, then by range size (most
  specific first), then fact id. Overlapping facts are therefore all kept, and the first fact
  of a list that is valid at the query's time decides the primary category.

A fact is valid at ``t`` iff ``valid_from <= t < valid_to`` (unbounded ends are the int64
extremes, in microseconds since the epoch). The /24 and /64 fast-path tables built from these
partitions are in :mod:`slipcatch.intel.fastindex`; the queries in :mod:`slipcatch.intel.kernel`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from slipcatch.intel.addr import MAPPED_FIRST, MAPPED_LAST, NO_FROM, NO_TO, to_micros
from slipcatch.intel.records import FactRow
from slipcatch.model import Category

__all__ = [
    "CATEGORY_ORDER",
    "NO_CATEGORY",
    "CombinedPartition",
    "FactPartition",
    "FactTable",
    "GeoPartition",
    "build_fact_partitions",
    "build_geo_partition",
    "combine",
    "concat_tables",
    "key16",
    "key16_plus_one",
    "precedence_rank",
    "priorities",
    "sorted_unique",
    "unkey16",
]


#: Primary-category precedence, highest first; a category's code is its index here.
CATEGORY_ORDER: tuple[Category, ...] = (
    Category.RESERVED,
    Category.TOR,
    Category.ACTOR,
    Category.VPN,
    Category.PROXY,
    Category.HOSTING,
    Category.RESIDENTIAL,
    Category.UNKNOWN,
)
NO_CATEGORY = len(CATEGORY_ORDER)  # facts that carry only country/ASN
_RANK = {c: i for i, c in enumerate(CATEGORY_ORDER)}
_COVER = frozenset({Category.TOR, Category.VPN, Category.PROXY, Category.HOSTING})
_U64 = (1 << 64) - 1


def key16(hi: npt.NDArray[np.uint64], lo: npt.NDArray[np.uint64]) -> npt.NDArray[Any]:
    """128-bit numbers as sortable 16-byte big-endian strings."""
    buf = np.empty((len(hi), 2), dtype=">u8")
    buf[:, 0] = hi
    buf[:, 1] = lo
    return buf.view("S16").ravel()


def unkey16(keys: npt.NDArray[Any]) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    pairs = np.ascontiguousarray(keys, dtype="S16").view(">u8").reshape(-1, 2)
    return pairs[:, 0].astype(np.uint64), pairs[:, 1].astype(np.uint64)


def key16_plus_one(keys: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
    """``keys + 1`` and whether it did not overflow past the top of the space."""
    hi, lo = unkey16(keys)
    lo1 = lo + np.uint64(1)
    carry = lo1 == 0
    valid = ~(carry & (hi == np.uint64(_U64)))
    return key16(hi + carry.astype(np.uint64), lo1), valid


def precedence_rank(cat: int, generic: bool) -> int:
    """A fact's precedence rank (lower wins): twice its category's index in
    :data:`CATEGORY_ORDER`; a *generic* cover fact (from a catch-all list such as MISP's
    vpn-ipv4) ranks just below ``hosting``, so that provider-specific cover facts win over
    it where both match, while it still decides wherever it is alone."""
    if generic and cat < NO_CATEGORY and CATEGORY_ORDER[cat] in _COVER:
        return 2 * _RANK[Category.HOSTING] + 1
    return 2 * cat


def priorities(
    rank: npt.NDArray[np.int8],
    first_hi: npt.NDArray[np.uint64],
    first_lo: npt.NDArray[np.uint64],
    last_hi: npt.NDArray[np.uint64],
    last_lo: npt.NDArray[np.uint64],
) -> npt.NDArray[np.int64]:
    """Sort key of each fact: precedence rank, then range size (smallest first), then id."""
    n = len(rank)
    size_lo = last_lo - first_lo  # wraps; the borrow goes to the high half
    size_hi = last_hi - first_hi - (last_lo < first_lo).astype(np.uint64)
    spec = np.empty(n, np.int64)
    spec[np.lexsort((np.arange(n), size_lo, size_hi))] = np.arange(n, dtype=np.int64)
    return rank.astype(np.int64) * max(n, 1) + spec


@dataclass
class FactTable:
    """Columns of every fact in a pack (fact id = row)."""

    first_hi: npt.NDArray[np.uint64]
    first_lo: npt.NDArray[np.uint64]
    last_hi: npt.NDArray[np.uint64]
    last_lo: npt.NDArray[np.uint64]
    cat: npt.NDArray[np.int8]  # index into CATEGORY_ORDER; NO_CATEGORY for none
    vfrom: npt.NDArray[np.int64]
    vto: npt.NDArray[np.int64]
    asn: npt.NDArray[np.int64]  # -1 = none
    actor: npt.NDArray[np.int32]  # index into actor_ids, -1 = none
    country: npt.NDArray[np.int32]  # index into the pack's countries, -1 = none
    source: npt.NDArray[np.int32]  # indices into strings
    label: npt.NDArray[np.int32]
    note: npt.NDArray[np.int32]
    rng: npt.NDArray[np.int32]
    excl: npt.NDArray[np.float64]  # NaN = none
    rank: npt.NDArray[np.int8]  # precedence rank (see precedence_rank)
    proj: npt.NDArray[np.bool_]  # Fact.projected
    prio: npt.NDArray[np.int64]  # sort key: precedence, then specificity, then id
    strings: list[str]
    actor_ids: list[str]

    COLUMNS = (
        "first_hi", "first_lo", "last_hi", "last_lo", "cat", "vfrom", "vto", "asn", "actor",
        "country", "source", "label", "note", "rng", "excl", "rank", "proj", "prio",
    )

    def __len__(self) -> int:
        return len(self.cat)

    @classmethod
    def build(cls, rows: Sequence[FactRow], countries: list[str]) -> FactTable:
        """Columns from fact rows. New country codes are appended to ``countries``."""
        strings: list[str] = []
        sidx: dict[str, int] = {}
        actor_ids: list[str] = []
        aidx: dict[str, int] = {}
        cidx = {c: i for i, c in enumerate(countries)}

        def s(value: str | None) -> int:
            if value is None:
                return -1
            if value not in sidx:
                sidx[value] = len(strings)
                strings.append(value)
            return sidx[value]

        n = len(rows)
        cols: dict[str, Any] = {
            "first_hi": np.empty(n, np.uint64), "first_lo": np.empty(n, np.uint64),
            "last_hi": np.empty(n, np.uint64), "last_lo": np.empty(n, np.uint64),
            "cat": np.empty(n, np.int8), "vfrom": np.empty(n, np.int64),
            "vto": np.empty(n, np.int64), "asn": np.empty(n, np.int64),
            "actor": np.empty(n, np.int32), "country": np.empty(n, np.int32),
            "source": np.empty(n, np.int32), "label": np.empty(n, np.int32),
            "note": np.empty(n, np.int32), "rng": np.empty(n, np.int32),
            "excl": np.empty(n, np.float64), "rank": np.empty(n, np.int8),
            "proj": np.empty(n, np.bool_),
        }
        for i, row in enumerate(rows):
            f = row.fact
            cols["first_hi"][i], cols["first_lo"][i] = row.first >> 64, row.first & _U64
            cols["last_hi"][i], cols["last_lo"][i] = row.last >> 64, row.last & _U64
            cols["cat"][i] = NO_CATEGORY if f.category is None else _RANK[Category(f.category)]
            cols["vfrom"][i] = NO_FROM if f.valid_from is None else to_micros(f.valid_from)
            cols["vto"][i] = NO_TO if f.valid_to is None else to_micros(f.valid_to)
            cols["asn"][i] = -1 if f.asn is None else f.asn
            if f.actor is not None and f.actor not in aidx:
                aidx[f.actor] = len(actor_ids)
                actor_ids.append(f.actor)
            cols["actor"][i] = -1 if f.actor is None else aidx[f.actor]
            if f.country is not None and f.country not in cidx:
                cidx[f.country] = len(countries)
                countries.append(f.country)
            cols["country"][i] = -1 if f.country is None else cidx[f.country]
            cols["source"][i] = s(f.source)
            cols["label"][i] = s(f.label)
            cols["note"][i] = s(f.note)
            cols["rng"][i] = s(f.range)
            cols["excl"][i] = np.nan if f.exclusivity is None else f.exclusivity
            cols["rank"][i] = precedence_rank(int(cols["cat"][i]), row.generic)
            cols["proj"][i] = f.projected
        cols["prio"] = priorities(
            cols["rank"], cols["first_hi"], cols["first_lo"], cols["last_hi"], cols["last_lo"]
        )
        return cls(**cols, strings=strings, actor_ids=actor_ids)

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        return {c: getattr(self, c) for c in self.COLUMNS}


def sorted_unique(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Sorted distinct values (a sort, not NumPy's hash-based ``unique``, which is much slower
    on these keys; timsort also merges already-sorted runs in linear time)."""
    out = np.sort(values, kind="stable")
    if len(out) < 2:
        return out
    keep = np.empty(len(out), bool)
    keep[0] = True
    np.not_equal(out[1:], out[:-1], out=keep[1:])
    return out[keep]


@dataclass
class FactPartition:
    starts: npt.NDArray[Any]  # uint32 (v4) or S16 (v6); starts[0] is the lowest address
    offsets: npt.NDArray[np.int64]  # len(starts) + 1
    ids: npt.NDArray[np.int32]


@dataclass
class GeoPartition:
    starts: npt.NDArray[Any]
    country: npt.NDArray[np.int32]  # index of the country network, -1 = none
    asn: npt.NDArray[np.int32]  # index of the AS-organisation network, -1 = none


def _partition(
    starts: npt.NDArray[Any],
    ends_excl: npt.NDArray[Any],
    ends_valid: npt.NDArray[np.bool_],
    zero: npt.NDArray[Any],
    fids: npt.NDArray[np.int64],
    prio: npt.NDArray[np.int64],
) -> FactPartition:
    bounds = sorted_unique(np.concatenate([zero, starts, ends_excl[ends_valid]]))
    s0 = np.searchsorted(bounds, starts)
    s1 = np.where(ends_valid, np.searchsorted(bounds, ends_excl), len(bounds))
    cnt = (s1 - s0).astype(np.int64)
    total = int(cnt.sum())
    within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    seg = np.repeat(s0.astype(np.int64), cnt) + within
    fid = np.repeat(fids, cnt)
    order = np.lexsort((prio[fid], seg))
    seg, fid = seg[order], fid[order]
    offsets = np.searchsorted(seg, np.arange(len(bounds) + 1)).astype(np.int64)
    return FactPartition(bounds, offsets, fid.astype(np.int32))


def build_fact_partitions(table: FactTable) -> tuple[FactPartition, FactPartition]:
    """The IPv4 and IPv6 fact partitions of a fact table."""
    fh, fl, lh, ll = table.first_hi, table.first_lo, table.last_hi, table.last_lo
    m_hi, m_first, m_last = np.uint64(0), np.uint64(MAPPED_FIRST), np.uint64(MAPPED_LAST)
    # v4: facts that intersect the IPv4-mapped block, clipped to it
    starts_after = (fh > m_hi) | ((fh == m_hi) & (fl > m_last))
    ends_before = (lh == m_hi) & (ll < m_first)
    in4 = ~(starts_after | ends_before)
    f4 = np.where((fh == m_hi) & (fl >= m_first), fl, m_first)[in4] - m_first
    l4 = np.where((lh == m_hi) & (ll <= m_last), ll, m_last)[in4] - m_first
    e4 = l4 + np.uint64(1)
    p4 = _partition(
        f4, e4, e4 < np.uint64(1 << 32), np.zeros(1, np.uint64),
        np.flatnonzero(in4).astype(np.int64), table.prio,
    )
    p4 = FactPartition(p4.starts.astype(np.uint32), p4.offsets, p4.ids)
    # v6: facts not wholly inside the mapped block (mapped queries never reach v6)
    inside = (fh == m_hi) & (fl >= m_first) & (lh == m_hi) & (ll <= m_last)
    in6 = ~inside
    s6 = key16(fh[in6], fl[in6])
    e6, ok6 = key16_plus_one(key16(lh[in6], ll[in6]))
    p6 = _partition(
        s6, e6, ok6, np.zeros(1, "S16"), np.flatnonzero(in6).astype(np.int64), table.prio
    )
    return p4, p6


def build_geo_partition(
    c_first: npt.NDArray[Any], c_last: npt.NDArray[Any],
    a_first: npt.NDArray[Any], a_last: npt.NDArray[Any], v6: bool,
) -> GeoPartition:
    """Merge the country and AS-organisation layers of one family into one partition."""
    if v6:
        ce, cok = key16_plus_one(c_last)
        ae, aok = key16_plus_one(a_last)
        zero = np.zeros(1, "S16")
    else:
        ce64, ae64 = c_last.astype(np.uint64) + 1, a_last.astype(np.uint64) + 1
        cok, aok = ce64 < (1 << 32), ae64 < (1 << 32)
        ce, ae = ce64.astype(np.uint32), ae64.astype(np.uint32)
        zero = np.zeros(1, np.uint32)
    bounds = sorted_unique(np.concatenate([zero, c_first, ce[cok], a_first, ae[aok]]))

    def holder(first: npt.NDArray[Any], last: npt.NDArray[Any]) -> npt.NDArray[np.int32]:
        i = np.searchsorted(first, bounds, side="right") - 1
        ok = (i >= 0) & (bounds <= last[np.maximum(i, 0)])
        return np.where(ok, i, -1).astype(np.int32)

    return GeoPartition(bounds, holder(c_first, c_last), holder(a_first, a_last))


@dataclass
class CombinedPartition:
    """Geo and fact partitions of one family merged, so a query is one search.

    Every per-segment array has a dummy at index 0, so the raw result of
    ``searchsorted(starts, key, side="right")`` indexes them without a subtraction.
    """

    starts: npt.NDArray[Any]
    geo_country: npt.NDArray[np.int32]  # country network index, -1 = none
    geo_asn: npt.NDArray[np.int32]  # AS-organisation network index, -1 = none
    country: npt.NDArray[np.int32]  # country code index, -1 = none
    as_org: npt.NDArray[np.int32]  # AS-organisation name index, -1 = none
    fstart: npt.NDArray[np.int32]  # first position in FactPartition.ids
    fcount: npt.NDArray[np.int32]  # number of facts covering the segment


def combine(
    geo: GeoPartition,
    facts: FactPartition,
    values: tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]],
) -> CombinedPartition:
    """Merge a family's geo and fact partitions (both start at the lowest address).

    ``values`` are the country-code index of each country network and the AS-organisation
    index of each AS network.
    """
    starts = sorted_unique(np.concatenate([geo.starts, facts.starts]))
    g = np.searchsorted(geo.starts, starts, side="right") - 1
    f = np.searchsorted(facts.starts, starts, side="right") - 1
    gc, ga = geo.country[g], geo.asn[g]
    cvals, ovals = values

    def dummy(x: npt.NDArray[Any]) -> npt.NDArray[np.int32]:
        return np.concatenate([np.array([-1], np.int32), x.astype(np.int32)])

    def value(idx: npt.NDArray[np.int32], vals: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
        out = np.full(len(idx), -1, np.int32)
        held = idx >= 0
        out[held] = vals[idx[held]]
        return out

    return CombinedPartition(
        starts=starts,
        geo_country=dummy(gc),
        geo_asn=dummy(ga),
        country=dummy(value(gc, cvals)),
        as_org=dummy(value(ga, ovals)),
        fstart=dummy(facts.offsets[f]),
        fcount=dummy(facts.offsets[f + 1] - facts.offsets[f]),
    )


def concat_tables(base: FactTable, extra: FactTable) -> FactTable:
    """Append ``extra``'s facts after ``base``'s (fact ids of ``base`` are kept).

    Both must index the same countries list (build ``extra`` with the list ``base`` used).
    """
    nstr = len(base.strings)
    actor_ids = list(base.actor_ids)
    amap = []
    for a in extra.actor_ids:
        if a not in actor_ids:
            actor_ids.append(a)
        amap.append(actor_ids.index(a))
    amap_arr = np.array([*amap, -1], np.int32)  # -1 maps to the trailing -1

    def shift(col: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
        return np.where(col >= 0, col + nstr, -1).astype(np.int32)

    cols: dict[str, Any] = {}
    for c in FactTable.COLUMNS:
        e = getattr(extra, c)
        if c in ("source", "label", "note", "rng"):
            e = shift(e)
        elif c == "actor":
            e = amap_arr[e]
        cols[c] = np.concatenate([getattr(base, c), e])
    cols["prio"] = priorities(
        cols["rank"], cols["first_hi"], cols["first_lo"], cols["last_hi"], cols["last_lo"]
    )
    return FactTable(**cols, strings=base.strings + extra.strings, actor_ids=actor_ids)

