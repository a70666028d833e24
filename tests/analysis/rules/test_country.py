"""Rule "country hit without exclusive range": hand-computed numbers."""

from __future__ import annotations

from slipcatch.analysis.rules.country import (
    RULE_COUNTRY,
    country_lines,
    country_scores,
    country_summary,
)
from slipcatch.calibration.scenarios import ACTOR, observation
from slipcatch.model import Actor, Category, OperatingPeriod, OriginTrust

from ..builders import P, at, kp, tor
from .cases import case_of, hyp


def home(s: float, country: str, ip: str = "203.0.113.7", **kw) -> object:
    """A residential (exposed) event outside any actor's range, geolocated to ``country``."""
    return observation(at(s), ip, P, category=Category.RESIDENTIAL, country=country, **kw)


def test_sponsor_country_hit_leans_toward_actor_and_half_as_much_to_its_false_flag():
    case = case_of([tor(0), tor(60, 2), kp(300), tor(430, 3), home(3600, "KP")])
    [score] = country_scores(case)
    assert (score.country, score.reason, score.sponsored) == ("KP", "sponsor", ("dprk-rgb",))
    # trust 1: actor 1 + (2 - 1) x 1 = 2; false flag 1 + (2 - 1) x 1 / 2 = 1.5; unknown 1
    assert score.likelihoods[hyp(case, "actor")] == 2.0
    assert score.likelihoods[hyp(case, "false_flag")] == 1.5
    assert score.likelihoods[hyp(case, "unknown")] == 1.0
    [line] = country_lines(case)
    assert line.rule == RULE_COUNTRY and line.reliability == "B4"


def test_a_sender_written_sponsor_hit_is_nearly_nothing():
    sent = {"channel": "email", "origin_trust": OriginTrust.SENDER_WRITTEN}
    case = case_of([tor(0), tor(60, 2), kp(300), tor(430, 3), home(3600, "KP", **sent)])
    [score] = country_scores(case)
    # trust 0.05: actor 1 + 0.05 = 1.05; false flag 1 + 0.05 / 2 = 1.025
    assert round(score.likelihoods[hyp(case, "actor")], 6) == 1.05
    assert round(score.likelihoods[hyp(case, "false_flag")], 6) == 1.025
    assert country_lines(case)[0].reliability == "E4"


def test_another_country_tilts_toward_an_unknown_party():
    case = case_of([tor(0), tor(60, 2), kp(300), tor(430, 3), home(3600, "BR")])
    [score] = country_scores(case)
    # unknown 1 + (1.1 - 1) x 1 = 1.1; the rest 1
    assert score.reason == "other"
    assert round(score.likelihoods[hyp(case, "unknown")], 6) == 1.1
    assert score.likelihoods[hyp(case, "actor")] == 1.0
    assert country_summary(score, case).endswith("this is not attribution to BR")


def test_a_reported_operating_country_is_neutral():
    abroad = Actor(
        id=ACTOR.id,
        name=ACTOR.name,
        country="KP",
        timezones=ACTOR.timezones,
        operating_periods=(OperatingPeriod("CN"),),
    )
    case = case_of([tor(0), tor(60, 2), kp(300), tor(430, 3), home(3600, "CN")], [abroad])
    [score] = country_scores(case)
    assert score.reason == "operating" and score.operating == ("dprk-rgb",)
    assert set(score.likelihoods.values()) == {1.0}
