"""The assessment-depth fields (ACH judgements, diagnosticity, priors, what would change our
mind) reach the JSON document and the Markdown report."""

from __future__ import annotations

import dataclasses

from slipcatch.model import Counterfactual
from slipcatch.report import assessment_document, render_markdown

from .fixtures import build_assessment


def _deepened():
    a = build_assessment()
    pa = a.personas[0]
    line = pa.evidence[0]
    hyp_ids = [h.id for h in pa.hypotheses]
    judged = dataclasses.replace(
        line,
        consistency={h: "inconsistent" for h in hyp_ids},
        diagnosticity=7.5,
    )
    cf = Counterfactual(
        id="cf--1",
        kind="exposed-elsewhere",
        description="a direct connection from the same persona outside any actor range",
        probability=0.31,
        likelihood="unlikely",
        shift=-0.52,
        verdict_actor=None,
        confidence="low",
    )
    margin = Counterfactual(
        id="cf--2",
        kind="contrary-evidence",
        description="the least evidence that would change the wording: ... by 21.1 : 1",
        probability=0.949,
        likelihood="very likely",
        shift=-0.012,
        verdict_actor="dprk-rgb",
        confidence="moderate",
        ratio=21.1,
    )
    pa2 = dataclasses.replace(
        pa,
        evidence=(judged, *pa.evidence[1:]),
        counterfactuals=(cf, margin),
        priors="unknown 0.75, actor 0.2, false flag 0.05",
    )
    return dataclasses.replace(a, personas=(pa2, *a.personas[1:])), pa2, hyp_ids


def test_document_carries_the_depth_fields():
    a, pa, hyp_ids = _deepened()
    doc = assessment_document(a)
    [p] = [p for p in doc["personas"] if p["id"] == pa.persona.id]
    body = p["assessment"]
    assert body["priors"] == "unknown 0.75, actor 0.2, false flag 0.05"
    cf, margin = body["what_would_change_our_mind"]
    assert (cf["probability"], cf["likelihood"], cf["shift"]) == (0.31, "unlikely", -0.52)
    assert cf["ratio"] is None
    assert (margin["kind"], margin["ratio"], margin["verdict_actor"]) == (
        "contrary-evidence",
        21.1,
        "dprk-rgb",
    )
    line = next(x for x in body["evidence_lines"] if x["id"] == pa.evidence[0].id)
    assert line["diagnosticity"] == 7.5
    assert line["consistency"][hyp_ids[0]] == "inconsistent"


def test_markdown_shows_the_judgements_and_the_counterfactual():
    a, pa, hyp_ids = _deepened()
    text = render_markdown(a)
    assert "### What would change our mind" in text
    assert "| a direct connection from the same persona outside any actor range | 31.0% |" in text
    assert "-52.0 pts" in text
    assert "Priors: unknown 0.75, actor 0.2, false flag 0.05" in text
    # The analysis' own ACH judgement wins over the supporting/contradicting lists.
    (section,) = [part for part in text.split("## Persona: ") if f"Id {pa.persona.id}" in part]
    matrix = section.split("### ACH matrix")[1].split("\n### ")[0]
    row = next(r for r in matrix.splitlines() if r.startswith("| L1 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert len(cells) == 1 + len(hyp_ids) + 1  # label, one cell a hypothesis, diagnosticity
    assert all(c.startswith("− ") for c in cells[1:-1])


def test_a_persona_with_no_actor_in_question_reads_not_assessable():
    from slipcatch.report import render_html

    a = build_assessment()
    pa = a.personas[-1]
    unknown_only = tuple(h for h in pa.hypotheses if h.kind == "unknown")
    assert unknown_only and len(unknown_only) < len(pa.hypotheses)
    verdict = dataclasses.replace(pa.verdict, actor=None, probability=0.0)
    pa2 = dataclasses.replace(pa, hypotheses=unknown_only, verdict=verdict)
    a2 = dataclasses.replace(a, personas=(*a.personas[:-1], pa2))
    md_row = next(
        r for r in render_markdown(a2).splitlines() if r.startswith("| ") and "not assessable" in r
    )
    assert "| not assessable (no actor range hit) | – |" in md_row
    html = render_html(a2)
    assert html.count("not assessable (no actor range hit)") == 1
    assert '<span class="term">Not assessable</span>' in html
