"""Group observations into personas: who the events claim to be.

A persona is the ``Event.persona`` name; every event carrying that name belongs to it. Its
identities are the distinct sender addresses of its e-mails (``Event.mail.from_addr``) and the
sender/account values the evidence readers kept in the event attributes (see
``IDENTITY_KEYS``); when there is none, the persona name is its only identity.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from slipcatch.model import COVER, Observation, Persona, stable_id, utc

__all__ = ["IDENTITY_KEYS", "build_persona", "group_by_persona", "in_time_order", "persona_id"]

#: Attribute keys whose values name an identity of the persona (an address, an account).
IDENTITY_KEYS: tuple[str, ...] = (
    "identity",
    "from",
    "from_address",
    "sender",
    "account",
    "user",
    "username",
)


def persona_id(name: str) -> str:
    """The deterministic id of the persona called ``name``."""
    return stable_id("persona", name)


def _order_key(obs: Observation) -> tuple[object, ...]:
    # Time first. Records of one instant carry no order of their own, so covered events sort
    # before the others there: a cover record at the same second neither closes an exposure
    # (a return to cover must come after it) nor splits a run of exposed events, and a second
    # copy of a record cannot turn an unclosed slip into a quick return. Then event id; the
    # category and address break ties between two observations that (wrongly) share an id, so
    # the surviving copy never depends on input order.
    return (
        utc(obs.event.time),
        obs.address.category not in COVER,
        obs.event.id,
        str(obs.address.category),
        obs.address.ip,
    )


def in_time_order(observations: Iterable[Observation]) -> list[Observation]:
    """Observations sorted by (time, event id), one per event id (the first in that order)."""
    out: list[Observation] = []
    seen: set[str] = set()
    for obs in sorted(observations, key=_order_key):
        if obs.event.id in seen:
            continue
        seen.add(obs.event.id)
        out.append(obs)
    return out


def build_persona(name: str, observations: Sequence[Observation]) -> Persona:
    """The Persona for ``observations`` (all carrying ``name``, already in time order).

    Raises:
        ValueError: ``observations`` is empty (a persona exists only through its events).
    """
    if not observations:
        raise ValueError(f"persona {name!r} has no events")
    identities: set[str] = set()
    for obs in observations:
        mail = obs.event.mail
        if mail is not None and mail.from_addr and mail.from_addr.strip():
            identities.add(mail.from_addr.strip())
        attributes = obs.event.attributes
        if not attributes:
            continue
        for key in IDENTITY_KEYS:
            value = attributes.get(key)
            if value and isinstance(value, str) and value.strip():
                identities.add(value.strip())
    if not identities:
        identities.add(name)
    covered = sum(1 for obs in observations if obs.address.category in COVER)
    return Persona(
        id=persona_id(name),
        name=name,
        identities=tuple(sorted(identities)),
        event_ids=tuple(obs.event.id for obs in observations),
        channels=tuple(sorted({obs.event.channel for obs in observations})),
        cover_ratio=covered / len(observations),
    )


def group_by_persona(
    observations: Iterable[Observation],
) -> list[tuple[Persona, list[Observation]]]:
    """Personas with their observations in time order, sorted by persona name."""
    groups: dict[str, list[Observation]] = {}
    for obs in in_time_order(observations):
        groups.setdefault(obs.event.persona, []).append(obs)
    return [(build_persona(name, groups[name]), groups[name]) for name in sorted(groups)]
