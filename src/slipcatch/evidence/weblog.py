"""Apache/Nginx access logs, common and combined.

Recognised when most of the first lines have a ``[dd/Mon/yyyy:hh:mm:ss +zzzz] "request"``
section. Before the time come: an optional virtual host (``host`` or ``host:port``), the client
field (one address, or an X-Forwarded-For style list ``a, b`` possibly quoted and possibly
followed by the proxy's own address), ident and authuser. The first valid address of the
client list is the source; the whole list is kept as attribute ``xff``. Quoted fields may hold
backslash-escaped quotes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from slipcatch.evidence._common import (
    event,
    parse_address,
    persona_for,
    reject,
    reject_problem,
    sha256,
)
from slipcatch.evidence._source import Problem, Source
from slipcatch.model import Event, Rejection

__all__ = ["NAME", "read", "sniff"]

NAME = "weblog"
CHANNEL = "web"

_Q = r'"((?:[^"\\]|\\.)*)"'
_LINE = re.compile(
    r"^(?P<pre>[^\[]*?)\s+\[(?P<time>[^\]]*)\]\s+"
    + _Q.replace("(", "(?P<req>", 1)
    + r"\s+(?P<status>\S+)\s+(?P<bytes>\S+)"
    + r"(?:\s+"
    + _Q.replace("(", "(?P<ref>", 1)
    + r"\s+"
    + _Q.replace("(", "(?P<ua>", 1)
    + r")?(?P<rest>.*)$"
)
_SNIFF = re.compile(rb"\[\d{2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\]\s+\"")
_TIME = re.compile(r"^(\d{2})/([A-Za-z]{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$")
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_UNESCAPE = re.compile(r"\\(.)")


def sniff(head: bytes, name: str) -> float:
    """Share of the first (up to 20) non-blank lines that look like access-log lines."""
    lines = [ln for ln in head.split(b"\n")[:40] if ln.strip()][:20]
    if len(lines) > 1 and not head.endswith(b"\n"):
        lines = lines[:-1]  # the head may cut the last line
    if not lines:
        return 0.0
    hits = sum(1 for ln in lines if _SNIFF.search(ln))
    return 0.95 * hits / len(lines)


def parse_time(text: str) -> datetime | None:
    m = _TIME.match(text)
    if m is None:
        return None
    day, mon, year, hh, mm, ss, sign, zh, zm = m.groups()
    month = _MONTHS.get(mon.lower())
    if month is None:
        return None
    try:
        local = datetime(int(year), month, int(day), int(hh), int(mm), int(ss), tzinfo=UTC)
        offset = timedelta(hours=int(zh), minutes=int(zm))
        return local - offset if sign == "+" else local + offset
    except (ValueError, OverflowError):
        return None


def _unescape(text: str) -> str:
    return _UNESCAPE.sub(lambda m: m.group(1), text) if "\\" in text else text


def _client(pre: str) -> tuple[str | None, list[str], str | None, str]:
    """Split the part before ident/authuser: (vhost, client list, first valid address, why)."""
    if " " not in pre and "," not in pre and '"' not in pre:
        ip, _ = parse_address(pre)
        if ip is not None:
            return None, [pre], ip, ""
    vhost: str | None = None
    quoted: list[str] = []
    if pre.startswith('"'):
        end = pre.find('"', 1)
        if end > 0:
            quoted = [p for p in re.split(r"[,\s]+", pre[1:end]) if p]
            pre = pre[end + 1 :]
    tokens = pre.split()
    if not quoted and len(tokens) >= 2 and not tokens[0].endswith(","):
        first, _ = parse_address(tokens[0].rstrip(","))
        if first is None:
            vhost = tokens[0]
            tokens = tokens[1:]
    items = quoted + [p for p in re.split(r"[,\s]+", " ".join(tokens)) if p]
    if not items:
        return vhost, items, None, "empty client field"
    for item in items:
        ip, _ = parse_address(item)
        if ip is not None:
            return vhost, items, ip, ""
    return vhost, items, None, f"client field {' '.join(items)!r} holds no valid address"


def read(source: Source) -> Iterator[Event | Rejection]:
    """One event or rejection per non-blank line."""
    for item in source.lines():
        if isinstance(item, Problem):
            yield reject_problem(source, item)
            continue
        locator = f"line {item.number}"
        try:
            text = item.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield reject(source, locator, "bad-encoding", str(exc))
            continue
        m = _LINE.match(text)
        if m is None:
            yield reject(source, locator, "unparsed-line", text[:200])
            continue
        pre = m.group("pre").strip()
        head, ident, authuser = _split_users(pre)
        if head is None:
            yield reject(source, locator, "unparsed-line", "missing ident/authuser fields")
            continue
        vhost, clients, ip, why = _client(head)
        if ip is None:
            reason = "missing-address" if not clients else "bad-address"
            yield reject(source, locator, reason, why)
            continue
        when = parse_time(m.group("time"))
        if when is None:
            yield reject(source, locator, "bad-time", m.group("time")[:100])
            continue
        attrs: dict[str, str] = {}
        request = _unescape(m.group("req"))
        parts = request.split(" ")
        if len(parts) == 3:
            attrs["method"], attrs["path"], attrs["protocol"] = parts
        elif request not in ("", "-"):
            attrs["request"] = request
        for key, value in (
            ("status", m.group("status")),
            ("bytes", m.group("bytes")),
            ("referer", m.group("ref")),
            ("user_agent", m.group("ua")),
        ):
            if value is not None and value != "-":
                attrs[key] = _unescape(value)
        if vhost is not None:
            attrs["vhost"] = vhost
        if len(clients) > 1:
            attrs["xff"] = ", ".join(clients)
        if ident != "-":
            attrs["ident"] = ident
        persona = persona_for(source, None if authuser == "-" else authuser)
        yield event(
            source,
            locator,
            time=when,
            src_ip=ip,
            persona=persona,
            channel=CHANNEL,
            digest=sha256(item.data),
            attributes=attrs,
        )


def _split_users(pre: str) -> tuple[str | None, str, str]:
    parts = pre.rsplit(None, 2)
    if len(parts) < 3:
        return None, "", ""
    return parts[0], parts[1], parts[2]
