"""``RULES``: one signature, one order; ``assess`` reports exactly their lines."""

from __future__ import annotations

from slipcatch.analysis import assess
from slipcatch.analysis.rules import RULES, evidence_lines
from slipcatch.calibration.scenarios import ACTOR, observation
from slipcatch.model import Category

from ..builders import P, at, kp, tor
from .cases import case_of


def test_assess_reports_the_lines_of_every_rule_in_order():
    obs = [tor(0), tor(60, 2), kp(300), tor(430, 3)]
    obs.append(
        observation(at(3600), "198.51.100.1", P, category=Category.RESIDENTIAL, country="BR")
    )
    [pa] = assess(obs, [ACTOR])
    lines = evidence_lines(case_of(obs))
    assert [line.id for line in pa.evidence] == [line.id for line in lines]
    assert [line.rule for line in lines] == [
        "actor-range episode",
        "country hit without exclusive range",
        "slip pattern",
        "range access",
        "exposure channels",
        "exposed elsewhere",
    ]
    assert len(RULES) == 10  # model 2.7: refuting evidence
