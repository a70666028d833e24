"""Rule "slip pattern": hand-computed numbers."""

from __future__ import annotations

import math

import pytest

from slipcatch.analysis.rules.slip_pattern import (
    RULE_SLIP_PATTERN,
    episode_ratio,
    slip_pattern_lines,
    slip_pattern_scores,
    slip_pattern_summary,
)
from slipcatch.model import OriginTrust

from ..builders import kp, tor
from .cases import case_of, hyp

DAY = 86400.0


def test_one_quick_return_is_three_to_one():
    case = case_of([tor(0), tor(60, 2), kp(300), tor(430, 3)])
    [ep] = case.episodes
    # quick return (130 s <= 600 s): 3; web is an "other" channel: 1; trust 1: 2^0 = 1
    assert ep.pattern == "quick-return" and episode_ratio(ep) == 3.0
    [score] = slip_pattern_scores(case)
    # one episode: S = exp(ln 3 / sqrt 1) = 3
    assert score.ratio == pytest.approx(3.0)
    assert score.counts == (("quick-return", 1),)
    [line] = slip_pattern_lines(case)
    assert line.rule == RULE_SLIP_PATTERN and line.reliability == "B3"
    assert line.likelihoods[hyp(case, "false_flag")] == 0.333333  # 1 / 3
    assert line.likelihoods[hyp(case, "actor")] == 1.0


def test_two_habits_count_as_sqrt_two_observations():
    obs = [tor(0), tor(60, 2), kp(300), tor(430, 3)]
    obs += [tor(DAY), tor(DAY + 60, 2), kp(DAY + 300, "175.45.176.11"), tor(DAY + 430, 3)]
    [score] = slip_pattern_scores(case_of(obs))
    # S = exp((ln 3 + ln 3) / sqrt 2) = 3^sqrt(2) = 4.728804
    assert score.ratio == pytest.approx(3.0 ** math.sqrt(2.0))
    assert round(score.ratio, 6) == 4.728804


def test_a_sender_written_origin_leans_toward_the_framer():
    sent = {"channel": "email", "origin_trust": OriginTrust.SENDER_WRITTEN}
    case = case_of([tor(0), tor(60, 2), kp(300, **sent), tor(430, 3)])
    [ep] = case.episodes
    # trust weight 0.05: pattern 1 + (3 - 1) 0.05 = 1.1; channel 1; / 2^(1 - 0.05) = 1.931873
    # -> 1.1 / 1.931873 = 0.569396
    assert episode_ratio(ep) == pytest.approx(1.1 / 2.0**0.95)
    assert round(episode_ratio(ep), 6) == 0.569396
    [score] = slip_pattern_scores(case)
    assert dict(score.counts) == {"quick-return": 1, "origin sender-written": 1}


def test_summary_words_the_score():
    [score] = slip_pattern_scores(case_of([tor(0), tor(60, 2), kp(300), tor(430, 3)]))
    assert slip_pattern_summary(score).startswith(
        "how 1 episode(s) from the range of dprk-rgb ended: quick-return x1; actor : false flag "
        "3.00"
    )
