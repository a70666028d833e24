"""The vectorised, time-aware query kernel: whole columns of addresses and times in, one
answer column per field out.

A query is one search of its family's combined partition (:mod:`slipcatch.intel.index`);
the general kernel (:func:`_lookup_full`) then expands the segment's facts, keeps those valid
at the query's time and reduces them (first valid fact by precedence decides the category;
first with an actor, an AS number, a country fill those columns). Large batches first take the
fast-path tables (:mod:`slipcatch.intel.fastindex`); only the queries those cannot answer go
to the general kernel. All paths give the same answers (tests/intel/test_intel_kernel.py).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from slipcatch.intel.addr import MAPPED_FIRST, MAPPED_LAST
from slipcatch.intel.fastindex import (
    PLAIN_COUNTRY_BITS,
    SLOW,
    Answers,
    FactBits,
    Fast4,
    Fast6,
    source_sets,
)
from slipcatch.intel.index import (
    CATEGORY_ORDER,
    NO_CATEGORY,
    CombinedPartition,
    FactPartition,
    FactTable,
    key16,
)
from slipcatch.model import Category

__all__ = ["LookupArrays", "lookup_arrays", "split_keys"]

_SORT_THRESHOLD = 1 << 15  # above this many queries, sorting them first pays off
_FAST_MIN = 1 << 12  # below this many queries the general kernel is as fast
_CHUNK = 1 << 20  # queries per pass of the fast path


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

    With ``bits`` (:class:`~slipcatch.intel.fastindex.FactBits`), more columns are computed
    in the same pass: ``source_set`` (int32, an index into ``source_sets``, the distinct
    source masks of the call; a mask is the OR of the source bits of the query's valid
    facts, ``source_bits`` gives it per query) and ``tor_fact`` (one of them is a Tor fact).
    The fast paths read both from per-segment tables, so no fact list is expanded for them.
    ``source_sets[0]`` is 0 (no source); a mask may appear under more than one index. Else
    all three are None.
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
        source_set: npt.NDArray[np.int32] | None = None,
        source_sets: npt.NDArray[np.uint64] | None = None,
        tor_fact: npt.NDArray[np.bool_] | None = None,
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
        self.source_set = source_set
        self.source_sets = source_sets
        self.tor_fact = tor_fact
        self._detail_fn = detail
        self._detail: tuple[Any, Any, Any] | None = None

    def _details(self) -> tuple[Any, Any, Any]:
        if self._detail is None:
            self._detail = self._detail_fn()
        return self._detail

    @property
    def source_bits(self) -> npt.NDArray[np.uint64] | None:
        """Per query, the OR of its valid facts' source bits (None without ``bits``)."""
        if self.source_set is None or self.source_sets is None:
            return None
        return self.source_sets[self.source_set]

    @property
    def segment(self) -> npt.NDArray[np.int32]:
        """Segment of each query in its family's CombinedPartition."""
        seg = self._details()[0]
        if callable(seg):  # the fact lists did not need every row's segment
            seg = seg()
            self._detail = (seg, *self._details()[1:])
        return cast("npt.NDArray[np.int32]", seg)

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
    bits: FactBits | None = None,
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

    codes, sets, tor_fact = _reduce_bits(bits, q, f, fact_offsets)
    detail = (segment, fact_offsets, f.astype(np.int32))
    return LookupArrays(
        category=category, country=country, asn=asn, as_org=as_org, asn_fact=asn_fact,
        actor=actor, decisive=decisive,
        projected=(decisive >= 0) & (table.proj[decisive] if len(table) else False),
        is_v4=is4, detail=lambda: detail, source_set=codes, source_sets=sets,
        tor_fact=tor_fact,
    )



