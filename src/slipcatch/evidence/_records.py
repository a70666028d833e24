"""Records of cloud, identity and SIEM exports, and the event each becomes.

Exports come in a few shapes whatever the service: JSON lines (one object a line), one JSON
document (an array of objects, a wrapper object such as CloudTrail's ``{"Records": [...]}``,
Graph's ``{"value": [...]}`` or Google's ``{"items": [...]}``, or a single pretty-printed
object), and CSV with a header row whose quoted fields may span lines (Sentinel and Purview
exports put JSON with line breaks in a cell). ``records(source)`` yields every record of any
of them, or the rejection saying why it cannot be one, so that each reader only maps fields.

A JSON document is read as a stream: a record is decoded as soon as its bytes are in, so a
CloudTrail file of one multi-megabyte line is not one over-long "line". A record larger than
``MAX_RECORD`` (or a syntax error) ends the document: the rest is one rejection.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from slipcatch.evidence._common import (
    clean_object,
    event,
    parse_address,
    parse_epoch,
    parse_iso,
    persona_for,
    reject,
    reject_problem,
    sha256,
    text_lines,
)
from slipcatch.evidence._source import MAX_LINE, Problem, Source
from slipcatch.model import Event, Rejection

__all__ = [
    "MAX_RECORD",
    "WRAPPERS",
    "build",
    "client_address",
    "csv_header",
    "csv_records",
    "dig",
    "first_record",
    "folded",
    "parse_time",
    "records",
    "text",
]

#: Largest record of a JSON document (decoded text, characters).
MAX_RECORD = 16 * 1024 * 1024
#: Keys of a wrapper object whose list value holds the records.
WRAPPERS = ("Records", "records", "value", "items", "Events")
#: Other keys a wrapper may carry (paging, metadata): a record has more than these.
_WRAPPER_META = frozenset(
    {"@odata.context", "@odata.nextLink", "@odata.count", "kind", "etag", "nextPageToken",
     "NextToken", "ResponseMetadata"}
)  # fmt: skip
_WRAPPER_START = re.compile(r'\{\s*"(?:' + "|".join(WRAPPERS) + r')"\s*:\s*\[')
_WS = " \t\r\n\ufeff"
_NON_BLANK = re.compile("[^ \t\r\n\ufeff]")


def dig(obj: Any, path: str) -> Any:
    """The value at a dotted ``path`` in nested JSON objects (``userIdentity.arn``); a key that
    itself holds dots (ECS flat keys such as ``"source.ip"``) is found too. None when absent."""
    if type(obj) is not dict and not isinstance(obj, Mapping):  # parsed JSON: plain dicts
        return None
    if path in obj:
        return obj[path]
    dot = path.find(".")
    while dot > 0:
        head = obj.get(path[:dot])
        if isinstance(head, dict | Mapping):
            found = dig(head, path[dot + 1 :])
            if found is not None:
                return found
        dot = path.find(".", dot + 1)
    return None


def pick(obj: Any, *paths: str) -> Any:
    """The first of ``paths`` with a value that is not None or empty text."""
    for p in paths:
        value = dig(obj, p)
        if value is not None and value != "":
            return value
    return None


def folded(obj: Any) -> dict[str, Any]:
    """``obj``'s top-level keys lowered (for ``pick_ci``; compute it once per record)."""
    if not isinstance(obj, Mapping):
        return {}
    return {str(k).lower(): v for k, v in obj.items()}


def pick_ci(obj: Any, *names: str, low: dict[str, Any] | None = None) -> Any:
    """Like ``pick`` for top-level names, compared without case (Graph writes ``ipAddress``,
    Log Analytics ``IPAddress``). ``low``: ``folded(obj)``, when the caller has it."""
    if not isinstance(obj, Mapping):
        return None
    found = pick(obj, *names)
    if found is not None:
        return found
    lowered = folded(obj) if low is None else low
    for n in names:
        value = lowered.get(n.lower())
        if value is not None and value != "":
            return value
    return None


def text(value: object) -> str:
    """A field as attribute text: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def as_object(value: object) -> Any:
    """A field that exports hold either as an object or as JSON text (Sentinel writes
    ``InitiatedBy`` as a string): the object, else the value as it is."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):
            return value
    return value


# -- times and addresses ------------------------------------------------------------------

