"""Windows Security logon events 4624, 4625, 4648 and 4776: EVTX files and their exports.

Shapes read (recognised from content):

- **EVTX** (binary, magic ``ElfFile``), parsed with the Rust-backed ``evtx`` package: one record
  per EVTX record; a record the parser cannot decode is one ``bad-record`` rejection (the
  parser goes on with the next); an EVTX file with no readable record at all is one
  ``bad-record``;
- **JSON lines**: NXLog/Logstash (OTRF "Mordor", HELK: flat ``EventID``, ``IpAddress``,
  ``@timestamp``), Sentinel ``SecurityEvent`` (``TimeGenerated``), Winlogbeat/ECS
  (``winlog.event_id``, ``winlog.event_data.*``, ``@timestamp``) and the ``evtx_dump`` JSON shape
  (``Event.System`` / ``Event.EventData``); one record per line;
- **XML**: each ``<Event>...</Event>`` is a record whatever the line breaks (Event Viewer
  copies one a line, ``wevtutil qe /f:xml`` back to back on one line, pretty-printed
  ``<Events>`` exports), read with regular expressions (no XML parser: no entity expansion from
  evidence); an event over 64 KiB is ``line-too-long``, one cut short ``unparsed-line``;
- **CSV**: a Sentinel/Log Analytics ``SecurityEvent`` export whose header names ``EventID`` and
  ``IpAddress`` or ``TargetUserName``; the header is not a record.

Mapping: time = ``System/TimeCreated/@SystemTime``, else ``@timestamp``, ``TimeGenerated``,
``timestamp``, else NXLog's ``EventTime`` (local time without a zone: read as UTC, attribute
``time_zone`` ``assumed UTC``); source address = ``IpAddress``; persona = ``TargetUserName``;
channel ``windows:login``. Attributes: ``event_id``, ``outcome`` (4624 ``accepted``, 4625
``failed``, 4648 ``explicit-credentials``, 4776 ``credential-validation``), ``logon_type`` and
``logon_type_name``, ``port`` (``IpPort``), ``target_domain``, ``subject_user``,
``workstation``, ``computer``, ``record_id``, ``auth_package``, ``logon_process``, ``status``,
``sub_status``, ``failure_reason`` (``-`` and empty values omitted).

Rejections: other event IDs are ``no-client-event``; a logon event whose ``IpAddress`` is
absent, ``-`` or loopback (``127.0.0.1``, ``::1``: interactive, service and local network
logons) and every 4776 (it names a workstation, never an address) are ``local-logon``;
``bad-address``, ``missing-time``/``bad-time``, ``bad-json``, ``bad-quoting``, ``column-count``.
"""

from __future__ import annotations

import csv
import html
import io
import ipaddress
import json
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from slipcatch.evidence._common import (
    event,
    parse_address,
    parse_iso,
    persona_for,
    reject,
    sha256,
    text_lines,
)
from slipcatch.evidence._source import MAX_LINE, Source
from slipcatch.model import Event, Rejection

__all__ = ["BINARY", "NAME", "read", "sniff"]

NAME = "winsec"
#: "login" after the colon: a logon is back-end access (``analysis.episodes.BACKEND_CHANNELS``),
#: as "zeek:ssh" is.
CHANNEL = "windows:login"
#: This reader recognises a binary format (EVTX): ``_ingest.scores`` asks it even when the head
#: holds NUL bytes.
BINARY = True

EVTX_MAGIC = b"ElfFile\x00"
LOGON_EVENTS = {
    4624: "accepted",
    4625: "failed",
    4648: "explicit-credentials",
    4776: "credential-validation",
}
LOGON_TYPES = {
    "0": "system", "2": "interactive", "3": "network", "4": "batch", "5": "service",
    "7": "unlock", "8": "network-cleartext", "9": "new-credentials", "10": "remote-interactive",
    "11": "cached-interactive", "12": "cached-remote-interactive", "13": "cached-unlock",
}  # fmt: skip
_ATTRS = {
    "TargetDomainName": "target_domain",
    "SubjectUserName": "subject_user",
    "WorkstationName": "workstation",
    "Workstation": "workstation",
    "IpPort": "port",
    "AuthenticationPackageName": "auth_package",
    "PackageName": "auth_package",
    "LogonProcessName": "logon_process",
    "Status": "status",
    "SubStatus": "sub_status",
    "FailureReason": "failure_reason",
    "TargetServerName": "target_server",
    "Computer": "computer",
    "Hostname": "computer",
    "EventRecordID": "record_id",
}
#: Consecutive undecodable EVTX records after which the rest of the file is given up (a
#: damaged file must not loop).
MAX_BAD_RECORDS = 1000

