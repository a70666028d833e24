"""Helpers shared by the format readers: rejection codes, addresses, times, event building."""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from slipcatch.evidence._source import Line, Problem, Source
from slipcatch.model import ANONYMOUS, Event, EvidenceRef, OriginTrust, Rejection, canonical_ip

__all__ = [
    "ANONYMOUS",
    "REASONS",
    "event",
    "event_id_fast",
    "is_internal",
    "parse_address",
    "parse_epoch",
    "parse_iso",
    "persona_for",
    "reject",
    "reject_problem",
    "sha256",
]

#: Rejection reason code -> meaning.
REASONS: dict[str, str] = {
    "unrecognised-format": "the file's content matches no supported format (or is binary); "
    "the whole file is one rejected record",
    "decompression-limit": "decompression stopped: more than 2 GiB out, or a ratio above 200:1 "
    "past 10 MiB (a likely decompression bomb); the rest of the file is one rejection",
    "truncated-compression": "the compressed stream is truncated or corrupt; records read before "
    "the fault are kept, the rest of the file is one rejection",
    "line-too-long": "a line longer than 64 KiB (discarded unread)",
    "bad-encoding": "a log or table line that is not valid UTF-8",
    "bad-quoting": "a CSV row with an unterminated or misplaced quote (a record is one line; "
    "quoted fields cannot span lines)",
    "column-count": "a CSV row with a different number of fields than the header",
    "bad-json": "a JSON-lines record that is not a JSON object",
    "unparsed-line": "a line that does not match the file's recognised format",
    "no-client-event": "a well-formed auth-log line that records no remote client (cron, sudo, "
    "session and daemon messages, sshd lines other than Accepted/Failed/Invalid user)",
    "missing-time": "a record without a time",
    "bad-time": "a time that cannot be read (or, for e-mail, no parseable Received or Date time)",
    "missing-address": "a record without a source address",
    "bad-address": "a source address that is not a valid IPv4/IPv6 address: a host name, "
    "out-of-range octets (999.1.1.1), too few parts (1.2.3), or zero-padded octets (010.1.1.1, "
    "refused rather than guessed as octal or decimal)",
    "bad-origin-trust": "a table row whose origin_trust is not trusted-relay, sender-provider or "
    "sender-written",
    "no-address": "an e-mail with no usable address in its Received chain or origin headers",
    "message-too-large": "an e-mail message larger than the 64 MiB limit",
    "mime-limit": "an e-mail's MIME structure nests deeper than 8 levels or has more than "
    "1000 parts; embedded messages beyond that were not examined (the message itself is read)",
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def reject(source: Source, locator: str, reason: str, detail: str = "") -> Rejection:
    if reason not in REASONS:  # a programming error, not bad evidence
        raise KeyError(f"unknown rejection reason {reason!r}")
    return Rejection(source.name, source.sha256, locator, reason, detail[:500])


def reject_problem(source: Source, problem: Problem) -> Rejection:
    return reject(source, f"line {problem.number}", problem.reason, problem.detail)


def text_lines(source: Source) -> Iterator[tuple[Line, str] | Rejection]:
    """Each record line decoded as UTF-8, or the rejection saying why it cannot be read."""
    for item in source.lines():
        if isinstance(item, Problem):
            yield reject_problem(source, item)
            continue
        try:
            yield item, item.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield reject(source, f"line {item.number}", "bad-encoding", str(exc))


def json_objects(source: Source) -> Iterator[tuple[Line, dict[str, Any]] | Rejection]:
    """Each record line parsed as one JSON object, or the rejection saying why it is not one."""
    for item in text_lines(source):
        if isinstance(item, Rejection):
            yield item
            continue
        line, text = item
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError) as exc:
            yield reject(source, f"line {line.number}", "bad-json", str(exc))
            continue
        if not isinstance(obj, dict):
            detail = f"a JSON {type(obj).__name__}, not an object"
            yield reject(source, f"line {line.number}", "bad-json", detail)
            continue
        yield line, obj


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
#: A dotted quad already in canonical form (no zero padding): the text is the answer.
_CANONICAL_V4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")


