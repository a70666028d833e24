"""Generic event tables: CSV with a header row, or JSON lines (one object a line).

Recognised when the header (CSV) or the first object (JSON lines) names both a time column and
a source-address column. Column names are compared case-insensitively; when several names of
one meaning are present, the earlier name in ``COLUMNS`` wins (``time`` before ``date``).
Every physical line is one record: a CSV field cannot span lines, so an unterminated quote
costs exactly its own row (``bad-quoting``) and never swallows the rest of the file.

**Column mapping** (``ReadOptions.columns``, ``--columns time=COL,src_ip=COL,persona=COL``):
any other table — a CSV whose header, or JSON records whose first record, holds every mapped
column (JSON: dotted paths into nested objects, ``source.ip``) — is read with those columns as
time, address, persona and channel (``mapped``). A file holding some mapped columns but not all
is a ``UsageError`` naming the missing ones: a typo must not silently read nothing.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from slipcatch.errors import UsageError
from slipcatch.evidence._common import (
    event,
    json_objects,
    parse_address,
    parse_epoch,
    parse_iso,
    persona_for,
    reject,
    reject_problem,
    sha256,
)
from slipcatch.evidence._records import client_address, dig, first_record, records
from slipcatch.evidence._source import Line, Problem, Source
from slipcatch.model import Event, MailOrigin, OriginTrust, Rejection

__all__ = ["COLUMNS", "MAPPABLE", "NAME", "mapped", "parse_columns", "read", "sniff"]

NAME = "table"

#: meaning -> accepted column names, in order of precedence.
COLUMNS: dict[str, tuple[str, ...]] = {
    "time": ("time", "timestamp", "ts", "datetime", "date"),
    "ip": ("src_ip", "ip", "source_ip", "client_ip", "remote_addr", "ip_address"),
    "persona": ("persona", "actor_alias", "account", "user", "username", "sender", "handle"),
    "channel": ("channel", "kind", "type", "source"),
    "id": ("id", "event_id"),
    # Who wrote the row's address (model.OriginTrust values); without it an ``email`` row is
    # read as sender-written (analysis/reading.py), and the report says so.
    "origin_trust": ("origin_trust",),
}

_DELIMITERS = (",", "\t", ";")

#: ``--columns`` roles -> the meaning they fill (``COLUMNS`` keys). time and src_ip are required.
MAPPABLE: dict[str, str] = {"time": "time", "src_ip": "ip", "persona": "persona",
                            "channel": "channel"}  # fmt: skip


def parse_columns(text: str) -> tuple[tuple[str, str], ...]:
    """``time=COL,src_ip=COL[,persona=COL][,channel=COL]`` as ``((role, column), ...)``.

    Raises:
        UsageError: an unknown or repeated role, an empty column, or time/src_ip missing.
    """
    out: dict[str, str] = {}
    for part in text.split(","):
        role, eq, column = part.partition("=")
        role, column = role.strip(), column.strip()
        if not eq or not column:
            raise UsageError(f"--columns: {part.strip()!r} is not ROLE=COLUMN")
        if role not in MAPPABLE:
            raise UsageError(
                f"--columns: unknown role {role!r} (roles: {', '.join(MAPPABLE)})"
            )
        if role in out:
            raise UsageError(f"--columns: {role} given twice")
        out[role] = column
    missing = [r for r in ("time", "src_ip") if r not in out]
    if missing:
        raise UsageError(f"--columns: {' and '.join(missing)} must be mapped")
    return tuple(out.items())


def _has_path(obj: Any, path: str) -> bool:
    """Whether a dotted ``path`` names a key of nested objects (its value may be null)."""
    if not isinstance(obj, Mapping):
        return False
    if path in obj:
        return True
    dot = path.find(".")
    while dot > 0:
        if _has_path(obj.get(path[:dot]), path[dot + 1 :]):
            return True
        dot = path.find(".", dot + 1)
    return False


def _header_index(names: Sequence[str], column: str) -> int | None:
    stripped = [n.strip() for n in names]
    if column in stripped:
        return stripped.index(column)
    lowered = [n.lower() for n in stripped]
    return lowered.index(column.lower()) if column.lower() in lowered else None


def _mapped_header(head: bytes, columns: Sequence[tuple[str, str]]) -> list[str] | None:
    """The columns a mapped file offers: its CSV header, or its first JSON record's keys."""
    if first_record(head) is not None:
        return None
    first = _first_line(head)
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    best: list[str] | None = None
    for delim in _DELIMITERS:
        if delim not in text:
            continue
        try:
            names = next(csv.reader([text], delimiter=delim, strict=True))
        except csv.Error:
            continue
        hits = sum(_header_index(names, c) is not None for _, c in columns)
        if best is None or hits > sum(_header_index(best, c) is not None for _, c in columns):
            best = names
    return best


