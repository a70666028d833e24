"""Apache/Nginx access logs, common and combined.

Recognised when most of the first lines have a ``[dd/Mon/yyyy:hh:mm:ss +zzzz] "request"``
section. Before the time come: an optional virtual host (``host`` or ``host:port``), the client
field (one address, or an X-Forwarded-For style list ``a, b`` possibly quoted and possibly
followed by the proxy's own address), ident and authuser. The first valid address of the
client list is the source; the whole list is kept as attribute ``xff``. Quoted fields may hold
backslash-escaped quotes.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from slipcatch.evidence._common import (
    parse_address,
    persona_for,
    plausible,
    reject,
    reject_problem,
)
from slipcatch.evidence._source import Problem, Source
from slipcatch.model import Event, EvidenceRef, Rejection

__all__ = ["NAME", "read", "sniff"]

NAME = "weblog"
CHANNEL = "web"

# A quoted field with backslash escapes, written as an unrolled loop: the plain alternation
# ``(?:[^"\\]|\\.)*`` costs one regex branch per character (8x slower on real lines).
_Q = r'"([^"\\]*(?:\\.[^"\\]*)*)"'
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
    """UTC time of an access-log stamp ``10/Oct/2000:13:55:36 -0700``, or None."""
    stamp = _stamp(text)
    return stamp[0] if stamp is not None else None


def _stamp(text: str) -> tuple[datetime, str] | None:
    """(UTC time, its ``isoformat()``) of an access-log stamp, or None."""
    # Hot path: lines of one minute share everything but the seconds, so the parsed minute (and
    # its ISO text, which the event id hashes) is cached and the seconds added. Zone offsets are
    # whole minutes, so the seconds never carry into the minute. Anything unusual takes the full
    # path, with the same results.
    if len(text) == 26 and text[17] == ":" and text.isascii():
        sec = text[18:20]
        if sec.isdigit():
            base = _minute(text[:17], text[20:])
            seconds = int(sec)
            if base is None or seconds >= 60:
                return None
            when = base[0] + timedelta(seconds=seconds)
            return when, base[1] + sec + "+00:00"
    slow = _parse_time(text)
    return (slow, slow.isoformat()) if slow is not None else None


@functools.lru_cache(maxsize=4096)
def _minute(head: str, zone: str) -> tuple[datetime, str] | None:
    when = _parse_time(head + ":00" + zone)
    return (when, when.isoformat()[:17]) if when is not None else None


#: The largest real UTC offset is +14:00 (Kiribati), the smallest -12:00.
_MAX_ZONE = timedelta(hours=14)


def _parse_time(text: str) -> datetime | None:
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
        if int(zm) >= 60 or offset > _MAX_ZONE:
            return None  # no zone is that far from UTC (+9999 would shift the time ~4 days)
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


def read(source: Source) -> Iterator[Event | Rejection]:  # noqa: C901, PLR0915 (flat hot path)
    """One event or rejection per non-blank line."""
    # The per-line path is written out flat (no helper calls per field, attributes inserted in
    # key order so no sort, personas memoised): it decides ingest throughput for large logs.
    ref_path, ref_sha = source.name, source.sha256
    personas: dict[str | None, str] = {}
    pmap = source.options.persona_map
    by_record = pmap is not None and pmap.has_record_rows
    match = _LINE.match
    address = parse_address
    for item in source.lines():
        if isinstance(item, Problem):
            yield reject_problem(source, item)
            continue
        locator = f"line {item.number}"
        data = item.data
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield reject(source, locator, "bad-encoding", str(exc))
            continue
        m = match(text)
        if m is None:
            yield reject(source, locator, "unparsed-line", text[:200])
            continue
        pre, stamp, req, status, nbytes, ref, ua, _ = m.groups()
        parts = pre.strip().rsplit(None, 2)
        if len(parts) < 3:
            yield reject(source, locator, "unparsed-line", "missing ident/authuser fields")
            continue
        head, ident, authuser = parts
        # The common case, one bare address, skips the client-list parser.
        ip = None if " " in head or "," in head or '"' in head else address(head)[0]
        if ip is not None:
            vhost, clients, why = None, [head], ""
        else:
            vhost, clients, ip, why = _client(head)
        if ip is None:
            reason = "missing-address" if not clients else "bad-address"
            yield reject(source, locator, reason, why)
            continue
        parsed = _stamp(stamp)
        if parsed is None:
            yield reject(source, locator, "bad-time", stamp[:100])
            continue
        when, iso = parsed
        attrs: dict[str, str] = {}
        if nbytes != "-":
            attrs["bytes"] = _unescape(nbytes) if "\\" in nbytes else nbytes
        if ident != "-":
            attrs["ident"] = ident
        request = _unescape(req) if "\\" in req else req
        words = request.split(" ")
        if len(words) == 3:
            attrs["method"], attrs["path"], attrs["protocol"] = words
        if ref is not None and ref != "-":
            attrs["referer"] = _unescape(ref) if "\\" in ref else ref
        if len(words) != 3 and request not in ("", "-"):
            attrs["request"] = request
        if status != "-":
            attrs["status"] = _unescape(status) if "\\" in status else status
        if ua is not None and ua != "-":
            attrs["user_agent"] = _unescape(ua) if "\\" in ua else ua
        if vhost is not None:
            attrs["vhost"] = vhost
        if len(clients) > 1:
            attrs["xff"] = ", ".join(clients)
        who = None if authuser == "-" else authuser
        persona: str
        if by_record:
            # ``path:``/``attr:`` rows: the record decides, line by line (no memo by account).
            persona = persona_for(
                source, who, path=attrs.get("path") or attrs.get("request"), attributes=attrs
            )
        elif who in personas:
            persona = personas[who]
        else:
            persona = personas[who] = persona_for(source, who)
        if not plausible(when):
            yield reject(source, locator, "bad-time", f"{iso} is outside 1970-2099")
            continue
        yield Event(
            id=_event_id(iso, ip, persona, data),
            time=when,
            src_ip=ip,
            persona=persona,
            channel=CHANNEL,
            evidence=EvidenceRef(ref_path, ref_sha, locator),
            attributes=attrs,
        )


def _event_id(iso: str, ip: str, persona: str, data: bytes) -> str:
    # model.event_id(CHANNEL, time, ip, persona, sha256(line)) with the time's ISO text given.
    digest = hashlib.sha256(data).hexdigest()
    key = f"{CHANNEL}\x1f{iso}\x1f{ip}\x1f{persona}\x1f{digest}\x1f"
    return "ev--" + hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:16]