@functools.lru_cache(maxsize=65536)  # logs repeat addresses; ipaddress parsing dominates
def parse_address(text: str) -> tuple[str | None, bool]:
    """Canonical address of ``text`` and whether an IPv6 zone id was stripped.

    Returns ``(None, False)`` when ``text`` is not an address (see ``REASONS['bad-address']``).
    """
    if _CANONICAL_V4.fullmatch(text):
        return text, False
    text = text.strip()
    zone = False
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if text[:5].lower() == "ipv6:":
        text = text[5:]
    if "%" in text and ":" in text:
        text, _, _ = text.partition("%")
        zone = True
    try:
        return canonical_ip(text), zone
    except ValueError:
        return None, zone


_INTERNAL = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "::/128",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    )
)


def is_internal(ip: str) -> bool:
    """Private, shared (CGNAT), loopback, link-local or unspecified.

    Documentation prefixes (192.0.2.0/24, 2001:db8::/32, ...) are *not* internal here: anonymised
    evidence uses them as stand-ins for public addresses.
    """
    addr = ipaddress.ip_address(ip)
    return any(addr.version == net.version and addr in net for net in _INTERNAL)


def is_loopback(ip: str) -> bool:
    return ipaddress.ip_address(ip).is_loopback


_EPOCH_MIN = 0.0
_EPOCH_MAX = 4102444800.0  # 2100-01-01


#: Times outside [1970, 2100) are not evidence of anything but a broken or hostile field (and
#: years such as 0001 or 9999 overflow time-zone arithmetic later): they are ``bad-time``.
TIME_MIN = datetime(1970, 1, 1, tzinfo=UTC)
TIME_MAX = datetime(2100, 1, 1, tzinfo=UTC)


def plausible(time: datetime) -> bool:
    """Whether an event time lies in the range slipcatch accepts (1970 to 2099, UTC)."""
    return TIME_MIN <= time < TIME_MAX


def parse_epoch(value: float) -> datetime | None:
    if not (_EPOCH_MIN <= value < _EPOCH_MAX):
        return None
    return datetime.fromtimestamp(value, tz=UTC)


def parse_iso(text: str) -> datetime | None:
    """ISO 8601 (naive = UTC) or Unix epoch seconds written as a number."""
    text = text.strip()
    if not text:
        return None
    digits = text.replace(".", "", 1)
    if digits.isascii() and digits.isdigit():
        return parse_epoch(float(text))
    iso = text[:-1] + "+00:00" if text[-1:] in "Zz" else text
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        return None
    try:
        dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    except OverflowError:
        return None
    return dt if plausible(dt) else None


def persona_for(
    source: Source,
    *identities: str | None,
    path: str | None = None,
    attributes: Mapping[str, str] | None = None,
) -> str:
    """The persona for a record: the persona map's answer (``path``: the request path of an
    access-log record, for ``path:`` rows; ``attributes``: the record's, for ``attr:`` rows),
    else the first identity given."""
    pmap = source.options.persona_map
    if pmap is not None:
        mapped = pmap.resolve(*identities, path=path, attributes=attributes)
        if mapped is not None:
            return mapped
    for ident in identities:
        if ident:
            return ident
    return ANONYMOUS


def event_id_fast(channel: str, time: datetime, src_ip: str, persona: str, digest: str) -> str:
    """``model.event_id`` computed in one hash call (same bytes: each part, then ``\\x1f``)."""
    key = "\x1f".join((channel, time.isoformat(), src_ip, persona, digest)) + "\x1f"
    return "ev--" + hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def event(
    source: Source,
    locator: str,
    *,
    time: datetime,
    src_ip: str,
    persona: str,
    channel: str,
    digest: str,
    attributes: Mapping[str, str] | None = None,
    origin_trust: OriginTrust | None = None,
    entry_ip: str | None = None,
    hops: tuple = (),
) -> Event | Rejection:
    """The event of one record, or a ``bad-time`` rejection when its time is implausible."""
    if not plausible(time):
        return reject(source, locator, "bad-time", f"{time.isoformat()} is outside 1970-2099")
    return Event(
        id=event_id_fast(channel, time, src_ip, persona, digest),
        time=time,
        src_ip=src_ip,
        persona=persona,
        channel=channel,
        evidence=EvidenceRef(source.name, source.sha256, locator),
        attributes=dict(sorted((attributes or {}).items())),
        origin_trust=origin_trust,
        entry_ip=entry_ip,
        hops=hops,
    )
