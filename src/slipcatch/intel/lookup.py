"""The vectorised, time-aware lookup kernel.

Two families are searched separately: IPv4 with ``uint32`` keys and IPv6 with 16-byte
big-endian ``S16`` keys (NumPy sorts and searches those as 128-bit numbers). IPv4-mapped IPv6
queries are IPv4 queries; an IPv6 range that covers part of ``::ffff:0:0/96`` is also entered
in the IPv4 family.

Each family has two *partitions* of its whole address space into elementary segments, so a
query is one ``searchsorted`` per partition:

* the geo partition: every segment carries the index of the geoip2fast country network and
  AS-organisation network holding it (-1 for none);
* the fact partition: every segment carries the list (CSR ``offsets``/``ids``) of every fact
  whose range covers it, pre-sorted by category precedence, then by range size (most
  specific first), then fact id. Overlapping facts are therefore all kept, and the first fact
  of a list that is valid at the query's time decides the primary category.

A fact is valid at ``t`` iff ``valid_from <= t < valid_to`` (unbounded ends are the int64
extremes, in microseconds since the epoch).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from slipcatch.intel.addr import MAPPED_FIRST, MAPPED_LAST, NO_FROM, NO_TO, to_micros
from slipcatch.intel.records import FactRow
from slipcatch.model import Category

__all__ = [
    "CATEGORY_ORDER",
    "Answers",
    "CombinedPartition",
    "FactPartition",
    "FactTable",
    "Fast4",
    "Fast6",
    "GeoPartition",
    "LookupArrays",
    "build_fact_partitions",
    "build_fast4",
    "build_fast6",
    "build_geo_partition",
    "combine",
    "concat_tables",
    "key16",
    "lookup_arrays",
    "priorities",
    "split_keys",
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
_SORT_THRESHOLD = 1 << 15  # above this many queries, sorting them first pays off


def key16(hi: npt.NDArray[np.uint64], lo: npt.NDArray[np.uint64]) -> npt.NDArray[Any]:
    """128-bit numbers as sortable 16-byte big-endian strings."""
    buf = np.empty((len(hi), 2), dtype=">u8")
    buf[:, 0] = hi
    buf[:, 1] = lo
    return buf.view("S16").ravel()


def _unkey16(keys: npt.NDArray[Any]) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    pairs = np.ascontiguousarray(keys, dtype="S16").view(">u8").reshape(-1, 2)
    return pairs[:, 0].astype(np.uint64), pairs[:, 1].astype(np.uint64)


def key16_plus_one(keys: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
    """``keys + 1`` and whether it did not overflow past the top of the space."""
    hi, lo = _unkey16(keys)
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


def _locate(starts: npt.NDArray[Any], keys: npt.NDArray[Any]) -> npt.NDArray[np.int32]:
    """``searchsorted(starts, keys, side="right")`` as int32, fast for large batches."""
    n = len(keys)
    if n <= _SORT_THRESHOLD:
        return np.searchsorted(starts, keys, side="right").astype(np.int32)
    # Searching sorted queries walks the table in order (far fewer cache misses); for
    # IPv4, sorting key<<32|row as one uint64 array is much faster than an argsort.
    order: npt.NDArray[Any]
    if keys.dtype == np.uint32 and n < (1 << 32):
        packed = keys.astype(np.uint64)
        packed <<= np.uint64(32)
        packed |= np.arange(n, dtype=np.uint32)
        packed.sort()
        order = packed.astype(np.uint32)  # the low half: the row
        packed >>= np.uint64(32)
        found = np.searchsorted(starts, packed.astype(np.uint32), side="right")
    else:
        order = np.argsort(keys)
        found = np.searchsorted(starts, keys[order], side="right")
    out = np.empty(n, np.int32)
    out[order] = found
    return out


class LookupArrays:
    """Bulk lookup results, one row per query (see :func:`lookup_arrays`).

    ``category`` (index into CATEGORY_ORDER), ``country`` (index into the pack's countries),
    ``asn``, ``as_org`` (index into the pack's AS-organisation names), ``asn_fact`` (fact
    that supplied ``asn``), ``actor`` (index into the fact table's actor ids), ``decisive``
    (fact that decided the category), ``projected`` (that fact is a projection) and
    ``is_v4`` are computed eagerly; -1 means none. ``segment`` and the per-query lists of
    valid facts (``fact_ids[fact_offsets[i]:fact_offsets[i + 1]]``) are computed on first
    access, because the fast path does not need them.
    """

    def __init__(
        self,
        *,
        category: npt.NDArray[np.int8],
        country: npt.NDArray[np.int32],
        asn: npt.NDArray[np.int64],
        as_org: npt.NDArray[np.int32],
        asn_fact: npt.NDArray[np.int32],
        actor: npt.NDArray[np.int32],
        decisive: npt.NDArray[np.int32],
        projected: npt.NDArray[np.bool_],
        is_v4: npt.NDArray[np.bool_],
        detail: Callable[[], tuple[npt.NDArray[np.int32], npt.NDArray[np.int64],
                                   npt.NDArray[np.int32]]],
    ):
        self.category = category
        self.country = country
        self.asn = asn
        self.as_org = as_org
        self.asn_fact = asn_fact
        self.actor = actor
        self.decisive = decisive
        self.projected = projected
        self.is_v4 = is_v4
        self._detail_fn = detail
        self._detail: tuple[Any, Any, Any] | None = None

    def _details(self) -> tuple[Any, Any, Any]:
        if self._detail is None:
            self._detail = self._detail_fn()
        return self._detail

    @property
    def segment(self) -> npt.NDArray[np.int32]:
        """Segment of each query in its family's CombinedPartition."""
        return self._details()[0]

    @property
    def fact_offsets(self) -> npt.NDArray[np.int64]:
        return self._details()[1]

    @property
    def fact_ids(self) -> npt.NDArray[np.int32]:
        return self._details()[2]


def split_keys(
    hi: npt.NDArray[np.uint64], lo: npt.NDArray[np.uint64]
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.uint32], npt.NDArray[Any]]:
    """Family mask, IPv4 keys and IPv6 keys of ``(hi, lo)`` addresses."""
    hi = np.asarray(hi, np.uint64)
    lo = np.asarray(lo, np.uint64)
    is4 = hi == 0
    is4 &= (lo >> np.uint64(32)) == np.uint64(0xFFFF)
    if is4.all():
        return is4, lo.astype(np.uint32), np.zeros(0, "S16")  # astype keeps the low half
    k4 = lo[is4].astype(np.uint32)
    k6 = key16(hi[~is4], lo[~is4])
    return is4, k4, k6


def _lookup_full(
    hi: npt.NDArray[np.uint64],
    lo: npt.NDArray[np.uint64],
    times: npt.NDArray[np.int64],
    parts: tuple[CombinedPartition, CombinedPartition],
    facts: tuple[FactPartition, FactPartition],
    table: FactTable,
) -> LookupArrays:
    """The general kernel: search, expand each query's facts, filter by time, reduce."""
    n = len(hi)
    times = np.asarray(times, np.int64)
    if not (len(lo) == n == len(times)):
        raise ValueError("hi, lo and times must have the same length")
    is4, k4, k6 = split_keys(hi, lo)
    all4 = len(k4) == n
    segment = np.empty(n, np.int32) if not all4 else np.zeros(0, np.int32)
    country = np.empty(n, np.int32) if not all4 else np.zeros(0, np.int32)
    as_org = np.empty(n, np.int32) if not all4 else np.zeros(0, np.int32)
    pair_q: list[npt.NDArray[np.int64]] = []
    pair_f: list[npt.NDArray[np.int32]] = []
    for fam, keys in enumerate((k4, k6)):
        if len(keys) == 0:
            continue
        rows = None if all4 else np.flatnonzero(is4 if fam == 0 else ~is4)
        c, p = parts[fam], facts[fam]
        seg = _locate(c.starts, keys)
        if rows is None:  # every query is IPv4: no scatter needed
            segment, country, as_org = seg, c.country[seg], c.as_org[seg]
        else:
            segment[rows], country[rows], as_org[rows] = seg, c.country[seg], c.as_org[seg]
        cnt = c.fcount[seg]
        nz = np.flatnonzero(cnt)  # most queries hold no fact: expand only the others
        if len(nz) == 0:
            continue
        cnt = cnt[nz].astype(np.int64)
        a = c.fstart[seg[nz]].astype(np.int64)
        total = int(cnt.sum())
        q = np.repeat(nz if rows is None else rows[nz], cnt)
        pos = np.repeat(a - (np.cumsum(cnt) - cnt), cnt) + np.arange(total, dtype=np.int64)
        fid = p.ids[pos]
        t = times[q]
        ok = (table.vfrom[fid] <= t) & (t < table.vto[fid])
        pair_q.append(q[ok])
        pair_f.append(fid[ok])

    if pair_q:
        q = np.concatenate(pair_q)
        f = np.concatenate(pair_f)
        if len(pair_q) > 1:
            order = np.argsort(q, kind="stable")
            q, f = q[order], f[order]
    else:
        q = np.zeros(0, np.int64)
        f = np.zeros(0, np.int32)
    fact_offsets = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(q, minlength=n), out=fact_offsets[1:])

    def first_where(mask: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.int64], npt.NDArray[Any]]:
        qm, fm = q[mask], f[mask]
        head = np.ones(len(qm), bool)
        head[1:] = qm[1:] != qm[:-1]
        return qm[head], fm[head]

    category = np.full(n, CATEGORY_ORDER.index(Category.UNKNOWN), np.int8)
    decisive = np.full(n, -1, np.int32)
    cat_of = table.cat[f]
    dq, df = first_where(cat_of < NO_CATEGORY)
    category[dq] = table.cat[df]
    decisive[dq] = df

    actor = np.full(n, -1, np.int32)
    aq, af = first_where(table.actor[f] >= 0)
    actor[aq] = table.actor[af]

    asn = np.full(n, -1, np.int64)
    asn_fact = np.full(n, -1, np.int32)
    sq, sf = first_where(table.asn[f] >= 0)
    asn[sq] = table.asn[sf]
    asn_fact[sq] = sf

    cq, cf = first_where(table.country[f] >= 0)
    fill = country[cq] < 0  # geo first; a fact's country only where geo has none
    country[cq[fill]] = table.country[cf[fill]]

    detail = (segment, fact_offsets, f.astype(np.int32))
    return LookupArrays(
        category=category, country=country, asn=asn, as_org=as_org, asn_fact=asn_fact,
        actor=actor, decisive=decisive,
        projected=(decisive >= 0) & (table.proj[decisive] if len(table) else False),
        is_v4=is4, detail=lambda: detail,
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


_PLAIN_COUNTRY_BITS = 10
_PLAIN_ORG_BITS = 20
_NEG = np.int32(-(1 << 31))  # code < 0: the low 31 bits say what else to do
_SLOW = (1 << 31) - 1  # low 31 bits of a code that sends the query to the general kernel
_FAST_MIN = 1 << 12  # below this many queries the general kernel is as fast
_CHUNK = 1 << 20  # queries per pass of the fast path


@dataclass
class Answers:
    """Precomputed answers, one row each (columns as in :class:`LookupArrays`)."""

    category: npt.NDArray[np.int8]
    country: npt.NDArray[np.int32]
    asn: npt.NDArray[np.int64]
    as_org: npt.NDArray[np.int32]
    asn_fact: npt.NDArray[np.int32]
    actor: npt.NDArray[np.int32]
    decisive: npt.NDArray[np.int32]
    projected: npt.NDArray[np.bool_]

    FIELDS = ("category", "country", "asn", "as_org", "asn_fact", "actor", "decisive",
              "projected")


@dataclass
class Fast4:
    """A DIR-24-8 style table for IPv4: one int32 *code* per /24 block (64 MiB), and one per
    address of the blocks that hold a segment boundary (``code8``, 256 per such block).

    * ``code >= 0``: the address lies in a segment that no fact covers: the code packs
      ``country + 1`` (bits 0-9) and ``as_org + 1`` (bits 10-29); the category is unknown.
      Most queries end here: one random gather, then two shifts/masks.
    * ``code < 0``, low 31 bits ``j``:

      - ``j < len(answers)``: every fact of the segment is unbounded in time, so its answer
        is the same at every moment: row ``j`` of ``answers`` (deduplicated);
      - ``j - len(answers) = b < blocks`` (``code24`` only): the /24 holds a segment boundary
        (a network longer than /24); ``code8[b * 256 + (address & 255)]`` is the code;
      - ``j == 2**31 - 1``: a fact bounded in time (Tor, actor, routing) covers the segment:
        the query goes to the general kernel.
    """

    code24: npt.NDArray[np.int32]
    code8: npt.NDArray[np.int32]
    answers: Answers
    blocks: int
    light: int  # answers[:light] have no ASN and no actor (most do not: fewer columns to set)


@dataclass
class Fast6:
    """IPv6 by its high 64 bits: ``hi_starts`` are the distinct high halves of the segment
    starts; a query whose high half ``h`` is above ``hi_starts[u]`` (the last one <= h) lies
    in segment ``seg[u]``. Where ``h`` equals ``hi_starts[u]`` and that /64 holds a start
    with a non-zero low half, or more than one start (``ambiguous``), or the segment has a
    time-bounded fact (``seg[u] < 0``), the query goes to the general kernel."""

    hi_starts: npt.NDArray[np.uint64]
    seg: npt.NDArray[np.int32]
    ambiguous: npt.NDArray[np.bool_]
    s: Answers  # the static answer of every IPv6 segment


def _timedep(c: CombinedPartition, p: FactPartition, table: FactTable) -> npt.NDArray[np.bool_]:
    bounded = (table.vfrom != NO_FROM) | (table.vto != NO_TO)
    csum = np.zeros(len(p.ids) + 1, np.int64)
    np.cumsum(bounded[p.ids], out=csum[1:])
    fstart = np.maximum(c.fstart, 0).astype(np.int64)  # the dummy segment 0 holds -1
    return (csum[fstart + np.maximum(c.fcount, 0)] - csum[fstart]) > 0


def _static(c: CombinedPartition, p: FactPartition, table: FactTable) -> Answers:
    """Every segment's answer if all its facts applied (right for the segments without a
    time-bounded fact, which are the only ones the fast paths use): the same reductions as
    the general kernel, over (segment, fact) pairs instead of (query, fact) pairs."""
    nseg = len(c.fcount)
    cnt = np.maximum(c.fcount, 0).astype(np.int64)  # the dummy segment 0 holds -1
    q = np.repeat(np.arange(nseg, dtype=np.int64), cnt)
    pos = np.repeat(c.fstart.astype(np.int64) - (np.cumsum(cnt) - cnt), cnt) + np.arange(
        int(cnt.sum()), dtype=np.int64)
    f = p.ids[pos]

    def first_where(mask: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.int64], npt.NDArray[Any]]:
        qm, fm = q[mask], f[mask]
        head = np.ones(len(qm), bool)
        head[1:] = qm[1:] != qm[:-1]
        return qm[head], fm[head]

    out = Answers(
        category=np.full(nseg, CATEGORY_ORDER.index(Category.UNKNOWN), np.int8),
        country=c.country.copy(), asn=np.full(nseg, -1, np.int64),
        as_org=c.as_org.copy(), asn_fact=np.full(nseg, -1, np.int32),
        actor=np.full(nseg, -1, np.int32), decisive=np.full(nseg, -1, np.int32),
        projected=np.zeros(nseg, np.bool_),
    )
    dq, df = first_where(table.cat[f] < NO_CATEGORY)
    out.category[dq] = table.cat[df]
    out.decisive[dq] = df
    out.projected[dq] = table.proj[df]
    aq, af = first_where(table.actor[f] >= 0)
    out.actor[aq] = table.actor[af]
    sq, sf = first_where(table.asn[f] >= 0)
    out.asn[sq] = table.asn[sf]
    out.asn_fact[sq] = sf
    cq, cf = first_where(table.country[f] >= 0)
    fill = out.country[cq] < 0
    out.country[cq[fill]] = table.country[cf[fill]]
    return out


