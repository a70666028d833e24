"""GitHub audit log (organisation or enterprise: the REST API, the JSON export and the audit log
stream), as a JSON array or JSON lines.

Time ``@timestamp`` (else ``created_at``; epoch milliseconds or ISO 8601); address ``actor_ip``
(present only where the organisation enabled IP disclosure; otherwise ``missing-address``);
persona ``actor``; record id ``_document_id``; channel ``github``. Attributes: ``action``,
``org``, ``repo``, ``user``, ``country`` (``actor_location.country_code``), ``user_agent``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from slipcatch.evidence._records import build, dig, first_record, pick, records
from slipcatch.evidence._source import Source
from slipcatch.model import Event, Rejection

__all__ = ["CHANNEL", "NAME", "read", "sniff"]

NAME = "github"
CHANNEL = "github"


def _is_audit(obj: Mapping[str, Any] | None) -> bool:
    if obj is None:
        return False
    action = obj.get("action")
    return (
        isinstance(action, str)
        and "." in action
        and "actor" in obj
        and ("@timestamp" in obj or "created_at" in obj)
        and bool({"_document_id", "actor_ip", "org", "business"} & obj.keys())
    )


def sniff(head: bytes, name: str) -> float:
    """0.95 when the first record has a dotted ``action`` (``repo.create``), ``actor``, a time
    and one of ``_document_id``/``actor_ip``/``org``/``business``."""
    return 0.95 if _is_audit(first_record(head)) else 0.0


def read(source: Source) -> Iterator[Event | Rejection]:
    """One event or rejection per audit log entry."""
    for item in records(source):
        if isinstance(item, Rejection):
            yield item
            continue
        locator, obj = item
        yield build(
            source,
            locator,
            obj,
            channel=CHANNEL,
            time=pick(obj, "@timestamp", "created_at"),
            address=obj.get("actor_ip"),
            identities=(obj.get("actor"), obj.get("actor_id")),
            record_id=obj.get("_document_id"),
            attributes={
                "action": obj.get("action"),
                "org": obj.get("org"),
                "business": obj.get("business"),
                "repo": obj.get("repo"),
                "user": obj.get("user"),
                "team": obj.get("team"),
                "country": dig(obj, "actor_location.country_code"),
                "user_agent": obj.get("user_agent"),
                "operation_type": obj.get("operation_type"),
            },
        )
