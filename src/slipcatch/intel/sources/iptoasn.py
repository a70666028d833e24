"""iptoasn.com ``ip2asn`` TSV files: address ranges with their AS number, country and name.

::

    1.0.0.0<TAB>1.0.0.255<TAB>13335<TAB>US<TAB>CLOUDFLARENET - Cloudflare, Inc.

AS 0 marks space that is not routed: counted, no fact. The country is the AS's registration
country. The file carries no date: a date in its name (``...2020-05-07...``) makes it a
routing snapshot, valid ``routing.WINDOW`` either side; without one its facts are unbounded
and marked ``projected`` (docs/intel.md, "Time model"). Ranges must not overlap (the
format is a partition): a range that overlaps an earlier one is an ``overlap`` rejection.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from datetime import datetime
from pathlib import Path

from slipcatch.intel.addr import ip_to_int, range_text
from slipcatch.intel.records import FactRow, Loaded
from slipcatch.intel.sources.routing import WINDOW
from slipcatch.intel.sources.timeparse import date_in_name
from slipcatch.model import Fact, Rejection, SourceInfo

__all__ = ["read", "sniff"]

_LINE = re.compile(rb"(?m)^[0-9A-Fa-f:.]+\t[0-9A-Fa-f:.]+\t\d+\t[A-Za-z]{2,7}\t[^\t\r\n]*\r?$")
_CC = re.compile(r"^[A-Z]{2}$")
LICENCE = "iptoasn.com data: PDDL-1.0 (public domain)"


def sniff(head: bytes, name: str) -> float:
    """Lines of ``start<TAB>end<TAB>asn<TAB>cc<TAB>name``."""
    lines = [ln for ln in head.splitlines()[:100] if ln.strip()]
    if lines and sum(1 for ln in lines if _LINE.match(ln)) / len(lines) >= 0.9:
        return 0.9
    return 0.0


def read(path: Path, raw: bytes) -> Loaded:
    """Read an ip2asn TSV file (v4, v6 or combined)."""
    sha = hashlib.sha256(raw).hexdigest()
    text = raw.decode("utf-8", "replace")
    day = date_in_name(path.name)
    vfrom: datetime | None
    vto: datetime | None
    source = f"iptoasn:{path.name}"
    if day is not None:
        vfrom, vto, projected = day - WINDOW, day + WINDOW, False
        note = (f"iptoasn snapshot of {day.date().isoformat()}, applied {WINDOW.days} days "
                "either side")
    else:
        vfrom = vto = None
        projected = True
        note = "iptoasn snapshot of unknown date: projected to every date"
    out = Loaded()
    rows: list[tuple[int, int, int, str]] = []  # first, last, lineno, locator text
    records = unrouted = 0
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        records += 1
        loc = f"line {lineno}"
        fields = line.rstrip("\r").split("\t")
        if len(fields) != 5:
            out.rejections.append(Rejection(str(path), sha, loc, "bad-row",
                                            f"{len(fields)} fields, 5 expected"))
            continue
        start, end, asn_text, cc, name = (f.strip() for f in fields)
        try:
            a, b = ip_to_int(start), ip_to_int(end)
            if ipaddress.ip_address(start).version != ipaddress.ip_address(end).version or a > b:
                raise ValueError("inverted range or mixed families")
        except ValueError as exc:
            out.rejections.append(Rejection(str(path), sha, loc, "bad-range", str(exc)[:100]))
            continue
        if not asn_text.isdigit() or int(asn_text) >= 1 << 32:
            out.rejections.append(Rejection(str(path), sha, loc, "bad-asn", repr(asn_text)))
            continue
        rows.append((a, b, lineno, loc))
        if int(asn_text) == 0:
            unrouted += 1
            continue
        out.facts.append(FactRow(a, b, Fact(
            range=range_text(a, b), category=None, source=source,
            label=name or None, country=cc if _CC.match(cc) else None, asn=int(asn_text),
            valid_from=vfrom, valid_to=vto, note=note, projected=projected,
        )))
    # the format is a partition of the address space: an overlap means a broken file
    bad: set[int] = set()
    last_end = -1
    for a, b, lineno, loc in sorted(rows):
        if a <= last_end:
            bad.add(lineno)
            out.rejections.append(Rejection(str(path), sha, loc, "overlap",
                                            "range overlaps an earlier range"))
        last_end = max(last_end, b)
    if bad:
        keep = {(a, b) for a, b, lineno, _ in rows if lineno not in bad}
        out.facts = [r for r in out.facts if (r.first, r.last) in keep]
    out.sources.append(SourceInfo(
        name=source, kind="ip-asn", version=day.date().isoformat() if day else "undated",
        records=records, valid_from=vfrom, valid_to=vto, licence=LICENCE, sha256=sha,
    ))
    return out
