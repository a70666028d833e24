"""Hosting facts for the AS networks of large cloud and data-centre operators.

The geo source names each AS network's organisation (GeoLite2 ``autonomous_system_
organization``). For the operators below, every network of theirs is rentable compute or
serves traffic the operator originates, so it is cover: one ``hosting`` fact per network,
labelled with the provider. This is what makes ``8.8.8.8`` (AS15169 "GOOGLE", on MISP's
catch-all VPN list but on no provider list) hosting / Google rather than VPN.

The facts are as projected as their geo snapshot (marked ``projected``). Names are matched
exactly; networks of ISPs that merely share a word (``GOOGLE-FIBER``, ``AMAZONET ...``)
are deliberately not listed.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import numpy.typing as npt

from slipcatch.intel.addr import MAPPED_FIRST, range_text
from slipcatch.intel.records import FactRow, Loaded
from slipcatch.intel.sources.geoip2fast_data import GeoLayer, GeoTables
from slipcatch.model import Category, Fact, SourceInfo

__all__ = ["ORGS", "SOURCE_NAME", "load", "table_sha256"]

SOURCE_NAME = "slipcatch-hosting-orgs"
VERSION = "1"
_GOOGLE, _AWS, _MS = "Google", "Amazon AWS", "Microsoft"
#: GeoLite2 AS organisation name -> provider label.
ORGS: dict[str, str] = {
    "GOOGLE": _GOOGLE,
    "GOOGLE-CLOUD-PLATFORM": "Google Cloud",
    "GOOGLE CLOUD NETWORKING": "Google Cloud",
    "GOOGLE-2": _GOOGLE,
    "GOOGLE-PRIVATE-CLOUD": "Google Cloud",
    "AMAZON-02": _AWS,
    "AMAZON-AES": _AWS,
    "AMAZON-AS": "Amazon",
    "MICROSOFT-CORP-MSN-AS-BLOCK": _MS,
    "MICROSOFT-CORP-AS": _MS,
    "Shenzhen Tencent Computer Systems Company Limited": "Tencent Cloud",
    "Tencent Building, Kejizhongyi Avenue": "Tencent Cloud",
    "Alibaba US Technology Co., Ltd.": "Alibaba Cloud",
    "Alibaba Cloud Singapore Private Limited": "Alibaba Cloud",
    "OVH SAS": "OVH",
    "DIGITALOCEAN-ASN": "DigitalOcean",
    "AS-CHOOPA": "Vultr (Choopa)",
    "Akamai Connected Cloud": "Akamai Connected Cloud (Linode)",
    "ORACLE-BMC-31898": "Oracle Cloud",
    "Huawei Cloud Service data center": "Huawei Cloud",
    "HUAWEI CLOUDS": "Huawei Cloud",
    "Contabo GmbH": "Contabo",
    "Leaseweb Deutschland GmbH": "Leaseweb",
    "SOFTLAYER": "IBM Cloud (SoftLayer)",
}


def table_sha256() -> str:
    """Content hash of the table (it enters the pack id)."""
    h = hashlib.sha256(VERSION.encode())
    for org, label in sorted(ORGS.items()):
        h.update(f"{org}|{label}\n".encode())
    return h.hexdigest()


def _ints(keys: npt.NDArray[Any], v6: bool) -> list[int]:
    if not v6:
        return [MAPPED_FIRST + int(k) for k in keys]
    return [int.from_bytes(bytes(k).ljust(16, b"\x00"), "big") for k in keys]


def load(geo: GeoTables) -> Loaded:
    """One hosting fact per geo AS network whose organisation is in :data:`ORGS`."""
    out = Loaded()
    label_of = {i: ORGS[o] for i, o in enumerate(geo.orgs) if o in ORGS}
    org_name = {i: o for i, o in enumerate(geo.orgs) if o in ORGS}
    note = (
        f"AS organisation of a cloud/data-centre operator (GeoLite2 via geoip2fast, "
        f"{geo.snapshot}); projected to other dates"
    )
    layer: GeoLayer
    for layer, v6 in ((geo.asn4, False), (geo.asn6, True)):
        idx = np.flatnonzero(np.isin(layer.value, np.array(sorted(label_of), np.int32)))
        firsts = _ints(layer.first[idx], v6)
        lasts = _ints(layer.last[idx], v6)
        for i, a, b in zip(idx, firsts, lasts, strict=True):
            v = int(layer.value[i])
            out.facts.append(FactRow(a, b, Fact(
                range=range_text(a, b), category=Category.HOSTING, source=SOURCE_NAME,
                label=label_of[v], note=f"{org_name[v]}: {note}", projected=True,
            )))
    out.sources.append(SourceInfo(
        name=SOURCE_NAME, kind="hosting-orgs", version=f"{VERSION} (geo {geo.snapshot})",
        records=len(out.facts), licence="slipcatch table (Apache-2.0) over GeoLite2 AS names",
        sha256=table_sha256(),
    ))
    return out
