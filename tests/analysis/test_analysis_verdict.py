"""Posteriors, verdict wording, confidence, linchpins and alternatives on hand-built cases."""

from __future__ import annotations

import random
import re

from slipcatch.analysis import MODEL_VERSION, Priors, assess
from slipcatch.analysis.simulate import ACTOR, observation
from slipcatch.model import Category, OriginTrust, icd203_term

from .builders import P, at, kp, tor

NAME = "DPRK / Reconnaissance General Bureau (dprk-rgb)"


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
    # slip at 14:00 Pyongyang: 0.2 x 6 x 1.5 : 0.05 x 6 / 3 : 0.75 = 1.8 : 0.1 : 0.75
    assert probs(pa) == {"unknown": 0.283019, "actor": 0.679245, "false_flag": 0.037736}
    v = pa.verdict
    assert (v.actor, v.probability, v.likelihood, v.confidence) == (
        "dprk-rgb",
        0.679245,
        "likely",
        "low",
    )
    assert v.statement == (
        f"We assess it is likely (68%) that persona '{P}' is operated by {NAME}."
    )
    assert "Confidence" not in v.statement and "confidence" not in v.statement
    [line] = [line for line in pa.evidence if line.kind == "actor-range-episode"]
    [pattern] = [line for line in pa.evidence if line.kind == "slip-pattern"]
    [slip] = pa.slips
    # removing the episode or its slip leaves no attribution; without the pattern the actor
    # stays "likely" (1.8 : 0.3 : 0.75 -> 0.63), so the pattern is no linchpin
    assert v.linchpins == tuple(sorted((line.id, slip.id)))
    assert pattern.id not in v.linchpins
    kinds = {a.explanation.split(" ")[0] for a in pa.alternatives if a.item == line.id}
    assert kinds == {"Someone", "A"}  # compromised host + framer, nothing else
    assert not any("VPN" in a.explanation for a in pa.alternatives)
    assert not any("forged" in a.explanation for a in pa.alternatives)
    assert pa.priors.startswith("priors: unknown third party 0.75")


def test_two_episodes_very_likely_moderate_with_decisive_linchpins():
    pa = one(quick_episodes(2))
    v = pa.verdict
    # 0.2 x 36 x 1.5 ** sqrt(2) : 0.05 x 36 / 3 ** sqrt(2) : 0.75
    assert v.probability == 0.918692
    assert (v.likelihood, v.confidence) == ("very likely", "moderate")
    episodes = {line.id for line in pa.evidence if line.kind == "actor-range-episode"}
    assert len(episodes) == 2 and episodes <= set(v.linchpins)


def test_three_episodes_of_one_kind_stay_moderate():
    pa = one(quick_episodes(3))
    v = pa.verdict
    # 216 x 1.5 ** sqrt(3) : 216 / 3 ** sqrt(3) : 1 = 435.97 : 32.22 : 1 -> floor at 4.36
    assert (v.probability, v.likelihood, v.confidence) == (0.946994, "very likely", "moderate")
    assert any("of one kind (adversary activity)" in r for r in v.confidence_reasons)
    # the slip hours and the slip pattern both separate the actor from a framer: no one item
    # decides
    assert v.linchpins == ()


def test_four_episodes_capped_and_monotone():
    pa = one(quick_episodes(4))
    v = pa.verdict
    # 1296 x 1.5 ** 2 : 1296 / 3 ** 2 : 1 = 2916 : 144 : 1 -> floor at 29.16
    assert (v.probability, v.likelihood, v.confidence) == (0.952521, "almost certain", "moderate")
    assert probs(pa)["unknown"] == 0.03572
    assert v.probability > one(quick_episodes(3)).verdict.probability


