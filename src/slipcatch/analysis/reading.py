"""One place decides an observation as the analysis reads it.

Every rule, the episode grouping and the persona assessment (hence the reports) see the same
observation for an event:

- ``claimed_address``: the client a sender-written e-mail header names behind the entry relay
  (the only place the analysis reads it);
- ``read_claim``: an e-mail that entered through cover is read at an exposed claimed client,
  as an origin the sender wrote;
- ``read_asn``: an exposed address announced by an AS the registry gives to one actor is an
  ASN-level hit of that actor;
- ``event_trust`` and ``TRUST_WEIGHT``: who wrote the origin address and how far it is believed;
- ``open_listings``: the intel facts that list the address as cover at the time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from slipcatch.analysis.tor_coverage import read_tor
from slipcatch.model import (
    COVER,
    Actor,
    AddressFacts,
    Category,
    Fact,
    Observation,
    OriginTrust,
)

__all__ = [
    "ASN_EXCLUSIVITY",
    "ASN_SOURCE",
    "EXPOSED",
    "TRUST_WEIGHT",
    "asn_owners",
    "claimed_address",
    "event_trust",
    "is_email",
    "listing_texts",
    "open_listings",
    "read_asn",
    "read_claim",
    "read_observation",
    "stated_trust",
]

#: The categories of an address that exposes its user (no cover between it and the operator).
EXPOSED: frozenset[Category] = frozenset({Category.ACTOR, Category.RESIDENTIAL, Category.UNKNOWN})
#: ASN-level hit: an exposed address announced by an AS the registry says the actor's side
#: operates (``Actor.asns``), outside every registered range, is read as an address of the
#: actor's space of this exclusivity: the AS is the actor's, but nobody vouched for the prefix,
#: so a mixture ratio of 1.71 against an unknown party (weak evidence).
ASN_EXCLUSIVITY = 0.5
#: ``Fact.source`` of the fact an ASN-level hit adds.
ASN_SOURCE = "asn-level"
#: How far the origin address can be believed, by who wrote it. ``None``: not e-mail, the
#: receiving side logged the address itself (web, ssh, a table supplied by the analyst).
TRUST_WEIGHT: Mapping[OriginTrust | None, float] = {
    None: 1.0,
    OriginTrust.TRUSTED_RELAY: 1.0,
    OriginTrust.SENDER_PROVIDER: 0.6,
    OriginTrust.SENDER_WRITTEN: 0.05,
}


def claimed_address(obs: Observation) -> AddressFacts | None:
    """What the client a header only the sender wrote names behind the entry relay was at the
    event's time; None when the event names none (not e-mail, or no such header)."""
    return obs.claimed


def stated_trust(obs: Observation) -> OriginTrust | None:
    """Who the event says wrote its origin address; None when it says nothing (the one place the
    analysis reads the event's stated trust)."""
    return obs.event.origin_trust


def is_email(obs: Observation) -> bool:
    return obs.event.channel == "email" or obs.event.channel.startswith("email")


def event_trust(obs: Observation) -> OriginTrust | None:
    """Who wrote the event's origin address; None for addresses the receiving side logged.

    An e-mail without a stated trust is taken as sender-written: nothing vouches for it.
    """
    stated = stated_trust(obs)
    if stated is not None:
        return stated
    return OriginTrust.SENDER_WRITTEN if is_email(obs) else None


def read_claim(obs: Observation) -> Observation:
    """The observation the analysis reads for ``obs``, given its claimed client.

    An e-mail that entered through cover and whose headers, written only by the sender, name
    an exposed client behind the entry relay (``claimed_address``) is read at that client, as an
    origin the sender wrote (``OriginTrust.SENDER_WRITTEN``): if true, it is where the operator
    was; if forged, only a party that wanted it seen put it there. The event id stays, so slips
    and lines still point at the record. Any other observation is returned as it is: an entry
    that is itself exposed is better evidence than a claim about what lay behind it, and a claim
    of more cover or of a reserved address says nothing more.
    """
    claimed = claimed_address(obs)
    if claimed is None or obs.address.category not in COVER or claimed.category not in EXPOSED:
        return obs  # a claim of cover behind cover, or of a reserved address, says nothing more
    event = replace(obs.event, src_ip=claimed.ip, origin_trust=OriginTrust.SENDER_WRITTEN)
    return Observation(event=event, address=claimed)


def asn_owners(actors: Iterable[Actor]) -> dict[int, str]:
    """AS number -> the one actor id whose side operates it (``Actor.asns``). An AS two actors
    claim tells neither apart: it gets no owner, so no ASN-level hit."""
    claimed_by: dict[int, set[str]] = {}
    for a in actors:
        for asn in a.asns:
            claimed_by.setdefault(asn, set()).add(a.id)
    return {asn: ids.pop() for asn, ids in claimed_by.items() if len(ids) == 1}


def read_asn(obs: Observation, owners: Mapping[int, str]) -> Observation:
    """``obs`` as an ASN-level hit when its exposed address (``residential`` or ``unknown``)
    is announced by an AS the registry gives to one actor (``owners``: AS number -> actor id):
    an address of that actor's space with exclusivity ``ASN_EXCLUSIVITY``, its prefix shown as
    ``AS<n>``. Addresses in a registered range, cover and reserved addresses stay as they are (a
    VPN exit in the actor's AS is still someone's VPN)."""
    address = obs.address
    asn = address.asn
    actor = owners.get(asn) if asn is not None else None
    if actor is None or address.category not in (Category.RESIDENTIAL, Category.UNKNOWN):
        return obs
    fact = Fact(
        range=f"AS{asn}",
        category=Category.ACTOR,
        source=ASN_SOURCE,
        label=f"AS{asn}, operated by the side of {actor}; outside its registered ranges",
        actor=actor,
        asn=asn,
        country=address.country,
        exclusivity=ASN_EXCLUSIVITY,
    )
    return replace(
        obs,
        address=replace(
            address,
            category=Category.ACTOR,
            actor=actor,
            prefix=f"AS{asn}",
            facts=(*address.facts, fact),
        ),
    )


def read_observation(obs: Observation, owners: Mapping[int, str]) -> Observation:
    """``obs`` as the analysis reads it: a near Tor listing as probable cover (``read_tor``),
    at its claimed client (``read_claim``), then as an ASN-level hit where one applies
    (``read_asn``)."""
    return read_asn(read_claim(read_tor(obs)), owners)


def open_listings(obs: Observation) -> tuple[Fact, ...]:
    """The facts that list the event's address as cover (VPN, proxy, hosting, Tor) then."""
    return tuple(f for f in obs.address.facts if f.category in COVER and f.actor is None)


def listing_texts(observations: Sequence[Observation]) -> list[str]:
    """The cover listings of the events' addresses, as "vpn by <source>" ("(projected)" when
    the listing is a later snapshot applied back to the event), sorted and without repeats."""
    return sorted(
        {
            f"{f.category} by {f.source}{' (projected)' if f.projected else ''}"
            for o in observations
            for f in open_listings(o)
        }
    )
