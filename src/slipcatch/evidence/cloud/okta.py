"""Okta System Log (``/api/v1/logs`` events, as JSON lines or a JSON array).

Time ``published``; address ``client.ipAddress`` (the address Okta saw; the proxies it passed
are kept as ``ip_chain``); persona ``actor.alternateId`` (the login, usually an e-mail address),
else ``actor.id``; record id ``uuid``; channel ``okta``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from slipcatch.evidence._records import build, dig, first_record, records
from slipcatch.evidence._source import Source
from slipcatch.model import Event, Rejection

__all__ = ["CHANNEL", "NAME", "read", "sniff"]

NAME = "okta"
CHANNEL = "okta"


def _is_okta(obj: Mapping[str, Any] | None) -> bool:
    return (
        obj is not None
        and "published" in obj
        and "eventType" in obj
        and isinstance(obj.get("actor"), Mapping)
        and ("client" in obj or "uuid" in obj)
    )


def sniff(head: bytes, name: str) -> float:
    """0.96 when the first record has ``published``, ``eventType``, an ``actor`` object and
    ``client``/``uuid``."""
    return 0.96 if _is_okta(first_record(head)) else 0.0


def _chain(obj: Mapping[str, Any]) -> str | None:
    chain = dig(obj, "request.ipChain")
    if not isinstance(chain, list):
        return None
    ips = [str(hop.get("ip")) for hop in chain if isinstance(hop, Mapping) and hop.get("ip")]
    return ", ".join(ips) or None


def read(source: Source) -> Iterator[Event | Rejection]:
    """One event or rejection per System Log event."""
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
            time=obj.get("published"),
            address=dig(obj, "client.ipAddress"),
            identities=(dig(obj, "actor.alternateId"), dig(obj, "actor.id")),
            record_id=obj.get("uuid"),
            attributes={
                "event_type": obj.get("eventType"),
                "display_message": obj.get("displayMessage"),
                "outcome": dig(obj, "outcome.result"),
                "outcome_reason": dig(obj, "outcome.reason"),
                "user_agent": dig(obj, "client.userAgent.rawUserAgent"),
                "ip_chain": _chain(obj),
                "session": dig(obj, "authenticationContext.externalSessionId"),
                "country": dig(obj, "client.geographicalContext.country"),
                "severity": obj.get("severity"),
            },
        )
