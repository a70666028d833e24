"""The shipped, dated Tor exit history: a default-pack layer and its three-way answer.

``data/tor_history.npz`` is derived by ``tools/build_tor_history.py`` from a merged archive of
public exit lists (2014-12 .. 2026-08; provenance in docs/intel.md). It enters a pack twice:

* as ``tor`` facts of the fact table (one per interval, valid from ``first_seen - 24 h`` to
  ``last_seen + 24 h``, the archive's interval-join tolerance), so the category, the facts
  and the fast paths of the lookup kernel treat it like any other time-bounded source;
* as the arrays of :class:`TorIndex` (``th_*`` in the pack), which answer, vectorised, the
  three-way question per (address, time):

  ``LISTED`` (0)      inside an interval, with the tolerance;
  ``NOT_LISTED`` (1)  not listed, and the time lies on a snapshot day or inside a gap of at
                      most ``MAX_GAP_DAYS`` between snapshot days of a source carrying the
                      address family (the largest gap rule of the archive, 72 h);
  ``NO_DATA`` (2)     not listed, and no snapshot near enough to say.

  With the signed number of calendar days from the time to the nearest interval that lists
  the address (positive: listed later), when the address is not ``LISTED``.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from slipcatch.errors import IntelError
from slipcatch.intel.addr import MAPPED_FIRST
from slipcatch.intel.index import (
    CATEGORY_ORDER,
    FactTable,
    key16,
    precedence_rank,
    priorities,
)
from slipcatch.model import Category, SourceInfo

__all__ = [
    "LISTED",
    "MAX_GAP_DAYS",
    "NOT_LISTED",
    "NO_DATA",
    "SOURCE_NAME",
    "STATUS_TEXT",
    "TOLERANCE_US",
    "TorIndex",
    "file_sha256",
    "load",
]

SOURCE_NAME = "tor-exit-history"
LISTED, NOT_LISTED, NO_DATA = 0, 1, 2
STATUS_TEXT = ("listed", "not-listed", "no-data")
NO_DAYS = np.iinfo(np.int32).min  # "no interval lists the address"
DAY_US = 86_400_000_000
TOLERANCE_US = DAY_US  # the archive joins intervals that lie within 24 h of each other
MAX_GAP_DAYS = 3  # the largest gap rule of a source (X4BNet, ~72 h)
LICENCE = ("derived from public exit lists: SecOps-Institute (MIT), X4BNet (none stated), "
           "doodad-labs (GPL-3.0), idleadmin (Apache-2.0), firehol forks, ET Open (BSD/MIT); "
           "see docs/intel.md")
_FILE = "tor_history.npz"


def _raw() -> bytes:
    try:
        return resources.files("slipcatch.data").joinpath(_FILE).read_bytes()
    except OSError as exc:  # pragma: no cover - a broken installation
        raise IntelError(f"shipped Tor history missing: {exc}", _FILE) from exc


def file_sha256() -> str:
    return hashlib.sha256(_raw()).hexdigest()


@dataclass
class Loaded:
    table_rows: dict[str, npt.NDArray[Any]]  # th_* arrays for the pack
    meta: dict[str, Any]
    info: SourceInfo


def load() -> Loaded:
    """The shipped history as pack arrays (``th_*``) and its source description."""
    raw = _raw()
    with np.load(io.BytesIO(raw), allow_pickle=False) as z:
        a = {k: z[k] for k in z.files}
    meta = json.loads(bytes(a.pop("meta")).decode())
    v4_lo = a["v4_ip"].astype(np.uint64) + np.uint64(MAPPED_FIRST)
    hi = np.concatenate([np.zeros(len(v4_lo), np.uint64), a["v6_hi"]])
    lo = np.concatenate([v4_lo, a["v6_lo"]])
    first = np.concatenate([a["v4_first"], a["v6_first"]]) * 1_000_000
    last = np.concatenate([a["v4_last"], a["v6_last"]]) * 1_000_000
    src = np.concatenate([a["v4_src"], a["v6_src"]]).astype(np.int16)
    days4, days6 = a["days4"], a["days6"]
    rows = {"th_hi": hi, "th_lo": lo, "th_first": first, "th_last": last, "th_src": src,
            "th_days4": days4, "th_days6": days6}
    d0 = datetime.fromtimestamp(int(days4[0]) * 86400, UTC)
    d1 = datetime.fromtimestamp((int(days4[-1]) + 1) * 86400, UTC)
    info = SourceInfo(name=SOURCE_NAME, kind="tor-history", version=meta["input_sha256"][:12],
                      records=int(meta["intervals"]), valid_from=d0, valid_to=d1,
                      licence=LICENCE, sha256=hashlib.sha256(raw).hexdigest())
    return Loaded(rows, meta, info)


def fact_table(th: dict[str, npt.NDArray[Any]], source_names: list[str],
               countries: list[str]) -> FactTable:
    """One ``tor`` fact per interval, built from arrays (no Python object per fact)."""
    del countries  # the facts carry no country
    n = len(th["th_hi"])
    hi, lo = th["th_hi"], th["th_lo"]
    v4 = hi == 0
    # string table: source, label, one note per source combination, one range per address
    strings = [SOURCE_NAME, "Tor exit (dated exit-list history)"]
    notes = [f"listed by {s.replace(';', ', ')} (first..last snapshot ± 24 h)"
             for s in source_names]
    strings += notes
    keys = key16(hi, lo)
    uniq, inv = np.unique(keys, return_inverse=True)
    uh, ul = hi[np.searchsorted(keys, uniq)], lo[np.searchsorted(keys, uniq)]
    texts = []
    import ipaddress
    for h, low in zip(uh.tolist(), ul.tolist(), strict=True):
        if h == 0 and (low >> 32) == 0xFFFF:
            texts.append(f"{ipaddress.IPv4Address(low & 0xFFFFFFFF)}/32")
        else:
            texts.append(f"{ipaddress.IPv6Address((h << 64) | low)}/128")
    base_rng = len(strings)
    strings += texts
    del v4
    cat = np.full(n, CATEGORY_ORDER.index(Category.TOR), np.int8)
    rank = np.full(n, precedence_rank(int(cat[0]) if n else 1, False), np.int8)
    cols: dict[str, Any] = {
        "first_hi": hi.copy(), "first_lo": lo.copy(), "last_hi": hi.copy(), "last_lo": lo.copy(),
        "cat": cat,
        "vfrom": th["th_first"] - TOLERANCE_US,
        "vto": th["th_last"] + TOLERANCE_US + 1,
        "asn": np.full(n, -1, np.int64), "actor": np.full(n, -1, np.int32),
        "country": np.full(n, -1, np.int32),
        "source": np.zeros(n, np.int32), "label": np.ones(n, np.int32),
        "note": (th["th_src"].astype(np.int32) + 2),
        "rng": (inv.astype(np.int32) + base_rng),
        "excl": np.full(n, np.nan), "rank": rank, "proj": np.zeros(n, np.bool_),
    }
    cols["prio"] = priorities(cols["rank"], cols["first_hi"], cols["first_lo"],
                              cols["last_hi"], cols["last_lo"])
    return FactTable(**cols, strings=strings, actor_ids=[])


def _covered(days: npt.NDArray[np.int32]) -> tuple[int, npt.NDArray[np.bool_]]:
    """(first day, per-day flag): the day is a snapshot day or lies in a gap of at most
    ``MAX_GAP_DAYS`` between snapshot days."""
    if len(days) == 0:
        return 0, np.zeros(0, np.bool_)
    d0 = int(days[0])
    flags = np.zeros(int(days[-1]) - d0 + 1, np.bool_)
    flags[days - d0] = True
    gaps = np.diff(days)
    for start, gap in zip(days[:-1][(gaps > 1) & (gaps <= MAX_GAP_DAYS)].tolist(),
                          gaps[(gaps > 1) & (gaps <= MAX_GAP_DAYS)].tolist(), strict=True):
        flags[start - d0:start - d0 + gap] = True
    return d0, flags


class TorIndex:
    """Vectorised three-way Tor answers over the ``th_*`` arrays of a pack."""

    def __init__(self, th: dict[str, npt.NDArray[Any]],
                 extra_days: npt.NDArray[np.int32] | None = None):
        """``extra_days``: snapshot days of other Tor sources in the pack (dated exit lists
        given with ``--intel``); they count as coverage for both families."""
        self.keys = key16(th["th_hi"], th["th_lo"])  # sorted by address, then first
        # The keys with a zero high half (every IPv4 address) lead the order; their low
        # halves, as integers, answer most queries without comparing 16-byte strings: each
        # distinct low half once (``low``) with where its keys start (``low_start``), and a
        # bit per IPv4 /24 holding any of them, so most IPv4 queries end at one bit test.
        n_low = int(np.searchsorted(th["th_hi"], np.uint64(1)))
        self.low, self.low_start = np.unique(
            np.asarray(th["th_lo"][:n_low], np.uint64), return_index=True)
        self.low_start = np.append(self.low_start, n_low).astype(np.intp)
        v4 = self.low[(self.low >> np.uint64(32)) == np.uint64(0xFFFF)]
        self.v4_blocks = np.zeros(1 << 24, np.bool_)
        self.v4_blocks[((v4 & np.uint64(0xFFFF_FFFF)) >> np.uint64(8)).astype(np.intp)] = True
        self.first = th["th_first"]
        self.last = th["th_last"]
        extra = np.zeros(0, np.int32) if extra_days is None else extra_days.astype(np.int32)
        self.days4 = np.unique(np.concatenate([th["th_days4"], extra])).astype(np.int32)
        self.days6 = np.unique(np.concatenate([th["th_days6"], extra])).astype(np.int32)
        self.d4 = _covered(self.days4)
        self.d6 = _covered(self.days6)

    def coverage(self) -> tuple[datetime | None, datetime | None]:
        if len(self.days4) == 0:
            return None, None
        return (datetime.fromtimestamp(int(self.days4[0]) * 86400, UTC),
                datetime.fromtimestamp((int(self.days4[-1]) + 1) * 86400, UTC))

    def _bounds(self, hi: npt.NDArray[np.uint64], lo: npt.NDArray[np.uint64],
                ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """The range of the keys equal to each query: (left, right) as ``searchsorted``'s
        where the query has keys; an empty range (left = right) where it has none."""
        hi = np.asarray(hi, np.uint64)
        lo = np.asarray(lo, np.uint64)
        zero = hi == 0
        left = np.zeros(len(hi), np.intp)
        right = np.zeros(len(hi), np.intp)
        is4 = zero & ((lo >> np.uint64(32)) == np.uint64(0xFFFF))
        block = ((lo & np.uint64(0xFFFF_FFFF)) >> np.uint64(8)).astype(np.intp)
        # IPv4 outside every listed /24 has no key (left = right = 0 is such an answer: an
        # empty range), the other zero-high queries are searched among the distinct halves
        ask = np.flatnonzero(zero & ~(is4 & ~self.v4_blocks[block]))
        if len(ask):
            q = lo[ask]
            pos = np.searchsorted(self.low, q)
            found = pos < len(self.low)
            found[found] = self.low[pos[found]] == q[found]
            left[ask] = self.low_start[pos]
            right[ask] = np.where(found, self.low_start[np.minimum(pos + 1, len(self.low))],
                                  left[ask])
        rest = np.flatnonzero(~zero)
        if len(rest):
            q = key16(hi[rest], lo[rest])
            left[rest] = np.searchsorted(self.keys, q, side="left")
            right[rest] = np.searchsorted(self.keys, q, side="right")
        return left, right

    def status(
        self, hi: npt.NDArray[np.uint64], lo: npt.NDArray[np.uint64],
        times_us: npt.NDArray[np.int64],
    ) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int32], npt.NDArray[np.intp]]:
        """(status, nearest listing in signed days or ``NO_DAYS``, interval or -1) per query."""
        n = len(hi)
        t = np.asarray(times_us, np.int64)
        out = np.full(n, NO_DATA, np.int8)
        near = np.full(n, NO_DAYS, np.int32)
        which = np.full(n, -1, np.intp)
        # coverage by day, per family
        day = t // DAY_US
        is4 = (hi == 0) & ((lo >> np.uint64(32)) == np.uint64(0xFFFF))
        for fam, (d0, flags) in ((is4, self.d4), (~is4, self.d6)):
            rel = day[fam] - d0
            ok = (rel >= 0) & (rel < len(flags))
            cov = np.zeros(len(rel), np.bool_)
            cov[ok] = flags[rel[ok]]
            out[np.flatnonzero(fam)[cov]] = NOT_LISTED
        # addresses with any interval
        left, right = self._bounds(hi, lo)
        has = np.flatnonzero(right > left)
        if len(has) == 0:
            return out, near, which
        lf, rt, th = left[has], right[has], t[has]
        # per query, the last interval starting at or before t + tolerance: a small loop over
        # the (few) intervals of one address, vectorised across queries
        best = np.full(len(has), -1, np.intp)
        best_gap = np.full(len(has), np.iinfo(np.int64).max, np.int64)
        best_sign = np.zeros(len(has), np.int64)
        width = int((rt - lf).max())
        for k in range(width):
            idx = lf + k
            live = idx < rt
            i = np.where(live, idx, lf)
            f, la = self.first[i], self.last[i]
            inside = live & (th >= f - TOLERANCE_US) & (th <= la + TOLERANCE_US)
            newly = inside & (best_gap > 0)
            best[newly], best_gap[newly], best_sign[newly] = i[newly], 0, 0
            before = th < f
            gap = np.where(before, f - th, th - la)
            closer = live & ~inside & (gap < best_gap)
            best[closer], best_gap[closer] = i[closer], gap[closer]
            best_sign[closer] = np.where(before[closer], 1, -1)
        pos = has
        listed = best_gap == 0
        out[pos[listed]] = LISTED
        which[pos] = best
        rest = ~listed
        b = best[rest]
        anchor = np.where(best_sign[rest] > 0, self.first[b], self.last[b])
        near[pos[rest]] = (anchor // DAY_US - th[rest] // DAY_US).astype(np.int32)
        return out, near, which
