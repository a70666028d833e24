"""Facts from a hand-written table of AS-organisation names (shared by the hosting and the
access-ISP tables): one fact per geo AS network whose organisation the table names."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from slipcatch.intel.addr import MAPPED_FIRST, range_text
from slipcatch.intel.records import FactRow, Loaded
from slipcatch.intel.sources.geoip2fast_data import GeoLayer, GeoTables
from slipcatch.model import Category, Fact, SourceInfo

__all__ = ["org_facts", "table_sha256"]


def table_sha256(version: str, orgs: Mapping[str, str]) -> str:
    """Content hash of a table (it enters the pack id)."""
    h = hashlib.sha256(version.encode())
    for org, value in sorted(orgs.items()):
        h.update(f"{org}|{value}\n".encode())
    return h.hexdigest()


def _ints(keys: npt.NDArray[Any], v6: bool) -> list[int]:
    if not v6:
        return [MAPPED_FIRST + int(k) for k in keys]
    return [int.from_bytes(bytes(k).ljust(16, b"\x00"), "big") for k in keys]


def org_facts(
    geo: GeoTables,
    labels: Mapping[str, str],
    *,
    category: Category,
    note: str,
    source: str,
    kind: str,
    version: str,
    table_hash: str,
) -> Loaded:
    """One ``category`` fact per geo AS network whose organisation is a key of ``labels``
    (labelled with its value; the note is prefixed with the organisation), marked
    ``projected`` like the geo snapshot it rests on. Names missing from ``geo`` yield nothing."""
    out = Loaded()
    org_name = {i: o for i, o in enumerate(geo.orgs) if o in labels}
    layer: GeoLayer
    for layer, v6 in ((geo.asn4, False), (geo.asn6, True)):
        idx = np.flatnonzero(np.isin(layer.value, np.array(sorted(org_name), np.int32)))
        firsts = _ints(layer.first[idx], v6)
        lasts = _ints(layer.last[idx], v6)
        for i, a, b in zip(idx, firsts, lasts, strict=True):
            org = org_name[int(layer.value[i])]
            out.facts.append(FactRow(a, b, Fact(
                range=range_text(a, b), category=category, source=source,
                label=labels[org], note=f"{org}: {note}", projected=True,
            )))
    out.sources.append(SourceInfo(
        name=source, kind=kind, version=f"{version} (geo {geo.snapshot})",
        records=len(out.facts), licence="slipcatch table (Apache-2.0) over GeoLite2 AS names",
        sha256=table_hash,
    ))
    return out
