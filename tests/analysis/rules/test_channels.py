"""Rule "exposure channels": hand-computed numbers."""

from __future__ import annotations

import pytest

from slipcatch.analysis.rules.channels import (
    RULE_CHANNELS,
    channel_plan_factor,
    channel_scores,
    channel_summary,
    exposure_channel_lines,
    public_share,
)

from ..builders import kp, tor
from .cases import case_of, hyp


def test_plan_factor_arithmetic():
    # all public, k = 1, q = 0.5: 0.5 / (0.5 + 0.5 x 0.5) = 0.5 / 0.75 = 2/3
    assert channel_plan_factor(1, True, 0.5) == pytest.approx(2 / 3)
    # all public, k = 2, q = 0.5: 0.25 / (0.5 + 0.5 x 0.25) = 0.25 / 0.625 = 0.4
    assert channel_plan_factor(2, True, 0.5) == pytest.approx(0.4)
    # not all public: 1 / (1 - 0.5) = 2, whatever k and q
    assert channel_plan_factor(3, False, 0.9) == 2.0
    assert channel_plan_factor(0, True, 0.5) == 1.0


def test_an_exposure_outside_public_channels_is_two_to_one():
    case = case_of([tor(0), tor(60, 2), kp(300), tor(430, 3)])
    [score] = channel_scores(case)
    # 1 episode on the web (not public), trust 1: 2^1 = 2
    assert (score.public, score.all_public, score.ratio) == (0, False, 2.0)
    [line] = exposure_channel_lines(case)
    assert line.rule == RULE_CHANNELS and line.reliability == "B3"
    assert line.likelihoods[hyp(case, "false_flag")] == 0.5
    assert channel_summary(score).startswith("1 of 1 exposure episode(s) from the range of")


def test_all_public_exposure_against_the_share_of_public_sittings():
    # sittings (kind, UTC hour): (web, 0) from the Tor events and (public, 0) from the post:
    # q = 1/2; one public episode: 0.5 / 0.75 = 2/3, trust 1
    obs = [tor(0), tor(60, 2), kp(300, channel="posting"), tor(430, 3)]
    case = case_of(obs)
    assert public_share(case.observations) == 0.5
    [score] = channel_scores(case)
    assert score.all_public and score.ratio == pytest.approx(2 / 3)
    [line] = exposure_channel_lines(case)
    assert line.likelihoods[hyp(case, "false_flag")] == 1.5  # 1 / (2/3)


def test_no_line_for_a_persona_that_only_posts():
    # q = 1: 1 / (0.5 + 0.5) = 1, so no score
    obs = [tor(0, channel="posting"), tor(60, 2, channel="posting")]
    obs += [kp(300, channel="posting"), tor(430, 3, channel="posting")]
    assert channel_scores(case_of(obs)) == []
