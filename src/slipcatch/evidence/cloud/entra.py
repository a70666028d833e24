"""Entra ID (Azure AD) sign-in and audit logs, in the three shapes they are exported in:

- Microsoft Graph (``auditLogs/signIns``, ``auditLogs/directoryAudits``): camelCase records,
  often in a ``{"value": [...]}`` page;
- Azure diagnostic settings / Event Hub / storage account: an envelope with ``category``
  (``SignInLogs``, ``NonInteractiveUserSignInLogs``, ``AuditLogs``, ...), ``time``,
  ``callerIpAddress`` and the Graph record in ``properties`` (possibly ``{"records": [...]}``);
- Log Analytics / Microsoft Sentinel tables ``SigninLogs``, ``AADNonInteractiveUserSignInLogs``
  and ``AuditLogs``: PascalCase columns (``TimeGenerated``, ``IPAddress``, ``InitiatedBy`` as
  JSON text);
- sign-ins as CSV: the Entra admin centre's download (``Date (UTC)``, ``IP address``,
  ``Username``, ``Request ID``, ``Status``, ...) and Log Analytics' CSV export
  (``TimeGenerated [UTC]``, ``IPAddress``, ``UserPrincipalName``, ``ResultType``).

Sign-ins (channel ``signin``): time ``createdDateTime`` / ``TimeGenerated``, address
``ipAddress`` / ``IPAddress`` (else the envelope's ``callerIpAddress``), persona the
``userPrincipalName`` (else the user id). Audit records (channel ``entra-audit``): time
``activityDateTime``, address and persona from ``initiatedBy.user`` (``ipAddress``,
``userPrincipalName``); a record initiated by an application has no address
(``missing-address``, naming the application).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from slipcatch.evidence._common import reject
from slipcatch.evidence._records import (
    as_object,
    build,
    csv_header,
    csv_records,
    dig,
    first_record,
    folded,
    pick,
    pick_ci,
    records,
)
from slipcatch.evidence._source import Source
from slipcatch.model import Event, Rejection

__all__ = ["NAME", "read", "sniff"]

NAME = "entra"
SIGNIN = "signin"
AUDIT = "entra-audit"

_SIGNIN_TYPES = frozenset(
    {"signinlogs", "noninteractiveusersigninlogs", "serviceprincipalsigninlogs",
     "managedidentitysigninlogs", "aadnoninteractiveusersigninlogs",
     "aadserviceprincipalsigninlogs", "aadmanagedidentitysigninlogs"}
)  # fmt: skip


def _shape(obj: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any]]:
    """The kind of record (``signin``, ``audit`` or None) and its Graph-like body."""
    kind = str(obj.get("category") or obj.get("Category") or obj.get("Type") or "").lower()
    body = obj.get("properties")
    inner: Mapping[str, Any] = body if isinstance(body, Mapping) else obj
    typ = str(obj.get("Type") or "").lower()
    if kind in _SIGNIN_TYPES or typ in _SIGNIN_TYPES:
        return "signin", inner
    if (kind == "auditlogs" or typ == "auditlogs") and (
        "initiatedBy" in inner
        or "InitiatedBy" in inner
        or "activityDateTime" in inner
        or "OperationName" in inner
    ):
        return "audit", inner
    keys = {str(k).lower() for k in inner}
    if {"createddatetime", "userprincipalname"} <= keys and (
        keys & {"ipaddress", "appdisplayname", "clientappused"}
    ):
        return "signin", inner
    if {"activitydatetime", "initiatedby"} <= keys and (
        keys & {"activitydisplayname", "operationname"}
    ):
        return "audit", inner
    return None, inner


#: CSV exports of sign-ins: the Entra admin centre's download (``Date (UTC)``, ``IP address``,
#: ``Username``) and Log Analytics' export (``TimeGenerated [UTC]``, ``IPAddress``, ...): the
#: column names of each meaning, in order of precedence.
_CSV_SIGNIN: dict[str, tuple[str, ...]] = {
    "time": ("Date (UTC)", "TimeGenerated [UTC]", "TimeGenerated", "CreatedDateTime [UTC]"),
    "ip": ("IP address", "IPAddress"),
    "user": ("Username", "UserPrincipalName", "User ID", "UserId"),
    "id": ("Request ID", "Id"),
    "app": ("Application", "AppDisplayName"),
    "result": ("Sign-in error code", "ResultType"),
    "status": ("Status",),
    "failure_reason": ("Failure reason", "ResultDescription"),
    "client_app": ("Client app", "ClientAppUsed"),
    "user_agent": ("User agent", "UserAgent"),
    "location": ("Location",),
    "correlation_id": ("Correlation ID", "CorrelationId"),
}


def _csv_columns(head: bytes) -> tuple[str, dict[str, str]] | None:
    """The delimiter and the column of each meaning of a sign-in CSV export, or None."""
    found = csv_header(head)
    if found is None:
        return None
    delim, names = found
    present = set(names)
    cols = {m: next((c for c in cands if c in present), "") for m, cands in _CSV_SIGNIN.items()}
    if not (cols["time"] and cols["ip"] and cols["user"] and (cols["result"] or cols["status"])):
        return None
    return delim, {m: c for m, c in cols.items() if c}


def sniff(head: bytes, name: str) -> float:
    """0.96 when the first record is an Entra sign-in or audit record in any export shape, or
    the file is a sign-in CSV export (admin centre or Log Analytics columns)."""
    obj = first_record(head)
    if obj is not None:
        return 0.96 if _shape(obj)[0] is not None else 0.0
    return 0.96 if _csv_columns(head) is not None else 0.0


def read(source: Source) -> Iterator[Event | Rejection]:
    """One event or rejection per record (JSON record or CSV row)."""
    head = source.head()
    csv_cols = _csv_columns(head) if first_record(head) is None else None
    if csv_cols is not None:
        yield from _read_csv(source, *csv_cols)
        return
    for item in records(source):
        if isinstance(item, Rejection):
            yield item
            continue
        locator, obj = item
        kind, body = _shape(obj)
        if kind == "signin":
            yield _signin(source, locator, obj, body)
        elif kind == "audit":
            yield _audit(source, locator, obj, body)
        else:
            yield reject(source, locator, "unparsed-line", "not an Entra sign-in or audit record")


def _read_csv(source: Source, delim: str, cols: dict[str, str]) -> Iterator[Event | Rejection]:
    for row in csv_records(source, delim):
        if isinstance(row, Rejection):
            yield row
            continue
        locator, fields = row
        value = {m: fields.get(c) for m, c in cols.items()}
        yield build(
            source,
            locator,
            fields,
            channel=SIGNIN,
            time=value["time"],
            address=value["ip"],
            identities=(value["user"], fields.get("User ID"), fields.get("User")),
            record_id=value.get("id"),
            attributes={k: v for k, v in value.items() if k not in ("time", "ip", "user", "id")},
        )


def _signin(
    source: Source, locator: str, obj: Mapping[str, Any], body: Mapping[str, Any]
) -> Event | Rejection:
    low = folded(body)
    status = as_object(pick_ci(body, "status", "Status", low=low))
    device = as_object(pick_ci(body, "deviceDetail", "DeviceDetail", low=low))
    location = as_object(pick_ci(body, "location", "LocationDetails", low=low))
    return build(
        source,
        locator,
        obj,
        channel=SIGNIN,
        time=pick_ci(body, "createdDateTime", "TimeGenerated", low=low) or obj.get("time"),
        address=pick_ci(body, "ipAddress", low=low) or obj.get("callerIpAddress"),
        identities=(
            pick_ci(body, "userPrincipalName", low=low),
            pick_ci(body, "userId", low=low),
            pick_ci(body, "servicePrincipalName", "servicePrincipalId", low=low),
        ),
        record_id=pick_ci(body, "id", low=low) or pick_ci(obj, "correlationId"),
        attributes={
            "category": obj.get("category") or obj.get("Type"),
            "app": pick_ci(body, "appDisplayName", low=low),
            "resource": pick_ci(body, "resourceDisplayName", low=low),
            "client_app": pick_ci(body, "clientAppUsed", low=low),
            "result": pick(status, "errorCode")
            if isinstance(status, Mapping)
            else pick_ci(body, "ResultType", low=low) or obj.get("resultType"),
            "failure_reason": pick(status, "failureReason")
            if isinstance(status, Mapping)
            else pick_ci(body, "ResultDescription", low=low),
            "user_agent": pick_ci(body, "userAgent", low=low),
            "interactive": pick_ci(body, "isInteractive", low=low),
            "correlation_id": pick_ci(body, "correlationId", low=low),
            "user_display_name": pick_ci(body, "userDisplayName", low=low),
            "device_os": dig(device, "operatingSystem"),
            "country": dig(location, "countryOrRegion"),
            "auth_requirement": pick_ci(body, "authenticationRequirement", low=low),
        },
    )


def _audit(
    source: Source, locator: str, obj: Mapping[str, Any], body: Mapping[str, Any]
) -> Event | Rejection:
    low = folded(body)
    initiated = as_object(pick_ci(body, "initiatedBy", low=low))
    user = dig(initiated, "user")
    app = dig(initiated, "app")
    address = dig(user, "ipAddress")
    targets = as_object(pick_ci(body, "targetResources", low=low))
    target = targets[0] if isinstance(targets, list) and targets else None
    when = pick_ci(body, "activityDateTime", "TimeGenerated", low=low) or obj.get("time")
    if not address and app is not None and when:
        who = pick(app, "displayName", "servicePrincipalId", "appId") or "an application"
        return reject(source, locator, "missing-address", f"initiated by application {who}")
    return build(
        source,
        locator,
        obj,
        channel=AUDIT,
        time=when,
        address=address,
        identities=(dig(user, "userPrincipalName"), dig(user, "id")),
        record_id=pick_ci(body, "id", low=low),
        attributes={
            "operation": pick_ci(body, "activityDisplayName", "OperationName", low=low),
            "category": pick_ci(body, "category", "Category", low=low),
            "result": pick_ci(body, "result", "Result", low=low),
            "result_reason": pick_ci(body, "resultReason", "ResultReason", low=low),
            "logged_by": pick_ci(body, "loggedByService", low=low),
            "target": dig(target, "displayName"),
            "target_type": dig(target, "type"),
            "correlation_id": pick_ci(body, "correlationId", low=low),
        },
    )
