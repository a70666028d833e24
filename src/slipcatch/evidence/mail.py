"""RFC 5322 e-mail messages (one per file, or an mbox of several) and their origin analysis.

Headers are parsed from bytes: each physical line is decoded as UTF-8 when valid, else as
Latin-1 (lossless: every byte keeps a character). RFC 2047 encoded words are decoded for
display names and subjects.

Origin analysis walks the Received chain from the top (index 0, nearest the recipient); each
header was written by the host in its ``by`` clause. See docs/formats.md for the full rules:
the entry hop, the trust boundary, provider-written client evidence and the hop flags.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import quopri
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from slipcatch.evidence._common import (
    ANONYMOUS,
    event,
    is_internal,
    is_loopback,
    parse_address,
    persona_for,
    reject,
    sha256,
)
from slipcatch.evidence._source import Problem, Source
from slipcatch.model import Event, Hop, OriginTrust, Rejection, utc

__all__ = ["FLAGS", "MAX_MESSAGE", "NAME", "TIME_TOLERANCE", "decode_words", "read", "sniff"]

NAME = "email"
CHANNEL = "email"
MAX_MESSAGE = 64 * 1024 * 1024
#: A lower hop may be this much later than the one above it before ``time-backwards``.
TIME_TOLERANCE = timedelta(minutes=10)

#: hop flag -> meaning
FLAGS: dict[str, str] = {
    "time-backwards": "this hop is dated more than 10 minutes after the hop above it",
    "ip-mismatch-by": "this hop's `by` is an IP literal that differs from the from-IP of the "
    "hop above it (the chain does not join up)",
    "private-outside-boundary": "a private/link-local from-IP outside the trust boundary",
    "helo-literal-mismatch": "the HELO is an IP literal different from the connecting IP",
    "ipv6-zone-id": "an IPv6 address carried a %zone id (stripped)",
    "empty-by": "the `by` clause is missing or names no host",
    "may-be-forged": "sendmail's '(may be forged)' annotation: reverse and forward DNS disagree",
    "unparsed-hop": "the header could not be parsed (unbalanced comments or no from/by)",
}
#: Flags that make the chain below the entry untrustworthy for provider evidence.
_BREAKS_CHAIN = frozenset(
    {"time-backwards", "ip-mismatch-by", "empty-by", "may-be-forged", "unparsed-hop"}
)

_HEADER_NAME = re.compile(rb"^([!-9;-~]+):")
_KEY_HEADERS = frozenset(
    {b"received", b"from", b"date", b"message-id", b"subject", b"to", b"return-path",
     b"delivered-to", b"mime-version", b"x-originating-ip"}
)  # fmt: skip
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_EW_GAP = re.compile(r"(=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)\s+(?==\?)")
_AUTH_PROTOCOL = re.compile(r"^(?:E?SMTPS?A|LMTPS?A|UTF8SMTPS?A|HTTPS?|WEBMAIL)$", re.I)
_FETCH_PROTOCOL = re.compile(r"^(?:POP3?|IMAP4?)$", re.I)
_HELO_IN_COMMENT = re.compile(r"\b(?:HELO|EHLO)(?:\s+|=)([^\s)]*)", re.I)
_BRACKETED = re.compile(r"\[([^\]]*)\]")
_CLIENT_IP = re.compile(r"client-ip=([^;\s]+)", re.I)
_KEYWORDS = frozenset({"by", "with", "id", "for", "via", "from"})
_PH = re.compile(r"\x01(\d+)\x02")


def sniff(head: bytes, name: str) -> float:
    """0.9 when the first lines are header fields including at least two common ones."""
    lines = head.split(b"\n", 200)[:200]
    if lines and lines[0].startswith(b"From "):
        lines = lines[1:]
    if not lines or not _HEADER_NAME.match(lines[0]):
        return 0.0
    seen: set[bytes] = set()
    for line in lines:
        if not line.strip(b"\r"):
            break
        m = _HEADER_NAME.match(line)
        if m:
            seen.add(m.group(1).lower())
        elif line[:1] not in (b" ", b"\t"):
            break
    return 0.9 if len(seen & _KEY_HEADERS) >= 2 else 0.0


# -- messages ----------------------------------------------------------------------------------


def read(source: Source) -> Iterator[Event | Rejection]:
    """One event or rejection per message, then one per embedded message.

    An mbox (the file starts with ``From ``) is split at ``From `` separator lines that follow
    a blank line; mboxrd quoting is undone (``>From `` -> ``From ``, ``>>From `` -> ``>From ``).
    Each ``message/rfc822`` (also ``message/global``, ``text/rfc822-headers``) part is a record
    of its own, located ``message N part M`` with IMAP-style section numbers.
    """
    mbox = source.head().startswith(b"From ")
    number = 0
    current: list[bytes] = []
    size = 0
    too_large = False
    prev_blank = True
    for item in source.lines(max_line=MAX_MESSAGE, keep_blank=True):
        if isinstance(item, Problem):
            if item.reason == "line-too-long":
                too_large = True
                current = []
                continue
            number += 1
            yield reject(source, f"message {number}", item.reason, item.detail)
            return
        line = item.data
        if mbox and prev_blank and line.startswith(b"From ") and (current or too_large):
            number += 1
            yield from _finish(source, number, current, too_large)
            current, size, too_large = [], 0, False
        prev_blank = not line.strip()
        if too_large:
            continue
        size += len(line) + 1
        if size > MAX_MESSAGE:
            too_large = True
            current = []
            continue
        if mbox and _MBOXRD.match(line):
            line = line[1:]
        current.append(line)
    if current or too_large:
        number += 1
        yield from _finish(source, number, current, too_large)


_MBOXRD = re.compile(rb"^>+From ")


def _finish(
    source: Source, number: int, lines: list[bytes], too_large: bool
) -> Iterator[Event | Rejection]:
    locator = f"message {number}"
    if too_large:
        yield reject(source, locator, "message-too-large", f"over {MAX_MESSAGE} bytes")
        return
    outer = _message(source, locator, lines)
    yield outer
    container = outer.src_ip if isinstance(outer, Event) else None
    found, limited = _embedded(lines)
    for section, inner in found:
        yield _message(
            source, f"{locator} part {section}", inner, embedded_in=locator, container=container
        )
    if limited:
        # What lies beyond the limits is not silently ignored: it is one stated rejection.
        yield reject(
            source,
            f"{locator} parts beyond limits",
            "mime-limit",
            f"MIME nesting deeper than {_MAX_DEPTH} or more than {_MAX_PARTS} parts: "
            "the rest of the message was not examined for embedded messages",
        )


# -- MIME: embedded messages -------------------------------------------------------------------

#: Content types whose body is a whole message (or its header block) quoted by a bounce,
#: an abuse (ARF) report or a forward-as-attachment.
_EMBEDDED_TYPES = frozenset({"message/rfc822", "message/global", "text/rfc822-headers"})
_MAX_DEPTH = 8  # nesting of multiparts and embedded messages
_MAX_PARTS = 1000  # parts examined per message
_PARAM = re.compile(r';\s*([!#-\'*+.0-9A-Z^-~]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))', re.I)


def _content_type(headers: Sequence[_Header]) -> tuple[str, str | None, str]:
    """(type/subtype lower-cased, boundary, transfer encoding lower-cased)."""
    ctype = _first(headers, "content-type") or "text/plain"
    kind = ctype.split(";", 1)[0].strip().lower()
    boundary: str | None = None
    for m in _PARAM.finditer(ctype):
        if m.group(1).lower() == "boundary":
            boundary = m.group(2) if m.group(2) is not None else m.group(3)
            break
    cte = (_first(headers, "content-transfer-encoding") or "").strip().lower()
    return kind, boundary or None, cte


def _embedded(lines: list[bytes]) -> tuple[list[tuple[str, list[bytes]]], bool]:
    """Embedded messages of a message: (IMAP section, lines) in document order, and whether
    the depth or part limits stopped the walk before the end."""
    found: list[tuple[str, list[bytes]]] = []
    state = _WalkState()
    headers, body = _headers(lines)
    kind, _, cte = _content_type(headers)
    if kind in _EMBEDDED_TYPES:  # the whole body is a message (RFC 2046 allows it top-level)
        _enter(_decode_body(lines[body:], cte), "1", 1, found, state)
    else:
        _walk(headers, lines[body:], "", 0, found, state)
    return found, state.limited


@dataclass
class _WalkState:
    budget: int = _MAX_PARTS
    limited: bool = False


def _enter(
    inner: list[bytes],
    number: str,
    depth: int,
    found: list[tuple[str, list[bytes]]],
    state: _WalkState,
) -> None:
    found.append((number, inner))
    iheaders, ibody = _headers(inner)
    ikind, _, icte = _content_type(iheaders)
    if ikind in _EMBEDDED_TYPES:
        if depth >= _MAX_DEPTH:
            state.limited = True
            return
        _enter(_decode_body(inner[ibody:], icte), f"{number}.1", depth + 1, found, state)
    else:
        _walk(iheaders, inner[ibody:], number, depth, found, state)


def _walk(
    headers: Sequence[_Header],
    body: list[bytes],
    section: str,
    depth: int,
    found: list[tuple[str, list[bytes]]],
    state: _WalkState,
) -> None:
    kind, boundary, _ = _content_type(headers)
    if not kind.startswith("multipart/") or boundary is None:
        return
    if depth >= _MAX_DEPTH:
        state.limited = True
        return
    for n, part in enumerate(_split_parts(body, boundary.encode("utf-8", "surrogateescape")), 1):
        state.budget -= 1
        if state.budget < 0:
            state.limited = True
            return
        number = f"{section}.{n}" if section else str(n)
        pheaders, start = _headers(part)
        pkind, _, cte = _content_type(pheaders)
        if pkind in _EMBEDDED_TYPES:
            _enter(_decode_body(part[start:], cte), number, depth + 1, found, state)
        elif pkind.startswith("multipart/"):
            _walk(pheaders, part[start:], number, depth + 1, found, state)


def _split_parts(body: list[bytes], boundary: bytes) -> list[list[bytes]]:
    """Body parts between ``--boundary`` lines; the preamble and epilogue are not parts."""
    delim = b"--" + boundary
    parts: list[list[bytes]] = []
    current: list[bytes] | None = None
    for line in body:
        stripped = line.rstrip()
        if stripped == delim or stripped == delim + b"--":
            if current is not None:
                parts.append(current)
            if stripped != delim:
                return parts
            current = []
        elif current is not None:
            current.append(line)
    if current is not None:
        parts.append(current)  # the closing delimiter is missing: keep what there is
    return parts


def _decode_body(lines: list[bytes], cte: str) -> list[bytes]:
    """An embedded message's lines, undoing a base64 or quoted-printable transfer encoding."""
    if cte not in ("base64", "quoted-printable"):
        return lines
    data = b"\n".join(lines)
    try:
        if cte == "base64":
            decoded = base64.b64decode(b"".join(data.split()) + b"==", validate=False)
        else:
            decoded = quopri.decodestring(data)
    except (binascii.Error, ValueError):
        return lines
    return [ln[:-1] if ln.endswith(b"\r") else ln for ln in decoded.split(b"\n")]


