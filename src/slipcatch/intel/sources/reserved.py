"""Special-purpose address blocks that no Internet host can originate traffic from.

The table is the subset of the IANA special-purpose registries that Python's ``ipaddress``
also knows (private, loopback, link-local, documentation, multicast, unspecified, shared
CGN space, benchmarking, reserved); tests check each block against ``ipaddress``.
"""

from __future__ import annotations

import hashlib

from slipcatch.intel.addr import parse_cidr, range_text
from slipcatch.intel.records import FactRow, Loaded
from slipcatch.model import Category, Fact, SourceInfo

__all__ = ["BLOCKS", "SOURCE_NAME", "load"]

SOURCE_NAME = "iana-special-purpose"
VERSION = "RFC 6890 registries as known to Python ipaddress (slipcatch table 1)"

#: (cidr, label) pairs.
BLOCKS: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "this network (unspecified)"),
    ("10.0.0.0/8", "private (RFC 1918)"),
    ("100.64.0.0/10", "shared address space (RFC 6598, CGN)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private (RFC 1918)"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation (TEST-NET-1)"),
    ("192.168.0.0/16", "private (RFC 1918)"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation (TEST-NET-2)"),
    ("203.0.113.0/24", "documentation (TEST-NET-3)"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("100::/64", "discard-only"),
    ("2001:db8::/32", "documentation"),
    ("fc00::/7", "unique local"),
    ("fe80::/10", "link-local"),
    ("ff00::/8", "multicast"),
)


def load() -> Loaded:
    """The special-purpose blocks as ``reserved`` facts (unbounded in time)."""
    out = Loaded()
    h = hashlib.sha256(VERSION.encode())
    for cidr, label in BLOCKS:
        h.update(f"{cidr}|{label}\n".encode())
        first, last = parse_cidr(cidr)
        out.facts.append(
            FactRow(
                first,
                last,
                Fact(
                    range=range_text(first, last),
                    category=Category.RESERVED,
                    source=SOURCE_NAME,
                    label=label,
                    note="special-purpose block: not an Internet source address",
                ),
            )
        )
    out.sources.append(
        SourceInfo(
            name=SOURCE_NAME,
            kind="reserved",
            version=VERSION,
            records=len(BLOCKS),
            licence="public facts (IANA registries)",
            sha256=h.hexdigest(),
        )
    )
    return out
