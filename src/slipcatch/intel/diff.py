"""What changed between two intel packs: their sources, and what chosen addresses were."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from slipcatch.intel.pack import IntelPack
from slipcatch.model import AddressFacts, Fact, SourceInfo, utc

__all__ = ["diff_packs"]

_FIELDS = ("category", "country", "asn", "as_org", "prefix", "actor", "projected")


def _source(s: SourceInfo) -> dict[str, Any]:
    return {"name": s.name, "kind": s.kind, "version": s.version, "records": s.records,
            "sha256": s.sha256}


def _fact_key(f: Fact) -> str:
    span = (
        f"{f.valid_from.isoformat() if f.valid_from else '-inf'}.."
        f"{f.valid_to.isoformat() if f.valid_to else 'inf'}"
    )
    cat = str(f.category) if f.category else "-"
    extra = ",".join(
        f"{k}={v}" for k, v in (("label", f.label), ("actor", f.actor), ("country", f.country),
                                ("asn", f.asn)) if v is not None
    )
    return f"{f.source} {cat} {f.range} [{span}] {extra}".rstrip()


def _value(a: AddressFacts, name: str) -> Any:
    v = getattr(a, name)
    return str(v) if name == "category" else v


def diff_packs(
    a: IntelPack, b: IntelPack, ips: Sequence[str] = (), at: datetime | None = None
) -> dict[str, Any]:
    """Source-level changes from ``a`` to ``b`` and, for each address in ``ips``, what it was
    at ``at`` in each pack where that differs (primary fields and facts added/removed).

    ``at`` is required when ``ips`` is given. The result is deterministic (sorted) and
    JSON-serialisable.

    Raises:
        ValueError: an element of ``ips`` is not an address, or ``ips`` without ``at``.
    """
    sa = {s.name: s for s in a.sources}
    sb = {s.name: s for s in b.sources}
    changed = []
    for name in sorted(sa.keys() & sb.keys()):
        src_a, src_b = _source(sa[name]), _source(sb[name])
        if src_a != src_b:
            changed.append({"name": name, "from": src_a, "to": src_b})
    out: dict[str, Any] = {
        "a": a.pack_id,
        "b": b.pack_id,
        "same": a.pack_id == b.pack_id,
        "sources": {
            "added": [_source(sb[n]) for n in sorted(sb.keys() - sa.keys())],
            "removed": [_source(sa[n]) for n in sorted(sa.keys() - sb.keys())],
            "changed": changed,
        },
        "actors": {
            "added": sorted({x.id for x in b.actors} - {x.id for x in a.actors}),
            "removed": sorted({x.id for x in a.actors} - {x.id for x in b.actors}),
        },
        "addresses": [],
    }
    if not ips:
        return out
    if at is None:
        raise ValueError("a time is needed to compare addresses")
    when = utc(at)
    ra = a.lookup(list(ips), [when] * len(ips))
    rb = b.lookup(list(ips), [when] * len(ips))
    for x, y in zip(ra, rb, strict=True):
        fields = {
            n: {"from": _value(x, n), "to": _value(y, n)}
            for n in _FIELDS if _value(x, n) != _value(y, n)
        }
        fx, fy = {_fact_key(f) for f in x.facts}, {_fact_key(f) for f in y.facts}
        out["addresses"].append({
            "ip": x.ip,
            "time": when.isoformat(),
            "changed": bool(fields or fx != fy),
            "fields": fields,
            "facts_added": sorted(fy - fx),
            "facts_removed": sorted(fx - fy),
        })
    return out
