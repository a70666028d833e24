"""RIR delegated(-extended) statistics: who an address block was delegated to, since when.

Format (the NRO's "RIR statistics exchange format", shared by AFRINIC, APNIC, ARIN, LACNIC
and RIPE NCC)::

    2|apnic|20260627|188291|19830613|20260626|+1000        version line
    apnic|*|ipv4|*|61248|summary                             summary lines
    apnic|KP|ipv4|175.45.176.0|1024|20091221|allocated|A9183010
    registry|cc|type|start|value|date|status[|opaque-id[|extensions...]]

For ``ipv4`` the value is a number of addresses (not always a power of two, so a record can
be a range that is no single prefix); for ``ipv6`` it is a prefix length; ``asn`` records
carry no address and are counted only. ``allocated``/``assigned`` records become country
facts, valid from their date (the allocation or assignment date) with no end: the file says
the delegation still holds on the file's own date, and the note says so. ``available`` and
``reserved`` records (country empty or ``ZZ``) give no fact.

A record that cannot be read is a counted rejection with its line number.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from datetime import UTC, datetime
from pathlib import Path

from slipcatch.errors import IntelError
from slipcatch.intel.addr import MAPPED_FIRST, range_text
from slipcatch.intel.records import FactRow, Loaded
from slipcatch.model import Fact, Rejection, SourceInfo

__all__ = ["REGISTRIES", "read", "sniff"]

REGISTRIES = ("afrinic", "apnic", "arin", "iana", "lacnic", "ripencc")
_VERSION = re.compile(
    rb"(?m)^(\d(?:\.\d+)?)\|(afrinic|apnic|arin|iana|lacnic|ripencc)\|(\d{8})\|\d+\|"
)
_RECORD = re.compile(
    rb"(?m)^(afrinic|apnic|arin|iana|lacnic|ripencc)\|[A-Z*]{0,2}\|(ipv4|ipv6|asn)\|"
)
_CC = re.compile(r"^[A-Z]{2}$")
LICENCE = {
    "apnic": "APNIC: free to use on condition APNIC is not held responsible (see file header)",
    "afrinic": "AFRINIC public statistics",
    "arin": "ARIN public statistics",
    "lacnic": "LACNIC public statistics",
    "ripencc": "RIPE NCC public statistics",
    "iana": "IANA public registry",
}


def sniff(head: bytes, name: str) -> float:
    """A version line ``2|apnic|YYYYMMDD|...`` or records ``apnic|CC|ipv4|...``."""
    if _VERSION.search(head):
        return 0.95
    if len(_RECORD.findall(head)) >= 3:
        return 0.8
    return 0.0


def _day(text: str) -> datetime | None:
    if not text or text == "00000000":
        return None
    return datetime.strptime(text, "%Y%m%d").replace(tzinfo=UTC)


def read(path: Path, raw: bytes) -> Loaded:
    """Read one delegated(-extended) statistics file.

    Raises:
        IntelError: the version line names no date and none is in the file name (the facts
            could not be placed in time), or the file is not text.
    """
    sha = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IntelError(f"not UTF-8 text: {exc}", str(path)) from exc
    out = Loaded()
    registry: str | None = None
    file_date: datetime | None = None
    records = 0
    counts = {"ipv4": 0, "ipv6": 0, "asn": 0}

    def reject(lineno: int, reason: str, detail: str) -> None:
        out.rejections.append(Rejection(str(path), sha, f"line {lineno}", reason, detail[:120]))

    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split("|")
        if registry is None and len(parts) >= 3 and parts[1] in REGISTRIES \
                and re.fullmatch(r"\d(\.\d+)?", parts[0]):
            registry = parts[1]
            try:
                file_date = _day(parts[2]) or _day(parts[5] if len(parts) > 5 else "")
            except ValueError:
                file_date = None
            continue
        if len(parts) >= 6 and parts[5] == "summary":
            continue
        records += 1
        if len(parts) < 7:
            reject(lineno, "bad-row", f"{len(parts)} fields, at least 7 expected")
            continue
        reg, cc, kind, start, value, date, status = parts[:7]
        if kind not in counts:
            reject(lineno, "bad-line", f"unknown record type {kind!r}")
            continue
        counts[kind] += 1
        if kind == "asn" or status not in ("allocated", "assigned"):
            continue  # AS numbers and free/reserved space say nothing about an address
        if not _CC.match(cc) or cc == "ZZ":
            reject(lineno, "bad-country", f"country {cc!r} on a {status} record")
            continue
        try:
            since = _day(date)
        except ValueError:
            reject(lineno, "bad-time", f"date {date!r}")
            continue
        try:
            if kind == "ipv4":
                first4 = int(ipaddress.IPv4Address(start))
                count = int(value)
                if count < 1 or first4 + count > 1 << 32:
                    raise ValueError("count leaves IPv4")
                first, last = MAPPED_FIRST + first4, MAPPED_FIRST + first4 + count - 1
            else:
                net = ipaddress.IPv6Network(f"{start}/{int(value)}", strict=True)
                first, last = int(net.network_address), int(net.broadcast_address)
        except ValueError as exc:
            reason = "host-bits" if "host bits" in str(exc) else "bad-range"
            reject(lineno, reason, f"{start}|{value}: {exc}")
            continue
        asof = file_date.date().isoformat() if file_date else "the file's date"
        out.facts.append(FactRow(first, last, Fact(
            range=range_text(first, last),
            category=None,
            source=f"rir:{path.name}",
            country=cc,
            valid_from=since,
            note=(
                f"{reg} delegation: {status} to {cc} on {date or 'an unknown date'}, "
                f"still so as of {asof}; later transfers are not known to this source"
            ),
        )))
    if registry is None:
        raise IntelError("no version line (N|registry|YYYYMMDD|...) found", str(path))
    out.sources.append(SourceInfo(
        name=f"rir:{path.name}",
        kind="rir-delegated",
        version=f"{registry} {file_date.date().isoformat() if file_date else 'undated'}",
        records=records,
        valid_from=min((r.fact.valid_from for r in out.facts if r.fact.valid_from), default=None),
        valid_to=None,
        licence=LICENCE.get(registry, ""),
        sha256=sha,
    ))
    return out
