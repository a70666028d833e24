"""Events without a persona ("(anonymous)") are reported but never assessed as one operator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slipcatch.analysis import assess
from slipcatch.analysis.analyst import parse_evidence
from slipcatch.calibration.scenarios import ACTOR, observation
from slipcatch.evidence import ANONYMOUS
from slipcatch.model import Category

T0 = datetime(2014, 11, 24, 0, 0, tzinfo=UTC)  # 09:00 in Pyongyang


def _events(persona: str) -> list:
    """A Tor downloader and a visitor from the DPRK range, pooled under one name: under cover
    twice, a range event, back under cover two minutes later — the look of a quick slip."""
    at = [T0 + timedelta(seconds=s) for s in (0, 600, 5 * 3600, 5 * 3600 + 120)]
    return [
        observation(at[0], "185.220.101.1", persona, category=Category.TOR),
        observation(at[1], "185.220.101.2", persona, category=Category.TOR),
        observation(
            at[2],
            "175.45.176.10",
            persona,
            category=Category.ACTOR,
            actor=ACTOR.id,
            exclusivity=1.0,
            prefix="175.45.176.0/22",
            country="KP",
        ),
        observation(at[3], "185.220.101.3", persona, category=Category.TOR),
    ]


def test_the_same_events_under_a_real_persona_are_a_slip_and_attributed():
    # the control: what pooling the anonymous events would have produced
    [pa] = assess(_events("GoP"), [ACTOR])
    assert len(pa.slips) == 1 and pa.verdict.actor == ACTOR.id
    # worked example 1 (model 2.4): episode 6 : 6 : 1, quick return 1 : 1/3 : 1, range access
    # 1 : 0.3 : 1, exposure channels 1 : 0.5 : 1 (two active hours, no pattern of life) ->
    # 1.2 / (1.2 + 0.015 + 0.75)
    assert pa.verdict.probability == 0.610687


def test_anonymous_events_form_no_slip_no_hypothesis_and_no_verdict():
    [pa] = assess(_events(ANONYMOUS), [ACTOR])
    assert pa.persona.name == "(anonymous)"
    assert len(pa.persona.event_ids) == 4 and pa.persona.cover_ratio == 0.75
    assert pa.slips == () and pa.evidence == () and pa.alternatives == ()
    assert pa.counterfactuals == ()
    [h] = pa.hypotheses
    assert (h.kind, h.actor, h.prior, h.probability) == ("unknown", None, 1.0, 1.0)
    v = pa.verdict
    assert (v.actor, v.probability, v.likelihood, v.confidence, v.linchpins) == (
        None,
        0.0,
        "almost no chance",
        "low",
        (),
    )
    assert v.statement == (
        "The 4 event(s) without a persona ('(anonymous)') carry no identity linking them to one "
        "operator and were not assessed as one; no attribution is made."
    )
    assert "no identity linking them to one operator" in v.confidence_reasons[0]


def test_anonymous_is_kept_apart_from_named_personas_and_from_analyst_items():
    doc = {
        "evidence": [
            {
                "id": "code",
                "summary": "code reuse",
                "reliability": "A1",
                "likelihoods": {"actor:dprk-rgb": 10},
            },
            {
                "id": "tip",
                "summary": "a tip",
                "reliability": "B2",
                "personas": ["(anonymous)"],
                "likelihoods": {"actor:dprk-rgb": 3},
            },
        ]
    }
    evidence = parse_evidence(doc, "analyst.yaml", [ACTOR.id], ["(anonymous)", "GoP"])
    anon, named = assess(_events(ANONYMOUS) + _events("GoP"), [ACTOR], evidence_file=evidence)
    assert [anon.persona.name, named.persona.name] == ["(anonymous)", "GoP"]
    # the item for every persona and the one naming "(anonymous)" do not make it an operator
    assert [h.kind for h in anon.hypotheses] == ["unknown"] and anon.evidence == ()
    assert anon.verdict.confidence_reasons[1] == (
        "analyst item(s) not applied to these events: tip"
    )
    # the named persona is assessed as before, with the item that applies to it
    assert named.verdict.actor == ACTOR.id
    assert {line.kind for line in named.evidence} >= {"actor-range-episode", "analyst"}
