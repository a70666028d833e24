"""Rule "refuting evidence" (model 2.7, issue 19): hand-computed numbers (docs/model.md,
"refuting evidence" and example 18)."""

from __future__ import annotations

import math

import pytest

from slipcatch.analysis import assess
from slipcatch.analysis.analyst import parse_evidence
from slipcatch.analysis.rules import evidence_lines
from slipcatch.analysis.rules.refutation import (
    REFUTATION_KIND,
    refutation_lines,
    refute_ratio,
    staging_strength,
)
from slipcatch.calibration.scenarios import ACTOR
from slipcatch.errors import UsageError

from ..builders import P, kp, tor
from .cases import case_of, hyp

DAY = 86400.0
# Example 18: two trusted quick web slips from new addresses, one active hour each.
OBS = [
    tor(0),
    kp(60, "175.45.176.10"),
    tor(180, 2),
    tor(DAY),
    kp(DAY + 60, "175.45.177.20"),
    tor(DAY + 180, 2),
]


def _item(**extra):
    item = {"id": "forgery", "summary": "the header was planted", "reliability": "B2"}
    item.update(extra)
    return item


def _evidence(*items):
    return parse_evidence({"evidence": list(items)}, "ev.yaml", [ACTOR.id], [P])


def staged(grade: str = "B2"):
    return _evidence(
        _item(
            reliability=grade,
            staging_proven=True,
            refutes="actor:dprk-rgb",
            justification="matched against the real linker",
        )
    )


def test_refute_ratio_beyond_the_cap_at_a1_to_b2_and_discounted_below():
    assert [refute_ratio(g) for g in ("A1", "A2", "B1", "B2")] == [30.0] * 4
    assert refute_ratio("B3") == pytest.approx(30**0.51) == pytest.approx(5.666721, abs=1e-6)
    assert refute_ratio("C3") == pytest.approx(30**0.36)
    assert refute_ratio("A3") == pytest.approx(30**0.6)
    assert staging_strength("B2") == 1.0 and staging_strength("B3") == pytest.approx(0.51)


def test_proven_staging_b2_takes_the_actor_below_a_third():
    before = assess(OBS, [ACTOR])[0]
    assert before.verdict.probability == pytest.approx(0.899202, abs=1e-6)
    [pa] = assess(OBS, [ACTOR], evidence_file=staged("B2"))
    case = case_of(OBS, analyst=staged("B2"))
    [line] = refutation_lines(case)
    assert line.kind == REFUTATION_KIND and line.summary.startswith("Proven staging:")
    assert "beyond the per-line cap" in line.summary and "matched against" in line.summary
    assert line.likelihoods[hyp(case, "actor")] == round(1 / 30, 6)
    assert line.likelihoods[hyp(case, "false_flag")] == 1.0
    # the staged reading: slip pattern, range access and exposure channels lose their weight
    # against the false flag
    for other in evidence_lines(case):
        if other.kind in ("slip-pattern", "range-access", "exposure-channels"):
            assert other.likelihoods[hyp(case, "false_flag")] == 1.0
            assert "read under proven staging" in other.summary
    probs = {h.kind: h.probability for h in pa.hypotheses}
    assert probs["actor"] == pytest.approx(0.086021, abs=1e-6)
    assert probs["false_flag"] == pytest.approx(0.645162, abs=1e-6)


def test_proven_staging_graded_b3_weighs_like_ordinary_evidence():
    [pa] = assess(OBS, [ACTOR], evidence_file=staged("B3"))
    probs = {h.kind: h.probability for h in pa.hypotheses}
    w = 0.51
    actor = 36 / 30**w
    ff = 36 * (1 / 3 ** math.sqrt(2)) ** (1 - w) * 0.3 ** (1 - w) * 0.5 ** (1 - w)
    weights = (0.2 * actor, 0.05 * ff, 0.75)
    assert probs["actor"] == pytest.approx(weights[0] / sum(weights), abs=1e-5)
    assert probs["actor"] == pytest.approx(0.540115, abs=1e-5)


def test_effect_refutes_names_a_hypothesis_and_leaves_the_reading():
    ev = _evidence(
        _item(effect="refutes", refutes=["unknown"], reliability="A1", justification="alibi")
    )
    case = case_of(OBS, analyst=ev)
    [line] = refutation_lines(case)
    assert line.summary.startswith("Refutation:")
    assert line.likelihoods[hyp(case, "unknown")] == round(1 / 30, 6)
    assert not any("proven staging" in x.summary for x in evidence_lines(case))


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (_item(staging_proven=True), "justification"),
        (_item(effect="refutes", justification="x"), "needs 'refutes"),
        (_item(effect="refutes", refutes="actor", justification=" "), "justification"),
        (_item(effect="disproves", refutes="actor", justification="x"), "unknown effect"),
        (_item(staging_proven="yes", justification="x"), "true or false"),
        (_item(staging_proven=True, refutes="unknown", justification="x"), "actor hypotheses"),
        (_item(effect="refutes", refutes="actor:nobody", justification="x"), "unknown hyp"),
        (
            _item(staging_proven=True, justification="x", likelihoods={"actor": 2}),
            "no likelihoods",
        ),
        (_item(likelihoods={"actor": 2}, justification="x"), "go with"),
    ],
)
def test_refuting_items_are_validated(item, message):
    with pytest.raises(UsageError, match=message):
        _evidence(item)
