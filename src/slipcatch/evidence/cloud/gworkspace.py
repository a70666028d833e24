"""Google Workspace audit activities (Admin SDK Reports API ``activities.list``: ``login``,
``admin``, ``drive``, ...), as JSON lines or a ``{"items": [...]}`` page.

Time ``id.time``; address ``ipAddress``; persona ``actor.email``, else ``actor.profileId``;
record id ``id.uniqueQualifier``; channel ``google-workspace``. Attributes: the application
(``id.applicationName``), the event names and types (a record may hold several events), the
caller type and the ``login_type`` parameter.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from slipcatch.evidence._records import build, dig, first_record, records
from slipcatch.evidence._source import Source
from slipcatch.model import Event, Rejection

__all__ = ["CHANNEL", "NAME", "read", "sniff"]

NAME = "gworkspace"
CHANNEL = "google-workspace"


def _is_activity(obj: Mapping[str, Any] | None) -> bool:
    if obj is None:
        return False
    if obj.get("kind") == "admin#reports#activity":
        return True
    ident = obj.get("id")
    return (
        isinstance(ident, Mapping)
        and "time" in ident
        and "applicationName" in ident
        and "actor" in obj
    )


def sniff(head: bytes, name: str) -> float:
    """0.96 for a first record of kind ``admin#reports#activity`` (or with ``id.time``,
    ``id.applicationName`` and ``actor``)."""
    return 0.96 if _is_activity(first_record(head)) else 0.0


def _events(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    events = obj.get("events")
    if isinstance(events, Mapping):
        return [events]
    return [e for e in events if isinstance(e, Mapping)] if isinstance(events, list) else []


def _parameter(events: list[Mapping[str, Any]], name: str) -> Any:
    for e in events:
        params = e.get("parameters")
        for p in params if isinstance(params, list) else []:
            if isinstance(p, Mapping) and p.get("name") == name:
                return p.get("value", p.get("intValue", p.get("multiValue")))
    return None


def read(source: Source) -> Iterator[Event | Rejection]:
    """One event or rejection per activity."""
    for item in records(source):
        if isinstance(item, Rejection):
            yield item
            continue
        locator, obj = item
        events = _events(obj)
        names = [str(e["name"]) for e in events if e.get("name")]
        types = sorted({str(e["type"]) for e in events if e.get("type")})
        yield build(
            source,
            locator,
            obj,
            channel=CHANNEL,
            time=dig(obj, "id.time"),
            address=obj.get("ipAddress"),
            identities=(dig(obj, "actor.email"), dig(obj, "actor.profileId")),
            record_id=dig(obj, "id.uniqueQualifier"),
            attributes={
                "application": dig(obj, "id.applicationName"),
                "event_name": ", ".join(names) or None,
                "event_type": ", ".join(types) or None,
                "caller_type": dig(obj, "actor.callerType"),
                "login_type": _parameter(events, "login_type"),
                "owner_domain": obj.get("ownerDomain"),
            },
        )