def test_corroboration_of_another_kind_makes_confidence_high(tmp_path):
    evidence = tmp_path / "evidence.yaml"
    evidence.write_text(
        "evidence:\n"
        "  - id: wiper-code\n"
        "    summary: the wiper shares code with earlier work of the actor\n"
        "    reliability: A1\n"
        "    likelihoods: {actor: 10}\n",
        encoding="utf-8",
    )
    [pa] = assess(quick_episodes(4), [ACTOR], evidence_file=evidence)
    v = pa.verdict
    # 2916 x 10 : 144 : 1 -> the floor 100 below the actor: 0.2 x 100 : 0.05 x 1 : 0.75 ->
    # 0.961538, and no single item moves it below 0.95
    assert (v.probability, v.likelihood, v.confidence) == (0.961538, "almost certain", "high")
    assert not any("linchpin" in r for r in v.confidence_reasons)
    assert {line.kind for line in pa.evidence} >= {"actor-range-episode", "analyst"}
    # a B2 item "actor: 3" on three episodes is not enough now: 0.956158, just above the
    # "almost certain" boundary, so the item, the slip hours and the slip pattern are linchpins
    weaker = tmp_path / "weaker.yaml"
    weaker.write_text(
        "evidence:\n  - {id: c, summary: s, reliability: B2, likelihoods: {actor: 3}}\n",
        encoding="utf-8",
    )
    [pa3] = assess(quick_episodes(3), [ACTOR], evidence_file=weaker)
    assert (pa3.verdict.probability, pa3.verdict.confidence) == (0.956158, "moderate")
    assert len(pa3.verdict.linchpins) == 3


def test_exclusivity_below_one_brings_the_vpn_alternative():
    pa = one(quick_episodes(1, exclusivity=0.9))
    assert any("Trend Micro" in a.explanation and "0.90" in a.explanation for a in pa.alternatives)


def test_sender_written_origin_brings_the_forged_header_alternative_and_favours_a_framer():
    pa = one(quick_episodes(1, channel="email", origin_trust=OriginTrust.SENDER_WRITTEN))
    assert any("forged" in a.explanation for a in pa.alternatives)
    # 0.2 x 6 x 1.5 : 0.05 x 6 x 1.756248 : 0.75 (example 3): against an unknown party the
    # episode weighs fully, against a framer it weighs less than a trusted one (example 1)
    assert probs(pa) == {"unknown": 0.243754, "actor": 0.585009, "false_flag": 0.171237}
    assert probs(pa)["false_flag"] > probs(one(quick_episodes(1)))["false_flag"]
    assert pa.verdict.likelihood == "likely"
    assert pa.verdict.confidence == "low"


def test_false_flag_best_gives_no_actor_and_says_so():
    obs = [
        observation(at(0), "95.90.1.1", P, category=Category.RESIDENTIAL),
        # 21:00 in Pyongyang: outside its working hours
        kp(2 * 86400 + 12 * 3600 + 10),
        kp(5 * 86400 + 12 * 3600, "175.45.178.1"),
    ]
    pa = one(obs, Priors(false_flag_share=0.5))
    v = pa.verdict
    best = max(pa.hypotheses, key=lambda h: h.probability)
    assert best.kind == "false_flag"
    assert v.actor is None
    assert v.probability == probs(pa)["actor"] < 0.5
    assert v.likelihood == icd203_term(v.probability)
    assert "staged traffic through the address space of" in v.statement
    # one sentence (a decimal point inside a percentage is not a sentence end)
    assert len(re.findall(r"\.(?:\s|$)", v.statement)) == 1 and v.statement.endswith(".")


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
    assert MODEL_VERSION == "slipcatch-analysis/2.2"


def test_percent_never_rounds_across_an_icd203_band_edge():
    from slipcatch.analysis.confidence import _percent

    assert _percent(0.949348) == "94.9%"  # "very likely", not "95%"
    assert _percent(0.7996) == "79.96%"  # "likely", not "80%"
    assert _percent(0.87) == "87%"
    assert _percent(0.95) == "95%"
    assert (_percent(0.004), _percent(0.996)) == ("<1%", ">99%")
