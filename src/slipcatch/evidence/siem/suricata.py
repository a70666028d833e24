"""Suricata EVE JSON (``eve.json``), one event a line, of any ``event_type`` (``alert``,
``http``, ``dns``, ``tls``, ``ssh``, ``flow``, ...).

Time ``timestamp`` (``2022-07-12T06:22:33.415742+0000``); address ``src_ip`` (the sender of the
packet or flow that raised the event); channel ``suricata:<event_type>``; persona none of its
own (``(anonymous)``, or the persona map); ``flow_id`` kept (it is the flow's id, shared by the
flow's events, not the record's). Records without addresses (``stats``) are
``missing-address``. Attributes: ``dest_ip``, ports, ``proto``, ``app_proto``, the alert's
signature, id, category, action and severity, and the HTTP host, URL and user agent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from slipcatch.evidence._records import build, dig, first_record, records
from slipcatch.evidence._source import Source
from slipcatch.model import Event, Rejection

__all__ = ["NAME", "read", "sniff"]

NAME = "suricata"

_ATTRS = {
    "event_type": "event_type",
    "flow_id": "flow_id",
    "src_port": "src_port",
    "dest_ip": "dest_ip",
    "dest_port": "dest_port",
    "proto": "proto",
    "app_proto": "app_proto",
    "in_iface": "in_iface",
    "alert_signature": "alert.signature",
    "alert_signature_id": "alert.signature_id",
    "alert_category": "alert.category",
    "alert_action": "alert.action",
    "alert_severity": "alert.severity",
    "http_hostname": "http.hostname",
    "http_url": "http.url",
    "http_user_agent": "http.http_user_agent",
    "tls_sni": "tls.sni",
    "dns_query": "dns.rrname",
}


def _is_eve(obj: Mapping[str, Any] | None) -> bool:
    return (
        obj is not None
        and isinstance(obj.get("event_type"), str)
        and "timestamp" in obj
        and ("flow_id" in obj or "in_iface" in obj or "src_ip" in obj)
    )


def sniff(head: bytes, name: str) -> float:
    """0.96 when the first record has ``event_type``, ``timestamp`` and ``flow_id``/``src_ip``."""
    return 0.96 if _is_eve(first_record(head)) else 0.0


def read(source: Source) -> Iterator[Event | Rejection]:
    """One event or rejection per EVE record."""
    for item in records(source):
        if isinstance(item, Rejection):
            yield item
            continue
        locator, obj = item
        kind = obj.get("event_type")
        yield build(
            source,
            locator,
            obj,
            channel=f"suricata:{kind}" if isinstance(kind, str) and kind else "suricata",
            time=obj.get("timestamp"),
            address=obj.get("src_ip"),
            attributes={k: dig(obj, p) for k, p in _ATTRS.items()},
        )
