"""IIS (and other W3C extended) access logs: ``#Fields:`` names the space-separated columns.

``#`` lines are directives, not records (``#Software``, ``#Version``, ``#Date``, ``#Fields``,
and any comment); each ``#Fields:`` line sets the columns of the data lines that follow it (IIS
writes a new block on every restart). Every other non-blank line is one record:

- time: ``date`` + ``time`` (W3C extended logs are written in UTC); without a ``date`` column the
  date of the last ``#Date:`` directive;
- source address: ``c-ip``; persona: ``cs-username`` when not ``-``; channel ``web``;
- attributes: ``method``, ``path`` (``cs-uri-stem`` with ``?cs-uri-query``), ``status``,
  ``user_agent``, ``referer`` (as the access-log readers name them) and every other column
  under its W3C name; ``-`` values are omitted.

Rejections: ``unparsed-line`` (a data line before any ``#Fields:``), ``column-count``,
``missing-address`` (no ``c-ip`` column or ``-``), ``bad-address``, ``missing-time``,
``bad-time``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

from slipcatch.evidence._common import (
    event,
    parse_address,
    persona_for,
    reject,
    reject_problem,
    sha256,
)
from slipcatch.evidence._source import Line, Problem, Source
from slipcatch.model import Event, Rejection

__all__ = ["NAME", "read", "sniff"]

NAME = "iis"
CHANNEL = "web"

_FIELDS = re.compile(rb"^#Fields:[ \t]*(.*?)\r?$", re.M)
_IIS = re.compile(rb"^#Software: Microsoft Internet Information Services", re.M)
_DATE = re.compile(r"^#Date:\s*(\d{4}-\d{2}-\d{2})")
_RENAME = {
    "cs-method": "method",
    "sc-status": "status",
    "cs(user-agent)": "user_agent",
    "cs(referer)": "referer",
}


def sniff(head: bytes, name: str) -> float:
    """0.95 when a ``#Fields:`` directive in the head names ``c-ip``; 0.9 for an IIS
    ``#Software`` line with a ``#Fields:`` directive that lacks it (read: every line is
    rejected ``missing-address``, once per record, which states the problem plainly)."""
    m = _FIELDS.search(head)
    if m is None:
        return 0.0
    if b"c-ip" in m.group(1).split():
        return 0.95
    return 0.9 if _IIS.search(head) else 0.0


def _when(row: dict[str, str], day: str | None) -> datetime | str | None:
    """The record's UTC time, None when it has no time column, or the text that is bad."""
    date = row.get("date", day)
    clock = row.get("time")
    if clock is None or date is None:
        return None
    text = f"{date} {clock}"
    try:
        when = datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return text
    frac = text[19:]
    if frac and not re.fullmatch(r"\.\d{1,6}", frac):
        return text
    micro = int((frac[1:] + "000000")[:6]) if frac else 0
    return when.replace(tzinfo=UTC, microsecond=micro)


def read(source: Source) -> Iterator[Event | Rejection]:
    """One event or rejection per non-directive line."""
    fields: list[str] | None = None
    day: str | None = None
    for item in source.lines():
        if isinstance(item, Problem):
            yield reject_problem(source, item)
            continue
        if item.number == 1:
            item = Line(1, item.data.removeprefix(b"\xef\xbb\xbf"))  # a UTF-8 byte order mark
        if item.data.startswith(b"#"):  # a directive, not a record (even when not UTF-8)
            text = item.data.decode("utf-8", "replace")
            if text.startswith("#Fields:"):
                fields = [f.lower() for f in text[8:].split()]
            m = _DATE.match(text)
            if m is not None:
                day = m.group(1)
            continue
        try:
            text = item.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield reject(source, f"line {item.number}", "bad-encoding", str(exc))
            continue
        locator = f"line {item.number}"
        if fields is None:
            yield reject(source, locator, "unparsed-line", "no #Fields directive before the line")
            continue
        values = text.split()
        if len(values) != len(fields):
            yield reject(
                source,
                locator,
                "column-count",
                f"{len(values)} fields, #Fields names {len(fields)}",
            )
            continue
        yield _record(source, locator, item.data, dict(zip(fields, values, strict=True)), day)


def _record(
    source: Source, locator: str, raw: bytes, row: dict[str, str], day: str | None
) -> Event | Rejection:
    when = _when(row, day)
    if when is None:
        return reject(source, locator, "missing-time", "no date/time column")
    if isinstance(when, str):
        return reject(source, locator, "bad-time", when[:100])
    addr = row.get("c-ip", "-")
    if addr == "-":
        return reject(source, locator, "missing-address", "no c-ip")
    ip, _ = parse_address(addr)
    if ip is None:
        return reject(source, locator, "bad-address", addr[:100])
    attrs: dict[str, str] = {}
    for key, value in row.items():
        if value != "-" and key not in ("date", "time", "c-ip"):
            attrs[_RENAME.get(key, key)] = value
    stem = row.get("cs-uri-stem", "-")
    path: str | None = None
    if stem != "-":
        query = row.get("cs-uri-query", "-")
        path = stem if query == "-" else f"{stem}?{query}"
        attrs["path"] = path
    attrs.pop("cs-uri-stem", None)
    attrs.pop("cs-uri-query", None)
    user = row.get("cs-username", "-")
    return event(
        source,
        locator,
        time=when,
        src_ip=ip,
        persona=persona_for(source, None if user == "-" else user, path=path, attributes=attrs),
        channel=CHANNEL,
        digest=sha256(raw),
        attributes=attrs,
    )
