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
    "addresses_from_arrow",
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


_CHUNK = 1 << 18  # rows parsed at once: the per-column state stays in cache


_DOT_LUT: npt.NDArray[np.uint16] | None = None


def _dot_lut() -> npt.NDArray[np.uint16]:
    """For each 16-bit mask of dot positions: ``p1 | p2 << 4 | p3 << 8`` when the mask holds
    exactly three dots that leave 1..3 characters before and between them, else 0xFFFF."""
    global _DOT_LUT
    if _DOT_LUT is None:
        m = np.arange(1 << 16, dtype=np.int64)
        bits = ((m[:, None] >> np.arange(16)) & 1).astype(bool)
        count = bits.sum(axis=1)
        pos = np.argsort(~bits, axis=1, kind="stable")[:, :3]  # first three set bits
        p1, p2, p3 = pos[:, 0], pos[:, 1], pos[:, 2]
        ok = (count == 3) & (p1 >= 1) & (p1 <= 3) & (p2 - p1 >= 2) & (p2 - p1 <= 4) \
            & (p3 - p2 >= 2) & (p3 - p2 <= 4)
        _DOT_LUT = np.where(ok, p1 | (p2 << 4) | (p3 << 8), 0xFFFF).astype(np.uint16)
    return _DOT_LUT


def _parse_v4_rows(win: npt.NDArray[np.uint8], length: npt.NDArray[np.int64]) -> tuple[
    npt.NDArray[np.uint32], npt.NDArray[np.bool_]
]:
    """Dotted quads from (n, 16) byte windows (row i starts at string i; bytes past its
    length belong to the next string). Strict like ``canonical_ip``: four 1-3 digit octets
    <= 255, no leading zeros, nothing else. The dot pattern gives every octet's start and
    length (a table lookup), then each octet is three gathers and some arithmetic."""
    n = len(length)
    inside = np.arange(16, dtype=np.int64)[None, :] < length[:, None]
    dots = np.packbits((win == 46) & inside, axis=1, bitorder="little").view(np.uint16)[:, 0]
    code = _dot_lut()[dots].astype(np.int64)
    bad = code == 0xFFFF
    p = [np.zeros(n, np.int64) - 1, code & 15, (code >> 4) & 15, (code >> 8) & 15]
    ends = [p[1], p[2], p[3], length]
    flat = win.reshape(-1)
    base = np.arange(n, dtype=np.int64) * 16
    val = np.zeros(n, np.uint32)
    for k in range(4):
        start = p[k] + 1
        size = ends[k] - start
        bad |= (size < 1) | (size > 3)
        idx = np.minimum(base + start, base + 13)
        d0 = flat[idx].astype(np.int16) - 48
        d1 = flat[idx + 1].astype(np.int16) - 48
        d2 = flat[idx + 2].astype(np.int16) - 48
        bad |= (d0 < 0) | (d0 > 9)
        bad |= (size >= 2) & ((d1 < 0) | (d1 > 9) | (d0 == 0))  # "01" is refused
        bad |= (size == 3) & ((d2 < 0) | (d2 > 9))
        o = np.where(size == 1, d0, np.where(size == 2, d0 * 10 + d1, d0 * 100 + d1 * 10 + d2))
        bad |= o > 255
        val |= (o.astype(np.uint32) & np.uint32(255)) << np.uint32(8 * (3 - k))
    return val, ~bad


def addresses_from_arrow(array: object) -> tuple[
    npt.NDArray[np.uint64], npt.NDArray[np.uint64], npt.NDArray[np.bool_]
]:
    """Address texts of an Arrow string array (or chunked array) as ``(hi, lo, valid)``.

    IPv4 dotted quads are parsed with NumPy byte arithmetic on the Arrow buffers (no Python
    object per row); anything else (IPv6, surrounding spaces) falls back to ``ip_to_int``
    row by row. IPv4 comes out IPv4-mapped (``hi == 0``, ``lo == 0xffff << 32 | v4``), as
    in ``model.EVENT_SCHEMA``. Nulls and non-addresses give ``valid == False`` and 0, 0.
    Strict like ``model.canonical_ip``: leading zeros in an octet are refused.

    Raises:
        TypeError: the array is not of an Arrow string type.
    """
    import pyarrow as pa

    arr = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    if not isinstance(arr, pa.Array) or not (
        pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)
    ):
        raise TypeError("addresses_from_arrow needs an Arrow string array")
    n = len(arr)
    hi = np.zeros(n, np.uint64)
    lo = np.zeros(n, np.uint64)
    valid = np.zeros(n, np.bool_)
    if n == 0:
        return hi, lo, valid
    bufs = arr.buffers()
    off_type = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(bufs[1], off_type, n + 1, arr.offset * np.dtype(off_type).itemsize)
    data = (np.frombuffer(bufs[2], np.uint8) if bufs[2] is not None
            else np.zeros(0, np.uint8))
    present = np.ones(n, np.bool_) if arr.null_count == 0 else ~np.asarray(
        arr.is_null().to_numpy(zero_copy_only=False), np.bool_)
    data = np.concatenate([data, np.zeros(16, np.uint8)])  # reads past the end see zeros
    windows = np.lib.stride_tricks.sliding_window_view(data, 16)
    for s in range(0, n, _CHUNK):
        e = min(n, s + _CHUNK)
        start = offsets[s:e].astype(np.int64)
        length = offsets[s + 1:e + 1].astype(np.int64) - start
        cand = present[s:e] & (length >= 7) & (length <= 15)
        win = windows[np.minimum(start, len(data) - 16)]  # (rows, 16), one copy
        v4, ok = _parse_v4_rows(win, length)
        ok &= cand
        lo[s:e][ok] = v4[ok].astype(np.uint64) | np.uint64(MAPPED_FIRST)
        valid[s:e][ok] = True
    rest = np.flatnonzero(~valid & present)
    if len(rest):
        texts = arr.take(pa.array(rest)).to_pylist()
        mask = (1 << 64) - 1
        for i, text in zip(rest, texts, strict=True):
            try:
                v = ip_to_int(text)
            except ValueError:
                continue
            hi[i], lo[i], valid[i] = v >> 64, v & mask, True
    return hi, lo, valid