# Every repetition is bounded by a delimiter it cannot cross (or a length), so that a hostile
# 64 KiB line costs linear time, not one scan to its end per opening tag.
_XML_EVENT = re.compile(r"<Event[\s>]")
_XML_EVENT_B = re.compile(rb"<Event[\s>]")
_XML_END = b"</Event>"
_XML_ID = re.compile(r"<EventID[^>]*>\s{0,20}(\d{1,10})\s{0,20}</EventID>")
_XML_TIME = re.compile(r"<TimeCreated\s{1,20}SystemTime=[\"']([^\"'<>]{1,64})[\"']")
_XML_DATA = re.compile(
    r"<Data\s{1,20}Name=[\"']([^\"'<>]{1,200})[\"']\s{0,20}(?:/>|>([^<]*)</Data>)"
)
_XML_SYS = re.compile(r"<(Computer|EventRecordID)>([^<]*)</\1>")
_JSON_ID_KEYS = ("EventID", "EventId", "event_id")


# -- recognition ---------------------------------------------------------------------------


_BOM = b"\xef\xbb\xbf"


def _first_line(head: bytes) -> bytes:
    """The first non-blank line, without a UTF-8 byte order mark (Windows tools write one)."""
    for line in head.removeprefix(_BOM).split(b"\n"):
        if line.strip():
            return line.strip()
    return b""


def sniff(head: bytes, name: str) -> float:
    """1.0 for EVTX; 0.96 for a first JSON line that is a Windows event; 0.95 for XML starting
    with ``<`` whose head holds a whole ``<Event>`` with ``<EventID>``, or a CSV header of
    Windows events."""
    if head.startswith(EVTX_MAGIC):
        return 1.0
    first = _first_line(head)
    if first.startswith(b"{"):
        try:
            obj = json.loads(first)
        except (ValueError, RecursionError):
            return 0.0
        # 0.96: a Windows event object is more specific than the generic JSON readers'
        # cues (an address and a time; an ECS ``@timestamp``), so it wins whatever their order.
        return 0.96 if isinstance(obj, dict) and _flatten_json(obj) is not None else 0.0
    if first.startswith((b"<", b"- <")) and _XML_EVENT_B.search(head) and b"<EventID" in head:
        return 0.95 if b"</Event>" in head else 0.0
    cols = {c.strip().strip('"') for c in first.decode("utf-8", "replace").split(",")}
    if "EventID" in cols and ({"IpAddress", "TargetUserName"} & cols):
        return 0.95
    return 0.0


# -- the flat record -----------------------------------------------------------------------


def _event_id(value: Any) -> int | None:
    if isinstance(value, dict):  # evtx_dump: {"#text": 4624, "#attributes": {...}}
        value = value.get("#text")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _flatten_json(obj: Mapping[str, Any]) -> tuple[int | None, dict[str, Any]] | None:
    """(event id, flat fields) of a Windows event object in any known shape; None when the
    object is not a Windows event."""
    ev = obj.get("Event")
    if isinstance(ev, dict) and isinstance(ev.get("System"), dict):  # evtx_dump / XML as JSON
        system = ev["System"]
        flat: dict[str, Any] = {}
        data = ev.get("EventData")
        if isinstance(data, dict):
            flat.update(data)
        created = system.get("TimeCreated")
        if isinstance(created, dict):
            attrs = created.get("#attributes")
            if isinstance(attrs, dict):
                flat["SystemTime"] = attrs.get("SystemTime")
        for key in ("Computer", "EventRecordID"):
            if key in system:
                flat[key] = system[key]
        return _event_id(system.get("EventID")), flat
    winlog = obj.get("winlog")
    if isinstance(winlog, dict) and "event_id" in winlog:  # Winlogbeat / ECS
        flat = {}
        data = winlog.get("event_data")
        if isinstance(data, dict):
            flat.update(data)
        flat["@timestamp"] = obj.get("@timestamp")
        flat["Computer"] = winlog.get("computer_name")
        flat["EventRecordID"] = winlog.get("record_id")
        return _event_id(winlog.get("event_id")), flat
    for key in _JSON_ID_KEYS:
        if key in obj and (
            "IpAddress" in obj or "TargetUserName" in obj or obj.get("Channel") == "Security"
        ):
            return _event_id(obj[key]), dict(obj)
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _time(flat: Mapping[str, Any], attrs: dict[str, str]) -> datetime | str | None:
    for key in ("SystemTime", "@timestamp", "TimeGenerated", "TimeCreated", "timestamp"):
        text = _text(flat.get(key))
        if text:
            when = parse_iso(text.removesuffix(" UTC"))
            return when if when is not None else text
    text = _text(flat.get("EventTime"))
    if text:
        when = parse_iso(text)
        if when is None:
            return text
        attrs["time_zone"] = "assumed UTC"
        return when
    return None


