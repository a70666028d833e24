"""Address arithmetic shared by the intel loaders, the compiler and the lookup kernel.

Every address and range lives in one 128-bit space: IPv6 as is, IPv4 as the IPv4-mapped
IPv6 address (``::ffff:a.b.c.d``), the same convention as ``model.EVENT_SCHEMA``'s
``ip_hi``/``ip_lo`` columns. Ranges are inclusive ``[first, last]`` pairs of Python ints.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

__all__ = [
    "MAPPED_FIRST",
    "MAPPED_LAST",
    "NO_FROM",
    "NO_TO",
    "from_micros",
    "ip_to_int",
    "ips_to_arrays",
    "parse_cidr",
    "range_text",
    "to_micros",
]

MAPPED_FIRST = 0xFFFF << 32
MAPPED_LAST = MAPPED_FIRST + (1 << 32) - 1
ALL_ONES = (1 << 128) - 1

#: Sentinels for an unbounded validity interval, in microseconds since the epoch.
NO_FROM = int(np.iinfo(np.int64).min)
NO_TO = int(np.iinfo(np.int64).max)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ip_to_int(text: str) -> int:
    """The 128-bit (IPv4-mapped for IPv4) integer of an address.

    Raises:
        ValueError: the text is not an IPv4/IPv6 address, or carries an IPv6 zone id.
    """
    addr = ipaddress.ip_address(text.strip())
    if isinstance(addr, ipaddress.IPv4Address):
        return MAPPED_FIRST + int(addr)
    if addr.scope_id is not None:
        raise ValueError(f"zone id in address {text!r}")
    return int(addr)


def parse_cidr(text: str) -> tuple[int, int]:
    """Parse a CIDR (or a bare address) strictly into an inclusive 128-bit range.

    Raises:
        ValueError: not a network, or host bits are set (``10.0.0.1/8``): a range with host
            bits is refused rather than silently re-read as its network.
    """
    net = ipaddress.ip_network(text.strip(), strict=True)
    first, last = int(net.network_address), int(net.broadcast_address)
    if net.version == 4:
        return MAPPED_FIRST + first, MAPPED_FIRST + last
    return first, last


def _is_mapped(first: int, last: int) -> bool:
    return first >= MAPPED_FIRST and last <= MAPPED_LAST


def range_text(first: int, last: int) -> str:
    """Canonical text of a range: a CIDR when it is one prefix, else ``first-last``.

    Ranges inside the IPv4-mapped block are written as IPv4.
    """
    if _is_mapped(first, last):
        a: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv4Address(
            first - MAPPED_FIRST
        )
        b: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv4Address(
            last - MAPPED_FIRST
        )
        bits = 32
    else:
        a, b = ipaddress.IPv6Address(first), ipaddress.IPv6Address(last)
        bits = 128
    size = last - first + 1
    if size & (size - 1) == 0 and first % size == 0:
        return f"{a}/{bits - size.bit_length() + 1}"
    return f"{a}-{b}"


def ips_to_arrays(ips: Sequence[str]) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """Split address texts into ``(hi, lo)`` uint64 arrays (IPv4 mapped).

    Raises:
        ValueError: an element is not an address; the message names its index.
    """
    n = len(ips)
    hi = np.empty(n, dtype=np.uint64)
    lo = np.empty(n, dtype=np.uint64)
    mask = (1 << 64) - 1
    for i, text in enumerate(ips):
        try:
            v = ip_to_int(text)
        except (ValueError, AttributeError, TypeError) as exc:
            raise ValueError(f"ips[{i}]: not an IP address: {text!r}") from exc
        hi[i] = v >> 64
        lo[i] = v & mask
    return hi, lo


def to_micros(dt: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (naive times are taken as UTC)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(us: int) -> datetime | None:
    """Inverse of :func:`to_micros`; the unbounded sentinels give None."""
    if us in (NO_FROM, NO_TO):
        return None
    return _EPOCH + timedelta(microseconds=us)