def _reduce_bits(bits: FactBits | None, q: npt.NDArray[np.int64], f: npt.NDArray[Any],
                 offsets: npt.NDArray[np.int64]) -> tuple[Any, Any, Any]:
    """Per query, its source set (the OR of its valid facts' source bits) as an index into
    the distinct masks, the masks, and whether one of its facts is a Tor fact (``q``/``f``:
    the valid (query, fact) pairs, grouped by query; ``offsets`` their CSR). All None
    without ``bits``."""
    if bits is None:
        return None, None, None
    n = len(offsets) - 1
    source_bits = np.zeros(n, np.uint64)
    tor_fact = np.zeros(n, np.bool_)
    if len(f):
        nonempty = np.flatnonzero(np.diff(offsets))
        source_bits[nonempty] = np.bitwise_or.reduceat(bits.source[f], offsets[nonempty])
        tor_fact[q[bits.tor[f]]] = True
    sets, codes = source_sets(source_bits)
    return codes, sets, tor_fact


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


_Extras = tuple[npt.NDArray[np.int32], npt.NDArray[np.bool_]]  # source set, Tor flag


def _put_static(dst: Answers, ext: _Extras | None, pos: npt.NDArray[np.int64], f4: Fast4,
                rows: npt.NDArray[np.int32]) -> None:
    """Static answers ``rows`` into ``dst[pos]``, and their FactBits reductions into
    ``ext[pos]`` when asked."""
    _put_answers(dst, pos, f4, rows)
    if ext is not None:
        assert f4.source_set is not None and f4.tor_fact is not None
        ext[0][pos] = f4.source_set[rows]
        ext[1][pos] = f4.tor_fact[rows]


def _fast4_chunk(low: npt.NDArray[np.uint32], f4: Fast4, dst: Answers,
                 idx: npt.NDArray[np.uint32], code: npt.NDArray[np.int32],
                 ext: _Extras | None = None) -> npt.NDArray[np.int64]:
    """Answer the IPv4 addresses ``low`` (possibly a strided view) into ``dst`` (arrays of
    the same length) with the /24 table; ``idx`` and ``code`` are scratch buffers; ``ext``
    (source bits, Tor flag) is filled too when given. Returns the positions that need the
    general kernel (their ``dst`` rows are left unset)."""
    np.right_shift(low, np.uint32(8), out=idx)
    np.take(f4.code24, idx, out=code, mode="clip")  # idx < 2**24: "clip" never clips
    # plain codes first, for every query; the few others are overwritten below
    np.bitwise_and(code, np.int32((1 << PLAIN_COUNTRY_BITS) - 1), out=dst.country)
    dst.country -= np.int32(1)
    np.right_shift(code, np.int32(PLAIN_COUNTRY_BITS), out=dst.as_org)
    dst.as_org -= np.int32(1)
    dst.category.fill(CATEGORY_ORDER.index(Category.UNKNOWN))
    for col in (dst.asn, dst.asn_fact, dst.actor, dst.decisive):
        col.fill(-1)
    dst.projected.fill(False)
    if ext is not None:
        ext[0].fill(0)  # set 0: no source
        ext[1].fill(False)
    sp = np.flatnonzero(code < 0)
    if len(sp) == 0:
        return sp
    j = code[sp] & np.int32(SLOW)
    n_ans = len(f4.answers.category)
    fin = j < n_ans
    if fin.all():
        _put_static(dst, ext, sp, f4, j)
        return np.zeros(0, np.int64)
    _put_static(dst, ext, sp[fin], f4, j[fin])
    blk = (~fin) & (j != SLOW)
    slow = [sp[j == SLOW]]
    if blk.any():
        bp = sp[blk]
        sub = (j[blk] - np.int32(n_ans)).astype(np.int64) << 8
        sub |= low[bp] & np.uint32(255)
        c2 = f4.code8[sub]
        plain = c2 >= 0
        pp, pc = bp[plain], c2[plain]
        dst.country[pp] = (pc & np.int32((1 << PLAIN_COUNTRY_BITS) - 1)) - np.int32(1)
        dst.as_org[pp] = (pc >> np.int32(PLAIN_COUNTRY_BITS)) - np.int32(1)
        j2 = c2[~plain] & np.int32(SLOW)
        bp = bp[~plain]
        fin2 = j2 < n_ans
        _put_static(dst, ext, bp[fin2], f4, j2[fin2])
        slow.append(bp[~fin2])
    return np.sort(np.concatenate(slow))