def _mapped_delimiter(head: bytes, columns: Sequence[tuple[str, str]]) -> str:
    text = _first_line(head).decode("utf-8-sig", "replace")
    names = _mapped_header(head, columns) or []
    for delim in _DELIMITERS:
        if delim in text and next(csv.reader([text], delimiter=delim), []) == names:
            return delim
    return ","


def mapped(head: bytes, name: str, columns: Sequence[tuple[str, str]]) -> bool:
    """Whether a file is a table holding every mapped column (``--columns``).

    Raises:
        UsageError: the file holds some of the mapped columns but not all of them.
    """
    if not columns:
        return False
    obj = first_record(head)
    if obj is not None:
        present = [c for _, c in columns if _has_path(obj, c)]
        offered = ", ".join(sorted(str(k) for k in obj))
    else:
        names = _mapped_header(head, columns)
        if names is None:
            return False
        present = [c for _, c in columns if _header_index(names, c) is not None]
        offered = ", ".join(n.strip() for n in names)
    if not present:
        return False
    missing = [f"{c} ({r})" for r, c in columns if c not in present]
    if missing:
        raise UsageError(
            f"--columns: {'; '.join(missing)} not in the header (columns: {offered[:500]})",
            source=name,
        )
    return True


def _roles(names: Sequence[str]) -> dict[str, int]:
    """meaning -> column index, by ``COLUMNS`` precedence (first listed name present wins)."""
    lowered: dict[str, int] = {}
    for i, n in enumerate(names):
        lowered.setdefault(n.strip().lower(), i)
    roles: dict[str, int] = {}
    for meaning, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in lowered:
                roles[meaning] = lowered[alias]
                break
    return roles


def _first_line(head: bytes) -> bytes:
    for line in head.split(b"\n"):
        if line.strip():
            return line.rstrip(b"\r")
    return b""


def _csv_header(line: bytes) -> tuple[str, list[str]] | None:
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    for delim in _DELIMITERS:
        if delim not in text:
            continue
        try:
            names = next(csv.reader([text], delimiter=delim, strict=True))
        except csv.Error:
            continue
        roles = _roles(names)
        if "time" in roles and "ip" in roles:
            return delim, names
    return None


def _json_keys(line: bytes) -> list[str] | None:
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return list(obj) if isinstance(obj, dict) else None


def sniff(head: bytes, name: str) -> float:
    """0.9 for a CSV header or first JSON object naming a time and an address column."""
    first = _first_line(head)
    if first.lstrip().startswith(b"{"):
        keys = _json_keys(first)
        if keys is not None:
            roles = _roles(keys)
            return 0.9 if "time" in roles and "ip" in roles else 0.0
        return 0.0
    return 0.9 if _csv_header(first) is not None else 0.0


def read(source: Source) -> Iterator[Event | Rejection]:
    """One event or rejection per non-blank line after the CSV header (or per JSON line); with
    a column mapping that the file holds, per mapped row or JSON record."""
    head = source.head()
    columns = source.options.columns
    if columns and mapped(head, source.name, columns):
        if first_record(head) is not None:
            yield from _read_json_mapped(source, columns)
        else:
            yield from _read_csv(source, columns)
        return
    first = _first_line(head)
    if first.lstrip().startswith(b"{"):
        yield from _read_jsonl(source)
    else:
        yield from _read_csv(source)


def _mapped_roles(
    names: Sequence[str], columns: Sequence[tuple[str, str]]
) -> dict[str, int]:
    """Roles of a mapped CSV: the mapped columns, and the id/origin_trust columns by name."""
    auto = _roles(names)
    roles = {k: v for k, v in auto.items() if k in ("id", "origin_trust")}
    for role, column in columns:
        index = _header_index(names, column)
        if index is not None:
            roles[MAPPABLE[role]] = index
    return roles


def _read_json_mapped(
    source: Source, columns: Sequence[tuple[str, str]]
) -> Iterator[Event | Rejection]:
    """JSON records (lines or a document) read through the column mapping (dotted paths)."""
    for parsed in records(source):
        if isinstance(parsed, Rejection):
            yield parsed
            continue
        locator, obj = parsed
        names = [str(k) for k in obj]
        values: list[object] = list(obj.values())
        roles = {k: v for k, v in _roles(names).items() if k in ("id", "origin_trust")}
        for role, column in columns:
            if column in obj:
                roles[MAPPABLE[role]] = names.index(column)
            else:
                names.append(column)
                values.append(dig(obj, column))
                roles[MAPPABLE[role]] = len(names) - 1
        number = int(locator.split()[1]) if locator.split()[1].isdigit() else 0
        data = json.dumps(obj, sort_keys=True, ensure_ascii=False).encode("utf-8", "replace")
        yield _row(source, Line(number, data), names, values, roles, locator)


