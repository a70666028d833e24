"""Address arithmetic shared by the intel loaders, the compiler and the lookup kernel.

Every address and range lives in one 128-bit space: IPv6 as is, IPv4 as the IPv4-mapped
IPv6 address (``::ffff:a.b.c.d``), split for the vectorised paths into ``hi``/``lo`` uint64
halves. Ranges are inclusive ``[first, last]`` pairs of Python ints.
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
    "lookup_address",
    "parse_cidr",
    "range_text",
    "to_micros",
]

MAPPED_FIRST = 0xFFFF << 32
MAPPED_LAST = MAPPED_FIRST + (1 << 32) - 1

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


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def lookup_address(ip: str) -> str:
    """The address to look ``ip`` up as: the IPv4 address an IPv6 form carries — NAT64
    (``64:ff9b::/96``, RFC 6052), 6to4 (``2002::/16``, RFC 3056) or IPv4-compatible
    (``::a.b.c.d``, not ``::`` or ``::1``) — else ``ip`` itself. The event keeps the text it was
    seen with (``Event.src_ip``); only the intel lookup uses the IPv4 address.
    """
    if ":" not in ip:
        return ip
    try:
        addr = ipaddress.IPv6Address(ip)
    except ValueError:
        return ip
    if addr in _NAT64 or (addr in _IPV4_COMPATIBLE and int(addr) > 1):
        return str(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
    if addr.sixtofour is not None:
        return str(addr.sixtofour)
    return ip


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
_PAD = 8  # zero bytes before the data (the first octet's 3-byte read may start 2 early)


def _octet_lut() -> npt.NDArray[np.int8]:
    """For each 16-bit mask of dot positions, per octet: where its 3-byte read starts
    (its end - 3; columns 0-3) and its size (columns 4-7); the last octet's end and size
    get the row length added. A mask that is not exactly three dots leaving 1..3 characters
    before and between them gets size 0 for the first octet (so the row is refused)."""
    m = np.arange(1 << 16, dtype=np.int64)
    bits = ((m[:, None] >> np.arange(16)) & 1).astype(bool)
    count = bits.sum(axis=1)
    pos = np.argsort(~bits, axis=1, kind="stable")[:, :3]  # first three set bits
    p1, p2, p3 = pos[:, 0], pos[:, 1], pos[:, 2]
    ok = (count == 3) & (p1 >= 1) & (p1 <= 3) & (p2 - p1 >= 2) & (p2 - p1 <= 4) \
        & (p3 - p2 >= 2) & (p3 - p2 <= 4)
    p1, p2, p3 = np.where(ok, p1, 1), np.where(ok, p2, 3), np.where(ok, p3, 5)
    lut = np.empty((1 << 16, 8), np.int8)
    lut[:, 0], lut[:, 1], lut[:, 2], lut[:, 3] = p1 - 3, p2 - 3, p3 - 3, -3
    lut[:, 4], lut[:, 5], lut[:, 6], lut[:, 7] = np.where(ok, p1, 0), p2 - p1 - 1, \
        p3 - p2 - 1, -p3 - 1
    return lut


_LUT: npt.NDArray[np.int8] | None = None
_LENMASK = ((1 << np.arange(16, dtype=np.int64)) - 1).astype(np.uint16)  # bytes < length
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_DOTS8 = np.uint64(0x2E2E2E2E2E2E2E2E)
_MOVEMASK = np.uint64(0x0102040810204080)  # gathers bit 8i to bit 56+i


def _dot_mask(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """8-bit mask of the bytes of each ``x`` (little-endian) that are ``.``."""
    x ^= _DOTS8
    t = x & _LOW7
    t += _LOW7
    t |= x
    t |= _LOW7
    np.invert(t, out=t)  # the high bit of each byte that was zero (exact, no borrow)
    t >>= np.uint64(7)
    t *= _MOVEMASK
    t >>= np.uint64(56)
    return t


def _parse_v4_rows(u64: npt.NDArray[np.uint64], u32: npt.NDArray[np.uint32],
                   start: npt.NDArray[np.int64], length: npt.NDArray[np.int64]) -> tuple[
    npt.NDArray[np.uint32], npt.NDArray[np.bool_]
]:
    """Dotted quads at byte positions ``start`` (``length`` <= 15) of a zero-padded buffer,
    read through views that load 8 (``u64``) or 4 (``u32``) bytes at any byte position.

    Strict like ``canonical_ip``: four 1-3 digit octets <= 255, no leading zeros, nothing
    else. The row's 16 bytes are two 8-byte loads; the dots become a 16-bit mask
    (SWAR byte compare), a table gives every octet's end and size, then one 4-byte load per
    octet ends at it and the digits are checked and summed in place (SWAR again)."""
    global _LUT
    if _LUT is None:
        _LUT = _octet_lut()
    dots = _dot_mask(u64[start])
    dots |= _dot_mask(u64[start + 8]) << np.uint64(8)
    ln = np.minimum(length, 15)
    octs = _LUT[dots.astype(np.uint16) & _LENMASK[ln]]  # (n, 8)
    size = octs[:, 4:].astype(np.int32)
    size[:, 3] += ln.astype(np.int32)
    pos = octs[:, :4].astype(np.int64)
    pos[:, 3] += ln
    pos += start[:, None]
    # byte 0..2 of d: hundreds, tens, ones of the octet (bytes outside it masked to 0)
    d = u32[pos]
    d ^= np.uint32(0x303030)
    sh = np.clip(3 - size, 0, 3).astype(np.uint32)
    sh *= np.uint32(8)
    d &= (np.uint32(0xFFFFFF) >> sh) << sh
    # each kept byte must be 0..9: below 16, and below 10 (adding 118 sets the high bit)
    bad = (d & np.uint32(0xF0F0F0)) != 0
    bad |= ((d + np.uint32(0x767676)) & np.uint32(0x808080)) != 0
    val = (d & np.uint32(0xFF)) * np.uint32(100)
    val += ((d >> np.uint32(8)) & np.uint32(0xFF)) * np.uint32(10)
    val += d >> np.uint32(16)
    bad |= val > 255
    bad |= (size >= 2) & (((d >> sh) & np.uint32(0xFF)) == 0)  # "01" is refused
    bad |= (size < 1) | (size > 3)
    ok = bad.view(np.uint32)[:, 0] == 0  # four bools in one word: none set
    out = val[:, 0] << np.uint32(24)
    out |= val[:, 1] << np.uint32(16)
    out |= val[:, 2] << np.uint32(8)
    out |= val[:, 3]
    return out, ok


def addresses_from_arrow(array: object) -> tuple[
    npt.NDArray[np.uint64], npt.NDArray[np.uint64], npt.NDArray[np.bool_]
]:
    """Address texts of an Arrow string array (or chunked array) as ``(hi, lo, valid)``.

    IPv4 dotted quads are parsed with NumPy byte arithmetic on the Arrow buffers (no Python
    object per row); anything else (IPv6, surrounding spaces) falls back to ``ip_to_int``
    row by row. IPv4 comes out IPv4-mapped (``hi == 0``, ``lo == 0xffff << 32 | v4``), as
    everywhere in the 128-bit space. Nulls and non-addresses give ``valid == False`` and 0, 0.
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
    # zero-padded copy of the rows' bytes, so that every read below stays inside it
    first, end = int(offsets[0]), int(offsets[n])
    buf = np.zeros(_PAD + (end - first) + 24, np.uint8)
    buf[_PAD:_PAD + end - first] = data[first:end]
    u64 = np.ndarray((len(buf) - 7,), "<u8", buf, 0, (1,))  # 8 bytes at any position
    u32 = np.ndarray((len(buf) - 3,), "<u4", buf, 0, (1,))
    mapped = np.uint64(MAPPED_FIRST)
    for s in range(0, n, _CHUNK):
        e = min(n, s + _CHUNK)
        start = offsets[s:e].astype(np.int64)
        length = offsets[s + 1:e + 1].astype(np.int64) - start
        start += _PAD - first
        v4, ok = _parse_v4_rows(u64, u32, start, length)
        ok &= present[s:e]
        ok &= (length >= 7) & (length <= 15)
        lo_c = v4.astype(np.uint64)
        lo_c |= mapped
        lo_c *= ok
        lo[s:e] = lo_c
        valid[s:e] = ok
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
