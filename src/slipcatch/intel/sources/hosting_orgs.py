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

from slipcatch.intel.records import Loaded
from slipcatch.intel.sources import _org_tables
from slipcatch.intel.sources.geoip2fast_data import GeoTables
from slipcatch.model import Category

__all__ = ["ORGS", "SOURCE_NAME", "load", "table_sha256"]

SOURCE_NAME = "slipcatch-hosting-orgs"
VERSION = "2"
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
    # data-centre operators whose ranges MISP's catch-all vpn-ipv4 list also holds: their own
    # AS names make them hosting, not vpn (issue 14)
    "Hetzner Online GmbH": "Hetzner",
    "PT. Wowrack Cepat Teknologi Nusantara": "Wowrack",
    "CENTURYLINK-LEGACY-SAVVIS": "Savvis (CenturyLink/Lumen data centres)",
}


def table_sha256() -> str:
    """Content hash of the table (it enters the pack id)."""
    return _org_tables.table_sha256(VERSION, ORGS)


def load(geo: GeoTables) -> Loaded:
    """One hosting fact per geo AS network whose organisation is in :data:`ORGS`."""
    note = (
        f"AS organisation of a cloud/data-centre operator (GeoLite2 via geoip2fast, "
        f"{geo.snapshot}); projected to other dates"
    )
    return _org_tables.org_facts(
        geo,
        ORGS,
        category=Category.HOSTING,
        note=note,
        source=SOURCE_NAME,
        kind="hosting-orgs",
        version=VERSION,
        table_hash=table_sha256(),
    )
