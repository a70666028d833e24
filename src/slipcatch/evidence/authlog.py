"""Syslog authentication logs (``auth.log``, ``secure``, ``maillog``; RFC 3164, RFC 5424, ISO).

Each non-blank line is one record. A line naming a remote client is an event:

- sshd ``Accepted <method> for <user> from <ip> port <n> ssh2`` -> outcome ``accepted``;
  ``Failed <method> for [invalid user ]<user> from <ip> port <n> ssh2`` -> ``failed``;
  ``Invalid user <user> from <ip> [port <n>]`` -> ``invalid-user``;
- sshd (or any program's) PAM ``authentication failure; ... rhost=<ip> [user=<user>]`` ->
  ``failed`` (``PAM N more authentication failures; ...`` -> one event with ``count`` N);
- ``message repeated N times: [ <message> ]`` -> ONE event for the repeated message with
  attribute ``repeated`` N (one record is one line: the account stays records = events +
  rejected; the count is there for whoever wants the attempts);
- ftpd/vsftpd/proftpd ``connection from <ip>`` / ``<host> (<ip>)`` and vsftpd's
  ``[user] OK LOGIN: Client "<ip>"`` -> channel ``ftp``;
- Postfix ``client=<host>[<ip>]`` (persona ``sasl_username=``), ``<host>[<ip>]: SASL <m>
  authentication failed``, ``reject: RCPT from <host>[<ip>]``, ``non-SMTP command from
  <host>[<ip>]`` -> channel ``smtp``; Dovecot ``*-login: ... user=<u>, ... rip=<ip>`` and
  ``auth-worker ... pam(<user>,<ip>)`` (also ``sql(``, ``passwd-file(``) -> channel
  ``imap``/``pop3``/``dovecot``.

Any other well-formed line (cron, sudo, session and daemon messages) is rejected as
``no-client-event``; a line without a syslog header is ``unparsed-line``.

Time: RFC 5424 and ISO 8601 stamps carry their year and zone. Classic syslog stamps
(``Nov 24 09:00:01``) have neither; they are read as UTC and the year is taken, in order, from
``ReadOptions.year`` (the year of the file's first dated line; it steps up when the month goes
backwards, e.g. December -> January), from the file's name when ``ReadOptions.year_from_name``
(a 19xx/20xx year standing alone in the name, e.g. ``auth.log-2015``; same stepping), from the
last earlier line in the file that carried a year (same stepping), or from the file's
modification time (a date more than a day after the mtime belongs to the year before). Every
event states which in ``year_source``: ``option``, ``name``, ``line N`` or ``mtime``.
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
    r"^(Accepted|Failed) (\S+) for (invalid user )?(.*?) from (\S+) port (\d+)(?: +(ssh\d?))?"
    r"(?:: (.*))?$"
)
_INVALID = re.compile(r"^Invalid user (.*?) from (\S+)(?: port (\d+))?\s*$")
#: Lines of the head that sniffing judges: enough that a file whose lines mostly do not parse
#: (an IIS or Windows CBS log: a date, then no ``host prog[pid]:``) is never claimed.
_SNIFF_LINES = 200
_CLIENT_PROGS = re.compile(
    rb"\b(?:sshd|ftpd|vsftpd|proftpd|pure-ftpd|postfix/[\w/-]+|dovecot|sasl)\b"
)


def _header(line: str) -> bool:
    """Whether a line has a full syslog header (stamp, host, program, colon)."""
    return bool(_BSD.match(line) or _R5424.match(line) or _ISO.match(line))


def sniff(head: bytes, name: str) -> float:
    """How sure the file is a syslog log: only when MORE than half the first (up to 200)
    non-blank lines have a complete syslog header (a stamp alone is not enough: IIS W3C and
    Windows CBS lines start with a date too).

    0.9 when a program whose lines can name a client (sshd, ftpd, vsftpd, postfix, dovecot)
    appears; 0.7 for syslog lines in a file named like ``auth``/``secure``; 0.55 for other
    syslog files (read, every line accounted, events only from those programs' lines). A
    minority of syslog lines scores 0.45 × their share: never a claim, only the best guess
    named when no reader claims the file.
    """
    lines = [ln for ln in head.split(b"\n") if ln.strip()][:_SNIFF_LINES]
    if len(lines) > 1 and not head.endswith(b"\n"):
        lines = lines[:-1]
    if not lines:
        return 0.0
    hits = sum(1 for ln in lines if _header(ln.decode("utf-8", "replace").rstrip("\r")))
    if hits * 2 <= len(lines):
        # Never enough to claim the file (at most 0.225), but it names syslog as the closest
        # guess in the file's unrecognised-format rejection.
        return 0.45 * hits / len(lines)
    if _CLIENT_PROGS.search(head):
        return 0.9
    lname = name.lower()
    return 0.7 if "auth" in lname or "secure" in lname else 0.55


_NAME_YEAR = re.compile(r"(?<!\d)(19[7-9]\d|20\d\d)(?!\d)")


def year_from_name(name: str) -> int | None:
    """The year a file name states (``auth.log-2015``, ``secure_20150311``), or None.

    The first 19xx/20xx (1970-2099) not inside a longer number; an eight-digit date
    (``20150311``) counts by its first four digits.
    """
    m = _NAME_YEAR.search(name)
    if m is None:
        m = re.search(
            r"(?<!\d)(19[7-9]\d|20\d\d)(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)", name
        )
    return int(m.group(1)) if m else None


class _Years:
    """Resolves the year of yearless syslog stamps (see the module docstring)."""

    def __init__(self, source: Source):
        self.option = source.options.year
        self.source: str | None = "option" if self.option is not None else None
        if self.option is None and getattr(source.options, "year_from_name", False):
            named = year_from_name(source.path.name)
            if named is not None:
                self.option, self.source = named, "name"
        self.mtime: datetime | None = None
        try:
            self.mtime = datetime.fromtimestamp(source.path.stat().st_mtime, tz=UTC)
        except (OSError, OverflowError, ValueError):
            self.mtime = None
        self.year: int | None = self.option
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


_REPEATED = re.compile(r"^message repeated (\d+) times?: \[ ?(.*?) ?\]\s*$")
_PAM_FAIL = re.compile(
    r"(?:^|: )(?:PAM (\d+) more authentication failures?|authentication failure);"
    r"(?P<kv>.*)$"
)
_KV = re.compile(r"(\w+)=(\S*)")
_FTP_CONN = re.compile(r"^(?:FTP )?connection from (\S+)(?: \(([^)]*)\))?", re.I)
_VSFTPD = re.compile(r'^(?:\[(.*?)\] )?(OK|FAIL|FAILED) ([A-Z ]+?): Client "([^"]*)"')
_BRACKET = r"([^\s\[]*)\[([^\]\s]+)\]"
_POSTFIX_CLIENT = re.compile(r"\bclient=" + _BRACKET + r"(?::\d+)?(?P<rest>.*)$")
_POSTFIX_SASL = re.compile(r"(?:^|(?<=\s))" + _BRACKET + r": SASL (\S+) authentication failed")
_POSTFIX_FROM = re.compile(r" from " + _BRACKET)
_POSTFIX_WHAT = re.compile(
    r"\b(reject|non-SMTP command|lost connection|too many errors|disconnect|connect)\b"
)
#: Characters of a message the unanchored searches (Postfix, Dovecot, PAM, ftpd) look at: the
#: client is named early in every such line, and a hostile 64 KiB line must cost linear time,
#: not one scan per position.
_SCAN = 4096
_DOVECOT_LOGIN = re.compile(r"\b(imap|pop3|managesieve|submission)-login: (?:Info: )?(.*)$")
_DOVECOT_AUTH = re.compile(
    r"\b(pam|sql|passwd-file|passwd|shadow|ldap|checkpassword|static)\(([^,()]*),([^,()]+)"
    r"(?:,[^()]*)?\): (.*)$"
)


def _sshd(msg: str, attrs: dict[str, str]) -> tuple[str, str] | None:
    """(user, address text) of an sshd login line, attributes filled in; None for others."""
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
        if port:
            attrs["port"] = port
        return user, addr
    m2 = _INVALID.match(msg)
    if m2 is not None:
        user, addr, port = m2.groups()
        attrs["outcome"] = "invalid-user"
        attrs["invalid_user"] = "true"
        if port:
            attrs["port"] = port
        return user, addr
    return None


def _pam(msg: str, attrs: dict[str, str]) -> tuple[str, str] | None:
    m = _PAM_FAIL.search(msg)
    if m is None:
        return None
    kv = dict(_KV.findall(m.group("kv")))
    if not kv.get("rhost"):
        return None  # a local (console, su) failure names no remote client
    attrs["outcome"] = "failed"
    attrs["method"] = "pam"
    if m.group(1):
        attrs["count"] = m.group(1)
    if kv.get("tty"):
        attrs["tty"] = kv["tty"]
    # user= is the account tried; vsftpd and some PAM services name it only as ruser=
    return kv.get("user") or kv.get("ruser", ""), kv["rhost"]


def _ftp(msg: str, attrs: dict[str, str]) -> tuple[str, str] | None:
    m = _FTP_CONN.match(msg)
    if m is not None:
        first, second = m.groups()
        attrs["outcome"] = "connect"
        # "connection from 1.2.3.4 (host)" or "connection from host (1.2.3.4)"
        if parse_address(first)[0] is None and second and parse_address(second)[0] is not None:
            attrs["client_host"] = first
            return "", second
        if second:
            attrs["client_host"] = second
        return "", first
    v = _VSFTPD.match(msg)
    if v is not None:
        user, status, action, addr = v.groups()
        attrs["outcome"] = "ok" if status == "OK" else "failed"
        attrs["action"] = action.lower()
        return user or "", addr
    return None


def _postfix(msg: str, attrs: dict[str, str]) -> tuple[str, str] | None:
    m = _POSTFIX_CLIENT.search(msg)
    if m is not None:
        host, addr, rest = m.group(1), m.group(2), m.group("rest")
        kv = dict(_KV.findall(rest))
        attrs["outcome"] = "accepted"
        attrs["client_host"] = host
        if kv.get("sasl_method"):
            attrs["method"] = kv["sasl_method"].rstrip(",")
        return kv.get("sasl_username", "").rstrip(","), addr
    m = _POSTFIX_SASL.search(msg)
    if m is not None:
        attrs["outcome"] = "failed"
        attrs["method"] = m.group(3)
        attrs["client_host"] = m.group(1)
        return "", m.group(2)
    m = _POSTFIX_FROM.search(msg)
    if m is not None:
        what = _POSTFIX_WHAT.search(msg, 0, m.start() + 1)
        if what is None:
            return None
        attrs["outcome"] = what.group(1).lower().replace(" ", "-")
        attrs["client_host"] = m.group(1)
        kv = dict(_KV.findall(msg))
        if "from" in kv:
            attrs["mail_from"] = kv["from"].strip("<>;")
        return "", m.group(2)
    return None


def _dovecot(msg: str, attrs: dict[str, str]) -> tuple[str, str, str] | None:
    """(user, address text, channel) of a Dovecot login or auth line."""
    m = _DOVECOT_LOGIN.search(msg)
    if m is not None:
        service, text = m.groups()
        kv = {k: v.rstrip(",") for k, v in _KV.findall(text)}
        if not kv.get("rip"):
            return None
        attrs["outcome"] = (
            "accepted"
            if text.startswith("Login:")
            else ("failed" if "auth failed" in text else "disconnected")
        )
        if kv.get("method"):
            attrs["method"] = kv["method"]
        if kv.get("lip"):
            attrs["local_ip"] = kv["lip"]
        return kv.get("user", "").strip("<>"), kv["rip"], service
    a = _DOVECOT_AUTH.search(msg)
    if a is not None:
        driver, user, addr, text = a.groups()
        attrs["outcome"] = "failed"
        attrs["method"] = driver
        attrs["message"] = text[:200]
        return user, addr, "dovecot"
    return None


_FTP_PROGS = frozenset({"ftpd", "vsftpd", "proftpd", "pure-ftpd", "in.ftpd", "ftp"})


def _client(prog: str, msg: str, attrs: dict[str, str]) -> tuple[str, str, str] | None:
    """(user, address text, channel) of a line that names a remote client, else None."""
    if not (prog == "sshd" or prog.startswith("sshd-")):
        msg = msg[:_SCAN]
    if prog == "sshd" or prog.startswith("sshd-"):
        found = _sshd(msg, attrs) or _pam(msg[:_SCAN], attrs)
        return (*found, CHANNEL) if found else None
    if prog in _FTP_PROGS:
        found = _ftp(msg, attrs) or _pam(msg, attrs)
        return (*found, "ftp") if found else None
    if prog.startswith("postfix"):
        found = _postfix(msg, attrs)
        return (*found, "smtp") if found else None
    if prog == "dovecot":
        return _dovecot(msg, attrs)
    # login, rlogin, other PAM services reached over the network: an interactive login, a
    # back-end channel ("auth", analysis.episodes.BACKEND_CHANNELS); the program is an attribute
    found = _pam(msg, attrs)
    return (*found, "auth") if found else None


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
    msg = msg.strip()  # some syslog writers put two spaces after the colon
    rep = _REPEATED.match(msg)
    if rep is not None:
        attrs["repeated"] = rep.group(1)
        msg = rep.group(2)
    found = _client(prog, msg, attrs)
    if found is None:
        return reject(source, locator, "no-client-event", f"{prog}: {msg[:150]}")
    user, addr, channel = found
    ip, _ = parse_address(addr)
    if ip is None:
        return reject(source, locator, "bad-address", addr[:100])
    attrs["host"] = host
    if channel != CHANNEL:
        attrs["program"] = prog
    if pid:
        attrs["pid"] = pid
    return event(
        source,
        locator,
        time=when,
        src_ip=ip,
        persona=persona_for(source, user or None, attributes=attrs),
        channel=channel,
        digest=sha256(raw),
        attributes=attrs,
    )
