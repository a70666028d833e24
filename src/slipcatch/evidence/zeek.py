"""Zeek logs: TSV (``#separator``/``#fields`` header) and JSON lines (``id.orig_h`` key, or
``id_orig_h`` as RockNSM, Security Onion and Logstash write it with ``_`` separators).

Source address = ``id.orig_h``; time = ``ts`` (epoch seconds, or ISO 8601 in JSON); persona =
the ``user`` or ``username`` field where the log has one, else ``(anonymous)``; channel
``zeek:<path>`` from ``#path`` / ``_path`` / ``@stream`` (``zeek`` when none is present). Lines
starting with ``#`` in TSV are directives, not records. Unset (``-``) fields are dropped; other
fields are kept as attributes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime

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
from slipcatch.evidence._source import Line, Problem, Source
from slipcatch.model import Event, Rejection

__all__ = ["NAME", "read", "sniff"]

NAME = "zeek"
_PERSONA_FIELDS = ("user", "username")
_SEPARATOR = re.compile(rb"^#separator\s+(\S+)")


def _first_line(head: bytes) -> bytes:
    for line in head.split(b"\n"):
        if line.strip():
            return line.rstrip(b"\r")
    return b""


def sniff(head: bytes, name: str) -> float:
    """0.95 for a Zeek TSV header naming id.orig_h, or a JSON object with id.orig_h (or
    id_orig_h and ts)."""
    first = _first_line(head)
    if first.startswith(b"#separator"):
        return 0.95 if re.search(rb"^#fields\t.*\bid\.orig_h\b", head, re.M) else 0.0
    if first.startswith(b"{"):
        try:
            obj = json.loads(first)
        except (ValueError, RecursionError):
            return 0.0
        if not isinstance(obj, dict):
            return 0.0
        return 0.95 if "id.orig_h" in obj or ("id_orig_h" in obj and "ts" in obj) else 0.0
    return 0.0


def read(source: Source) -> Iterator[Event | Rejection]:
    """One event or rejection per data line."""
    if _first_line(source.head()).startswith(b"{"):
        yield from _read_json(source)
    else:
        yield from _read_tsv(source)


def _read_tsv(source: Source) -> Iterator[Event | Rejection]:
    sep = "\t"
    fields: list[str] | None = None
    path = "zeek"
    unset, empty = "-", "(empty)"
    for item in source.lines():
        if isinstance(item, Problem):
            yield reject_problem(source, item)
            continue
        if item.data.startswith(b"#"):
            directive = item.data.decode("utf-8", "replace")
            m = _SEPARATOR.match(item.data)
            if m:
                sep = _separator(m.group(1), sep)
                continue
            key, _, rest = directive[1:].partition(sep)
            if key == "fields":
                fields = rest.split(sep)
            elif key == "path" and rest:
                path = f"zeek:{rest}"
            elif key == "unset_field":
                unset = rest
            elif key == "empty_field":
                empty = rest
            continue
        locator = f"line {item.number}"
        try:
            text = item.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield reject(source, locator, "bad-encoding", str(exc))
            continue
        if fields is None:
            yield reject(source, locator, "unparsed-line", "data before the #fields header")
            continue
        values = text.split(sep)
        if len(values) != len(fields):
            yield reject(
                source, locator, "column-count", f"{len(values)} fields, header has {len(fields)}"
            )
            continue
        row: dict[str, object] = {}
        for k, v in zip(fields, values, strict=True):
            if v != unset:
                row[k] = "" if v == empty else v
        yield _record(source, item, row, path)


_HEX_ESCAPES = re.compile(rb"(?:\\x[0-9A-Fa-f]{2})+")


def _separator(raw: bytes, current: str) -> str:
    """The separator a ``#separator`` directive names: ``\\xHH`` escapes (Zeek writes
    ``\\x09``) or literal text. Anything else changes nothing (the rows then fail as
    ``column-count`` or ``unparsed-line``, each accounted)."""
    if _HEX_ESCAPES.fullmatch(raw):
        sep = bytes.fromhex(raw.replace(b"\\x", b"").decode("ascii")).decode("latin-1")
    elif b"\\" in raw:
        return current  # an escape we do not understand: keep the separator we have
    else:
        sep = raw.decode("latin-1")
    return sep or current


def _read_json(source: Source) -> Iterator[Event | Rejection]:
    for parsed in json_objects(source):
        if isinstance(parsed, Rejection):
            yield parsed
            continue
        item, obj = parsed
        path = obj.get("_path") or obj.get("@stream")
        channel = f"zeek:{path}" if isinstance(path, str) and path else "zeek"
        yield _record(source, item, {_dotted(str(k)): v for k, v in obj.items()}, channel)


def _dotted(key: str) -> str:
    """Zeek's own field name for one written with ``_`` separators (``id_orig_h`` ->
    ``id.orig_h``); the connection tuple is the only record Zeek nests."""
    if key.startswith(("id_orig_", "id_resp_")):
        return "id." + key[3:]
    return key


def _time(value: object) -> datetime | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return parse_epoch(float(value))
    if isinstance(value, str):
        return parse_iso(value)
    return None


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _record(source: Source, item: Line, row: dict[str, object], channel: str) -> Event | Rejection:
    locator = f"line {item.number}"
    if "ts" not in row or row["ts"] in ("", None):
        return reject(source, locator, "missing-time", "")
    when = _time(row["ts"])
    if when is None:
        return reject(source, locator, "bad-time", _text(row["ts"])[:100])
    raw_ip = row.get("id.orig_h")
    if raw_ip in (None, ""):
        return reject(source, locator, "missing-address", "")
    ip = parse_address(raw_ip)[0] if isinstance(raw_ip, str) else None
    if ip is None:
        return reject(source, locator, "bad-address", _text(raw_ip)[:100])
    who = next(
        (str(row[f]) for f in _PERSONA_FIELDS if isinstance(row.get(f), str) and row[f]), None
    )
    skip = {"ts", "id.orig_h", "_path", "@stream", *_PERSONA_FIELDS}
    attrs = {k: _text(v) for k, v in row.items() if k not in skip and v is not None}
    return event(
        source,
        locator,
        time=when,
        src_ip=ip,
        persona=persona_for(source, who, attributes=attrs),
        channel=channel,
        digest=sha256(item.data),
        attributes=attrs,
    )
