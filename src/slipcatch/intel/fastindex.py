"""The fast-path tables of the lookup kernel, built from the combined partitions.

:class:`Fast4` is a DIR-24-8 style table of the IPv4 space (one code per /24, one per address
of the /24s a longer network splits); :class:`Fast6` indexes IPv6 segments by their high 64
bits. Both hold only answers that do not depend on the query's time; everything else sends
the query to the general kernel (:mod:`slipcatch.intel.kernel`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from slipcatch.intel.addr import NO_FROM, NO_TO
from slipcatch.intel.index import (
    CATEGORY_ORDER,
    NO_CATEGORY,
    CombinedPartition,
    FactPartition,
    FactTable,
    sorted_unique,
    unkey16,
)
from slipcatch.model import Category

__all__ = [
    "NEG",
    "PLAIN_COUNTRY_BITS",
    "PLAIN_ORG_BITS",
    "SLOW",
    "Answers",
    "FactBits",
    "Fast4",
    "Fast6",
    "build_fast4",
    "build_fast6",
    "fact_bits",
    "fast_arrays",
    "fast_from_arrays",
    "source_sets",
]

PLAIN_COUNTRY_BITS = 10
PLAIN_ORG_BITS = 20
NEG = np.int32(-(1 << 31))  # code < 0: the low 31 bits say what else to do
SLOW = (1 << 31) - 1  # low 31 bits of a code that sends the query to the general kernel


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


@dataclass(frozen=True)
class FactBits:
    """Per fact, what the lookup's optional per-row extras reduce: its source as one bit
    (bit ``i`` is ``names[i]``, the fact table's distinct sources sorted) and whether it is
    a Tor fact. A row's ``source_bits`` is the OR of the bits of its valid facts, its
    ``tor_fact`` whether any of them is a Tor fact."""

    names: tuple[str, ...]
    source: npt.NDArray[np.uint64]
    tor: npt.NDArray[np.bool_]

    MAX_SOURCES = 63  # bit 63 stays free for a caller's own flag (the API's geo layer)


def fact_bits(table: FactTable) -> FactBits:
    """The :class:`FactBits` of ``table``.

    Raises:
        ValueError: the facts come from more than ``FactBits.MAX_SOURCES`` sources.
    """
    src = np.asarray(table.source, np.int64)
    used = np.unique(src[src >= 0])
    texts = {int(i): table.strings[int(i)] for i in used}
    names = tuple(sorted(set(texts.values())))
    if len(names) > FactBits.MAX_SOURCES:
        raise ValueError(f"more than {FactBits.MAX_SOURCES} intel sources ({len(names)})")
    order = {name: k for k, name in enumerate(names)}
    bit_of = np.zeros(int(used.max()) + 2 if len(used) else 1, np.uint64)
    for i, text in texts.items():
        bit_of[i + 1] = np.uint64(1) << np.uint64(order[text])
    return FactBits(names, bit_of[src + 1],
                    np.asarray(table.cat, np.int64) == CATEGORY_ORDER.index(Category.TOR))


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
    #: Per ``answers`` row, the :class:`FactBits` reductions of its segment's facts (all
    #: valid at any time): its source set (an index into ``sets``, the distinct source masks,
    #: ``sets[0] == 0``) and Tor flag; None when the table was built without ``FactBits``.
    source_set: npt.NDArray[np.int32] | None = None
    tor_fact: npt.NDArray[np.bool_] | None = None
    sets: npt.NDArray[np.uint64] | None = None


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
    #: Per segment, the :class:`FactBits` reductions of its facts, as in :class:`Fast4`
    #: (None: built without them).
    source_set: npt.NDArray[np.int32] | None = None
    tor_fact: npt.NDArray[np.bool_] | None = None
    sets: npt.NDArray[np.uint64] | None = None


def source_sets(masks: npt.NDArray[np.uint64]) -> tuple[npt.NDArray[np.uint64],
                                                         npt.NDArray[np.int32]]:
    """The distinct ``masks`` (sorted, always starting with 0, the empty set) and each mask's
    index among them."""
    sets, inverse = np.unique(np.concatenate([np.zeros(1, np.uint64), masks]),
                              return_inverse=True)
    return sets, inverse.reshape(-1)[1:].astype(np.int32)


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


def _static_bits(c: CombinedPartition, p: FactPartition, bits: FactBits
                 ) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.bool_]]:
    """Every segment's OR of its facts' source bits and whether any is a Tor fact, as if all
    its facts applied (right for the segments the fast paths answer)."""
    nseg = len(c.fcount)
    cnt = np.maximum(c.fcount, 0).astype(np.int64)
    start = np.maximum(c.fstart, 0).astype(np.int64)
    out_bits = np.zeros(nseg, np.uint64)
    out_tor = np.zeros(nseg, np.bool_)
    nz = np.flatnonzero(cnt)
    if len(nz) == 0:
        return out_bits, out_tor
    total = int(cnt[nz].sum())
    seg_off = np.cumsum(cnt[nz]) - cnt[nz]
    pos = np.repeat(start[nz] - seg_off, cnt[nz]) + np.arange(total, dtype=np.int64)
    f = p.ids[pos]
    out_bits[nz] = np.bitwise_or.reduceat(bits.source[f], seg_off)
    out_tor[nz] = np.logical_or.reduceat(bits.tor[f], seg_off)
    return out_bits, out_tor


def build_fast6(c: CombinedPartition, p: FactPartition, table: FactTable,
                bits: FactBits | None = None) -> Fast6:
    """The high-half index of an IPv6 combined partition (with the per-segment
    :class:`FactBits` reductions when ``bits`` is given)."""
    hs, ls = unkey16(c.starts)
    timedep = _timedep(c, p, table)
    u, first, count = np.unique(hs, return_index=True, return_counts=True)
    last_seg = (first + count).astype(np.int64)  # starts <= any address above the /64
    nonzero = np.zeros(len(u), np.bool_)
    np.logical_or.at(nonzero, np.searchsorted(u, hs), ls != 0)
    seg = np.where(timedep[last_seg], -1, last_seg).astype(np.int32)
    if bits is None:
        return Fast6(u, seg, (count > 1) | nonzero, _static(c, p, table))
    sb, st = _static_bits(c, p, bits)
    sets, codes = source_sets(sb)
    return Fast6(u, seg, (count > 1) | nonzero, _static(c, p, table), codes, st, sets)


def build_fast4(c: CombinedPartition, p: FactPartition, table: FactTable,
                bits: FactBits | None = None) -> Fast4 | None:
    """The /24 and sub-/24 code tables of an IPv4 combined partition (see :class:`Fast4`),
    or None when the codes do not fit. With ``bits``, each static answer also carries its
    segment's :class:`FactBits` reductions (part of what makes answers distinct)."""
    if (int(c.country.max(initial=-1)) + 1 >= 1 << PLAIN_COUNTRY_BITS
            or int(c.as_org.max(initial=-1)) + 1 >= 1 << PLAIN_ORG_BITS):
        return None
    timedep = _timedep(c, p, table)
    static = (c.fcount > 0) & ~timedep
    every = _static(c, p, table)
    # one row per distinct answer: the table the static codes index stays small (cached)
    segs = np.flatnonzero(static)
    cols = np.stack([getattr(every, k)[segs].astype(np.int64) for k in Answers.FIELDS], 1)
    if bits is not None:
        sb, st = _static_bits(c, p, bits)
        cols = np.concatenate([cols, sb[segs].view(np.int64)[:, None],
                               st[segs].astype(np.int64)[:, None]], 1)
    if len(segs):
        rows, inverse = np.unique(cols, axis=0, return_inverse=True)
    else:
        rows, inverse = np.zeros((0, cols.shape[1]), np.int64), np.zeros(0, np.int64)
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
    nf = len(Answers.FIELDS)
    sets = ans_set = ans_tor = None
    if bits is not None:
        sets, ans_set = source_sets(rows[:, nf].copy().view(np.uint64))
        ans_tor = rows[:, nf + 1].astype(np.bool_)
    starts = c.starts
    unaligned = sorted_unique(starts[(starts & np.uint32(255)) != 0] >> np.uint32(8))
    if len(answers.category) + len(unaligned) >= SLOW:
        return None
    code = ((c.country + 1) | ((c.as_org + 1) << PLAIN_COUNTRY_BITS)).astype(np.int32)
    code[segs] = NEG | inverse.astype(np.int32)
    code[timedep] = NEG | np.int32(SLOW)
    # block b (addresses b*256 .. b*256+255) starts inside the segment holding b*256
    first_block = (starts.astype(np.int64) + 255) >> 8
    counts = np.diff(np.append(first_block, 1 << 24))
    code24 = np.repeat(code[1:], counts).astype(np.int32)
    addrs = (unaligned[:, None] << np.uint32(8)) | np.arange(256, dtype=np.uint32)
    code8 = code[np.searchsorted(starts, addrs.reshape(-1), side="right")].astype(np.int32)
    code24[unaligned] = NEG | (len(answers.category) + np.arange(len(unaligned),
                                                                    dtype=np.int32))
    return Fast4(code24, code8, answers, len(unaligned), int((~heavy).sum()), ans_set,
                 ans_tor, sets)



def _answer_arrays(prefix: str, a: Answers) -> dict[str, npt.NDArray[Any]]:
    """The columns of ``a`` named ``<prefix>_<field>``."""
    return {f"{prefix}_{k}": getattr(a, k) for k in Answers.FIELDS}


def _answers_from(prefix: str, arrays: dict[str, npt.NDArray[Any]]) -> Answers:
    return Answers(**{k: arrays[f"{prefix}_{k}"] for k in Answers.FIELDS})


_OPTIONAL = ("source_set", "tor_fact", "sets")


def fast_arrays(fast4: Fast4 | None, fast6: Fast6) -> tuple[dict[str, npt.NDArray[Any]],
                                                              dict[str, Any]]:
    """``fast4`` and ``fast6`` as named arrays and a small JSON-able description, for a
    cache on disk (:func:`fast_from_arrays` rebuilds them)."""
    arrays: dict[str, npt.NDArray[Any]] = {
        "f6_hi_starts": fast6.hi_starts, "f6_seg": fast6.seg, "f6_ambiguous": fast6.ambiguous,
        **_answer_arrays("f6s", fast6.s),
    }
    meta: dict[str, Any] = {"fast4": fast4 is not None,
                            "f6_bits": fast6.source_set is not None}
    for k in _OPTIONAL:
        if getattr(fast6, k) is not None:
            arrays[f"f6_{k}"] = getattr(fast6, k)
    if fast4 is not None:
        arrays.update({"f4_code24": fast4.code24, "f4_code8": fast4.code8,
                       **_answer_arrays("f4a", fast4.answers)})
        meta.update(blocks=fast4.blocks, light=fast4.light,
                    f4_bits=fast4.source_set is not None)
        for k in _OPTIONAL:
            if getattr(fast4, k) is not None:
                arrays[f"f4_{k}"] = getattr(fast4, k)
    return arrays, meta


def fast_from_arrays(arrays: dict[str, npt.NDArray[Any]], meta: dict[str, Any]
                     ) -> tuple[Fast4 | None, Fast6]:
    """The tables :func:`fast_arrays` described.

    Raises:
        KeyError, TypeError, ValueError: an array or a field is missing or of another kind.
    """
    def optional(prefix: str, present: bool) -> dict[str, Any]:
        return {k: arrays[f"{prefix}_{k}"] if present else None for k in _OPTIONAL}

    fast6 = Fast6(arrays["f6_hi_starts"], arrays["f6_seg"], arrays["f6_ambiguous"],
                  _answers_from("f6s", arrays), **optional("f6", bool(meta["f6_bits"])))
    fast4 = None
    if meta["fast4"]:
        fast4 = Fast4(arrays["f4_code24"], arrays["f4_code8"], _answers_from("f4a", arrays),
                      int(meta["blocks"]), int(meta["light"]),
                      **optional("f4", bool(meta["f4_bits"])))
    return fast4, fast6