def _read_csv(
    source: Source, columns: Sequence[tuple[str, str]] = ()
) -> Iterator[Event | Rejection]:
    header: list[str] | None = None
    delim = ","
    roles: dict[str, int] = {}
    for item in source.lines():
        if isinstance(item, Problem):
            yield reject_problem(source, item)
            continue
        if header is None and columns:
            delim = _mapped_delimiter(source.head(), columns)
            header = [h.strip() for h in _mapped_header(item.data, columns) or []]
            roles = _mapped_roles(header, columns)
            continue
        if header is None:
            parsed = _csv_header(item.data)
            if parsed is None:  # the sniffed header is the first line; cannot differ
                yield reject(source, f"line {item.number}", "unparsed-line", "no header")
                continue
            delim, header = parsed
            header = [h.strip() for h in header]
            roles = _roles(header)
            continue
        locator = f"line {item.number}"
        try:
            text = item.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield reject(source, locator, "bad-encoding", str(exc))
            continue
        try:
            fields = next(csv.reader([text], delimiter=delim, strict=True))
        except csv.Error as exc:
            yield reject(source, locator, "bad-quoting", str(exc))
            continue
        if len(fields) != len(header):
            yield reject(
                source,
                locator,
                "column-count",
                f"{len(fields)} fields, header has {len(header)}",
            )
            continue
        yield _row(source, item, header, fields, roles)


def _read_jsonl(source: Source) -> Iterator[Event | Rejection]:
    for parsed in json_objects(source):
        if isinstance(parsed, Rejection):
            yield parsed
            continue
        item, obj = parsed
        names = [str(k) for k in obj]
        values = list(obj.values())
        yield _row(source, item, names, values, _roles(names))


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _time(value: object) -> datetime | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return parse_epoch(float(value))
    if isinstance(value, str):
        return parse_iso(value)
    return None


def _row(
    source: Source,
    item: Line,
    names: Sequence[str],
    values: Sequence[object],
    roles: Mapping[str, int],
    locator: str | None = None,
) -> Event | Rejection:
    locator = locator or f"line {item.number}"
    raw_time = values[roles["time"]] if "time" in roles else None
    if raw_time is None or (isinstance(raw_time, str) and not raw_time.strip()):
        return reject(source, locator, "missing-time", "")
    when = _time(raw_time)
    if when is None:
        return reject(source, locator, "bad-time", _text(raw_time)[:100])
    raw_ip = values[roles["ip"]] if "ip" in roles else None
    if raw_ip is None or (isinstance(raw_ip, str) and not raw_ip.strip()):
        return reject(source, locator, "missing-address", "")
    ip, _ = parse_address(raw_ip) if isinstance(raw_ip, str) else (None, False)
    port = None
    if ip is None and isinstance(raw_ip, str):
        ip, port = client_address(raw_ip)
    if ip is None:
        return reject(source, locator, "bad-address", _text(raw_ip)[:100])
    trust: OriginTrust | None = None
    raw_trust = values[roles["origin_trust"]] if "origin_trust" in roles else None
    trust_text = _text(raw_trust).strip().lower() if raw_trust is not None else ""
    if trust_text:
        try:
            trust = OriginTrust(trust_text)
        except ValueError:
            return reject(source, locator, "bad-origin-trust", trust_text[:100])
    used = set(roles.values())
    kind = values[roles["channel"]] if "channel" in roles else None
    kind_text = _text(kind).strip() if kind is not None else ""
    channel = kind_text or "table"
    attrs = {
        str(n).strip(): _text(v)
        for i, (n, v) in enumerate(zip(names, values, strict=True))
        if i not in used and v is not None and str(n).strip()
    }
    if port is not None:
        attrs["src_port"] = port
    who = values[roles["persona"]] if "persona" in roles else None
    who_text = _text(who).strip() if who is not None else ""
    persona = persona_for(source, who_text or None, attributes=attrs)
    rid = values[roles["id"]] if "id" in roles else None
    rid_text = _text(rid).strip() if rid is not None else ""
    if rid_text:
        attrs["source_id"] = rid_text
        digest = sha256(b"id\x1f" + rid_text.encode("utf-8"))
    else:
        digest = sha256(item.data)
    return event(
        source,
        locator,
        time=when,
        src_ip=ip,
        persona=persona,
        channel=channel,
        digest=digest,
        attributes=attrs,
        # A row on channel ``email`` carries the e-mail part in columns of its field names
        # (``from_addr``, ``claimed_client_ip``, ...): the analysis reads it from there.
        mail=MailOrigin.from_attributes(attrs) if channel == "email" else None,
        origin_trust=trust,
    )
