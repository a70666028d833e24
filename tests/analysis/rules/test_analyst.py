"""Rule "analyst evidence": hand-computed numbers."""

from __future__ import annotations

import pytest

from slipcatch.analysis.analyst import parse_evidence
from slipcatch.analysis.rules.analyst import (
    RULE_ANALYST,
    analyst_lines,
    analyst_scores,
    analyst_summary,
    effective_likelihoods,
)
from slipcatch.calibration.scenarios import ACTOR

from ..builders import P, kp, tor
from .cases import case_of, hyp

OBS = [tor(0), tor(60, 2), kp(300), tor(430, 3)]


def evidence(ratio: float, code: str, personas: list[str] | None = None):
    item = {"id": "code", "summary": "code reuse", "reliability": code}
    item["likelihoods"] = {"actor:dprk-rgb": ratio}
    if personas is not None:
        item["personas"] = personas
    return parse_evidence({"evidence": [item]}, "analyst.yaml", [ACTOR.id], [P, "other"])


def test_b2_keeps_0_7225_of_the_stated_weight():
    case = case_of(OBS, analyst=evidence(10, "B2"))
    [score] = analyst_scores(case)
    # B = 0.85, 2 = 0.85: w = 0.7225; actor 10^0.7225 = 5.278372; others 1 (spread < 10: kept)
    assert score.weight == pytest.approx(0.7225)
    assert score.likelihoods[hyp(case, "actor")] == pytest.approx(10**0.7225)
    assert score.likelihoods[hyp(case, "false_flag")] == 1.0
    [line] = analyst_lines(case)
    assert line.rule == RULE_ANALYST and line.reliability == "B2"
    assert line.likelihoods[hyp(case, "actor")] == round(10**0.7225, 6) == 5.278372
    assert "B2 keeps 72% of their weight" in analyst_summary(score, "analyst.yaml")


def test_a_stated_ratio_beyond_the_line_cap_is_tempered():
    case = case_of(OBS, analyst=evidence(1000, "A1"))
    # A1 keeps all: 1000 against 1, tempered so that max/min = LINE_CAP = 10
    [score] = analyst_scores(case)
    assert score.likelihoods[hyp(case, "actor")] == pytest.approx(10.0)


def test_an_item_for_another_persona_gives_no_line():
    assert analyst_lines(case_of(OBS, analyst=evidence(10, "B2", ["other"]))) == []


def test_effective_likelihoods_of_a_stated_table():
    specs = case_of(OBS).specs
    ff = next(s.id for s in specs if s.kind == "false_flag")
    out = effective_likelihoods(lambda s: 3.0 if s.id == ff else None, "B2", specs)
    # 3^0.7225 = 2.212... for the false flag, 1 for the others
    assert out[ff] == pytest.approx(3.0**0.7225)
    assert sorted(v for k, v in out.items() if k != ff) == [1.0, 1.0]
