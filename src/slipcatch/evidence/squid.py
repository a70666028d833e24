"""Squid native ``access.log``: ``time elapsed client code/status bytes method URL user
hierarchy/peer type`` (the default ``squid`` logformat).

Each non-blank line is one record. Time: the first field, Unix epoch seconds with
milliseconds (UTC). Source address: the client field; persona: the user field when not ``-``
(an authenticated proxy user); channel ``proxy``. Attributes: ``elapsed_ms``, ``result``
(``TCP_MISS``...), ``status``, ``bytes``, ``method``, ``url``, ``hierarchy``, ``peer``,
``content_type`` (``-`` values omitted) and ``extra`` for trailing fields (logformats that
append headers).

Rejections: ``unparsed-line`` (fewer than ten fields, or a code field without ``/``),
``bad-time``, ``bad-address``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from slipcatch.evidence._common import (
    event,
    parse_address,
    parse_epoch,
    persona_for,
    reject,
    sha256,
    text_lines,
)
from slipcatch.evidence._source import Source
from slipcatch.model import Event, Rejection

__all__ = ["NAME", "read", "sniff"]

NAME = "squid"
CHANNEL = "proxy"

_SNIFF = re.compile(rb"^\d{9,10}\.\d{3} +-?\d+ \S+ [A-Z_]+/\d{3} \d+ \S+ \S+ \S+ [A-Z_]+/\S+ \S+")
_EPOCH = re.compile(r"\d{1,10}(?:\.\d{1,6})?")
_NAMES = ("elapsed_ms", "result", "status", "bytes", "method", "url", "user", "hierarchy",
          "peer", "content_type")  # fmt: skip


def sniff(head: bytes, name: str) -> float:
    """0.95 × the share of the first (up to 20) non-blank lines in Squid's native layout."""
    lines = [ln for ln in head.split(b"\n") if ln.strip()][:20]
    if len(lines) > 1 and not head.endswith(b"\n"):
        lines = lines[:-1]
    if not lines:
        return 0.0
    return 0.95 * sum(1 for ln in lines if _SNIFF.match(ln)) / len(lines)


def read(source: Source) -> Iterator[Event | Rejection]:
    """One event or rejection per non-blank line."""
    for decoded in text_lines(source):
        if isinstance(decoded, Rejection):
            yield decoded
            continue
        item, text = decoded
        locator = f"line {item.number}"
        parts = text.split()
        if len(parts) < 10 or "/" not in parts[3] or "/" not in parts[8]:
            yield reject(source, locator, "unparsed-line", text[:200])
            continue
        stamp, elapsed, client, code, size, method, url, user, hier, ctype = parts[:10]
        when = parse_epoch(float(stamp)) if _EPOCH.fullmatch(stamp) else None
        if when is None:
            yield reject(source, locator, "bad-time", stamp[:100])
            continue
        ip, _ = parse_address(client)
        if ip is None:
            yield reject(source, locator, "bad-address", client[:100])
            continue
        result, _, status = code.partition("/")
        hierarchy, _, peer = hier.partition("/")
        values = (elapsed, result, status, size, method, url, user, hierarchy, peer, ctype)
        attrs = {k: v for k, v in zip(_NAMES, values, strict=True) if v not in ("-", "")}
        attrs.pop("user", None)
        if len(parts) > 10:
            attrs["extra"] = " ".join(parts[10:])[:1000]
        yield event(
            source,
            locator,
            time=when,
            src_ip=ip,
            persona=persona_for(source, None if user == "-" else user, attributes=attrs),
            channel=CHANNEL,
            digest=sha256(item.data),
            attributes=attrs,
        )
