"""Elastic Common Schema documents exported as ndjson (Kibana/Discover, ``elasticdump``,
Filebeat/Logstash file outputs), nested (``{"source": {"ip": ...}}``) or with dotted keys
(``"source.ip"``); a search hit's ``_source`` is the document.

Time ``@timestamp``; address ``source.ip`` (else ``client.ip``); persona ``user.name`` (else
``user.email``, ``user.id``); record id ``event.id`` (else the hit's ``_id``); channel ``ecs``.
Attributes: ``event.dataset``, ``event.action``, ``event.outcome``, ``event.category``,
``user_agent.original``, ``url.original``, ``host.name``, ``destination.ip``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from slipcatch.evidence._records import build, dig, first_record, pick, records
from slipcatch.evidence._source import Source
from slipcatch.model import Event, Rejection

__all__ = ["CHANNEL", "NAME", "read", "sniff"]

NAME = "ecs"
CHANNEL = "ecs"

_ATTRS = {
    "dataset": "event.dataset",
    "event_action": "event.action",
    "event_outcome": "event.outcome",
    "event_category": "event.category",
    "event_kind": "event.kind",
    "user_agent": "user_agent.original",
    "url": "url.original",
    "host": "host.name",
    "destination_ip": "destination.ip",
    "source_port": "source.port",
    "message": "message",
}


def _document(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    inner = obj.get("_source")
    return inner if isinstance(inner, Mapping) else obj


def _is_ecs(obj: Mapping[str, Any] | None) -> bool:
    if obj is None:
        return False
    doc = _document(obj)
    marker = (
        dig(doc, "ecs.version") is not None
        or isinstance(doc.get("event"), Mapping)
        or any(str(k).startswith("event.") for k in doc)
    )
    return "@timestamp" in doc and marker and pick(doc, "source.ip", "client.ip") is not None


def sniff(head: bytes, name: str) -> float:
    """0.93 when the first document has ``@timestamp``, ``source.ip``/``client.ip`` and an ECS
    marker (``ecs.version`` or an ``event`` object)."""
    return 0.93 if _is_ecs(first_record(head)) else 0.0


def read(source: Source) -> Iterator[Event | Rejection]:
    """One event or rejection per document."""
    for item in records(source):
        if isinstance(item, Rejection):
            yield item
            continue
        locator, obj = item
        doc = _document(obj)
        yield build(
            source,
            locator,
            doc,
            channel=CHANNEL,
            time=doc.get("@timestamp"),
            address=pick(doc, "source.ip", "client.ip"),
            identities=(pick(doc, "user.name"), pick(doc, "user.email"), pick(doc, "user.id")),
            record_id=pick(doc, "event.id") or obj.get("_id"),
            attributes={k: dig(doc, p) for k, p in _ATTRS.items()},
        )