_EPOCH_MS = 1e11  # an epoch number above this is milliseconds (1e11 s is the year 5138)
_EPOCH_US = 1e14


def _epoch(number: float) -> datetime | None:
    if number >= _EPOCH_US:
        number /= 1e6
    elif number >= _EPOCH_MS:
        number /= 1e3
    return parse_epoch(number)


#: Log Analytics' CSV export writes times the US way, with AM/PM (``6/1/2023, 10:11:12.123 AM``).
_US_TIME = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4}),? (\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))? ?([AP]M)",
    re.IGNORECASE,
)


def _us_time(text: str) -> datetime | None:
    m = _US_TIME.fullmatch(text)
    if m is None:
        return None
    month, day, year, hour, minute, second = (int(g) for g in m.groups()[:6])
    if not 1 <= hour <= 12:
        return None
    hour = hour % 12 + (12 if m.group(8).upper() == "PM" else 0)
    micro = int((m.group(7) or "0").ljust(6, "0")[:6])
    try:
        return parse_iso(datetime(year, month, day, hour, minute, second, micro).isoformat())
    except ValueError:
        return None


def parse_time(value: object) -> datetime | None:
    """ISO 8601 (``Z``, ``+00:00``, ``+0000``, a space for ``T``; no zone = UTC), epoch
    seconds, milliseconds or microseconds (numbers or digit strings), or the US form with AM/PM
    that Log Analytics' CSV export writes (``6/1/2023, 10:11:12.123 AM``, UTC); None if
    unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return _epoch(float(value)) if value == value else None  # NaN
    if not isinstance(value, str):
        return None
    t = value.strip()
    digits = t.replace(".", "", 1)
    if digits.isascii() and digits.isdigit():
        return _epoch(float(t))
    if t[-2:].upper() in ("AM", "PM"):
        return _us_time(t)
    if t.endswith(" UTC"):
        t = t[:-4]
    if len(t) > 10 and t[10] == " ":
        t = t[:10] + "T" + t[11:]
    return parse_iso(t)


_V6_PORT = re.compile(r"\[([^\]]{2,64})\]:(\d{1,5})")


def client_address(raw: str) -> tuple[str | None, str | None]:
    """The canonical address in ``raw`` and the port written with it (``1.2.3.4:443``,
    ``[2001:db8::1]:443``), or ``(None, None)`` when it is no address."""
    ip, _ = parse_address(raw)
    if ip is not None:
        return ip, None
    t = raw.strip()
    m = _V6_PORT.fullmatch(t)
    if m:
        return parse_address(m.group(1))[0], m.group(2)
    host, sep, port = t.rpartition(":")
    if sep and port.isdigit() and len(port) <= 5 and ":" not in host:
        return parse_address(host)[0], port
    return None, None


_UNSPECIFIED = frozenset({"0.0.0.0", "::"})


def build(
    source: Source,
    locator: str,
    obj: Mapping[str, Any],
    *,
    channel: str,
    time: object,
    address: object,
    identities: Sequence[object] = (),
    record_id: object = None,
    attributes: Mapping[str, object] | None = None,
    address_check: Callable[[str], tuple[str, str] | None] | None = None,
) -> Event | Rejection:
    """The event of one record given its raw time, address, identities and attributes, or the
    rejection saying which of them is missing or unreadable.

    ``address_check(raw)``: a reader's own test of an address field that is not an address
    (CloudTrail's service names), returning ``(reason, detail)`` to reject with, or None.
    """
    if time is None or (isinstance(time, str) and not time.strip()):
        return reject(source, locator, "missing-time", "")
    when = parse_time(time)
    if when is None:
        return reject(source, locator, "bad-time", text(time)[:100])
    if address is None or (isinstance(address, str) and not address.strip()):
        return reject(source, locator, "missing-address", "")
    if not isinstance(address, str):
        return reject(source, locator, "bad-address", text(address)[:100])
    ip, port = client_address(address)
    if ip is None:
        special = address_check(address) if address_check is not None else None
        if special is not None:
            return reject(source, locator, special[0], special[1])
        return reject(source, locator, "bad-address", address[:100])
    if ip in _UNSPECIFIED:
        return reject(source, locator, "unspecified-address", address[:100])
    attrs: dict[str, str] = {}
    for key, value in (attributes or {}).items():
        if value is not None and value != "" and value != [] and value != {}:
            attrs[key] = text(value)
    if port is not None:
        attrs["src_port"] = port
    if record_id is not None and record_id != "":
        attrs["record_id"] = text(record_id)
    names = [text(i).strip() for i in identities if i is not None and text(i).strip()]
    persona = persona_for(source, *names, attributes=attrs)
    canonical = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return event(
        source,
        locator,
        time=when,
        src_ip=ip,
        persona=persona,
        channel=channel,
        digest=sha256(canonical.encode("utf-8", "surrogatepass")),
        attributes=attrs,
    )


# -- JSON records -------------------------------------------------------------------------


def _wrapped(obj: Mapping[str, Any]) -> list[Any] | None:
    """The record list of a wrapper object, or None when ``obj`` is a record itself."""
    for key in WRAPPERS:
        value = obj.get(key)
        if isinstance(value, list) and all(k == key or k in _WRAPPER_META for k in obj):
            return value
    return None


def _first_line(head: bytes) -> bytes:
    for line in head.split(b"\n"):
        if line.strip():
            return line.strip()
    return b""


def _document(head: bytes) -> bool:
    """Whether the file is one JSON document rather than JSON lines."""
    start = head.lstrip(b" \t\r\n").removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if start.startswith(b"["):
        return True
    if not start.startswith(b"{"):
        return False
    try:
        obj = json.loads(_first_line(head).removeprefix(b"\xef\xbb\xbf"))
    except (ValueError, RecursionError):
        return True  # the first object spans lines (or is longer than the head)
    return not isinstance(obj, dict) or _wrapped(obj) is not None


def first_record(head: bytes) -> dict[str, Any] | None:
    """The first record of a JSON file from its first bytes alone, for sniffing: the first
    line's object, or the first object of a document (of its array or wrapper), when the head
    holds all of it. None when there is none."""
    first = _first_line(head).removeprefix(b"\xef\xbb\xbf")
    if not first.startswith((b"{", b"[")):
        return None
    try:
        obj = json.loads(first)
    except (ValueError, RecursionError):
        obj = None
    if obj is None:
        try:
            body = head.decode("utf-8", "replace").lstrip(_WS)
        except ValueError:
            return None
        m = _WRAPPER_START.match(body)
        start = m.end() if m else (1 if body.startswith("[") else 0)
        body = body[start:].lstrip(_WS)
        try:
            obj, _ = json.JSONDecoder().raw_decode(body)
        except (ValueError, RecursionError):
            return None
    if isinstance(obj, list):
        obj = obj[0] if obj else None
    if isinstance(obj, dict):
        inner = _wrapped(obj)
        if inner is not None:
            obj = inner[0] if inner else None
    return obj if isinstance(obj, dict) else None


def _dirty(text: str) -> bool:
    """Whether JSON text may hold a lone surrogate (only a ``\\uD800``-``\\uDFFF`` escape can
    make one): the common case is one search."""
    if "\\u" not in text and "\\U" not in text:
        return False
    lowered = text.lower()
    return any(f"\\ud{c}" in lowered for c in "89abcdef")


def _one(
    source: Source, locator: str, value: Any, dirty: bool = True
) -> tuple[str, dict[str, Any]] | Rejection:
    if isinstance(value, dict):
        return locator, clean_object(value) if dirty else value
    return reject(source, locator, "bad-json", f"a JSON {type(value).__name__}, not an object")


def records(source: Source) -> Iterator[tuple[str, dict[str, Any]] | Rejection]:
    """Every record of a JSON file (JSON lines or one document) as ``(locator, object)``, or
    the rejection of what cannot be one. Locators: ``line N`` (JSON lines), ``line N record
    M`` (a wrapper or array on one line of JSON lines), ``record M`` (a document)."""
    if _document(source.head()):
        yield from _document_records(source)
        return
    for item in text_lines(source):
        if isinstance(item, Rejection):
            yield item
            continue
        line, body = item
        locator = f"line {line.number}"
        try:
            obj = json.loads(body.lstrip("\ufeff") if line.number == 1 else body)
        except (ValueError, RecursionError) as exc:
            yield reject(source, locator, "bad-json", str(exc))
            continue
        inner = _wrapped(obj) if isinstance(obj, dict) else obj if isinstance(obj, list) else None
        dirty = _dirty(body)
        if inner is None:
            yield _one(source, locator, obj, dirty)
        elif not inner:
            yield reject(source, locator, "bad-json", "an empty record list")
        else:
            for n, value in enumerate(inner, 1):
                yield _one(source, f"{locator} record {n}", value, dirty)


class _Stop(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class _Stream:
    """Decoded text of a source, fetched as the parser needs it."""

    def __init__(self, source: Source):
        self._chunks = source.chunks()
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.fault: tuple[str, str] | None = None
        self.dirty = True  # whether the last value's text may hold a lone surrogate

    def more(self, at_least: int = 1) -> bool:
        """Append at least ``at_least`` characters (fewer at the end); False at the end."""
        got = 0
        while got < at_least and not self.eof:
            chunk = next(self._chunks, None)
            if chunk is None or not isinstance(chunk, bytes):
                if chunk is not None:
                    self.fault = (chunk.reason, chunk.detail)  # a _StreamFault
                self.eof = True
                tail = self._decoder.decode(b"", final=True)
                self.buf += tail
                got += len(tail)
                break
            piece = self._decoder.decode(chunk)
            self.buf += piece
            got += len(piece)
        if self.pos > 1024 * 1024 and self.pos > len(self.buf) // 2:
            self.buf = self.buf[self.pos :]
            self.pos = 0
        return got > 0

    def peek(self) -> str:
        """The next non-blank character ('' at the end), consuming the blanks before it."""
        while True:
            m = _NON_BLANK.search(self.buf, self.pos)  # in C: megabytes of blanks are cheap
            if m is not None:
                self.pos = m.start()
                return self.buf[self.pos]
            self.pos = len(self.buf)
            if not self.more():
                return ""

    def value(self) -> Any:
        """The JSON value at the position, fetching more text until it is complete."""
        decoder = json.JSONDecoder()
        while True:
            try:
                obj, end = decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self.eof:
                    raise _Stop("bad-json", f"{exc.msg} at character {exc.pos}") from exc
                if len(self.buf) - self.pos > MAX_RECORD:
                    raise _Stop(
                        "record-too-large", f"a record of more than {MAX_RECORD} characters"
                    ) from exc
                self.more(max(64 * 1024, len(self.buf) - self.pos))
                continue
            except RecursionError as exc:
                raise _Stop("bad-json", "nested too deeply") from exc
            if end == len(self.buf) and not self.eof and not isinstance(obj, dict | list):
                self.more()  # a number may continue in the next chunk
                continue
            if end - self.pos > MAX_RECORD:  # whatever the chunking, the same limit
                raise _Stop("record-too-large", f"a record of more than {MAX_RECORD} characters")
            self.dirty = _dirty(self.buf[self.pos : end])
            self.pos = end
            return obj

    def starts_wrapper(self) -> bool:
        while len(self.buf) - self.pos < 256 and not self.eof:
            self.more()
        m = _WRAPPER_START.match(self.buf, self.pos)
        if m is None:
            return False
        self.pos = m.end()
        return True


def _document_records(source: Source) -> Iterator[tuple[str, dict[str, Any]] | Rejection]:
    stream = _Stream(source)
    n = 0
    try:
        while True:
            ch = stream.peek()
            if not ch:
                break
            if ch == "[":
                stream.pos += 1
                for value in _array(stream):
                    n += 1
                    yield _one(source, f"record {n}", value, stream.dirty)
                continue
            if ch == "{" and stream.starts_wrapper():
                for value in _array(stream):
                    n += 1
                    yield _one(source, f"record {n}", value, stream.dirty)
                _wrapper_rest(stream)
                continue
            if ch != "{":
                raise _Stop("bad-json", f"unexpected {ch!r} where a record should start")
            obj = stream.value()
            inner = _wrapped(obj)
            for value in inner if inner is not None else [obj]:
                n += 1
                yield _one(source, f"record {n}", value, stream.dirty)
    except _Stop as stop:
        yield reject(
            source,
            f"record {n + 1}",
            stop.reason,
            f"{stop.detail}; the rest of the document is not read",
        )
        return
    if stream.fault is not None:
        yield reject(source, f"record {n + 1}", *stream.fault)


def _array(stream: _Stream) -> Iterator[Any]:
    """The values of an array whose ``[`` was consumed, through its ``]``."""
    if stream.peek() == "]":
        stream.pos += 1
        return
    while True:
        if not stream.peek():
            raise _Stop("bad-json", "the document ends inside an array")
        yield stream.value()
        ch = stream.peek()
        stream.pos += 1
        if ch == "]":
            return
        if ch != ",":
            raise _Stop("bad-json", f"expected ',' or ']' in an array, found {ch[:1]!r}")


def _wrapper_rest(stream: _Stream) -> None:
    """Skip what follows a wrapper's record list (paging keys) through its ``}``."""
    ch = stream.peek()
    if ch == "}":
        stream.pos += 1
        return
    if ch != ",":
        raise _Stop("bad-json", f"expected ',' or '}}' after the record list, found {ch!r}")
    stream.buf = stream.buf[: stream.pos] + "{" + stream.buf[stream.pos + 1 :]
    stream.value()


# -- CSV records --------------------------------------------------------------------------

_DELIMITERS = (",", "\t", ";")


def csv_header(head: bytes) -> tuple[str, list[str]] | None:
    """The delimiter and column names of a CSV file's first line, when it has two or more."""
    line = _first_line(head).rstrip(b"\r")
    try:
        first = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    for delim in _DELIMITERS:
        if delim not in first:
            continue
        try:
            names = next(csv.reader([first], delimiter=delim, strict=True))
        except csv.Error:
            continue
        if len(names) >= 2:
            return delim, [n.strip() for n in names]
    return None


def csv_records(
    source: Source, delim: str, max_record: int = MAX_LINE
) -> Iterator[tuple[str, dict[str, str]] | Rejection]:
    """Rows after the header as ``(locator, {column: value})``. A quoted field may span lines
    (the row's locator is its first line); a row still open after ``max_record`` bytes or at
    the end of the file is one ``bad-quoting`` rejection covering the lines it took."""
    header: list[str] | None = None
    parts: list[bytes] = []
    start = 0
    size = 0
    quotes = 0
    for item in source.lines(keep_blank=True):
        if isinstance(item, Problem):
            if parts:
                yield reject(source, f"line {start}", "bad-quoting",
                             f"unterminated quote from line {start}")  # fmt: skip
                parts, size, quotes = [], 0, 0
            yield reject_problem(source, item)
            continue
        if not parts:
            if not item.data.strip():
                continue
            start = item.number
        parts.append(item.data)
        size += len(item.data) + 1
        quotes += item.data.count(b'"')
        if quotes % 2:
            if size > max_record:
                yield reject(source, f"line {start}", "bad-quoting",
                             f"a quoted field open from line {start} past {max_record} bytes "
                             f"(lines {start}-{item.number} not read)")  # fmt: skip
                parts, size, quotes = [], 0, 0
            continue
        data = b"\n".join(parts)
        parts, size, quotes = [], 0, 0
        if header is None:
            header = [h.strip() for h in _row(data, delim) or []]
            continue
        yield _csv_row(source, f"line {start}", data, delim, header)
    if parts:
        yield reject(source, f"line {start}", "bad-quoting",
                     f"unterminated quote from line {start} to the end of the file")  # fmt: skip


def _row(data: bytes, delim: str) -> list[str] | None:
    try:
        body = data.decode("utf-8-sig")
        rows = list(csv.reader(body.splitlines(keepends=True) or [""], delimiter=delim,
                               strict=True))  # fmt: skip
    except (UnicodeDecodeError, csv.Error):
        return None
    return rows[0] if len(rows) == 1 else None


def _csv_row(
    source: Source, locator: str, data: bytes, delim: str, header: list[str]
) -> tuple[str, dict[str, str]] | Rejection:
    try:
        body = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return reject(source, locator, "bad-encoding", str(exc))
    try:
        rows = list(csv.reader(body.splitlines(keepends=True), delimiter=delim, strict=True))
    except csv.Error as exc:
        return reject(source, locator, "bad-quoting", str(exc))
    if len(rows) != 1:
        return reject(source, locator, "bad-quoting", f"{len(rows)} rows in one record")
    fields = rows[0]
    if len(fields) != len(header):
        return reject(source, locator, "column-count",
                      f"{len(fields)} fields, header has {len(header)}")  # fmt: skip
    return locator, dict(zip(header, fields, strict=True))
