"""``slipcatch intel lookup CIDR``: what the pack knows about a whole prefix at a time.

The prefix's addresses are looked up in one vectorised call (every address of a prefix of up
to ``MAX_ADDRESSES``; beyond that that many addresses evenly spread over it, first and last
included), and every fact found is listed with the share of those addresses it covers, next
to the categories the addresses fall in.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from slipcatch.errors import UsageError

if TYPE_CHECKING:
    from slipcatch.intel import IntelPack

__all__ = ["MAX_ADDRESSES", "prefix_facts", "render_prefix"]

MAX_ADDRESSES = 1 << 16


def prefix_facts(pack: IntelPack, cidr: str, at: datetime) -> dict[str, Any]:
    """Facts and categories of the prefix ``cidr`` at ``at``, as a JSON-able dict.

    Raises:
        UsageError: ``cidr`` is not a network (host bits set count as not a network).
    """
    from slipcatch.intel import CATEGORY_ORDER
    from slipcatch.intel.addr import MAPPED_FIRST, to_micros

    try:
        net = ipaddress.ip_network(cidr.strip(), strict=True)
    except ValueError as exc:
        raise UsageError(f"not a CIDR prefix: {cidr!r} ({exc})") from exc
    size = net.num_addresses
    count = min(size, MAX_ADDRESSES)
    first = int(net.network_address) + (MAPPED_FIRST if net.version == 4 else 0)
    if count == size:
        offsets = [int(x) for x in range(count)]
    else:
        step = (size - 1) / (count - 1)
        offsets = sorted({round(k * step) for k in range(count)})
    values = [first + o for o in offsets]
    hi = np.asarray([v >> 64 for v in values], np.uint64)
    lo = np.asarray([v & ((1 << 64) - 1) for v in values], np.uint64)
    us = np.full(len(values), to_micros(at), np.int64)
    r = pack.lookup_arrays(hi, lo, us)
    cats = Counter(str(CATEGORY_ORDER[int(c)]) for c in r.category)
    fids, hits = np.unique(np.asarray(r.fact_ids, np.int64), return_counts=True)
    facts: list[dict[str, Any]] = []
    for fid, n in zip(fids, hits, strict=True):
        f = pack.fact(int(fid))
        facts.append({
            "range": f.range, "source": f.source,
            "category": str(f.category) if f.category else None,
            "label": f.label, "actor": f.actor, "country": f.country, "asn": f.asn,
            "valid_from": f.valid_from.isoformat() if f.valid_from else None,
            "valid_to": f.valid_to.isoformat() if f.valid_to else None,
            "covers": round(float(n) / len(values), 4),
        })
    facts.sort(key=lambda x: (-x["covers"], x["source"], x["range"]))
    return {
        "prefix": str(net), "time": at.isoformat(), "addresses": size,
        "looked_up": len(values),
        "categories": dict(sorted(cats.items(), key=lambda kv: (-kv[1], kv[0]))),
        "facts": facts,
    }


def render_prefix(d: dict[str, Any]) -> str:
    """Text for a person: the prefix, its categories, then one line per fact."""
    sampled = "" if d["looked_up"] == d["addresses"] else f", {d['looked_up']} looked up"
    cats = ", ".join(f"{k} {v}" for k, v in d["categories"].items())
    lines = [f"{d['prefix']} at {d['time']}: {d['addresses']} addresses{sampled}; {cats}"]
    for f in d["facts"]:
        said = [f["category"], f["range"], f["country"],
                f"AS{f['asn']}" if f["asn"] else None, f["label"],
                f"actor={f['actor']}" if f["actor"] else None]
        if f["valid_from"] or f["valid_to"]:
            said.append(f"valid {(f['valid_from'] or '…')[:10]} – {(f['valid_to'] or '…')[:10]}")
        lines.append(f"    {f['source']}: " + ", ".join(p for p in said if p)
                     + f" (covers {f['covers']:.0%})")
    return "\n".join(lines)
