"""Microsoft 365 unified audit log (Purview / Office 365 Management Activity API), as JSON
(lines, arrays, pretty-printed), as the Purview CSV export whose ``AuditData`` column holds each
record's JSON, and as the Microsoft Sentinel ``OfficeActivity`` table (JSON or CSV).

Time ``CreationTime`` (written without a zone: UTC) / ``TimeGenerated`` / ``CreationDate``;
address ``ClientIP`` (also ``ClientIPAddress``, ``Client_IPAddress``, ``ActorIpAddress``), which
Exchange writes with its port (``52.225.129.38:43510``, ``[2603:1036::5]:51902``: the port is
kept as ``src_port``); persona ``UserId`` (else ``UserKey``); record id ``Id`` (Sentinel:
``OfficeId``). Exchange writes ``0.0.0.0`` when it knows no client: ``unspecified-address``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from slipcatch.evidence._common import reject
from slipcatch.evidence._records import (
    build,
    csv_header,
    csv_records,
    first_record,
    pick,
    records,
)
from slipcatch.evidence._source import Source
from slipcatch.model import Event, Rejection

__all__ = ["CHANNEL", "NAME", "read", "sniff"]

NAME = "m365"
CHANNEL = "m365"

_TIME = ("CreationTime", "TimeGenerated", "CreationDate")
_ADDRESS = ("ClientIP", "ClientIPAddress", "Client_IPAddress", "ActorIpAddress", "ClientIp")
_OPERATION = ("Operation", "Operations")
_USER = ("UserId", "UserIds", "UserKey")


def _is_m365(obj: Mapping[str, Any] | None) -> bool:
    if obj is None:
        return False
    if obj.get("Type") == "OfficeActivity":
        return True
    return (
        "CreationTime" in obj
        and "Operation" in obj
        and ("RecordType" in obj or "Workload" in obj)
        and ("UserId" in obj or "UserKey" in obj)
    )


def _csv_kind(head: bytes) -> str | None:
    """``purview`` (an ``AuditData`` column), ``sentinel`` (OfficeActivity columns) or None."""
    found = csv_header(head)
    if found is None:
        return None
    names = set(found[1])
    if "AuditData" in names and names & {"CreationDate", "UserIds", "UserId", "Operations",
                                         "Operation", "RecordId"}:  # fmt: skip
        return "purview"
    if (
        {"TimeGenerated", "Operation"} <= names
        and names & {"ClientIP", "Client_IPAddress"}
        and (names & {"UserId", "OfficeWorkload", "OfficeId"})
    ):
        return "sentinel"
    return None


def sniff(head: bytes, name: str) -> float:
    """0.96 for a first JSON record of the unified audit log or ``OfficeActivity``, or a CSV
    header with ``AuditData`` (Purview) or ``TimeGenerated,Operation,ClientIP,UserId``."""
    if _is_m365(first_record(head)):
        return 0.96
    return 0.96 if _csv_kind(head) is not None else 0.0


def read(source: Source) -> Iterator[Event | Rejection]:
    """One event or rejection per audit record (a JSON record or a CSV row)."""
    head = source.head()
    kind = _csv_kind(head) if first_record(head) is None else None
    if kind is None:
        for item in records(source):
            yield item if isinstance(item, Rejection) else _event(source, *item)
        return
    delim = csv_header(head)[0]  # type: ignore[index]
    for row in csv_records(source, delim):
        if isinstance(row, Rejection):
            yield row
            continue
        locator, fields = row
        if kind == "purview":
            try:
                data = json.loads(fields.get("AuditData") or "")
            except (ValueError, RecursionError) as exc:
                yield reject(source, locator, "bad-json", f"AuditData: {exc}")
                continue
            if not isinstance(data, dict):
                yield reject(source, locator, "bad-json", "AuditData is not a JSON object")
                continue
            merged: dict[str, Any] = {k: v for k, v in fields.items() if k != "AuditData"}
            merged.update(data)
            yield _event(source, locator, merged)
        else:
            yield _event(source, locator, fields)


def _event(source: Source, locator: str, obj: Mapping[str, Any]) -> Event | Rejection:
    return build(
        source,
        locator,
        obj,
        channel=CHANNEL,
        time=pick(obj, *_TIME),
        address=pick(obj, *_ADDRESS),
        identities=(pick(obj, *_USER),),
        record_id=pick(obj, "Id", "OfficeId", "RecordId"),
        attributes={
            "operation": pick(obj, *_OPERATION),
            "workload": pick(obj, "Workload", "OfficeWorkload"),
            "result": pick(obj, "ResultStatus"),
            "record_type": pick(obj, "RecordType"),
            "user_type": pick(obj, "UserType"),
            "object_id": pick(obj, "ObjectId"),
            "client_info": pick(obj, "ClientInfoString"),
            "logon_type": pick(obj, "LogonType", "Logon_Type"),
            "organization": pick(obj, "OrganizationName"),
        },
    )
