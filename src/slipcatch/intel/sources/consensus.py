"""Tor relay network-status consensuses (v3): relays with the Exit flag at ``valid-after``.

::

    @type network-status-consensus-3 1.0
    valid-after 2017-07-17 17:00:00
    r <nickname> <identity b64> [<digest b64>] <date> <time> <IPv4> <ORPort> <DirPort>
    s Exit Fast Running Valid ...

Each relay with ``Exit`` (and without ``BadExit``) is observed at ``valid-after``, with the
same time model as TorDNSEL (``tordnsel.WINDOW`` either side; a later or earlier consensus
that lacks the relay cuts the interval) in a feed of its own, ``tor-consensus``. The OR
address of an exit relay is usually, not always, the address its exit traffic leaves from;
TorDNSEL lists measure the latter and are preferred when both are loaded.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, datetime
from pathlib import Path

from slipcatch.errors import IntelError
from slipcatch.intel.addr import ip_to_int
from slipcatch.intel.sources.tordnsel import TorSnapshot
from slipcatch.model import Rejection

__all__ = ["read", "sniff"]


def sniff(head: bytes, name: str) -> float:
    """The ``@type network-status-consensus-3`` header or ``network-status-version 3``."""
    if head.startswith(b"@type network-status-consensus-3") or head.startswith(
        b"@type network-status-microdesc-consensus-3"
    ):
        return 1.0
    if head.lstrip().startswith(b"network-status-version 3") and b"vote-status consensus" in head:
        return 0.95
    return 0.0


def read(path: Path, raw: bytes) -> tuple[TorSnapshot, int]:
    """Read a consensus; returns the snapshot of its exit relays and the number of relays.

    Raises:
        IntelError: no ``valid-after`` line (the relays could not be placed in time).
    """
    sha = hashlib.sha256(raw).hexdigest()
    text = raw.decode("utf-8", "replace")
    snap = TorSnapshot("tor-consensus", str(path), sha, datetime.fromtimestamp(0, UTC))
    valid_after: datetime | None = None
    relays = 0
    current: tuple[int, str] | None = None  # (address, fingerprint) of the last "r" line
    pending: list[tuple[int, str, set[str]]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        keyword, _, rest = line.partition(" ")
        if keyword == "valid-after":
            try:
                valid_after = datetime.strptime(rest.strip(), "%Y-%m-%d %H:%M:%S").replace(
                    tzinfo=UTC)
            except ValueError as exc:
                raise IntelError(f"bad valid-after {rest!r}", str(path), f"line {lineno}") from exc
        elif keyword == "r":
            relays += 1
            current = None
            f = rest.split()
            # full consensus: 8 fields after "r"; microdescriptor consensus: 7 (no digest)
            ip_field = 5 if len(f) == 8 else 4 if len(f) == 7 else -1
            try:
                if ip_field < 0:
                    raise ValueError(f"{len(f)} fields")
                ident = base64.b64decode(f[1] + "=" * (-len(f[1]) % 4), validate=True)
                current = (ip_to_int(f[ip_field]), ident.hex().upper())
            except (ValueError, binascii.Error) as exc:
                snap.rejections.append(Rejection(str(path), sha, f"line {lineno}", "bad-line",
                                                 f"router line: {exc}"))
        elif keyword == "s" and current is not None:
            flags = set(rest.split())
            pending.append((current[0], current[1], flags))
            current = None
    if valid_after is None:
        raise IntelError("consensus without a valid-after line", str(path))
    snap.time = valid_after
    snap.nodes = relays
    for addr, fpr, flags in pending:
        if "Exit" in flags and "BadExit" not in flags:
            snap.add(addr, addr, valid_after, fpr)
            snap.exit_addresses += 1
    return snap, relays
