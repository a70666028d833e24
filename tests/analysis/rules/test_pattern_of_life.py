"""Rule "pattern of life": hand-computed numbers (the zone ratio R itself is derived by hand in
tests/analysis/test_analysis_lines.py, example 11)."""

from __future__ import annotations

import pytest

from slipcatch.analysis.rules.pattern_of_life import (
    POL_MIMIC,
    POL_OFF_HOURS,
    RULE_PATTERN,
    pattern_lines,
    pattern_score,
    pattern_summary,
)
from slipcatch.calibration.scenarios import ACTOR
from slipcatch.model import Actor

from ..builders import kp, tor
from .cases import case_of, hyp

DAY = 86400.0
# 01:00 UTC on three days = 10:00 in Pyongyang: three active hours
THREE_HOURS = [tor(3600), kp(DAY + 3600), tor(DAY + 3720, 2), tor(2 * DAY + 3600, 3)]


def test_three_hours_at_ten_in_pyongyang():
    case = case_of(THREE_HOURS)
    score = pattern_score(case)
    assert score is not None
    [fit] = score.fits
    # R = 2.633138 (example 11); 3 of 3 active hours inside 08-18 local
    assert (fit.actor, fit.zone, fit.share) == ("dprk-rgb", "Asia/Pyongyang", 1.0)
    assert fit.ratio == pytest.approx(2.633138, abs=1e-6)
    # actor (1 - 0.1) R + 0.1 = 0.9 x 2.633138 + 0.1 = 2.469824
    # false flag 0.25 R + 0.75 = 0.658285 + 0.75 = 1.408285; unknown 1 (below LINE_CAP: kept)
    assert (POL_OFF_HOURS, POL_MIMIC) == (0.1, 0.25)
    assert round(score.likelihoods[hyp(case, "actor")], 6) == 2.469824
    assert round(score.likelihoods[hyp(case, "false_flag")], 6) == 1.408285
    assert score.likelihoods[hyp(case, "unknown")] == 1.0
    assert score.letter == "B"
    [line] = pattern_lines(case)
    assert line.rule == RULE_PATTERN and line.reliability == "B4"
    assert "2.63 times as likely there" in pattern_summary(score)


def test_an_actor_without_a_known_zone_leaves_every_hypothesis_at_one():
    zoneless = Actor(id=ACTOR.id, name=ACTOR.name, country="KP")
    case = case_of(THREE_HOURS, [zoneless])
    score = pattern_score(case)
    assert score is not None
    assert [f.zone for f in score.fits] == [None]
    assert set(score.likelihoods.values()) == {1.0}
    assert "dprk-rgb: no known time zone" in pattern_summary(score)


def test_fewer_than_three_active_hours_give_no_line():
    case = case_of([tor(0), tor(60, 2), kp(300), tor(430, 3)])  # one active hour
    assert pattern_score(case) is None and pattern_lines(case) == []