def _fast6_rows(r6: npt.NDArray[np.int64], hi: npt.NDArray[np.uint64], fast6: Fast6,
                out: Answers, ext: _Extras | None, set_base: int) -> npt.NDArray[np.int64]:
    """Answer the IPv6 queries at rows ``r6`` with the /64 index into ``out`` (and ``ext``,
    whose set indices count from ``set_base``); returns the rows that need the general
    kernel."""
    h = hi[r6]
    u = np.searchsorted(fast6.hi_starts, h, side="right") - 1
    seg = fast6.seg[u]
    bad = (seg < 0) | (fast6.ambiguous[u] & (fast6.hi_starts[u] == h))
    _put(out, r6[~bad], fast6.s, seg[~bad])
    if ext is not None:
        assert fast6.source_set is not None and fast6.tor_fact is not None
        ext[0][r6] = np.where(bad, 0, fast6.source_set[seg] + np.int32(set_base))
        ext[1][r6] = ~bad & fast6.tor_fact[seg]
    return r6[bad]


def _empty_answers(n: int) -> Answers:
    return Answers(
        category=np.empty(n, np.int8), country=np.empty(n, np.int32),
        asn=np.empty(n, np.int64), as_org=np.empty(n, np.int32),
        asn_fact=np.empty(n, np.int32), actor=np.empty(n, np.int32),
        decisive=np.empty(n, np.int32), projected=np.empty(n, np.bool_),
    )


def _empty_extras(n: int) -> _Extras:
    return np.empty(n, np.int32), np.empty(n, np.bool_)


def _moved(r: LookupArrays, into: Answers, into_extras: _Extras | None) -> LookupArrays:
    """``r`` with its answers copied into ``into`` (and its extras into ``into_extras``),
    which become its columns."""
    for k in Answers.FIELDS:
        np.copyto(getattr(into, k), getattr(r, k))
        setattr(r, k, getattr(into, k))
    if into_extras is not None and r.source_set is not None and r.tor_fact is not None:
        np.copyto(into_extras[0], r.source_set)
        np.copyto(into_extras[1], r.tor_fact)
        r.source_set, r.tor_fact = into_extras
    return r


def _slice(a: Answers, s: int, e: int) -> Answers:
    return Answers(**{k: getattr(a, k)[s:e] for k in Answers.FIELDS})


