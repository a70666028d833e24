"""Posteriors, verdict wording, confidence, linchpins and alternatives on hand-built cases."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from slipcatch.analysis import MODEL_VERSION, Priors, assess
from slipcatch.analysis.simulate import ACTOR, observation
from slipcatch.model import Category, OriginTrust, icd203_term

T0 = datetime(2014, 11, 24, 9, 0, tzinfo=UTC)
P = "Guardians of Peace"
NAME = "DPRK / Reconnaissance General Bureau (dprk-rgb)"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def tor(s: float, n: int = 1):
    return observation(at(s), f"185.220.101.{n}", P, category=Category.TOR)


def kp(s: float, ip: str = "175.45.176.10", exclusivity: float = 1.0, **kw):
    return observation(
        at(s),
        ip,
        P,
        category=Category.ACTOR,
        actor="dprk-rgb",
        exclusivity=exclusivity,
        prefix="175.45.176.0/22",
        country="KP",
        **kw,
    )


def quick_episodes(n: int, **kw) -> list:
    """n quickly closed slips on different days under heavy cover.

    At most 18 events: below POL_MIN_EVENTS, so no pattern-of-life line joins the episodes and
    the worked examples' numbers of docs/model.md hold exactly."""
    obs = []
    for day in range(5):
        base = day * 86400
        obs += [tor(base), tor(base + 600, 2)]
        if day < n:
            obs += [
                kp(base + 5 * 3600, f"175.45.17{6 + day % 4}.{day + 1}", **kw),
                tor(base + 5 * 3600 + 120, 4),
            ]
    return obs


def one(observations, priors=None):
    [pa] = assess(observations, [ACTOR], priors)
    return pa


def probs(pa):
    return {h.kind: h.probability for h in pa.hypotheses}


def test_single_quick_slip_example_1_posterior_and_statement():
    pa = one(quick_episodes(1))
    assert probs(pa) == {"unknown": 0.12605, "actor": 0.806723, "false_flag": 0.067227}
    v = pa.verdict
    assert (v.actor, v.probability, v.likelihood, v.confidence) == (
        "dprk-rgb",
        0.806723,
        "very likely",
        "low",
    )
    assert v.statement == (
        f"We assess it is very likely (81%) that persona '{P}' is operated by {NAME}."
    )
    assert "Confidence" not in v.statement and "confidence" not in v.statement
    [line] = pa.evidence
    [slip] = pa.slips
    assert v.linchpins == tuple(sorted((line.id, slip.id)))
    kinds = {a.explanation.split(" ")[0] for a in pa.alternatives if a.item == line.id}
    assert kinds == {"Someone", "A"}  # compromised host + framer, nothing else
    assert not any("VPN" in a.explanation for a in pa.alternatives)
    assert not any("forged" in a.explanation for a in pa.alternatives)


def test_two_episodes_almost_certain_moderate_with_decisive_linchpins():
    pa = one(quick_episodes(2))
    v = pa.verdict
    assert v.probability == 0.954828  # 25.6 / (25.6 + 0.1 x 2.666667^2 + 0.5)
    assert (v.likelihood, v.confidence) == ("almost certain", "moderate")
    assert {line.id for line in pa.evidence} <= set(v.linchpins)


def test_three_episodes_high_and_linchpins_only_move_confidence():
    pa = one(quick_episodes(3))
    v = pa.verdict
    assert (v.probability, v.likelihood, v.confidence) == (0.966704, "almost certain", "high")
    # removing any one episode (or its slip) leaves 2 lines: moderate, same verdict word
    assert set(v.linchpins) == {line.id for line in pa.evidence} | {s.id for s in pa.slips}
    assert "linchpin" not in " ".join(v.confidence_reasons)


def test_four_episodes_capped_high_and_no_linchpin():
    pa = one(quick_episodes(4))
    v = pa.verdict
    assert (v.probability, v.likelihood, v.confidence) == (0.966704, "almost certain", "high")
    assert v.linchpins == ()
    assert probs(pa)["unknown"] == 0.012084


def test_exclusivity_below_one_brings_the_vpn_alternative():
    pa = one(quick_episodes(1, exclusivity=0.9))
    assert any("Trend Micro" in a.explanation and "0.90" in a.explanation for a in pa.alternatives)


def test_sender_written_origin_brings_the_forged_header_alternative_and_little_weight():
    pa = one(quick_episodes(1, channel="email", origin_trust=OriginTrust.SENDER_WRITTEN))
    assert any("forged" in a.explanation for a in pa.alternatives)
    # 0.4 x 1.35 : 0.1 x 1.227273 : 0.5
    assert probs(pa)["actor"] == pytest.approx(0.464425, abs=1e-6)
    assert pa.verdict.likelihood == "roughly even chance"
    assert pa.verdict.confidence == "low"


def test_false_flag_best_gives_no_actor_and_says_so():
    obs = [
        observation(at(0), "95.90.1.1", P, category=Category.RESIDENTIAL),
        kp(2 * 86400 + 10),
        kp(5 * 86400, "175.45.178.1"),
    ]
    pa = one(obs, Priors(false_flag_share=0.5))
    v = pa.verdict
    best = max(pa.hypotheses, key=lambda h: h.probability)
    assert best.kind == "false_flag"
    assert v.actor is None
    assert v.probability == probs(pa)["actor"] < 0.5
    assert v.likelihood == icd203_term(v.probability)
    assert "staged traffic through the address space of" in v.statement
    assert v.statement.count(".") == 1 and v.statement.endswith(".")  # one sentence


def test_no_actor_hypothesis_is_insufficient_evidence():
    obs = [
        tor(0),
        tor(60),
        observation(at(100), "1.160.7.7", P, category=Category.RESIDENTIAL, country="TW"),
    ]
    pa = one(obs)
    v = pa.verdict
    assert (v.actor, v.probability, v.likelihood, v.confidence) == (
        None,
        0.0,
        "almost no chance",
        "low",
    )
    assert v.statement == (
        f"The evidence is insufficient to attribute persona '{P}' to any known actor."
    )
    assert [h.kind for h in pa.hypotheses] == ["unknown"]


def test_same_input_in_any_order_gives_identical_output():
    obs = [
        *quick_episodes(3),
        observation(at(50), "126.0.3.3", P, category=Category.RESIDENTIAL, country="JP"),
    ]
    first = assess(obs, [ACTOR])
    for seed in range(5):
        shuffled = obs[:]
        random.Random(seed).shuffle(shuffled)
        assert assess(shuffled, [ACTOR]) == first
    assert repr(assess(list(reversed(obs)), [ACTOR])) == repr(first)


def test_personas_sorted_and_model_version_stated():
    a = observation(at(0), "185.220.101.1", "zeta", category=Category.TOR)
    b = observation(at(0), "185.220.101.1", "alpha", category=Category.TOR)
    assert [pa.persona.name for pa in assess([a, b], [])] == ["alpha", "zeta"]
    assert MODEL_VERSION == "slipcatch-analysis/2.0"
