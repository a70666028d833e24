"""Rule "actor-range episode": hand-computed numbers."""

from __future__ import annotations

import pytest

from slipcatch.analysis.rules.actor_range import (
    RULE_ACTOR_RANGE,
    actor_range_lines,
    actor_range_scores,
    episode_summary,
    range_ratio,
)

from ..builders import kp, tor
from .cases import case_of, hyp

DAY = 86400.0


def test_range_ratio_at_full_half_and_no_exclusivity():
    # r = 1 / (1/6 + 5/6 (1 - e)): e = 1 -> 1 / (1/6) = 6
    assert range_ratio(1.0) == pytest.approx(6.0)
    # e = 0.5 -> 1 / (1/6 + 5/12) = 1 / (7/12) = 12/7 = 1.714286
    assert range_ratio(0.5) == pytest.approx(12 / 7)
    # e = 0 -> 1 / (1/6 + 5/6) = 1: a fully shared range says nothing against an unknown party
    assert range_ratio(0.0) == pytest.approx(1.0)


def test_one_trusted_episode_weighs_actor_and_false_flag_six_to_one():
    case = case_of([tor(0), tor(60, 2), kp(300), tor(430, 3)])
    [score] = actor_range_scores(case)
    # exclusivity 1, logged by the receiving side: r = 6; a quick return (130 s) on the web:
    # pattern ratio 3 x 1 / 2^0 = 3
    assert (score.ratio, score.pattern_ratio, score.asn_level) == (6.0, 3.0, False)
    [line] = actor_range_lines(case)
    assert line.rule == RULE_ACTOR_RANGE and line.reliability == "B2"
    assert line.likelihoods[hyp(case, "actor")] == 6.0
    assert line.likelihoods[hyp(case, "false_flag")] == 6.0
    assert line.likelihoods[hyp(case, "unknown")] == 1.0


def test_half_exclusive_range_gives_twelve_sevenths():
    case = case_of([tor(0), tor(60, 2), kp(300, exclusivity=0.5), tor(430, 3)])
    [score] = actor_range_scores(case)
    assert score.ratio == pytest.approx(12 / 7)  # 1.714286, see range_ratio
    [line] = actor_range_lines(case)
    assert line.likelihoods[hyp(case, "actor")] == 1.714286
    assert line.reliability == "B4"  # exclusivity below 0.7: credibility 4


def test_the_same_host_again_counts_once():
    # Two episodes a day apart from the one address, with cover in between: the second only
    # shows the same host again, so r = 1 for it.
    obs = [tor(0), tor(60, 2), kp(300), tor(430, 3)]
    obs += [tor(DAY), tor(DAY + 60, 2), kp(DAY + 300), tor(DAY + 430, 3)]
    first, second = actor_range_scores(case_of(obs))
    assert (first.ratio, second.ratio) == (6.0, 1.0)
    assert second.episode.repeat == ("175.45.176.10",)


def test_wording_is_separate_from_the_numbers():
    case = case_of([tor(0), tor(60, 2), kp(300), tor(430, 3)])
    [score] = actor_range_scores(case)
    text = episode_summary(score, "DPRK")
    assert text.startswith("1 event(s) from 175.45.176.0/22, exclusive range of DPRK (")
    assert text.endswith(
        "actor or false flag : unknown 6.00; pattern ratio 3.00 (see the slip pattern line)"
    )
