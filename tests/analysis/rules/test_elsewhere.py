"""Rule "exposed elsewhere": hand-computed numbers."""

from __future__ import annotations

from slipcatch.analysis.rules.elsewhere import (
    RULE_ELSEWHERE,
    elsewhere_lines,
    elsewhere_score,
    elsewhere_summary,
)
from slipcatch.calibration.scenarios import observation
from slipcatch.model import Category, OriginTrust

from ..builders import P, at, kp, tor
from .cases import case_of, hyp


def home(s: float, country: str, ip: str, **kw) -> object:
    return observation(at(s), ip, P, category=Category.RESIDENTIAL, country=country, **kw)


def test_a_hop_in_an_unrelated_country_doubles_the_unknown_party():
    obs = [tor(0), tor(60, 2), kp(300), tor(430, 3)]
    obs += [home(3600, "BR", "198.51.100.1"), home(7200, "de", "203.0.113.9")]
    case = case_of(obs)
    score = elsewhere_score(case)
    assert score is not None
    # trust 1: unknown 1 + (2 - 1) x 1 = 2
    assert score.ratio == 2.0
    assert (score.countries, score.networks) == (["BR", "DE"], 2)
    [line] = elsewhere_lines(case)
    assert line.rule == RULE_ELSEWHERE and line.reliability == "B4"
    assert line.likelihoods[hyp(case, "unknown")] == 2.0
    assert line.likelihoods[hyp(case, "actor")] == 1.0
    assert elsewhere_summary(score).endswith("unknown : others 2.00")


def test_sender_written_hops_barely_count():
    sent = {"channel": "email", "origin_trust": OriginTrust.SENDER_WRITTEN}
    obs = [tor(0), tor(60, 2), kp(300), tor(430, 3), home(3600, "BR", "198.51.100.1", **sent)]
    score = elsewhere_score(case_of(obs))
    assert score is not None
    # trust 0.05: 1 + 1 x 0.05 = 1.05
    assert round(score.ratio, 6) == 1.05


def test_no_line_without_an_actor_hypothesis_or_in_the_sponsor_country():
    no_actor = [tor(0), tor(60, 2), home(3600, "BR", "198.51.100.1")]
    assert elsewhere_lines(case_of(no_actor)) == []
    sponsor = [tor(0), tor(60, 2), kp(300), tor(430, 3), home(3600, "KP", "198.51.100.1")]
    assert elsewhere_score(case_of(sponsor)) is None
