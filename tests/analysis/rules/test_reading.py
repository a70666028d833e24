"""``reading``: the one place that decides an observation as the analysis reads it."""

from __future__ import annotations

from dataclasses import replace

from slipcatch.analysis.reading import (
    ASN_EXCLUSIVITY,
    asn_owners,
    claimed_address,
    event_trust,
    read_claim,
    read_observation,
)
from slipcatch.calibration.scenarios import ACTOR, observation
from slipcatch.model import Actor, Category, OriginTrust

from ..builders import P, at, tor


def test_an_as_two_actors_claim_has_no_owner():
    a = replace(ACTOR, asns=(131279, 64500))
    b = Actor(id="other", name="Other", asns=(64500,))
    assert asn_owners([a, b]) == {131279: "dprk-rgb"}


def test_asn_level_hit_on_an_exposed_address():
    home = observation(at(0), "198.51.100.1", P, category=Category.RESIDENTIAL, asn=131279)
    read = read_observation(home, {131279: "dprk-rgb"})
    assert (read.address.category, read.address.actor, read.address.prefix) == (
        Category.ACTOR,
        "dprk-rgb",
        "AS131279",
    )
    assert read.address.facts[-1].exclusivity == ASN_EXCLUSIVITY == 0.5
    # cover in the actor's AS is still someone's cover
    vpn = tor(0)
    vpn = replace(vpn, address=replace(vpn.address, asn=131279))
    assert read_observation(vpn, {131279: "dprk-rgb"}) == vpn


def test_a_claimed_exposed_client_behind_cover_is_read_there_as_sender_written():
    entry = tor(0, channel="email")
    client = observation(at(0), "198.51.100.1", P, category=Category.RESIDENTIAL).address
    claimed = replace(entry, claimed=client)
    assert claimed_address(claimed) == client and claimed_address(entry) is None
    read = read_claim(claimed)
    assert read.event.id == entry.event.id
    assert (read.event.src_ip, read.address) == ("198.51.100.1", client)
    assert event_trust(read) == OriginTrust.SENDER_WRITTEN
    # a claim of cover behind cover says nothing more
    assert read_claim(replace(entry, claimed=tor(0, 2).address)) == replace(
        entry, claimed=tor(0, 2).address
    )
