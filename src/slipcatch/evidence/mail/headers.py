"""Header fields of one message: unfolding, byte decoding, RFC 2047 words, From and Date.

Headers are parsed from bytes: each physical line is decoded as UTF-8 when valid, else as
Latin-1 (lossless: every byte keeps a character). RFC 2047 encoded words are decoded for
display names and subjects (``decode_words``), not for the Received chain.

Every string that leaves this module is valid Unicode: an encoded word that decodes to a lone
surrogate (UTF-7 ``+2AA-``, ``unicode_escape``) has it replaced by U+FFFD (``scrub``). Dates
fold two- and three-digit years as RFC 5322 section 4.3 says and refuse years outside
1970-2099 (``parse_time``).
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

from slipcatch.evidence._common import plausible
from slipcatch.model import utc

__all__ = [
    "HEADER_NAME",
    "Header",
    "decode_words",
    "decode_words_checked",
    "first_header",
    "parse_date",
    "parse_from",
    "parse_headers",
    "parse_time",
    "scrub",
]

HEADER_NAME = re.compile(rb"^([!-9;-~]+):")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_EW_GAP = re.compile(r"(=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)\s+(?==\?)")
_SURROGATE = re.compile("[\ud800-\udfff]")


def scrub(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD (valid for any UTF-8 writer)."""
    return _SURROGATE.sub("\ufffd", text)


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
    """Decode RFC 2047 encoded words; undecodable words are kept as written. Lone surrogates
    a word decodes to are replaced by U+FFFD."""
    return decode_words_checked(text)[0]


def decode_words_checked(text: str) -> tuple[str, bool]:
    """``decode_words`` and whether a lone surrogate had to be replaced."""
    if "=?" not in text:
        return text, False
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

    decoded = _ENCODED_WORD.sub(one, text)
    clean = scrub(decoded)
    return clean, clean != decoded


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


# A date's year: after the day and month (RFC 5322 ``24 Nov 2014``), or after the time of day
# (asctime ``Nov 24 09:00:00 2014``).
_YEAR_DMY = re.compile(r"(?<![\w:+.-])(\d{1,2})\s+([A-Za-z]{3,})\.?,?\s+(\d+)(?![\w:.])")
_YEAR_ASCTIME = re.compile(r"(\d{1,2}:\d{2}(?::\d{2})?)\s+(\d+)(?![\w:.])")


def _fold(token: str) -> int:
    """RFC 5322 section 4.3: a two-digit year 00-49 is 20xx, 50-99 is 19xx; a three-digit year
    is 1900 plus it; four digits or more are the year as written (``0001`` is year 1)."""
    n = int(token)
    if len(token) <= 2:  # a one-digit year (not RFC 5322) folds as a two-digit one
        return n + (2000 if n < 50 else 1900)
    if len(token) == 3:
        return n + 1900
    return n


def parse_time(text: str | None) -> tuple[datetime | None, str | None]:
    """(time, None) for a usable date; (None, the text) for a date that names an impossible
    time (a year outside 1970-2099 in UTC, after folding); (None, None) when unreadable."""
    if not text:
        return None, None
    clean = re.sub(r"\([^()]*\)", " ", text).strip()
    m = _YEAR_DMY.search(clean)
    span = m.span(3) if m else None
    if m is None:
        a = _YEAR_ASCTIME.search(clean)
        span = a.span(2) if a else None
    if span is not None:
        token = clean[span[0] : span[1]]
        year = _fold(token) if len(token) <= 4 else 10_000
        if not 1970 <= year <= 2099:
            return None, clean[:100]
        clean = clean[: span[0]] + str(year) + clean[span[1] :]
    try:
        when = utc(parsedate_to_datetime(clean))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None, None
    if not plausible(when):
        return None, clean[:100]
    return when, None


def parse_date(text: str | None) -> datetime | None:
    """The usable time of a date (``parse_time``), else None."""
    return parse_time(text)[0]