def _is_local(ip: str) -> bool:
    return ipaddress.ip_address(ip).is_loopback


def _record(
    source: Source, locator: str, raw: bytes, event_id: int | None, flat: Mapping[str, Any]
) -> Event | Rejection:
    if event_id not in LOGON_EVENTS:
        return reject(
            source, locator, "no-client-event", f"EventID {event_id} is not a logon event"
        )
    attrs: dict[str, str] = {"event_id": str(event_id), "outcome": LOGON_EVENTS[event_id]}
    when = _time(flat, attrs)
    if when is None:
        return reject(source, locator, "missing-time", f"EventID {event_id} without a time")
    if isinstance(when, str):
        return reject(source, locator, "bad-time", when[:100])
    logon = _text(flat.get("LogonType"))
    if logon and logon != "-":
        attrs["logon_type"] = logon
        if logon in LOGON_TYPES:
            attrs["logon_type_name"] = LOGON_TYPES[logon]
    for key, name in _ATTRS.items():
        value = _text(flat.get(key))
        if value and value != "-":
            attrs.setdefault(name, value[:500])
    user = _text(flat.get("TargetUserName"))
    addr = _text(flat.get("IpAddress"))
    if event_id == 4776:
        ws = attrs.get("workstation", "-")
        return reject(
            source,
            locator,
            "local-logon",
            f"4776 names workstation {ws} for {user or '-'}, not an address",
        )
    if not addr or addr == "-":
        kind = attrs.get("logon_type_name", logon or "-")
        return reject(
            source,
            locator,
            "local-logon",
            f"{event_id} for {user or '-'}: IpAddress '{addr or ''}' (logon type {kind})",
        )
    ip, _ = parse_address(addr)
    if ip is None:
        return reject(source, locator, "bad-address", addr[:100])
    if _is_local(ip):
        return reject(
            source,
            locator,
            "local-logon",
            f"{event_id} for {user or '-'}: loopback IpAddress {addr}",
        )
    return event(
        source,
        locator,
        time=when,
        src_ip=ip,
        persona=persona_for(source, user if user and user != "-" else None, attributes=attrs),
        channel=CHANNEL,
        digest=sha256(raw),
        attributes=attrs,
    )


# -- reading -------------------------------------------------------------------------------


def read(source: Source) -> Iterator[Event | Rejection]:
    """One event or rejection per record (EVTX record, JSON/XML line, CSV row)."""
    head = source.head()
    if head.startswith(EVTX_MAGIC):
        yield from _read_evtx(source)
        return
    first = _first_line(head)
    if first.startswith(b"{"):
        yield from _read_json(source)
    elif first.startswith((b"<", b"- <")):
        yield from _read_xml(source)
    else:
        yield from _read_csv(source)


def _evtx_input(source: Source) -> Any:
    """What the EVTX parser reads: the path, or the decompressed bytes (with a stream fault
    turned into an ``OSError``)."""
    if source.compression is None:
        return str(source.path)
    parts: list[bytes] = []
    for chunk in source.chunks():
        if isinstance(chunk, bytes):
            parts.append(chunk)
        else:
            raise OSError(f"{chunk.reason}: {chunk.detail}")
    return io.BytesIO(b"".join(parts))


def _read_evtx(source: Source) -> Iterator[Event | Rejection]:
    import evtx  # a compiled dependency, imported only for EVTX files

    try:
        records = evtx.PyEvtxParser(_evtx_input(source)).records_json()
    except (OSError, RuntimeError, ValueError) as exc:
        yield reject(source, "file", "bad-record", f"EVTX header cannot be read: {exc}")
        return
    seen = bad = 0
    while bad < MAX_BAD_RECORDS:
        try:
            rec = next(records)
        except StopIteration:
            break
        except (OSError, RuntimeError, ValueError) as exc:
            seen += 1
            bad += 1
            yield reject(source, f"record {seen}", "bad-record", str(exc))
            continue
        seen += 1
        if not isinstance(rec, dict) or not isinstance(rec.get("data"), str):
            bad += 1
            yield reject(source, f"record {seen}", "bad-record", "the parser gave no record data")
            continue
        bad = 0
        number = rec.get("event_record_id", seen)
        data = rec["data"]
        locator = f"record {number}"
        try:
            obj = json.loads(data)
        except (ValueError, RecursionError) as exc:
            yield reject(source, locator, "bad-record", str(exc))
            continue
        flat = _flatten_json(obj) if isinstance(obj, dict) else None
        if flat is None:
            yield reject(source, locator, "no-client-event", "not a Windows event record")
            continue
        yield _record(source, locator, data.encode("utf-8", "replace"), *flat)
    if bad >= MAX_BAD_RECORDS:
        yield reject(
            source,
            "rest of file",
            "bad-record",
            f"{MAX_BAD_RECORDS} undecodable records in a row: the rest is not read",
        )
    elif seen == 0:
        yield reject(source, "file", "bad-record", "an EVTX file without a readable record")


