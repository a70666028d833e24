"""Shipped AS numbers: an iptoasn ``ip2asn-v4`` subset (Google and Cloudflare ASes, 1,427
ranges) of 2020-05-07, so the default pack knows AS numbers where geoip2fast gives only AS
names (8.8.8.8 -> AS15169).

Source: iptoasn.com data (PDDL-1.0, public domain) as subset by jpastuszek/asn-db
(``ip2asn-v4.tsv`` @ 2d917052, MIT). Like the GeoLite2 snapshot, it is one snapshot applied to
every date: its facts are unbounded and ``projected``, with the snapshot date in the note, and
it does not count as dated routing coverage.
"""

from __future__ import annotations

import dataclasses
import hashlib
from importlib import resources
from pathlib import Path

from slipcatch.intel.records import Loaded
from slipcatch.intel.sources import iptoasn

__all__ = ["DATE", "SOURCE_NAME", "file_sha256", "load"]

SOURCE_NAME = "iptoasn-subset-2020-05-07"
DATE = "2020-05-07"
_FILE = "ip2asn-v4-google-cloudflare-subset.tsv"


def _raw() -> bytes:
    return resources.files("slipcatch.data").joinpath("asn").joinpath(_FILE).read_bytes()


def file_sha256() -> str:
    return hashlib.sha256(_raw()).hexdigest()


def load() -> Loaded:
    raw = _raw()
    got = iptoasn.read(Path(_FILE), raw)  # undated name: projected, unbounded
    note = (f"iptoasn snapshot of {DATE} (Google/Cloudflare subset); projected to every date")
    out = Loaded()
    out.rejections = got.rejections
    out.facts = [dataclasses.replace(r, fact=dataclasses.replace(r.fact, source=SOURCE_NAME,
                                                                   note=note))
                 for r in got.facts]
    out.sources = [dataclasses.replace(s, name=SOURCE_NAME, version=DATE,
                                       licence="iptoasn.com data PDDL-1.0; subset by "
                                       "jpastuszek/asn-db (MIT)")
                   for s in got.sources]
    return out
