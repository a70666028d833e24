"""Personas and slip detection, with exact closed_after_seconds."""

from __future__ import annotations

from datetime import UTC, datetime

from slipcatch.analysis.personas import group_by_persona, in_time_order
from slipcatch.analysis.slips import find_slips, network_of, works_under_cover
from slipcatch.calibration.scenarios import observation
from slipcatch.model import Category, OriginTrust, stable_id

from .builders import P
from .builders import at as _at
from .builders import kp as _kp
from .builders import tor as _tor

T0 = datetime(2014, 11, 24, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return _at(seconds, T0)


def tor(s: float, n: int = 1, **kw):
    return _tor(s, n, T0, **kw)


def kp(s: float, ip: str = "175.45.176.10", **kw):
    return _kp(s, ip, T0, **kw)


def res(s: float, ip: str = "1.160.7.7", **kw):
    return observation(at(s), ip, P, category=Category.RESIDENTIAL, country="TW", **kw)


def slips_of(observations):
    [(persona, obs)] = group_by_persona(observations)
    return persona, find_slips(persona, obs)


def test_single_slip_closed_after_exact_seconds():
    persona, slips = slips_of([tor(0), tor(100), kp(200), tor(330), tor(400)])
    assert len(slips) == 1
    slip = slips[0]
    assert slip.closed_after_seconds == 130.0
    assert slip.ip == "175.45.176.10"
    assert slip.attributed_to == "dprk-rgb"
    assert slip.category == Category.ACTOR
    assert slip.first_seen == slip.last_seen == at(200)
    assert slip.prefix == "175.45.176.0/22"
    assert slip.country == "KP"
    assert slip.persona == persona.id == stable_id("persona", P)
    assert persona.cover_ratio == 0.8


def test_run_in_one_slash24_is_one_slip_closed_from_its_last_event():
    obs = [
        tor(0),
        tor(10),
        kp(100, "175.45.176.10"),
        kp(160, "175.45.176.99", channel="email", origin_trust=OriginTrust.SENDER_PROVIDER),
        tor(400, 2),
    ]
    _, slips = slips_of(obs)
    assert len(slips) == 1
    assert slips[0].events == 2
    assert slips[0].closed_after_seconds == 240.0
    assert slips[0].channels == ("email", "web")
    assert slips[0].origin_trust == OriginTrust.SENDER_PROVIDER


def test_different_slash24_or_category_splits_slips():
    obs = [
        tor(0),
        tor(10),
        tor(20),
        kp(100, "175.45.176.10"),
        kp(130, "175.45.177.10"),
        res(150),
        tor(1000),
    ]
    _, slips = slips_of(obs)
    assert [s.ip for s in slips] == ["175.45.176.10", "175.45.177.10", "1.160.7.7"]
    # every run is closed by the same next covered event
    assert [s.closed_after_seconds for s in slips] == [900.0, 870.0, 850.0]
    assert [s.attributed_to for s in slips] == ["dprk-rgb", "dprk-rgb", None]


def test_reserved_is_neither_cover_nor_slip_and_does_not_break_a_run():
    reserved = observation(at(120), "10.0.0.5", P, category=Category.RESERVED)
    obs = [tor(0), tor(10), kp(100), reserved, kp(140), tor(200)]
    persona, slips = slips_of(obs)
    assert len(slips) == 1
    assert slips[0].events == 2
    assert reserved.event.id not in slips[0].event_ids
    assert slips[0].closed_after_seconds == 60.0
    assert persona.cover_ratio == 0.5


def test_unclosed_slip_has_none():
    _, slips = slips_of([tor(0), tor(10), kp(100)])
    assert slips[0].closed_after_seconds is None


def test_cover_in_the_same_second_neither_closes_nor_splits_a_slip():
    # records of one instant have no order: whatever their event ids, a cover record at the
    # exposed events' second is read as before them, so the slip stays one and unclosed
    for digests in (("a", "b", "c"), ("c", "b", "a"), ("b", "c", "a")):
        obs = [
            tor(0),
            kp(100, digest=digests[0]),
            tor(100, 2, digest=digests[1]),
            kp(100, "175.45.176.11", digest=digests[2]),
        ]
        _, slips = slips_of(obs)
        assert len(slips) == 1
        assert len(slips[0].event_ids) == 2
        assert slips[0].closed_after_seconds is None


def test_weakest_origin_trust_of_a_slip():
    obs = [
        tor(0),
        tor(10),
        kp(100, channel="email", origin_trust=OriginTrust.TRUSTED_RELAY),
        kp(110, channel="email", origin_trust=OriginTrust.SENDER_WRITTEN),
        kp(120),
        tor(130),
    ]
    _, slips = slips_of(obs)
    assert slips[0].origin_trust == OriginTrust.SENDER_WRITTEN


def test_persona_not_under_cover_has_no_slips():
    # one covered event only: not "otherwise under cover"
    persona, slips = slips_of([tor(0), kp(100), res(200)])
    assert slips == ()
    # two covered events but a minority
    persona, slips = slips_of([tor(0), tor(5), kp(100), res(200), res(300)])
    assert persona.cover_ratio == 0.4
    assert slips == ()


def test_works_under_cover_threshold_is_inclusive():
    [(persona, obs)] = group_by_persona([tor(0), tor(5), kp(100), res(200)])
    assert persona.cover_ratio == 0.5
    assert works_under_cover(persona, obs)


def test_slip_ids_and_order_do_not_depend_on_input_order():
    obs = [tor(0), tor(10), kp(100), tor(130), res(500), tor(600)]
    _, a = slips_of(obs)
    _, b = slips_of(list(reversed(obs)))
    assert a == b
    assert len(a) == 2
    assert a[0].id == stable_id("slip", stable_id("persona", P), obs[2].event.id, obs[2].event.id)


def test_duplicate_event_ids_count_once():
    first = kp(100)
    ordered = in_time_order([first, first, tor(0)])
    assert [o.event.id for o in ordered] == [tor(0).event.id, first.event.id]


def test_network_of():
    assert network_of("175.45.177.200") == "175.45.177.0/24"
    assert network_of("2001:db8:1:2::5") == "2001:db8:1::/48"
    assert network_of("not-an-ip") == "not-an-ip"


def test_persona_identities_and_channels():
    a = tor(0, attributes={"sender": "gop@example.org"})
    b = tor(10, channel="email", attributes={"from": "God'sApstls <x@example.org>"})
    [(persona, _)] = group_by_persona([a, b])
    assert persona.identities == ("God'sApstls <x@example.org>", "gop@example.org")
    assert persona.channels == ("email", "web")
    [(bare, _)] = group_by_persona([tor(0)])
    assert bare.identities == (P,)
