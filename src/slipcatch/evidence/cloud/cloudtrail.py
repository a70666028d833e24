"""AWS CloudTrail: the ``{"Records": [...]}`` files CloudTrail delivers (gzip, often one long
line), JSON lines of the same records (CloudWatch Logs, Logstash, SIEM exports) and the Event
history / ``lookup-events`` shape (``{"Events": [...]}`` whose ``CloudTrailEvent`` holds the
record as JSON text).

Time ``eventTime`` (else a shipper's ``@timestamp``); address ``sourceIPAddress``. CloudTrail
writes a service name there (``ec2.amazonaws.com``, ``AWS Internal``) when a service acted for
the account: that is no address and becomes a ``service-address`` rejection. Persona: the
``userIdentity`` ARN, else its ``userName``, else the principal id. Record id ``eventID``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from slipcatch.evidence._records import build, dig, first_record, pick, records
from slipcatch.evidence._source import Source
from slipcatch.model import Event, Rejection

__all__ = ["CHANNEL", "NAME", "read", "sniff"]

NAME = "cloudtrail"
CHANNEL = "cloudtrail"

#: ``sourceIPAddress`` values that name an AWS service rather than an address.
_SERVICE = re.compile(r"(?:[a-z0-9-]+\.)+amazonaws\.com|AWS Internal|[a-z0-9-]+\.amazon\.com",
                      re.IGNORECASE)  # fmt: skip
_FIELDS = {
    "event_name": "eventName",
    "event_source": "eventSource",
    "event_type": "eventType",
    "aws_region": "awsRegion",
    "user_agent": "userAgent",
    "error_code": "errorCode",
    "error_message": "errorMessage",
    "identity_type": "userIdentity.type",
    "access_key_id": "userIdentity.accessKeyId",
    "account_id": "recipientAccountId",
    "invoked_by": "userIdentity.invokedBy",
    "console_login": "responseElements.ConsoleLogin",
    "mfa_used": "additionalEventData.MFAUsed",
    "request_id": "requestID",
}


def _record(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """The CloudTrail record itself (inside an Event history entry's ``CloudTrailEvent``)."""
    inner = obj.get("CloudTrailEvent")
    if isinstance(inner, str):
        try:
            parsed = json.loads(inner)
        except (ValueError, RecursionError):
            return obj
        if isinstance(parsed, dict):
            return parsed
    return obj


def _is_cloudtrail(obj: Mapping[str, Any] | None) -> bool:
    if obj is None:
        return False
    rec = _record(obj)
    return (
        "eventSource" in rec
        and "eventName" in rec
        and ("eventTime" in rec or "@timestamp" in rec)
        and ("userIdentity" in rec or "sourceIPAddress" in rec)
    )


def sniff(head: bytes, name: str) -> float:
    """0.97 when the first record has CloudTrail's ``eventSource``, ``eventName``, a time and
    ``userIdentity``/``sourceIPAddress``."""
    return 0.97 if _is_cloudtrail(first_record(head)) else 0.0


def _service(raw: str) -> tuple[str, str] | None:
    if _SERVICE.fullmatch(raw.strip()):
        return "service-address", f"{raw.strip()[:100]} acted for the account"
    return None


def read(source: Source) -> Iterator[Event | Rejection]:
    """One event or rejection per CloudTrail record."""
    for item in records(source):
        if isinstance(item, Rejection):
            yield item
            continue
        locator, obj = item
        rec = _record(obj)
        identity = rec.get("userIdentity")
        yield build(
            source,
            locator,
            rec,
            channel=CHANNEL,
            time=pick(rec, "eventTime", "@timestamp"),
            address=rec.get("sourceIPAddress"),
            identities=(
                dig(identity, "arn"),
                dig(identity, "userName"),
                dig(identity, "sessionContext.sessionIssuer.userName"),
                dig(identity, "principalId"),
            ),
            record_id=rec.get("eventID"),
            attributes={k: dig(rec, path) for k, path in _FIELDS.items()},
            address_check=_service,
        )