@dataclass
class _Header:
    name: str  # lower case
    value: str  # unfolded, decoded (UTF-8 or Latin-1), RFC 2047 not applied
    received_above: int  # Received headers above this one
    raw: bytes = b""  # the value's bytes, line breaks of folding removed (whitespace kept)


def _decode_line(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _headers(lines: Sequence[bytes]) -> tuple[list[_Header], int]:
    """The header fields and the index of the first body line (``len(lines)`` if none)."""
    out: list[_Header] = []
    received = 0
    start = 1 if lines and lines[0].startswith(b"From ") else 0
    for i in range(start, len(lines)):
        raw = lines[i]
        if not raw.strip():
            return out, i + 1
        if raw[:1] in (b" ", b"\t"):
            if out:
                out[-1].value += " " + _decode_line(raw).strip()
                out[-1].raw += raw
            continue
        m = _HEADER_NAME.match(raw)
        if m is None:
            return out, i  # the body started without a blank line
        name = m.group(1).decode("ascii").lower()
        out.append(_Header(name, _decode_line(raw[m.end() :]).strip(), received, raw[m.end() :]))
        if name == "received":
            received += 1
    return out, len(lines)


def decode_words(text: str) -> str:
    """Decode RFC 2047 encoded words; undecodable words are kept as written."""
    if "=?" not in text:
        return text
    text = _EW_GAP.sub(r"\1", text)

    def one(m: re.Match[str]) -> str:
        charset = m.group(1).split("*", 1)[0]
        payload = m.group(3)
        try:
            if m.group(2) in "bB":
                data = base64.b64decode(payload + "=" * (-len(payload) % 4))
            else:
                data = quopri.decodestring(payload.replace("_", " ").encode("ascii"))
            return data.decode(charset, "replace")
        except (binascii.Error, LookupError, UnicodeEncodeError, ValueError):
            return m.group(0)

    return _ENCODED_WORD.sub(one, text)


def _address(value: str) -> tuple[str | None, str | None]:
    """(display name, address) of a From-style header value."""
    value = value.strip()
    lt = value.rfind("<")
    if lt >= 0 and value.endswith(">"):
        addr = value[lt + 1 : -1].strip() or None
        display = value[:lt].strip()
    else:
        display = ""
        addr = value
        m = re.search(r"\(([^()]*)\)\s*$", value)
        if m:
            display = m.group(1)
            addr = value[: m.start()].strip()
        addr = addr or None
    if len(display) >= 2 and display[0] == display[-1] == '"':
        display = re.sub(r"\\(.)", r"\1", display[1:-1])
    display = " ".join(decode_words(display).split())
    return display or None, addr


def _first(headers: Sequence[_Header], name: str) -> str | None:
    for h in headers:
        if h.name == name:
            return h.value
    return None


def _date(text: str | None) -> datetime | None:
    if not text:
        return None
    text = re.sub(r"\([^()]*\)", " ", text).strip()
    try:
        return utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


# -- Received headers --------------------------------------------------------------------------


@dataclass
class _Hop:
    index: int
    raw: str
    from_host: str | None = None
    from_ip: str | None = None
    trust_name: str | None = None  # the receiver-recorded name, for --trusted-relay names
    by_host: str | None = None
    by_ip: str | None = None  # the by token itself as an IP literal
    protocol: str | None = None
    time: datetime | None = None
    auth: bool = False
    fetch: bool = False
    flags: set[str] = field(default_factory=set)


def _skeleton(text: str) -> tuple[str, list[str], bool]:
    """Replace top-level comments by placeholders; return (skeleton, comments, balanced)."""
    out: list[str] = []
    comments: list[str] = []
    depth = 0
    buf: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and depth and i + 1 < len(text):
            buf.append(text[i : i + 2])
            i += 2
            continue
        if c == "(":
            if depth:
                buf.append(c)
            depth += 1
        elif c == ")" and depth:
            depth -= 1
            if depth:
                buf.append(c)
            else:
                out.append(f" \x01{len(comments)}\x02 ")
                comments.append("".join(buf))
                buf = []
        elif depth:
            buf.append(c)
        else:
            out.append(c)
        i += 1
    balanced = depth == 0
    if not balanced:
        out.append(f" \x01{len(comments)}\x02 ")
        comments.append("".join(buf))
    return "".join(out), comments, balanced


def _ips_in(text: str) -> Iterator[tuple[str, bool]]:
    for m in _BRACKETED.finditer(text):
        ip, zone = parse_address(m.group(1))
        if ip is not None:
            yield ip, zone
    for token in re.split(r"[\s,;()]+", _BRACKETED.sub(" ", text)):
        token = token.rsplit("@", 1)[-1].strip("[]")
        if token and (":" in token or token[:1].isdigit()):
            ip, zone = parse_address(token)
            if ip is not None:
                yield ip, zone


def _parse_received(index: int, text: str) -> _Hop:
    hop = _Hop(index=index, raw=text)
    skel, comments, balanced = _skeleton(text)
    if not balanced:
        hop.flags.add("unparsed-hop")
    if "may be forged" in text.lower():
        hop.flags.add("may-be-forged")
    semi = skel.rfind(";")
    clause = skel if semi < 0 else skel[:semi]
    if semi >= 0:
        hop.time = _date(_PH.sub(" ", skel[semi + 1 :]))
    if hop.time is None and text.rfind(";") >= 0:
        hop.time = _date(text[text.rfind(";") + 1 :])
    words = clause.split()
    lower = [w.lower() for w in words]
    # -- from clause
    if lower[:1] == ["from"]:
        end = next((i for i in range(1, len(words)) if lower[i] in _KEYWORDS), len(words))
        part = words[1:end]
        helo: str | None = None
        if part and not _PH.fullmatch(part[0]):
            helo = part[0]
        ips: list[tuple[str, bool]] = []
        rdns: str | None = None
        rdns_recorded = False
        for w in part[1:] if helo is not None else part:
            ph = _PH.fullmatch(w)
            if ph is None:
                ips.extend(_ips_in(w))
                continue
            ctext = comments[int(ph.group(1))]
            hm = _HELO_IN_COMMENT.search(ctext)
            if hm:
                helo = hm.group(1)
                ctext = ctext[: hm.start()] + ctext[hm.end() :]
            if re.search(r"\bwith login\b|\bauthenticated sender\b", ctext, re.I):
                hop.auth = True
            found = list(_ips_in(ctext))
            if found:
                first_word = ctext.split()[0] if ctext.split() else ""
                if first_word and not _BRACKETED.fullmatch(first_word) and first_word[:1] != "[":
                    name_ip, _ = parse_address(first_word)
                    if name_ip is None and "@" not in first_word:
                        rdns_recorded = True
                        if first_word.lower() != "unknown":
                            rdns = first_word.rstrip(".")
            ips.extend(found)
        helo_ip: str | None = None
        if helo:
            helo_ip, _ = parse_address(helo)
        # The first token is the HELO unless a (HELO x) comment says otherwise; as a literal it
        # is the only address some MTAs record (`from [1.2.3.4] (account ...)`, `from 1.2.3.4 by`).
        first_ip, first_zone = parse_address(part[0]) if part else (None, False)
        if ips:
            hop.from_ip, zone = ips[0]
            if zone:
                hop.flags.add("ipv6-zone-id")
        elif first_ip is not None:
            hop.from_ip = first_ip
            if first_zone:
                hop.flags.add("ipv6-zone-id")
        hop.from_host = helo if helo else None
        if helo_ip is not None and hop.from_ip is not None and helo_ip != hop.from_ip:
            hop.flags.add("helo-literal-mismatch")
        if rdns is not None:
            hop.trust_name = rdns
        elif not rdns_recorded and helo and helo_ip is None:
            hop.trust_name = helo.rstrip(".")
    # -- by clause
    if "by" in lower:
        i = lower.index("by")
        token = words[i + 1] if i + 1 < len(words) else ""
        if not token or _PH.fullmatch(token) or token.lower() in _KEYWORDS:
            hop.flags.add("empty-by")
        else:
            hop.by_host = token
            by_ip, zone = parse_address(token)
            hop.by_ip = by_ip
            if zone:
                hop.flags.add("ipv6-zone-id")
        for w in words[i + 2 :]:
            ph = _PH.fullmatch(w)
            if ph is None:
                break
            if any(zone for _, zone in _ips_in(comments[int(ph.group(1))])):
                hop.flags.add("ipv6-zone-id")
    elif lower[:1] == ["from"]:
        hop.flags.add("empty-by")
    elif not any(c.lower().startswith("qmail ") for c in comments):
        hop.flags.add("unparsed-hop")
    if "with" in lower:
        i = lower.index("with")
        if i + 1 < len(words) and not _PH.fullmatch(words[i + 1]):
            hop.protocol = _PH.sub("", words[i + 1]).rstrip(";") or None
    if hop.protocol:
        if _AUTH_PROTOCOL.match(hop.protocol):
            hop.auth = True
        if _FETCH_PROTOCOL.match(hop.protocol):
            hop.fetch = True
    return hop


def _chain_flags(hops: list[_Hop]) -> None:
    last_time: datetime | None = None
    for i, hop in enumerate(hops):
        if hop.time is not None:
            if last_time is not None and hop.time - last_time > TIME_TOLERANCE:
                hop.flags.add("time-backwards")
            last_time = hop.time
        if i and hop.by_ip is not None:
            above = hops[i - 1].from_ip
            if above is not None and above != hop.by_ip:
                hop.flags.add("ip-mismatch-by")


# -- trust boundary ----------------------------------------------------------------------------


class _Trusted:
    def __init__(self, relays: Sequence[str]):
        self.nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self.names: list[str] = []
        for relay in relays:
            text = relay.strip()
            if not text:
                continue
            try:
                self.nets.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                self.names.append(text.lstrip(".").rstrip(".").lower())

    def __bool__(self) -> bool:
        return bool(self.nets or self.names)

    def holds(self, hop: _Hop) -> bool:
        if hop.from_ip is not None:
            addr = ipaddress.ip_address(hop.from_ip)
            if any(addr.version == n.version and addr in n for n in self.nets):
                return True
        if hop.trust_name:
            name = hop.trust_name.lower()
            return any(name == n or name.endswith("." + n) for n in self.names)
        return False


def _entry(hops: Sequence[_Hop], trusted: _Trusted) -> int | None:
    for hop in hops:
        if hop.fetch or hop.from_ip is None or is_loopback(hop.from_ip):
            continue  # a mailbox fetch, a local hand-off or an address-less internal relay
        if trusted:
            if trusted.holds(hop):
                continue
        elif is_internal(hop.from_ip):
            continue
        return hop.index
    return None


@dataclass
class _Origin:
    ip: str
    trust: OriginTrust
    evidence: str


def _header_ips(value: str) -> list[str]:
    return [ip for ip, _ in _ips_in(value.replace(",", " "))]


def _joins(hop: _Hop, above: _Hop, *, helo_ok: bool) -> bool:
    """Whether ``hop`` was written by the host that the hop above received the message from.

    The hop above recorded that host's address and name; ``helo_ok`` allows its HELO name too
    (for hops the sender's provider wrote; at the entry only the receiver-recorded name counts).
    """
    if hop.by_ip is not None:
        return hop.by_ip == above.from_ip
    if not hop.by_host:
        return False
    name = hop.by_host.lower().rstrip(".")
    names = {above.trust_name} | ({above.from_host} if helo_ok else set())
    return any(n is not None and n.lower().rstrip(".") == name for n in names)


def _provider_chain(hops: Sequence[_Hop], entry: int | None) -> set[int]:
    """Hops just below the entry that the sender's provider wrote about its own network.

    Below the entry, a hop whose ``by`` host is the host the entry hop came from, and whose
    from-address is private, loopback or link-local, records a hand-off inside the sending
    provider's network (``from smtp.provider ([172.16.4.7]) by out2.provider``): it was written
    by the provider's outbound relay, and a private address there is normal. The run continues
    down while each hop joins the one above, is private and no hop breaks the chain. Loopback
    hand-offs (``from localhost (127.0.0.1) by host``) do not count: they show one machine, which
    may be the sender's own rented server, not a provider's network.
    """
    chain: set[int] = set()
    if entry is None:
        return chain
    above = hops[entry]
    for hop in hops[entry + 1 :]:
        ip = hop.from_ip
        if hop.flags & _BREAKS_CHAIN or ip is None or not is_internal(ip) or is_loopback(ip):
            break
        if not _joins(hop, above, helo_ok=above.index != entry):
            break
        chain.add(hop.index)
        above = hop
    return chain


def _analyse(
    hops: list[_Hop], headers: Sequence[_Header], trusted: _Trusted
) -> tuple[int | None, _Origin | None, dict[str, str], set[int]]:
    entry = _entry(hops, trusted)
    notes: dict[str, str] = {}
    below = [h for h in hops if entry is not None and h.index > entry]
    provider = _provider_chain(hops, entry)
    for hop in below:
        if (
            hop.from_ip is not None
            and is_internal(hop.from_ip)
            and not is_loopback(hop.from_ip)
            and hop.index not in provider
        ):
            hop.flags.add("private-outside-boundary")
    if entry is not None:
        ehop = hops[entry]
        if ehop.from_ip is not None and is_internal(ehop.from_ip):
            ehop.flags.add("private-outside-boundary")

    def consistent(upto: int) -> bool:
        return not any(h.flags & _BREAKS_CHAIN for h in below if h.index <= upto)

    last = hops[-1].index if hops else -1
    inside_x: list[tuple[str, str]] = []
    candidates: list[_Origin] = []
    for hop in sorted(below, key=lambda h: -h.index):
        if hop.auth and hop.from_ip is not None and not is_internal(hop.from_ip):
            trust = (
                OriginTrust.SENDER_PROVIDER if consistent(hop.index) else OriginTrust.SENDER_WRITTEN
            )
            candidates.append(
                _Origin(hop.from_ip, trust, f"authenticated submission, hop {hop.index}")
            )
    for name in ("x-originating-ip", "x-sender-ip", "x-forwarded-for"):
        for h in headers:
            if h.name != name:
                continue
            for ip in _header_ips(h.value)[:1]:
                if entry is None or h.received_above <= entry:
                    inside_x.append((ip, name))
                    continue
                ok = bool(below) and consistent(last)
                trust = OriginTrust.SENDER_PROVIDER if ok else OriginTrust.SENDER_WRITTEN
                candidates.append(_Origin(ip, trust, name))
    for h in headers:
        if h.name == "received-spf":
            m = _CLIENT_IP.search(h.value)
            spf_ip = parse_address(m.group(1))[0] if m else None
            if spf_ip is not None and (entry is None or h.received_above <= entry + 1):
                notes.setdefault("spf_client_ip", spf_ip)
    if candidates or inside_x:
        notes["client_evidence"] = "; ".join(
            [f"{c.evidence}: {c.ip} ({c.trust.value})" for c in candidates]
            + [f"{name}: {ip} (trusted-relay)" for ip, name in inside_x]
        )
    for c in candidates:
        if c.trust is OriginTrust.SENDER_PROVIDER and not is_internal(c.ip):
            return entry, c, notes, provider
    if entry is not None:
        entry_ip = hops[entry].from_ip
        if entry_ip is not None:  # always: _entry only returns hops with an address
            claim = _claimed_client(entry_ip, candidates, below, provider)
            if claim is not None:
                notes["claimed_client_ip"] = claim.ip
                notes["claimed_client_trust"] = claim.trust.value
                notes["claimed_client_evidence"] = claim.evidence
            origin = _Origin(entry_ip, OriginTrust.TRUSTED_RELAY, f"entry hop {entry}")
            return entry, origin, notes, provider
    for ip, name in inside_x:
        if not is_internal(ip):
            return None, _Origin(ip, OriginTrust.TRUSTED_RELAY, name), notes, provider
    if "spf_client_ip" in notes:
        spf = notes["spf_client_ip"]
        return None, _Origin(spf, OriginTrust.TRUSTED_RELAY, "received-spf"), notes, provider
    for hop in reversed(hops):
        if hop.from_ip is not None and not is_loopback(hop.from_ip):
            origin = _Origin(hop.from_ip, OriginTrust.TRUSTED_RELAY, f"hop {hop.index}")
            return None, origin, notes, provider
    return None, None, notes, provider


def _claimed_client(
    entry_ip: str, candidates: Sequence[_Origin], below: Sequence[_Hop], provider: set[int]
) -> _Origin | None:
    """The client the sender-written part of the chain claims, when the origin is the entry.

    The origin stays the entry relay (the most credible address); this claim is only recorded.
    Preference: a sender-written authenticated hop (lowest first) or X-header, else the lowest
    public from-address below the entry outside the provider chain.
    """
    for c in candidates:
        if c.trust is OriginTrust.SENDER_WRITTEN and not is_internal(c.ip) and c.ip != entry_ip:
            return c
    for hop in reversed(below):
        ip = hop.from_ip
        if hop.index in provider or ip is None or is_internal(ip) or ip == entry_ip:
            continue
        return _Origin(ip, OriginTrust.SENDER_WRITTEN, f"hop {hop.index}")
    return None


def _hop_trust(
    hop: _Hop, entry: int | None, below: Sequence[_Hop], provider: set[int]
) -> OriginTrust:
    if entry is None or hop.index <= entry:
        return OriginTrust.TRUSTED_RELAY
    if hop.index in provider:
        return OriginTrust.SENDER_PROVIDER
    if hop.auth and not any(h.flags & _BREAKS_CHAIN for h in below if h.index <= hop.index):
        return OriginTrust.SENDER_PROVIDER
    return OriginTrust.SENDER_WRITTEN


def _cap(trust: OriginTrust, embedded: bool) -> OriginTrust:
    # An embedded copy was written by whoever sent the outer message (a bounce or report
    # system, a forwarder): at best provider-written, never our own relays' record.
    if embedded and trust is OriginTrust.TRUSTED_RELAY:
        return OriginTrust.SENDER_PROVIDER
    return trust


def _message(
    source: Source,
    locator: str,
    lines: list[bytes],
    *,
    embedded_in: str | None = None,
    container: str | None = None,
) -> Event | Rejection:
    headers, _ = _headers(lines)
    received = [x for x in headers if x.name == "received"]
    hops = [_parse_received(i, h.value) for i, h in enumerate(received)]
    for hop, h in zip(hops, received, strict=True):
        # Lossless: undecodable bytes survive as surrogates (JSON writes them as \udcXX).
        hop.raw = h.raw.decode("utf-8", "surrogateescape").strip(" \t")
    _chain_flags(hops)
    trusted = _Trusted(source.options.trusted_relays)
    entry, origin, notes, provider = _analyse(hops, headers, trusted)
    if origin is None:
        return reject(source, locator, "no-address", f"{len(hops)} Received headers, no address")
    when = hops[entry].time if entry is not None else None
    if when is None:
        when = next((h.time for h in hops if h.time is not None), None)
    if when is None:
        when = _date(_first(headers, "date"))
    if when is None:
        return reject(source, locator, "bad-time", "no parseable Received or Date time")
    display, addr = _address(_first(headers, "from") or "")
    below = [h for h in hops if entry is not None and h.index > entry]
    embedded = embedded_in is not None
    model_hops = tuple(
        Hop(
            index=h.index,
            from_host=h.from_host,
            from_ip=h.from_ip,
            by_host=h.by_host,
            protocol=h.protocol,
            time=h.time,
            trust=_cap(_hop_trust(h, entry, below, provider), embedded),
            flags=tuple(sorted(h.flags)),
            raw=h.raw,
        )
        for h in hops
    )
    attrs = dict(notes)
    attrs["origin_evidence"] = origin.evidence
    for key, name in (("message_id", "message-id"), ("subject", "subject"), ("to", "to")):
        value = _first(headers, name)
        if value is not None:
            attrs[key] = decode_words(value)
    if addr:
        attrs["from_addr"] = addr
    if embedded_in is not None:
        if "client_evidence" in attrs:
            attrs["client_evidence"] = attrs["client_evidence"].replace(
                "(trusted-relay)", "(sender-provider)"
            )
        attrs["embedded_in"] = embedded_in
        if container is not None:
            attrs["container_src_ip"] = container
    persona = persona_for(source, display, addr, attributes=attrs) or ANONYMOUS
    # The mbox envelope line and the blank lines before the next one are not the message:
    # the same message in an mbox and in its own .eml file is one event.
    start = 1 if lines and lines[0].startswith(b"From ") else 0
    end = len(lines)
    while end > start and not lines[end - 1].strip():
        end -= 1
    digest = sha256(b"\n".join(lines[start:end]))
    return event(
        source,
        locator,
        time=when,
        src_ip=origin.ip,
        persona=persona,
        channel=CHANNEL,
        digest=digest,
        attributes=attrs,
        origin_trust=_cap(origin.trust, embedded),
        entry_ip=hops[entry].from_ip if entry is not None else None,
        hops=model_hops,
    )
