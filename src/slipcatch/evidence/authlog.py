"""OpenSSH authentication logs (syslog ``auth.log`` / ``secure``, RFC 3164, RFC 5424, ISO).

Each non-blank line is one record. An ``sshd`` line naming a remote client is an event:

- ``Accepted <method> for <user> from <ip> port <n> ssh2`` -> outcome ``accepted``
- ``Failed <method> for [invalid user ]<user> from <ip> port <n> ssh2`` -> ``failed``
- ``Invalid user <user> from <ip> [port <n>]`` -> ``invalid-user``

Any other well-formed line (cron, sudo, session and daemon messages) is rejected as
``no-client-event``; a line without a syslog header is ``unparsed-line``.

Time: RFC 5424 and ISO 8601 stamps carry their year and zone. Classic syslog stamps
(``Nov 24 09:00:01``) have neither; they are read as UTC and the year is taken, in order, from
``ReadOptions.year`` (the year of the file's first dated line; it steps up when the month goes
backwards, e.g. December -> January), from the last earlier line in the file that carried a
year (same stepping), or from the file's modification time (a date more than a day after the
mtime belongs to the year before). Every event states which in ``year_source``: ``option``,
``line N`` or ``mtime``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from slipcatch.evidence._common import (
    event,
    parse_address,
    parse_iso,
    persona_for,
    reject,
    sha256,
    text_lines,
)
from slipcatch.evidence._source import Source
from slipcatch.model import Event, Rejection

__all__ = ["NAME", "read", "sniff"]

NAME = "authlog"
CHANNEL = "ssh"

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_PRI = r"(?:<\d{1,3}>)?"
# Nov 24 09:00:01 host prog[pid]: message
_BSD = re.compile(
    r"^" + _PRI + r"([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\S+) ([^:\[\s]+)"
    r"(?:\[(\d+)\])?: ?(.*)$"
)
# <34>1 2014-11-24T09:00:01.003Z host sshd 1234 - - message   (RFC 5424)
_R5424 = re.compile(r"^<\d{1,3}>1 (\S+) (\S+) (\S+) (\S+) (\S+) (?:-|(?:\[.*?\])+) ?(.*)$")
# 2014-11-24T09:00:01.123456+00:00 host sshd[1234]: message   (rsyslog high precision)
_ISO = re.compile(
    r"^" + _PRI + r"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?) "
    r"(\S+) ([^:\[\s]+)(?:\[(\d+)\])?: ?(.*)$"
)
_AUTH = re.compile(
    r"^(Accepted|Failed) (\S+) for (invalid user )?(.*?) from (\S+) port (\d+)(?: (ssh\d?))?"
    r"(?:: (.*))?$"
)
_INVALID = re.compile(r"^Invalid user (.*?) from (\S+)(?: port (\d+))?\s*$")
_SNIFF_LINE = re.compile(
    rb"^(?:<\d{1,3}>)?(?:[A-Z][a-z]{2} {1,2}\d{1,2} \d{2}:\d{2}:\d{2} |<\d{1,3}>1 \d{4}-|"
    rb"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})"
)


def sniff(head: bytes, name: str) -> float:
    """How sure the file is a syslog auth log.

    0.9 when most of the first 20 non-blank lines have a syslog header and one names ``sshd``;
    0.7 for syslog lines in a file named like ``auth``/``secure``; 0.55 for other syslog files
    (read, every line accounted, events only from sshd lines).
    """
    lines = [ln for ln in head.split(b"\n")[:40] if ln.strip()][:20]
    if len(lines) > 1 and not head.endswith(b"\n"):
        lines = lines[:-1]
    if not lines:
        return 0.0
    hits = sum(1 for ln in lines if _SNIFF_LINE.match(ln))
    if hits * 2 <= len(lines):
        return 0.0
    if b"sshd" in head:
        return 0.9
    lname = name.lower()
    return 0.7 if "auth" in lname or "secure" in lname else 0.55


class _Years:
    """Resolves the year of yearless syslog stamps (see the module docstring)."""

    def __init__(self, source: Source):
        self.option = source.options.year
        self.mtime: datetime | None = None
        try:
            self.mtime = datetime.fromtimestamp(source.path.stat().st_mtime, tz=UTC)
        except (OSError, OverflowError, ValueError):
            self.mtime = None
        self.year: int | None = self.option
        self.source = "option" if self.option is not None else None
        self.last_month: int | None = None

    def dated(self, when: datetime, number: int) -> None:
        """A line carrying a full date: later yearless lines follow its year."""
        if self.option is None:
            self.year = when.year
            self.source = f"line {number}"
        self.last_month = when.month

    def resolve(self, month: int, day: int, hms: tuple[int, int, int]) -> tuple[int, str] | None:
        if self.year is not None and self.source is not None:
            if self.last_month is not None and month < self.last_month:
                self.year += 1  # the log crossed New Year
            self.last_month = month
            return self.year, self.source
        if self.mtime is None:
            return None
        year = self.mtime.year
        try:
            guess = datetime(year, month, day, *hms, tzinfo=UTC)
        except ValueError:
            return year, "mtime"  # 29 Feb in a non-leap mtime year: the caller rejects it
        if guess - self.mtime > timedelta(days=1):
            year -= 1
        return year, "mtime"


def read(source: Source) -> Iterator[Event | Rejection]:
    """One event or rejection per non-blank line."""
    yield from read_years(source, _Years(source))


def read_years(source: Source, years: _Years) -> Iterator[Event | Rejection]:
    """``read`` with the year state given: the bulk reader carries it from chunk to chunk."""
    for decoded in text_lines(source):
        if isinstance(decoded, Rejection):
            yield decoded
            continue
        item, text = decoded
        locator = f"line {item.number}"
        attrs: dict[str, str] = {}
        when: datetime | None
        m = _BSD.match(text)
        if m is not None:
            mon, day, hh, mi, ss, host, prog, pid, msg = m.groups()
            month = _MONTHS.get(mon.lower())
            if month is None:
                yield reject(source, locator, "bad-time", text[:15])
                continue
            hms = (int(hh), int(mi), int(ss))
            resolved = years.resolve(month, int(day), hms)
            if resolved is None:
                yield reject(source, locator, "bad-time", "no year: no option, dated line or mtime")
                continue
            year, year_source = resolved
            try:
                when = datetime(year, month, int(day), *hms, tzinfo=UTC)
            except ValueError:
                yield reject(source, locator, "bad-time", f"{text[:15]} in {year}")
                continue
            attrs["year_source"] = year_source
            attrs["time_zone"] = "assumed UTC"
        else:
            stamp, host, prog, pid, msg = _dated(text)
            if stamp is None:
                yield reject(source, locator, "unparsed-line", text[:200])
                continue
            when = parse_iso(stamp)
            if when is None:
                yield reject(source, locator, "bad-time", stamp[:100])
                continue
            years.dated(when, item.number)
        yield _event(source, item.data, locator, when, host, prog, pid, msg, attrs)


def _dated(text: str) -> tuple[str | None, str, str, str | None, str]:
    """(stamp, host, program, pid, message) of an RFC 5424 or ISO-stamped line."""
    m = _R5424.match(text)
    if m is not None:
        stamp, host, prog, pid, _msgid, msg = m.groups()
        return stamp, host, prog, None if pid == "-" else pid, msg.removeprefix("\ufeff")
    m = _ISO.match(text)
    if m is not None:
        stamp, host, prog, pid, msg = m.groups()
        return stamp, host, prog, pid, msg
    return None, "", "", None, ""


def _event(
    source: Source,
    raw: bytes,
    locator: str,
    when: datetime,
    host: str,
    prog: str,
    pid: str | None,
    msg: str,
    attrs: dict[str, str],
) -> Event | Rejection:
    if prog != "sshd" and not prog.startswith("sshd-"):
        return reject(source, locator, "no-client-event", f"{prog}: {msg[:150]}")
    m = _AUTH.match(msg)
    if m is not None:
        verb, method, invalid, user, addr, port, proto, extra = m.groups()
        attrs["outcome"] = verb.lower()
        attrs["method"] = method
        if invalid:
            attrs["invalid_user"] = "true"
        if proto:
            attrs["protocol"] = proto
        if extra:
            attrs["key"] = extra
    else:
        m2 = _INVALID.match(msg)
        if m2 is None:
            return reject(source, locator, "no-client-event", f"{prog}: {msg[:150]}")
        user, addr, port = m2.groups()
        attrs["outcome"] = "invalid-user"
        attrs["invalid_user"] = "true"
    ip, _ = parse_address(addr)
    if ip is None:
        return reject(source, locator, "bad-address", addr[:100])
    if port:
        attrs["port"] = port
    attrs["host"] = host
    if pid:
        attrs["pid"] = pid
    return event(
        source,
        locator,
        time=when,
        src_ip=ip,
        persona=persona_for(source, user or None, attributes=attrs),
        channel=CHANNEL,
        digest=sha256(raw),
        attributes=attrs,
    )
