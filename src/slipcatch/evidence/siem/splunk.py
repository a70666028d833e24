"""Splunk search results exported as CSV (Export / ``outputcsv``), recognised by ``_time`` and
an address column.

Time ``_time`` (ISO 8601 as Splunk writes it, ``2021-03-04T05:06:07.000+0000``, or epoch
seconds; a time without an offset is read as UTC and says so in ``time_zone``); address the
first of ``src_ip, clientip, src, client_ip, c_ip, ip`` present in the header; persona the
first of ``user, src_user, username, account``; record id ``_cd`` (index address of the event);
channel ``splunk`` (``sourcetype`` kept as an attribute). Every other column is kept as an
attribute except Splunk's internal ones (``_si``, ``_serial``, ``_indextime``, ...); ``_raw`` is
kept. Quoted fields may span lines (``_raw`` of multi-line events).
"""

from __future__ import annotations

from collections.abc import Iterator

from slipcatch.evidence._common import reject
from slipcatch.evidence._records import build, csv_header, csv_records, parse_time
from slipcatch.evidence._source import Source
from slipcatch.model import Event, Rejection

__all__ = ["ADDRESS", "CHANNEL", "NAME", "read", "sniff"]

NAME = "splunk"
CHANNEL = "splunk"
#: Address columns, in order of precedence.
ADDRESS = ("src_ip", "clientip", "src", "client_ip", "c_ip", "ip")
USER = ("user", "src_user", "username", "account")
_INTERNAL = frozenset(
    {"_si", "_serial", "_indextime", "_sourcetype", "_kv", "_bkt", "_eventtype_color",
     "linecount", "splunk_server", "splunk_server_group", "_cd", "_time"}
)  # fmt: skip


def _columns(head: bytes) -> tuple[str, list[str], str] | None:
    found = csv_header(head)
    if found is None:
        return None
    delim, names = found
    if "_time" not in names:
        return None
    address = next((a for a in ADDRESS if a in names), None)
    return (delim, names, address) if address is not None else None


def sniff(head: bytes, name: str) -> float:
    """0.92 for a CSV header with ``_time`` and an address column."""
    return 0.92 if _columns(head) is not None else 0.0


def read(source: Source) -> Iterator[Event | Rejection]:
    """One event or rejection per row after the header."""
    found = _columns(source.head())
    if found is None:  # only when called on a file not sniffed as Splunk: one record, refused
        yield reject(source, "line 1", "unparsed-line", "no Splunk header (_time and an address)")
        return
    delim, names, address = found
    user = next((u for u in USER if u in names), None)
    for row in csv_records(source, delim):
        if isinstance(row, Rejection):
            yield row
            continue
        locator, fields = row
        raw_time = fields.get("_time", "")
        attrs: dict[str, object] = {
            k: v for k, v in fields.items() if k not in _INTERNAL and k not in (address, user)
        }
        when = parse_time(raw_time)
        if when is not None and not _has_zone(raw_time):
            attrs["time_zone"] = "assumed UTC"
        yield build(
            source,
            locator,
            fields,
            channel=CHANNEL,
            time=raw_time,
            address=fields.get(address),
            identities=(fields.get(user) if user else None,),
            record_id=fields.get("_cd"),
            attributes=attrs,
        )


def _has_zone(text: str) -> bool:
    t = text.strip()
    if t.replace(".", "", 1).isdigit() or t.endswith(("Z", "z", " UTC")):
        return True
    tail = t[19:]
    return "+" in tail or "-" in tail
