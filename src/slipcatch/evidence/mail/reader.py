"""The e-mail reader: one event or rejection per message and per embedded message."""

from __future__ import annotations

import re
from collections.abc import Iterator

from slipcatch.evidence._common import ANONYMOUS, event, persona_for, reject, sha256
from slipcatch.evidence._source import HEAD_SIZE, Problem, Source
from slipcatch.evidence.mail.framing import (
    MAX_DEPTH,
    MAX_PARTS,
    embedded_messages,
    split_messages,
)
from slipcatch.evidence.mail.headers import (
    HEADER_NAME,
    decode_words_checked,
    first_header,
    parse_from,
    parse_headers,
    parse_time,
)
from slipcatch.evidence.mail.origin import Trusted, analyse, cap_embedded, hop_trust
from slipcatch.evidence.mail.outlook import is_ole, looks_like_msg, read_msg
from slipcatch.evidence.mail.received import ReceivedHop, chain_flags, parse_received
from slipcatch.model import Event, Hop, MailOrigin, Rejection

__all__ = ["BINARY", "CHANNEL", "MAX_HEADER", "MAX_MESSAGE", "NAME", "read", "sniff"]

NAME = "email"
#: The reader also reads a binary format (Outlook .msg): ingest asks it about binary files too.
BINARY = True
CHANNEL = "email"
MAX_MESSAGE = 64 * 1024 * 1024
#: A header block (up to the first blank line) over this many bytes is ``oversized-header``.
MAX_HEADER = 1024 * 1024
_TOKEN_NAME = re.compile(rb"^[A-Za-z0-9-]+:")
_KEY_HEADERS = frozenset(
    {b"received", b"from", b"date", b"message-id", b"subject", b"to", b"return-path",
     b"delivered-to", b"mime-version", b"x-originating-ip"}
)  # fmt: skip


def sniff(head: bytes, name: str) -> float:
    """Whether the file starts with a message's header block (an mbox ``From `` line may lead).

    The block is judged as a whole, up to its blank line, however many lines it has: 0.9 when
    it holds at least two common header fields. A block longer than the head (padded with
    forged Received headers or one long sender-written field) cannot be judged on its key
    fields: 0.6 when every line of the head belongs to it (fields with token names, or folded
    continuation lines). The reader then reads it, or rejects it as ``oversized-header``.

    An Outlook ``.msg`` (OLE2 signature): 0.95 when the head holds a message's property
    streams, 0.5 for any other OLE2 file (the reader then looks inside: not a message is one
    ``unrecognised-format`` rejection).
    """
    if is_ole(head):
        return 0.95 if looks_like_msg(head) else 0.5
    if b"\x00" in head[:8000]:
        return 0.0  # binary, and not a .msg: never a message's text (as ingest judges binary)
    lines = head.split(b"\n")
    if lines and lines[0].startswith(b"From "):
        lines = lines[1:]
    if not lines or not HEADER_NAME.match(lines[0]):
        return 0.0
    seen: set[bytes] = set()
    tokens = True
    ended = False
    for line in lines:
        if not line.strip(b"\r"):
            ended = True
            break
        m = HEADER_NAME.match(line)
        if m:
            seen.add(m.group(1).lower())
            tokens = tokens and _TOKEN_NAME.match(line) is not None
        elif line[:1] not in (b" ", b"\t"):
            ended = True
            break
    if len(seen & _KEY_HEADERS) >= 2:
        return 0.9
    # only when the head is full: a short file that ends inside its first field is not mail
    return 0.6 if not ended and tokens and len(head) >= HEAD_SIZE else 0.0


# -- messages ----------------------------------------------------------------------------------


def read(source: Source) -> Iterator[Event | Rejection]:
    """One event or rejection per message, then one per embedded message.

    The messages are the file's, or its mbox's (``framing.split_messages``). Each
    ``message/rfc822`` (also ``message/global``, ``text/rfc822-headers``) part is a record of its
    own, located ``message N part M`` with IMAP-style section numbers. An Outlook ``.msg`` is
    read through its transport headers (``outlook.read_msg``).
    """
    if is_ole(source.head()):
        yield from read_msg(source)
        return
    for number, item in enumerate(split_messages(source, MAX_MESSAGE), 1):
        if isinstance(item, Problem):
            yield reject(source, f"message {number}", item.reason, item.detail)
            return
        yield from finish_message(source, number, item.lines, item.too_large)


