"""Find slips: exposed events in a persona that otherwise works under cover.

Definitions (docs/model.md, "Slips"):

- *covered*: the address was cover at the time (``model.COVER``: tor, vpn, proxy, hosting);
- *exposed*: ``actor``, ``residential`` or ``unknown``;
- *neutral*: ``reserved`` (private, bogon, documentation addresses say nothing about where the
  operator was: they are internal hops, test data or spoofing); neutral events are skipped, they
  neither extend nor break a slip and never count as cover;
- a persona *works under cover* when at least ``MIN_COVER_RATIO`` of its events are covered and
  at least ``MIN_COVERED_EVENTS`` are;
- a *slip* is a maximal run of consecutive exposed events (in the persona's time order, neutral
  events skipped) with the same network (/24 for IPv4, /48 for IPv6), category and actor.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

from slipcatch.model import (
    COVER,
    Category,
    Observation,
    OriginTrust,
    Persona,
    Slip,
    stable_id,
    utc,
)

from .reading import EXPOSED, stated_trust

__all__ = [
    "EXPOSED",
    "MIN_COVERED_EVENTS",
    "MIN_COVER_RATIO",
    "TRUST_ORDER",
    "find_slips",
    "network_of",
    "weakest_trust",
    "works_under_cover",
]

MIN_COVER_RATIO = 0.5
MIN_COVERED_EVENTS = 2

#: Strongest first: who wrote the header an e-mail's origin was read from.
TRUST_ORDER: tuple[OriginTrust, ...] = (
    OriginTrust.TRUSTED_RELAY,
    OriginTrust.SENDER_PROVIDER,
    OriginTrust.SENDER_WRITTEN,
)


@lru_cache(maxsize=65536)
def network_of(ip: str) -> str:
    """The /24 (IPv4) or /48 (IPv6) holding ``ip``; the text itself if it is not an address."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    bits = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{bits}", strict=False))


def works_under_cover(persona: Persona, observations: Sequence[Observation]) -> bool:
    """True when the persona otherwise works under cover (see the module docstring)."""
    covered = sum(1 for obs in observations if obs.address.category in COVER)
    return covered >= MIN_COVERED_EVENTS and persona.cover_ratio >= MIN_COVER_RATIO


def weakest_trust(observations: Sequence[Observation]) -> OriginTrust | None:
    """The weakest origin trust among the e-mail events, None when there is none."""
    found = {stated_trust(obs) for obs in observations} - {None}
    for trust in reversed(TRUST_ORDER):
        if trust in found:
            return trust
    return None


def _run_key(obs: Observation) -> tuple[str, str, str]:
    return (network_of(obs.address.ip), str(obs.address.category), obs.address.actor or "")


def find_slips(persona: Persona, observations: Sequence[Observation]) -> tuple[Slip, ...]:
    """The slips of one persona, in time order.

    ``observations`` are the persona's, in time order (``personas.in_time_order``). A persona
    that does not work under cover has no slips: nothing is "otherwise" there.
    """
    if not works_under_cover(persona, observations):
        return ()
    runs: list[list[int]] = []
    current_key: tuple[str, str, str] | None = None
    for i, obs in enumerate(observations):
        category = obs.address.category
        if category in COVER:
            current_key = None
        elif category in EXPOSED:
            key = _run_key(obs)
            if key == current_key:
                runs[-1].append(i)
            else:
                runs.append([i])
                current_key = key
        # neutral events: neither extend nor break the current run

    next_cover: list[datetime | None] = [None] * len(observations)
    upcoming: datetime | None = None
    for i in range(len(observations) - 1, -1, -1):
        next_cover[i] = upcoming
        if observations[i].address.category in COVER:
            upcoming = utc(observations[i].event.time)

    slips = []
    for run in runs:
        members = [observations[i] for i in run]
        first, last = members[0], members[-1]
        closing = next_cover[run[-1]]
        last_seen = utc(last.event.time)
        closed = None if closing is None else (closing - last_seen).total_seconds()
        slips.append(
            Slip(
                id=stable_id("slip", persona.id, first.event.id, last.event.id),
                persona=persona.id,
                ip=first.address.ip,
                first_seen=utc(first.event.time),
                last_seen=last_seen,
                event_ids=tuple(obs.event.id for obs in members),
                category=first.address.category,
                prefix=first.address.prefix,
                asn=first.address.asn,
                country=first.address.country,
                attributed_to=first.address.actor
                if first.address.category == Category.ACTOR
                else None,
                closed_after_seconds=closed,
                channels=tuple(sorted({obs.event.channel for obs in members})),
                origin_trust=weakest_trust(members),
            )
        )
    return tuple(slips)
