"""Routing snapshots: CAIDA RouteViews prefix2as files and pyasn IPASN files.

Both map announced prefixes to their origin AS at one moment::

    1.0.0.0<TAB>24<TAB>13335            CAIDA prefix2as (origin may be "A_B" or "A,B")
    175.45.176.0/24<TAB>131279          pyasn IPASN (";" comment header)

A routing table is evidence for its own date only, so each prefix becomes an ASN fact valid
:data:`WINDOW` either side of the snapshot date. The date is read from the pyasn header
(``; Original file : ...rib.20140513.0600...``) or the file name (``...20140513...``,
``...2014-05-13...``); an undated snapshot is refused (``IntelError``), since it could not
be placed in time. Nested prefixes are normal in routing and are all kept (the most specific
one gives the ASN); a prefix repeated with the same origin is an ``overlap`` rejection.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from pathlib import Path

from slipcatch.errors import IntelError
from slipcatch.intel.addr import parse_cidr, range_text
from slipcatch.intel.records import FactRow, Loaded
from slipcatch.intel.sources.timeparse import date_in_name
from slipcatch.model import Fact, Rejection, SourceInfo

__all__ = ["WINDOW", "read", "sniff_caida", "sniff_pyasn"]

#: How long either side of its date a routing snapshot vouches for a prefix's origin AS.
#: Prefix-origin pairs are mostly stable for months (AS131279's origination of
#: 175.45.176.0/22 was unchanged from 2010 to 2017), yet re-homing within a year is common;
#: half a year keeps a fact near its evidence. Load more snapshots for a longer span.
WINDOW = timedelta(days=183)
_PYASN_HEAD = re.compile(rb"^\s*;\s*IP-ASN32-DAT")
_PYASN_LINE = re.compile(rb"(?m)^[0-9A-Fa-f:.]+/\d{1,3}\t\d+\r?$")
_CAIDA_LINE = re.compile(rb"(?m)^[0-9A-Fa-f:.]+\t\d{1,3}\t[0-9_,{}]+\r?$")
_RIB_DATE = re.compile(r"(\d{8})\.?\d{0,4}")
LICENCE = {
    "pyasn": "pyasn data file (MIT); built from a RouteViews RIB (public data)",
    "caida-prefix2as": "CAIDA RouteViews Prefix-to-AS (CAIDA AUA)",
}


def sniff_pyasn(head: bytes, name: str) -> float:
    """A pyasn IPASN file: the ``; IP-ASN32-DAT`` header or ``prefix/len<TAB>asn`` lines."""
    if _PYASN_HEAD.match(head):
        return 1.0
    lines = [ln for ln in head.splitlines()[:100] if ln.strip() and not ln.startswith(b";")]
    if lines and sum(1 for ln in lines if _PYASN_LINE.match(ln)) / len(lines) >= 0.75:
        return 0.85
    return 0.0


def sniff_caida(head: bytes, name: str) -> float:
    """A CAIDA prefix2as file: ``prefix<TAB>length<TAB>origin`` lines."""
    lines = [ln for ln in head.splitlines()[:100] if ln.strip()]
    if lines and sum(1 for ln in lines if _CAIDA_LINE.match(ln)) / len(lines) >= 0.75:
        return 0.85
    return 0.0


def _snapshot_date(path: Path, text: str) -> datetime:
    for line in text.splitlines()[:20]:
        if line.startswith(";") and "original file" in line.lower():
            m = _RIB_DATE.search(line.split(":", 1)[-1])
            d = date_in_name(m.group(1)) if m else None
            if d:
                return d
    d = date_in_name(path.name)
    if d is None:
        raise IntelError(
            "routing snapshot without a date (put YYYYMMDD in the name, or keep the pyasn "
            "'; Original file' header): it cannot be placed in time",
            str(path),
        )
    return d


def read(path: Path, raw: bytes, fmt: str) -> Loaded:
    """Read a ``pyasn`` or ``caida-prefix2as`` snapshot into time-bounded ASN facts.

    Raises:
        IntelError: the snapshot has no date.
    """
    sha = hashlib.sha256(raw).hexdigest()
    text = raw.decode("utf-8", "replace")
    day = _snapshot_date(path, text)
    source = f"{fmt}:{path.name}"
    vfrom, vto = day - WINDOW, day + WINDOW
    note = (
        f"origin AS in a routing snapshot of {day.date().isoformat()}; applied "
        f"{WINDOW.days} days either side of it"
    )
    out = Loaded()
    seen: set[tuple[int, int, int]] = set()
    records = 0
    for lineno, line in enumerate(text.splitlines(), 1):
        body = line.strip()
        if not body or body.startswith((";", "#")):
            continue
        records += 1
        loc = f"line {lineno}"
        fields = body.split("\t")
        if fmt == "pyasn" and len(fields) == 2:
            cidr, origin = fields
        elif fmt == "caida-prefix2as" and len(fields) == 3:
            cidr, origin = f"{fields[0]}/{fields[1]}", fields[2]
        else:
            out.rejections.append(Rejection(str(path), sha, loc, "bad-row",
                                            f"{len(fields)} tab-separated fields"))
            continue
        try:
            first, last = parse_cidr(cidr)
        except ValueError as exc:
            reason = "host-bits" if "host bits" in str(exc) else "bad-cidr"
            out.rejections.append(Rejection(str(path), sha, loc, reason, repr(cidr[:60])))
            continue
        origins = [o for o in re.split(r"[_,{}]", origin) if o]
        if not origins or not all(o.isdigit() and int(o) < 1 << 32 for o in origins):
            out.rejections.append(Rejection(str(path), sha, loc, "bad-asn", repr(origin[:40])))
            continue
        multi = len(origins) > 1
        for o in dict.fromkeys(int(x) for x in origins):
            if (first, last, o) in seen:
                out.rejections.append(Rejection(str(path), sha, loc, "overlap",
                                                f"{cidr} AS{o} already listed"))
                continue
            seen.add((first, last, o))
            out.facts.append(FactRow(first, last, Fact(
                range=range_text(first, last), category=None, source=source, asn=o,
                valid_from=vfrom, valid_to=vto,
                note=note + ("; multi-origin prefix" if multi else ""),
            )))
    out.sources.append(SourceInfo(
        name=source, kind="routing", version=day.date().isoformat(), records=records,
        valid_from=vfrom, valid_to=vto, licence=LICENCE[fmt], sha256=sha,
    ))
    return out