def build_fast6(c: CombinedPartition, p: FactPartition, table: FactTable) -> Fast6:
    """The high-half index of an IPv6 combined partition."""
    hs, ls = _unkey16(c.starts)
    timedep = _timedep(c, p, table)
    u, first, count = np.unique(hs, return_index=True, return_counts=True)
    last_seg = (first + count).astype(np.int64)  # starts <= any address above the /64
    nonzero = np.zeros(len(u), np.bool_)
    np.logical_or.at(nonzero, np.searchsorted(u, hs), ls != 0)
    seg = np.where(timedep[last_seg], -1, last_seg).astype(np.int32)
    return Fast6(u, seg, (count > 1) | nonzero, _static(c, p, table))


def build_fast4(c: CombinedPartition, p: FactPartition, table: FactTable) -> Fast4 | None:
    """The /24 and sub-/24 code tables of an IPv4 combined partition (see :class:`Fast4`),
    or None when the codes do not fit."""
    if (int(c.country.max(initial=-1)) + 1 >= 1 << _PLAIN_COUNTRY_BITS
            or int(c.as_org.max(initial=-1)) + 1 >= 1 << _PLAIN_ORG_BITS):
        return None
    timedep = _timedep(c, p, table)
    static = (c.fcount > 0) & ~timedep
    every = _static(c, p, table)
    # one row per distinct answer: the table the static codes index stays small (cached)
    segs = np.flatnonzero(static)
    cols = np.stack([getattr(every, k)[segs].astype(np.int64) for k in Answers.FIELDS], 1)
    if len(segs):
        rows, inverse = np.unique(cols, axis=0, return_inverse=True)
    else:
        rows, inverse = np.zeros((0, len(Answers.FIELDS)), np.int64), np.zeros(0, np.int64)
    # rows without ASN and actor first: those columns keep their defaults
    heavy = (rows[:, Answers.FIELDS.index("asn_fact")] >= 0) | (
        rows[:, Answers.FIELDS.index("actor")] >= 0)
    order = np.argsort(heavy, kind="stable")
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    rows, inverse = rows[order], rank[inverse.reshape(-1)]
    answers = Answers(**{
        k: rows[:, i].astype(getattr(every, k).dtype) for i, k in enumerate(Answers.FIELDS)
    })
    starts = c.starts
    unaligned = sorted_unique(starts[(starts & np.uint32(255)) != 0] >> np.uint32(8))
    if len(answers.category) + len(unaligned) >= _SLOW:
        return None
    code = ((c.country + 1) | ((c.as_org + 1) << _PLAIN_COUNTRY_BITS)).astype(np.int32)
    code[segs] = _NEG | inverse.astype(np.int32)
    code[timedep] = _NEG | np.int32(_SLOW)
    # block b (addresses b*256 .. b*256+255) starts inside the segment holding b*256
    first_block = (starts.astype(np.int64) + 255) >> 8
    counts = np.diff(np.append(first_block, 1 << 24))
    code24 = np.repeat(code[1:], counts).astype(np.int32)
    addrs = (unaligned[:, None] << np.uint32(8)) | np.arange(256, dtype=np.uint32)
    code8 = code[np.searchsorted(starts, addrs.reshape(-1), side="right")].astype(np.int32)
    code24[unaligned] = _NEG | (len(answers.category) + np.arange(len(unaligned),
                                                                    dtype=np.int32))
    return Fast4(code24, code8, answers, len(unaligned), int((~heavy).sum()))


