"""Header fields of one message: unfolding, byte decoding, RFC 2047 words, From and Date.

Headers are parsed from bytes: each physical line is decoded as UTF-8 when valid, else as
Latin-1 (lossless: every byte keeps a character). RFC 2047 encoded words are decoded for
display names and subjects (``decode_words``), not for the Received chain.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

from slipcatch.model import utc

__all__ = [
    "HEADER_NAME",
    "Header",
    "decode_words",
    "first_header",
    "parse_date",
    "parse_from",
    "parse_headers",
]

HEADER_NAME = re.compile(rb"^([!-9;-~]+):")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_EW_GAP = re.compile(r"(=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)\s+(?==\?)")


@dataclass
class Header:
    name: str  # lower case
    value: str  # unfolded, decoded (UTF-8 or Latin-1), RFC 2047 not applied
    received_above: int  # Received headers above this one
    raw: bytes = b""  # the value's bytes, line breaks of folding removed (whitespace kept)


def _decode_line(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def parse_headers(lines: Sequence[bytes]) -> tuple[list[Header], int]:
    """The header fields and the index of the first body line (``len(lines)`` if none)."""
    out: list[Header] = []
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
        m = HEADER_NAME.match(raw)
        if m is None:
            return out, i  # the body started without a blank line
        name = m.group(1).decode("ascii").lower()
        out.append(Header(name, _decode_line(raw[m.end() :]).strip(), received, raw[m.end() :]))
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


def parse_from(value: str) -> tuple[str | None, str | None]:
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


def first_header(headers: Sequence[Header], name: str) -> str | None:
    for h in headers:
        if h.name == name:
            return h.value
    return None


def parse_date(text: str | None) -> datetime | None:
    if not text:
        return None
    text = re.sub(r"\([^()]*\)", " ", text).strip()
    try:
        return utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
