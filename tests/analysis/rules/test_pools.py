"""Dependent pools (model 2.7, issue 19): episodes from one pool of a low-exclusivity range
count as one item whose weight grows as 1 + ln n (docs/model.md, example 19)."""

from __future__ import annotations

import math

import pytest

from slipcatch.analysis import assess
from slipcatch.analysis.episodes import pool_effective_count
from slipcatch.analysis.rules.actor_range import actor_range_lines, range_ratio
from slipcatch.analysis.rules.slip_pattern import slip_pattern_lines
from slipcatch.calibration.scenarios import ACTOR

from ..builders import kp
from .cases import case_of, hyp

HOUR = 3600.0


def logins(n: int, exclusivity: float, gap: float = 13 * HOUR) -> list:
    # one login every 13 hours (each its own episode), each from a new address of the range
    return [
        kp(
            k * gap,
            f"175.45.{176 + k % 4}.{1 + k // 4 % 250}",
            exclusivity=exclusivity,
            channel="ssh",
        )
        for k in range(n)
    ]


def test_effective_count_is_logarithmic():
    assert [round(pool_effective_count(n), 6) for n in (0, 1, 10, 100, 1000)] == [
        0.0,
        1.0,
        round(1 + math.log(10), 6),
        round(1 + math.log(100), 6),
        round(1 + math.log(1000), 6),
    ]


def test_a_thousand_low_exclusivity_episodes_are_one_saturating_line():
    case = case_of(logins(1000, 0.1))
    assert len(case.episodes) == 1000 and all(ep.pool for ep in case.episodes)
    [line] = actor_range_lines(case)
    r = range_ratio(0.1)
    assert r == pytest.approx(1.090909, abs=1e-6)
    assert line.likelihoods[hyp(case, "actor")] == pytest.approx(
        r ** (1 + math.log(1000)), abs=1e-6
    )
    assert line.likelihoods[hyp(case, "actor")] == pytest.approx(1.989861, abs=1e-6)
    assert line.summary.startswith("dependent pool of 1000 episodes")
    assert len(line.event_ids) == 1000
    [pattern] = slip_pattern_lines(case)
    assert "how 1000 episode(s)" in pattern.summary
    # the pool is one item of the slip pattern: no cover 0.8 x back-end 2 = 1.6
    assert pattern.likelihoods[hyp(case, "false_flag")] == 0.625
    [pa] = assess(logins(1000, 0.1), [ACTOR])
    assert pa.verdict.probability < 0.5 and len(pa.evidence) <= 30


def test_exclusive_ranges_are_not_pooled():
    case = case_of(logins(20, 1.0))
    assert not any(ep.pool for ep in case.episodes)
    assert len(actor_range_lines(case)) == 20


def test_a_pool_ends_after_thirty_days_without_an_episode():
    obs = logins(3, 0.2) + [
        kp(40 * 86400 + k * 13 * HOUR, f"175.45.179.{200 + k}", exclusivity=0.2, channel="ssh")
        for k in range(3)
    ]
    lines = actor_range_lines(case_of(obs))
    # the addresses of the later three (175.45.179.x) share no /24 with the first three
    # (175.45.176-178.x), and 40 days passed
    assert sorted(line.summary.split(" episodes")[0] for line in lines) == [
        "dependent pool of 3",
        "dependent pool of 3",
    ]


def test_an_email_without_stated_trust_says_it_is_read_as_sender_written():
    obs = [kp(0, channel="email"), kp(7200, "175.45.176.11", channel="email", origin_trust=None)]
    [first, *_] = actor_range_lines(case_of(obs))
    assert "no origin trust stated" in first.summary and "sender-written" in first.summary
    from slipcatch.model import OriginTrust

    stated = [kp(0, channel="email", origin_trust=OriginTrust.TRUSTED_RELAY)]
    [line] = actor_range_lines(case_of(stated))
    assert "no origin trust stated" not in line.summary


def test_a_large_persona_keeps_a_bounded_number_of_episode_lines():
    from slipcatch.analysis.rules.actor_range import MAX_EPISODE_LINES

    case = case_of(logins(40, 1.0))
    lines = actor_range_lines(case)
    assert len(case.episodes) == 40 and len(lines) == MAX_EPISODE_LINES == 24
    group = next(line for line in lines if "further episodes" in line.summary)
    assert group.summary.startswith("17 further episodes")
    # the same product as 17 separate lines of 6
    assert group.likelihoods[hyp(case, "actor")] == pytest.approx(6.0**17, rel=1e-6)
    [pa] = assess(logins(40, 1.0), [ACTOR])
    assert len(pa.evidence) < 30