def _detail(hi: npt.NDArray[np.uint64], lo: npt.NDArray[np.uint64],
            times: npt.NDArray[np.int64], is4: npt.NDArray[np.bool_],
            lo32: npt.NDArray[np.uint32] | None, code24: npt.NDArray[np.int32],
            index: tuple[tuple[CombinedPartition, CombinedPartition],
                         tuple[FactPartition, FactPartition], FactTable],
            ) -> tuple[Any, Any, Any]:
    """Segments and per-query fact lists of the fast path's queries. IPv4 addresses whose
    /24 code is plain lie in a segment no fact covers: their lists are empty, so the general
    kernel runs on the other queries only and its lists are spread back over every query;
    the segments, which the lists do not need, are then computed on demand."""
    parts, facts, table = index
    n = len(hi)
    may = ~is4
    if lo32 is not None:
        may |= code24[lo32 >> np.uint32(8)] < 0
    else:
        may |= code24[(lo & np.uint64(0xFFFFFFFF)) >> np.uint64(8)] < 0
    if n == 0 or may.all():
        full = _lookup_full(hi, lo, times, parts, facts, table)
        return full.segment, full.fact_offsets, full.fact_ids
    rows = np.flatnonzero(may)
    part = _lookup_full(hi[rows], lo[rows], times[rows], parts, facts, table)
    counts = np.zeros(n, np.int64)
    counts[rows] = np.diff(part.fact_offsets)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])

    def segment() -> npt.NDArray[np.int32]:  # a search over every query
        return _lookup_full(hi, lo, times, parts, facts, table).segment

    return segment, offsets, part.fact_ids


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
    bits: FactBits | None = None,
    into: Answers | None = None,
    into_extras: _Extras | None = None,
) -> LookupArrays:
    """Look up every ``(hi, lo)`` address at ``times`` (microseconds since the epoch).

    With ``fast4`` (and a large enough batch), IPv4 queries take the /24 table: one gather
    per query, then two shifts/masks (a second gather for /24s split by a longer network);
    with ``fast6``, IPv6 queries take one search on their high 64 bits. Queries that need
    more (a fact bounded in time, a boundary inside a /64) go to the general kernel. All
    paths give the same answers (tested). With ``bits``, the result also carries
    ``source_bits`` and ``tor_fact`` (see :class:`LookupArrays`); the fast tables must then
    have been built with the same ``bits``.

    ``into`` (and, with ``bits``, ``into_extras``: source set, Tor flag) are arrays of
    ``len(hi)`` rows that receive the answers (every row is written) and are the result's
    columns: a caller that keeps the answers in arrays of its own saves a copy of each.

    Raises:
        ValueError: the arrays differ in length, or ``bits`` is given and the fast tables
            were built without it.
    """
    n = len(hi)
    times = np.asarray(times, np.int64)
    if not (len(lo) == n == len(times)):
        raise ValueError("hi, lo and times must have the same length")
    hi = np.asarray(hi, np.uint64)
    lo = np.asarray(lo, np.uint64)
    if fast4 is None or fast6 is None or n < _FAST_MIN:
        full = _lookup_full(hi, lo, times, parts, facts, table, bits)
        return full if into is None else _moved(full, into, into_extras)
    if bits is not None and (fast4.sets is None or fast6.sets is None):
        raise ValueError("the fast tables were built without FactBits")
    out = _empty_answers(n) if into is None else into
    ext: _Extras | None = None if bits is None else (into_extras or _empty_extras(n))
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
            sl = _fast4_chunk(lc, fast4, _slice(out, s, e), idx[:k], code[:k],
                              None if ext is None else (ext[0][s:e], ext[1][s:e]))
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
        pext: _Extras | None = None if ext is None else (np.empty(k4, np.int32),
                                                          np.empty(k4, np.bool_))
        sl = _fast4_chunk(low[:k4], fast4, part, idx[:k4], code[:k4], pext)
        _put(_slice(out, s, e), r4, part, slice(None))
        if ext is not None and pext is not None:
            ext[0][s:e][r4], ext[1][s:e][r4] = pext
        if len(sl):
            slow.append(r4[sl] + s)
    base6 = 0 if fast4.sets is None else len(fast4.sets)
    if rows6:
        slow.append(_fast6_rows(np.concatenate(rows6), hi, fast6, out, ext, base6))
    sets = None
    if ext is not None:
        assert fast4.sets is not None and fast6.sets is not None
        sets = np.concatenate([fast4.sets, fast6.sets])
    if slow:
        sl = np.concatenate(slow)
        if len(sl):
            r = _lookup_full(hi[sl], lo[sl], times[sl], parts, facts, table, bits)
            _put(out, sl, Answers(**{k: getattr(r, k) for k in Answers.FIELDS}),
                 slice(None))
            if ext is not None and sets is not None:
                assert r.source_set is not None and r.source_sets is not None
                ext[0][sl] = r.source_set + np.int32(len(sets))
                ext[1][sl] = r.tor_fact
                sets = np.concatenate([sets, r.source_sets])

    def detail() -> tuple[Any, Any, Any]:
        return _detail(hi, lo, times, is4, lo32, fast4.code24, (parts, facts, table))

    return LookupArrays(
        category=out.category, country=out.country, asn=out.asn, as_org=out.as_org,
        asn_fact=out.asn_fact, actor=out.actor, decisive=out.decisive,
        projected=out.projected, is_v4=is4, detail=detail,
        source_set=None if ext is None else ext[0], source_sets=sets,
        tor_fact=None if ext is None else ext[1],
    )