def finish_message(
    source: Source, number: int, lines: list[bytes], too_large: bool
) -> Iterator[Event | Rejection]:
    locator = f"message {number}"
    if too_large:
        yield reject(source, locator, "message-too-large", f"over {MAX_MESSAGE} bytes")
        return
    size = _header_size(lines)
    if size > MAX_HEADER:
        yield reject(
            source, locator, "oversized-header", f"header block over {MAX_HEADER} bytes ({size}+)"
        )
        return
    outer = message_event(source, locator, lines)
    yield outer
    container = outer.src_ip if isinstance(outer, Event) else None
    found, limited = embedded_messages(lines)
    for section, inner in found:
        where = f"{locator} part {section}"
        if _header_size(inner) > MAX_HEADER:
            yield reject(source, where, "oversized-header", f"header block over {MAX_HEADER} bytes")
            continue
        yield message_event(source, where, inner, embedded_in=locator, container=container)
    if limited:
        # What lies beyond the limits is not silently ignored: it is one stated rejection.
        yield reject(
            source,
            f"{locator} parts beyond limits",
            "mime-limit",
            f"MIME nesting deeper than {MAX_DEPTH} or more than {MAX_PARTS} parts: "
            "the rest of the message was not examined for embedded messages",
        )


def _header_size(lines: list[bytes]) -> int:
    """Bytes of the header block (up to the first blank line), counted up to MAX_HEADER + 1."""
    size = 0
    for line in lines:
        if not line.strip():
            break
        size += len(line) + 1
        if size > MAX_HEADER:
            break
    return size


def message_event(
    source: Source,
    locator: str,
    lines: list[bytes],
    *,
    embedded_in: str | None = None,
    container: str | None = None,
) -> Event | Rejection:
    headers, _ = parse_headers(lines)
    received = [x for x in headers if x.name == "received"]
    hops = [parse_received(i, h.value) for i, h in enumerate(received)]
    for hop, h in zip(hops, received, strict=True):
        # Valid text for every writer: undecodable bytes are kept escaped as \xNN (the record's
        # digest hashes the bytes themselves).
        hop.raw = h.raw.decode("utf-8", "backslashreplace").strip(" \t")
    chain_flags(hops)
    trusted = Trusted(source.options.trusted_relays)
    found = analyse(hops, headers, trusted)
    entry, origin = found.entry, found.origin
    if origin is None:
        return reject(source, locator, "no-address", f"{len(hops)} Received headers, no address")
    # An impossible date (a year outside 1970-2099) is no date: the next rule applies.
    when = hops[entry].time if entry is not None else None
    if when is None:
        when = next((h.time for h in hops if h.time is not None), None)
    date, bad_date = parse_time(first_header(headers, "date"))
    if when is None:
        when = date
    if when is None:
        impossible = [h.bad_time for h in hops if h.bad_time] + ([bad_date] if bad_date else [])
        if impossible:
            detail = f"{impossible[0]!r} is outside 1970-2099; no usable Received or Date time"
            return reject(source, locator, "bad-time", detail)
        return reject(source, locator, "bad-time", "no parseable Received or Date time")
    from_value = first_header(headers, "from") or ""
    display, addr = parse_from(from_value)
    embedded = embedded_in is not None
    claim = found.claim
    boundary = found.boundary
    mail = MailOrigin(
        from_addr=addr,
        display_name=display,
        claimed_client_ip=claim.ip if claim is not None else None,
        claimed_client_trust=claim.trust if claim is not None else None,
        claimed_client_evidence=claim.evidence if claim is not None else None,
        boundary=boundary.host(hops) if boundary is not None else None,
        boundary_basis=boundary.basis(hops) if boundary is not None and hops else None,
    )
    # The flat view of the typed part stays in the attributes: persona-map ``attr:`` rows and
    # the events.jsonl ``attributes`` read it there.
    attrs = dict(found.notes) | mail.attributes()
    attrs["origin_evidence"] = origin.evidence
    if display is not None and "\ufffd" in display and decode_words_checked(from_value)[1]:
        # a lone surrogate was replaced: the header as written (encoded words undecoded) stays
        attrs["from_raw"] = from_value
    for key, name in (("message_id", "message-id"), ("subject", "subject"), ("to", "to")):
        value = first_header(headers, name)
        if value is not None:
            attrs[key], replaced = decode_words_checked(value)
            if replaced:
                attrs[f"{key}_raw"] = value
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
        origin_trust=cap_embedded(origin.trust, embedded),
        entry_ip=hops[entry].from_ip if entry is not None else None,
        hops=_model_hops(hops, entry, found.provider, embedded),
        mail=mail,
    )


def _model_hops(
    hops: list[ReceivedHop], entry: int | None, provider: set[int], embedded: bool
) -> tuple[Hop, ...]:
    """The parsed hops as the event carries them, each with who wrote it."""
    below = [h for h in hops if entry is not None and h.index > entry]
    return tuple(
        Hop(
            index=h.index,
            from_host=h.from_host,
            from_ip=h.from_ip,
            by_host=h.by_host,
            protocol=h.protocol,
            time=h.time,
            trust=cap_embedded(hop_trust(h, entry, below, provider), embedded),
            flags=tuple(sorted(h.flags)),
            raw=h.raw,
        )
        for h in hops
    )
