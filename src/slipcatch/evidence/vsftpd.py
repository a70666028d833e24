"""vsftpd's own log (``vsftpd.log``, ``xferlog_std_format=NO``):
``Mon Jun  6 18:43:28 2016 [pid 2] [user] OK LOGIN: Client "192.168.1.9"``.

Each non-blank line is one record. A line naming ``Client "<ip>"`` is an event: time from the
stamp (vsftpd writes UTC unless ``use_localtime=YES``; read as UTC, attribute ``time_zone``
``assumed UTC``), source address the client, persona the ``[user]`` (``ftp`` for anonymous
logins, as vsftpd writes it), channel ``ftp``. Attributes: ``outcome`` (``connect``, ``ok``,
``failed``), ``action`` (``login``, ``upload``, ``download``, ``mkdir``...), ``pid``,
``detail`` (what follows the client: file name, size, rate).

Rejections: ``unparsed-line`` (no vsftpd stamp), ``no-client-event`` (a stamped line without
``Client "..."``), ``bad-time``, ``bad-address``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

from slipcatch.evidence._common import (
    event,
    parse_address,
    persona_for,
    reject,
    sha256,
    text_lines,
)
from slipcatch.evidence._source import Source
from slipcatch.model import Event, Rejection

__all__ = ["NAME", "read", "sniff"]

NAME = "vsftpd"
CHANNEL = "ftp"

_STAMP = r"[A-Z][a-z]{2} ([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})"
_LINE = re.compile(r"^" + _STAMP + r" \[pid (\d+)\] (?:\[([^\]]*)\] )?(.*)$")
_SNIFF = re.compile(
    rb"^[A-Z][a-z]{2} [A-Z][a-z]{2} {1,2}\d{1,2} \d{2}:\d{2}:\d{2} \d{4} \[pid \d+\] "
)
_MSG = re.compile(r'^(?:(OK|FAIL|FAILED) )?([A-Z][A-Z _]*?): Client "([^"]*)"(?:, ?(.*))?$')
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    )
}


def sniff(head: bytes, name: str) -> float:
    """0.95 × the share of the first (up to 20) non-blank lines with a vsftpd stamp and pid."""
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
        m = _LINE.match(text)
        if m is None:
            yield reject(source, locator, "unparsed-line", text[:200])
            continue
        mon, day, hh, mi, ss, year, pid, user, msg = m.groups()
        month = _MONTHS.get(mon)
        try:
            when = datetime(int(year), month or 0, int(day), int(hh), int(mi), int(ss), tzinfo=UTC)
        except ValueError:
            yield reject(source, locator, "bad-time", text[:24])
            continue
        c = _MSG.match(msg)
        if c is None:
            yield reject(source, locator, "no-client-event", msg[:150])
            continue
        status, action, addr, rest = c.groups()
        ip, _ = parse_address(addr)
        if ip is None:
            yield reject(source, locator, "bad-address", addr[:100])
            continue
        attrs = {
            "outcome": "connect" if status is None else ("ok" if status == "OK" else "failed"),
            "action": action.strip().lower(),
            "pid": pid,
            "time_zone": "assumed UTC",
        }
        if rest:
            attrs["detail"] = rest[:500]
        yield event(
            source,
            locator,
            time=when,
            src_ip=ip,
            persona=persona_for(source, user or None, attributes=attrs),
            channel=CHANNEL,
            digest=sha256(item.data),
            attributes=attrs,
        )