def _read_json(source: Source) -> Iterator[Event | Rejection]:
    for decoded in text_lines(source):
        if isinstance(decoded, Rejection):
            yield decoded
            continue
        item, text = decoded
        locator = f"line {item.number}"
        try:
            obj = json.loads(text.removeprefix("\ufeff"))
        except (ValueError, RecursionError) as exc:
            yield reject(source, locator, "bad-json", str(exc))
            continue
        if not isinstance(obj, dict):
            yield reject(source, locator, "bad-json", f"a JSON {type(obj).__name__}, not an object")
            continue
        flat = _flatten_json(obj)
        if flat is None:
            yield reject(source, locator, "no-client-event", "not a Windows event object")
            continue
        yield _record(source, locator, item.data, *flat)


def _xml_records(source: Source) -> Iterator[tuple[int, bytes] | Rejection]:
    """Each ``<Event>...</Event>`` of the stream (whatever the line breaks: one event a line,
    pretty-printed events, or a whole ``<Events>`` export on one line) with its number, or the
    rejection of one that is over ``MAX_LINE`` bytes or left without its end tag."""
    buf = b""
    number = 0
    skipping = False  # inside an oversized event, discarding up to its end tag
    too_long = f"an <Event> longer than {MAX_LINE} bytes"
    for chunk in source.chunks():
        if not isinstance(chunk, bytes):
            yield reject(source, f"event {number + 1}", chunk.reason, chunk.detail)
            return
        buf += chunk
        while True:
            end = buf.find(_XML_END)
            if end < 0:
                if len(buf) > MAX_LINE:
                    if not skipping:
                        number += 1
                        yield reject(source, f"event {number}", "line-too-long", too_long)
                        skipping = True
                    buf = buf[-len(_XML_END) :]  # an end tag may straddle the next chunk
                break
            piece, buf = buf[: end + len(_XML_END)], buf[end + len(_XML_END) :]
            if skipping:
                skipping = False
                continue
            number += 1
            if len(piece) > MAX_LINE:
                yield reject(source, f"event {number}", "line-too-long", too_long)
                continue
            yield number, piece
    if not skipping and _XML_EVENT_B.search(buf):
        detail = "an <Event> without its end tag: " + buf.strip()[:150].decode("utf-8", "replace")
        yield reject(source, f"event {number + 1}", "unparsed-line", detail)


def _read_xml(source: Source) -> Iterator[Event | Rejection]:
    for item in _xml_records(source):
        if isinstance(item, Rejection):
            yield item
            continue
        number, raw = item
        locator = f"event {number}"
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield reject(source, locator, "bad-encoding", str(exc))
            continue
        ident = _XML_ID.search(text)
        if _XML_EVENT.search(text) is None or ident is None:
            yield reject(source, locator, "unparsed-line", text.strip()[:200])
            continue
        flat: dict[str, Any] = {}
        created = _XML_TIME.search(text)
        if created is not None:
            flat["SystemTime"] = created.group(1)
        for key, value in _XML_SYS.findall(text):
            flat[key] = html.unescape(value)
        for key, value in _XML_DATA.findall(text):
            flat[html.unescape(key)] = html.unescape(value)
        yield _record(source, locator, raw.strip(), int(ident.group(1)), flat)


def _read_csv(source: Source) -> Iterator[Event | Rejection]:
    header: list[str] | None = None
    for decoded in text_lines(source):
        if isinstance(decoded, Rejection):
            yield decoded
            continue
        item, text = decoded
        locator = f"line {item.number}"
        try:
            row = next(csv.reader([text], strict=True))
        except (csv.Error, StopIteration) as exc:
            if header is None:
                header = []
            yield reject(source, locator, "bad-quoting", str(exc))
            continue
        if header is None:
            header = [c.strip() for c in row]
            continue
        if len(row) != len(header):
            yield reject(
                source, locator, "column-count", f"{len(row)} fields, the header has {len(header)}"
            )
            continue
        flat = dict(zip(header, row, strict=True))
        yield _record(source, locator, item.data, _event_id(flat.get("EventID")), flat)
