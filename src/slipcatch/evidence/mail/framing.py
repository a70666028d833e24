"""Message framing: a file's messages (mbox splitting) and the embedded messages inside a
message's MIME tree."""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from slipcatch.evidence._source import Problem, Source
from slipcatch.evidence.mail.headers import Header, first_header, parse_headers

__all__ = ["MAX_DEPTH", "MAX_PARTS", "Framed", "embedded_messages", "split_messages"]

_MBOXRD = re.compile(rb"^>+From ")


@dataclass
class Framed:
    """One message's lines as framed (an mbox envelope line included), or only the fact that
    it was over the size limit (``too_large``: no lines are kept)."""

    lines: list[bytes]
    too_large: bool = False


def split_messages(source: Source, max_message: int) -> Iterator[Framed | Problem]:
    """The messages of a file in order: the whole file, or each message of an mbox.

    An mbox (the file starts with ``From ``) is split at ``From `` separator lines that follow
    a blank line; mboxrd quoting is undone (``>From `` -> ``From ``, ``>>From `` -> ``>From ``).
    A message over ``max_message`` bytes, or with a line over it, keeps no lines. A read fault
    other than a long line ends the file: it is yielded last, and the message it interrupted is
    not.
    """
    mbox = source.head().startswith(b"From ")
    current: list[bytes] = []
    size = 0
    too_large = False
    prev_blank = True
    for item in source.lines(max_line=max_message, keep_blank=True):
        if isinstance(item, Problem):
            if item.reason == "line-too-long":
                too_large = True
                current = []
                continue
            yield item
            return
        line = item.data
        if mbox and prev_blank and line.startswith(b"From ") and (current or too_large):
            yield Framed(current, too_large)
            current, size, too_large = [], 0, False
        prev_blank = not line.strip()
        if too_large:
            continue
        size += len(line) + 1
        if size > max_message:
            too_large = True
            current = []
            continue
        if mbox and _MBOXRD.match(line):
            line = line[1:]
        current.append(line)
    if current or too_large:
        yield Framed(current, too_large)


#: Content types whose body is a whole message (or its header block) quoted by a bounce,
#: an abuse (ARF) report or a forward-as-attachment.
_EMBEDDED_TYPES = frozenset({"message/rfc822", "message/global", "text/rfc822-headers"})
MAX_DEPTH = 8  # nesting of multiparts and embedded messages
MAX_PARTS = 1000  # parts examined per message
_PARAM = re.compile(r';\s*([!#-\'*+.0-9A-Z^-~]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))', re.I)


def _content_type(headers: Sequence[Header]) -> tuple[str, str | None, str]:
    """(type/subtype lower-cased, boundary, transfer encoding lower-cased)."""
    ctype = first_header(headers, "content-type") or "text/plain"
    kind = ctype.split(";", 1)[0].strip().lower()
    boundary: str | None = None
    for m in _PARAM.finditer(ctype):
        if m.group(1).lower() == "boundary":
            boundary = m.group(2) if m.group(2) is not None else m.group(3)
            break
    cte = (first_header(headers, "content-transfer-encoding") or "").strip().lower()
    return kind, boundary or None, cte


def embedded_messages(lines: list[bytes]) -> tuple[list[tuple[str, list[bytes]]], bool]:
    """Embedded messages of a message: (IMAP section, lines) in document order, and whether
    the depth or part limits stopped the walk before the end."""
    found: list[tuple[str, list[bytes]]] = []
    state = _WalkState()
    headers, body = parse_headers(lines)
    kind, _, cte = _content_type(headers)
    if kind in _EMBEDDED_TYPES:  # the whole body is a message (RFC 2046 allows it top-level)
        _enter(_decode_body(lines[body:], cte), "1", 1, found, state)
    else:
        _walk(headers, lines[body:], "", 0, found, state)
    return found, state.limited


@dataclass
class _WalkState:
    budget: int = MAX_PARTS
    limited: bool = False


def _enter(
    inner: list[bytes],
    number: str,
    depth: int,
    found: list[tuple[str, list[bytes]]],
    state: _WalkState,
) -> None:
    found.append((number, inner))
    iheaders, ibody = parse_headers(inner)
    ikind, _, icte = _content_type(iheaders)
    if ikind in _EMBEDDED_TYPES:
        if depth >= MAX_DEPTH:
            state.limited = True
            return
        _enter(_decode_body(inner[ibody:], icte), f"{number}.1", depth + 1, found, state)
    else:
        _walk(iheaders, inner[ibody:], number, depth, found, state)


def _walk(
    headers: Sequence[Header],
    body: list[bytes],
    section: str,
    depth: int,
    found: list[tuple[str, list[bytes]]],
    state: _WalkState,
) -> None:
    kind, boundary, _ = _content_type(headers)
    if not kind.startswith("multipart/") or boundary is None:
        return
    if depth >= MAX_DEPTH:
        state.limited = True
        return
    for n, part in enumerate(_split_parts(body, boundary.encode("utf-8", "surrogateescape")), 1):
        state.budget -= 1
        if state.budget < 0:
            state.limited = True
            return
        number = f"{section}.{n}" if section else str(n)
        pheaders, start = parse_headers(part)
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
