"""Simulator 6: where a party "elsewhere" sits (``world.zones_elsewhere``), and the pool-heavy
class's draw of it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slipcatch import calibration
from slipcatch.analysis.pattern_of_life import profile, zone_ratio
from slipcatch.calibration import cases
from slipcatch.calibration.world import (
    ELSEWHERE_MIN_HOURS,
    OTHER_ZONES,
    offset_gap_hours,
    zones_elsewhere,
)

SEED = 2026
CASES = 1000
ZONE = {a.id: a.timezones[0] for a in calibration.ACTORS}
ACTOR = {a.id: a for a in calibration.ACTORS}


def test_the_minimum_separation_is_the_spread_of_office_day_starts():
    # office days start 07:00-10:00 local in the simulated world: three hours
    assert ELSEWHERE_MIN_HOURS == 3.0


@pytest.mark.parametrize(
    ("zone", "other", "gap"),
    [
        # Seoul and Pyongyang: UTC+9 both, but for Pyongyang's UTC+8:30 in 2015-2018
        ("Asia/Seoul", "Asia/Pyongyang", 0.0),
        # Shanghai UTC+8 all year; Pyongyang UTC+8:30 (2015-08-15 to 2018-05-04)
        ("Asia/Shanghai", "Asia/Pyongyang", 0.5),
        # Tehran UTC+4:30 in summer (until 2022) against Pyongyang's UTC+8:30
        ("Asia/Tehran", "Asia/Pyongyang", 4.0),
        # Los Angeles UTC-8 in winter against UTC+9: 17 hours one way, 7 the other
        ("America/Los_Angeles", "Asia/Pyongyang", 7.0),
        # Kyiv UTC+3 in summer = Moscow UTC+3 (since 2014-10-26)
        ("Europe/Kiev", "Europe/Moscow", 0.0),
        # Berlin UTC+2 in summer against Moscow UTC+3
        ("Europe/Berlin", "Europe/Moscow", 1.0),
        # London UTC+1 in summer against Moscow UTC+3
        ("Europe/London", "Europe/Moscow", 2.0),
        # Shanghai UTC+8 against Moscow UTC+4 (2013-01-01 to 2014-10-25)
        ("Asia/Shanghai", "Europe/Moscow", 4.0),
    ],
)
def test_offset_gap_is_the_smallest_over_the_simulated_span(zone, other, gap):
    assert offset_gap_hours(zone, other) == gap
    assert offset_gap_hours(other, zone) == gap
    assert offset_gap_hours(zone, zone) == 0.0


def test_zones_elsewhere_leave_out_the_neighbours():
    assert zones_elsewhere(ACTOR["dprk-rgb"]) == (
        "Europe/Berlin",
        "America/New_York",
        "America/Sao_Paulo",
        "Asia/Tehran",
        "Europe/London",
        "Europe/Kiev",
        "America/Los_Angeles",
    )
    assert zones_elsewhere(ACTOR["ru-gru"]) == (
        "America/New_York",
        "America/Sao_Paulo",
        "Asia/Shanghai",
        "Asia/Seoul",
        "Asia/Taipei",
        "America/Los_Angeles",
    )


def _pool_elsewhere_ratios() -> list[float]:
    out = []
    for case in calibration.generate(CASES, SEED, analyst_evidence=False):
        if case.variant == "unknown/pool-elsewhere":
            prof = profile(case.observations)
            assert prof is not None  # tens to hundreds of active hours
            ratio = zone_ratio(prof, ZONE[case.actor])
            assert ratio is not None
            out.append(ratio)
    return out


def test_a_pool_user_elsewhere_keeps_hours_that_speak_against_the_actors_zone(monkeypatch):
    # What the sub-class means: the hours alone, read as the model reads them (the likelihood of
    # the active hours in the actor's zone against anywhere, docs/model.md "pattern of life"),
    # place every such party away from the actor's zone.
    ratios = _pool_elsewhere_ratios()
    assert len(ratios) >= 20
    assert max(ratios) < 0.01
    # Simulator 5 drew any of OTHER_ZONES: Seoul keeps Pyongyang's clock and Kyiv Moscow's, so
    # some of its "elsewhere" parties had hours that fit the actor's zone best.
    monkeypatch.setattr(cases, "zones_elsewhere", lambda actor: OTHER_ZONES)
    assert max(_pool_elsewhere_ratios()) > 1


def test_pool_heavy_cases_carry_the_worlds_analyst_evidence():
    # simulator 6: the pool-heavy class gets the analyst evidence every other case of the world
    # gets (code reuse, language), from the same stream (seed, i, "analyst"); the proven-staging
    # class keeps its one finding, about the planted artefact
    with_items = calibration.generate(CASES, SEED)
    without = calibration.generate(CASES, SEED, analyst_evidence=False)
    pool = [c for c in with_items if "pool" in c.variant]
    assert [c.observations for c in with_items] == [c.observations for c in without]
    tags = {c.analyst_tag for c in pool}
    assert tags <= {"none", "code-reuse", "language", "code-reuse+language"}
    assert {"none", "code-reuse", "language"} <= tags
    for case in pool:
        for item in case.analyst.items if case.analyst else ():
            named = {k.split(":", 1)[1] for k, _ in item.likelihoods if ":" in k}
            assert named == {case.actor}
    actors = [c for c in pool if c.scenario == "actor"]
    strangers = [c for c in pool if c.scenario == "unknown"]
    reuse = {
        group: sum("code-reuse" in c.analyst_tag for c in cs) / len(cs)
        for group, cs in (("actor", actors), ("unknown", strangers))
    }
    # CODE_REUSE_RATES: 0.5 for actors, 0.05 for anyone else; within three standard errors
    for group, cs in (("actor", actors), ("unknown", strangers)):
        rate = calibration.CODE_REUSE_RATES[group]
        assert abs(reuse[group] - rate) <= 3 * (rate * (1 - rate) / len(cs)) ** 0.5, group
    staged = [c for c in with_items if "staging" in c.variant]
    assert staged and all(
        [item.key for item in c.analyst.items] == ["planted-artefact"] for c in staged
    )


ZONES = sorted({*OTHER_ZONES, *ZONE.values()})


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(ZONES), st.sampled_from(ZONES), st.sampled_from(ZONES))
def test_offset_gap_is_a_symmetric_distance_around_the_clock(a, b, c):
    gap = offset_gap_hours(a, b)
    assert 0.0 <= gap <= 12.0 and gap == offset_gap_hours(b, a)
    assert offset_gap_hours(a, a) == 0.0
    # offsets are whole or half hours in these zones' history over the span
    assert (gap * 2).is_integer()
    # the smallest gaps over the span obey no triangle rule (each pair takes its own worst
    # day), but a zone is elsewhere for an actor exactly when it is at least the minimum away
    for actor in calibration.ACTORS:
        elsewhere = zones_elsewhere(actor)
        if c in OTHER_ZONES:
            assert (c in elsewhere) == (offset_gap_hours(c, ZONE[actor.id]) >= ELSEWHERE_MIN_HOURS)
