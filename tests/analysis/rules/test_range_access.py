"""Rule "range access": hand-computed numbers."""

from __future__ import annotations

import pytest

from slipcatch.analysis.rules.range_access import (
    RULE_ACCESS,
    access_factor,
    access_lines,
    access_scores,
    access_summary,
)
from slipcatch.model import OriginTrust

from ..builders import kp, tor
from .cases import case_of, hyp


def test_fully_exclusive_range_needs_a_host_three_in_ten_framers_have():
    case = case_of([tor(0), tor(60, 2), kp(300), tor(430, 3)])
    [ep] = case.episodes
    # a = 1 / (0.3 + 0.7 x (1 - 1)) = 1 / 0.3 = 3.333333; trust 1: factor = a
    assert access_factor(ep) == pytest.approx(10 / 3)
    [score] = access_scores(case)
    assert score.strongest is ep
    [line] = access_lines(case)
    assert line.rule == RULE_ACCESS and line.reliability == "B2"
    assert line.likelihoods[hyp(case, "false_flag")] == 0.3  # 1 / (10/3)
    assert "actor : false flag 3.33" in access_summary(score)


def test_half_exclusive_range():
    [ep] = case_of([tor(0), tor(60, 2), kp(300, exclusivity=0.5), tor(430, 3)]).episodes
    # a = 1 / (0.3 + 0.7 x 0.5) = 1 / 0.65 = 1.538462
    assert access_factor(ep) == pytest.approx(1 / 0.65)


def test_a_forged_header_needs_no_access():
    sent = {"channel": "email", "origin_trust": OriginTrust.SENDER_WRITTEN}
    [ep] = case_of([tor(0), tor(60, 2), kp(300, **sent), tor(430, 3)]).episodes
    # 1 + (10/3 - 1) x 0.05 = 1 + 0.116667 = 1.116667
    assert access_factor(ep) == pytest.approx(1 + (10 / 3 - 1) * 0.05)


def test_no_line_when_the_range_is_fully_shared():
    case = case_of([tor(0), tor(60, 2), kp(300, exclusivity=0.0), tor(430, 3)])
    # a = 1 / (0.3 + 0.7) = 1: no access needed, no line
    assert access_scores(case) == [] and access_lines(case) == []