_LIGHT = ("category", "country", "as_org", "decisive", "projected")


def _put(dst: Answers, pos: npt.NDArray[np.int64], src: Answers, rows: Any,
         fields: tuple[str, ...] = Answers.FIELDS) -> None:
    for k in fields:
        getattr(dst, k)[pos] = getattr(src, k)[rows]


def _put_answers(dst: Answers, pos: npt.NDArray[np.int64], f4: Fast4,
                 rows: npt.NDArray[np.int32]) -> None:
    """Static answers ``rows`` into ``dst[pos]`` (whose ASN and actor columns hold -1)."""
    light = rows < f4.light
    if light.all():
        _put(dst, pos, f4.answers, rows, _LIGHT)
    else:
        _put(dst, pos[light], f4.answers, rows[light], _LIGHT)
        _put(dst, pos[~light], f4.answers, rows[~light])


def _fast4_chunk(low: npt.NDArray[np.uint32], f4: Fast4, dst: Answers,
                 idx: npt.NDArray[np.uint32], code: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
    """Answer the IPv4 addresses ``low`` (possibly a strided view) into ``dst`` (arrays of
    the same length) with the /24 table; ``idx`` and ``code`` are scratch buffers. Returns
    the positions that need the general kernel (their ``dst`` rows are left unset)."""
    np.right_shift(low, np.uint32(8), out=idx)
    np.take(f4.code24, idx, out=code, mode="clip")  # idx < 2**24: "clip" never clips
    # plain codes first, for every query; the few others are overwritten below
    np.bitwise_and(code, np.int32((1 << _PLAIN_COUNTRY_BITS) - 1), out=dst.country)
    dst.country -= np.int32(1)
    np.right_shift(code, np.int32(_PLAIN_COUNTRY_BITS), out=dst.as_org)
    dst.as_org -= np.int32(1)
    dst.category.fill(CATEGORY_ORDER.index(Category.UNKNOWN))
    for col in (dst.asn, dst.asn_fact, dst.actor, dst.decisive):
        col.fill(-1)
    dst.projected.fill(False)
    sp = np.flatnonzero(code < 0)
    if len(sp) == 0:
        return sp
    j = code[sp] & np.int32(_SLOW)
    n_ans = len(f4.answers.category)
    fin = j < n_ans
    if fin.all():
        _put_answers(dst, sp, f4, j)
        return np.zeros(0, np.int64)
    _put_answers(dst, sp[fin], f4, j[fin])
    blk = (~fin) & (j != _SLOW)
    slow = [sp[j == _SLOW]]
    if blk.any():
        bp = sp[blk]
        sub = (j[blk] - np.int32(n_ans)).astype(np.int64) << 8
        sub |= low[bp] & np.uint32(255)
        c2 = f4.code8[sub]
        plain = c2 >= 0
        pp, pc = bp[plain], c2[plain]
        dst.country[pp] = (pc & np.int32((1 << _PLAIN_COUNTRY_BITS) - 1)) - np.int32(1)
        dst.as_org[pp] = (pc >> np.int32(_PLAIN_COUNTRY_BITS)) - np.int32(1)
        j2 = c2[~plain] & np.int32(_SLOW)
        bp = bp[~plain]
        fin2 = j2 < n_ans
        _put_answers(dst, bp[fin2], f4, j2[fin2])
        slow.append(bp[~fin2])
    return np.sort(np.concatenate(slow))


def _empty_answers(n: int) -> Answers:
    return Answers(
        category=np.empty(n, np.int8), country=np.empty(n, np.int32),
        asn=np.empty(n, np.int64), as_org=np.empty(n, np.int32),
        asn_fact=np.empty(n, np.int32), actor=np.empty(n, np.int32),
        decisive=np.empty(n, np.int32), projected=np.empty(n, np.bool_),
    )


def _slice(a: Answers, s: int, e: int) -> Answers:
    return Answers(**{k: getattr(a, k)[s:e] for k in Answers.FIELDS})


def lookup_arrays(
    hi: npt.NDArray[np.uint64],
    lo: npt.NDArray[np.uint64],
    times: npt.NDArray[np.int64],
    *,
    parts: tuple[CombinedPartition, CombinedPartition],
    facts: tuple[FactPartition, FactPartition],
    table: FactTable,
    fast4: Fast4 | None = None,
    fast6: Fast6 | None = None,
) -> LookupArrays:
    """Look up every ``(hi, lo)`` address at ``times`` (microseconds since the epoch).

    With ``fast4`` (and a large enough batch), IPv4 queries take the /24 table: one gather
    per query, then two shifts/masks (a second gather for /24s split by a longer network);
    with ``fast6``, IPv6 queries take one search on their high 64 bits. Queries that need
    more (a fact bounded in time, a boundary inside a /64) go to the general kernel. All
    paths give the same answers (tested).

    Raises:
        ValueError: the arrays differ in length.
    """
    n = len(hi)
    times = np.asarray(times, np.int64)
    if not (len(lo) == n == len(times)):
        raise ValueError("hi, lo and times must have the same length")
    hi = np.asarray(hi, np.uint64)
    lo = np.asarray(lo, np.uint64)
    if fast4 is None or fast6 is None or n < _FAST_MIN:
        return _lookup_full(hi, lo, times, parts, facts, table)
    out = _empty_answers(n)
    is4 = np.empty(n, np.bool_)
    m = min(n, _CHUNK)
    idx, code, low = np.empty(m, np.uint32), np.empty(m, np.int32), np.empty(m, np.uint32)
    # the low 32 bits of each lo (the IPv4 address) as a strided view: no copy
    lo32 = lo.view(np.uint32)[0 if sys.byteorder == "little" else 1::2] if (
        lo.flags.c_contiguous and lo.dtype.isnative) else None
    lo_first, lo_last = np.uint64(MAPPED_FIRST), np.uint64(MAPPED_LAST)
    slow: list[npt.NDArray[np.int64]] = []
    rows6: list[npt.NDArray[np.int64]] = []
    for s in range(0, n, _CHUNK):
        e = min(n, s + _CHUNK)
        k = e - s
        lo_c = lo[s:e]
        # the common case: a chunk of IPv4 addresses only (three cheap reductions)
        if not hi[s:e].any() and lo_c.min() >= lo_first and lo_c.max() <= lo_last:
            is4[s:e] = True
            if lo32 is not None:
                lc = lo32[s:e]
            else:
                lc = low[:k]
                np.copyto(lc, lo_c, casting="unsafe")  # the low 32 bits: the IPv4 address
            sl = _fast4_chunk(lc, fast4, _slice(out, s, e), idx[:k], code[:k])
            if len(sl):
                slow.append(sl + s)
            continue
        m4 = is4[s:e]
        np.equal(hi[s:e], 0, out=m4)
        m4 &= (lo_c >= lo_first) & (lo_c <= lo_last)
        r4 = np.flatnonzero(m4)
        rows6.append(np.flatnonzero(~m4) + s)
        if len(r4) == 0:
            continue
        k4 = len(r4)
        np.copyto(low[:k4], lo_c[r4], casting="unsafe")
        part = _empty_answers(k4)
        sl = _fast4_chunk(low[:k4], fast4, part, idx[:k4], code[:k4])
        _put(_slice(out, s, e), r4, part, slice(None))
        if len(sl):
            slow.append(r4[sl] + s)
    if rows6:
        r6 = np.concatenate(rows6)
        h = hi[r6]
        u = np.searchsorted(fast6.hi_starts, h, side="right") - 1
        seg = fast6.seg[u]
        bad = (seg < 0) | (fast6.ambiguous[u] & (fast6.hi_starts[u] == h))
        _put(out, r6[~bad], fast6.s, seg[~bad])
        slow.append(r6[bad])
    if slow:
        sl = np.concatenate(slow)
        if len(sl):
            r = _lookup_full(hi[sl], lo[sl], times[sl], parts, facts, table)
            _put(out, sl, Answers(**{k: getattr(r, k) for k in Answers.FIELDS}),
                 slice(None))

    def detail() -> tuple[Any, Any, Any]:
        full = _lookup_full(hi, lo, times, parts, facts, table)
        return full.segment, full.fact_offsets, full.fact_ids

    return LookupArrays(
        category=out.category, country=out.country, asn=out.asn, as_org=out.as_org,
        asn_fact=out.asn_fact, actor=out.actor, decisive=out.decisive,
        projected=out.projected, is_v4=is4, detail=detail,
    )
