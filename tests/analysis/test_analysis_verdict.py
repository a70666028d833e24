"""Posteriors, verdict wording, confidence, linchpins and alternatives on hand-built cases."""

from __future__ import annotations

import random
import re

import pytest

from slipcatch.analysis import MODEL_VERSION, Priors, assess
from slipcatch.analysis.pattern_of_life import profile, zone_ratio
from slipcatch.analysis.rules.pattern_of_life import POL_MIMIC, POL_OFF_HOURS
from slipcatch.calibration.scenarios import ACTOR, observation
from slipcatch.model import Category, OriginTrust, icd203_term

from .builders import P, at, kp, pol_likelihoods, tor

NAME = "DPRK / Reconnaissance General Bureau (dprk-rgb)"


def quick_episodes(n: int, **kw) -> list:
    """n quickly closed slips on different days under heavy cover.

    5 + n active hours (00:00 UTC every day, 05:00 UTC on the n slip days; 09:00 and 14:00 in
    Pyongyang): from POL_MIN_HOURS = 3 on (model 2.3) a pattern-of-life line joins the episodes,
    with the actor's zone ratio R about 3.55 (``pol_ratio``)."""
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


def pol_ratio(observations) -> float:
    """R of the persona's hours for Pyongyang (pattern_of_life.zone_ratio), checked against the
    routine recomputed from its definition (builders.pol_likelihoods)."""
    prof = profile(observations)
    assert prof is not None
    ratio = zone_ratio(prof, "Asia/Pyongyang")
    assert ratio is not None
    there, anywhere = pol_likelihoods(prof.hours, "Asia/Pyongyang")
    assert ratio == pytest.approx(there / anywhere, rel=1e-9)
    return ratio


def check_pattern_line(pa, observations) -> float:
    """The pattern-of-life line is (1 - 0.1) R + 0.1 : 0.25 R + 0.75 : 1 (actor : false flag :
    unknown), untempered (spread below LINE_CAP); returns R."""
    ratio = pol_ratio(observations)
    [line] = [line for line in pa.evidence if line.kind == "pattern-of-life"]
    by_kind = {h.kind: line.likelihoods[h.id] for h in pa.hypotheses}
    assert by_kind == {
        "unknown": 1.0,
        "actor": round((1 - POL_OFF_HOURS) * ratio + POL_OFF_HOURS, 6),
        "false_flag": round(POL_MIMIC * ratio + (1 - POL_MIMIC), 6),
    }
    return ratio


def one(observations, priors=None):
    [pa] = assess(observations, [ACTOR], priors)
    return pa


def probs(pa):
    return {h.kind: h.probability for h in pa.hypotheses}


def test_single_quick_slip_example_1_posterior_and_statement():
    obs = quick_episodes(1)
    pa = one(obs)
    # 6 active hours, all at 09:00 or 14:00 Pyongyang: R = 3.530128, so the pattern-of-life
    # line is actor 0.9 R + 0.1 = 3.277115, false flag 0.25 R + 0.75 = 1.632532, unknown 1.
    assert round(check_pattern_line(pa, obs), 6) == 3.530128
    # episode 6 : 6 : 1; slip pattern (quick return) false flag 1/3; range access (exclusivity
    # 1, logged by the receiving side: a = 1 / 0.3) false flag 0.3; exposure channels (the slip
    # is on the web, not a public statement; model 2.4) false flag 0.5. Combined:
    # actor 6 x 3.277115 = 19.662693; false flag 6 / 3 x 0.3 x 0.5 x 1.632532 = 0.489760;
    # unknown 1 (spread 19.7 < 100: no floor). x priors: 3.932539 : 0.024488 : 0.75
    # (sum 4.707027)
    assert probs(pa) == {"unknown": 0.159336, "actor": 0.835461, "false_flag": 0.005202}
    v = pa.verdict
    assert (v.actor, v.probability, v.likelihood, v.confidence) == (
        "dprk-rgb",
        0.835461,
        "very likely",
        "low",
    )
    assert v.statement == (
        f"We assess it is very likely (84%) that persona '{P}' is operated by {NAME}."
    )
    assert "Confidence" not in v.statement and "confidence" not in v.statement
    # one reliable supporting line (the episode; the pattern of life is B4): low confidence
    assert any("fewer than two independent reliable lines" in r for r in v.confidence_reasons)
    [line] = [line for line in pa.evidence if line.kind == "actor-range-episode"]
    [pattern] = [line for line in pa.evidence if line.kind == "slip-pattern"]
    [access] = [line for line in pa.evidence if line.kind == "range-access"]
    [routine] = [line for line in pa.evidence if line.kind == "pattern-of-life"]
    [slip] = pa.slips
    [channels] = [line for line in pa.evidence if line.kind == "exposure-channels"]
    # removing the episode or its slip leaves no attribution: two linchpins. Without the pattern
    # of life the actor falls to "likely" (1.2 : 0.015 : 0.75 -> 0.610687), one band: a
    # sensitive item, listed with them. Without the slip pattern (19.662693 : 1.469279 : 1 ->
    # 0.826860), the range access (19.662693 : 1.632532 : 1 -> 0.825407) or the exposure
    # channels (0.831137) the actor stays "very likely", so none of them is listed
    assert v.linchpins == tuple(sorted((line.id, routine.id, slip.id)))
    assert not {pattern.id, access.id, channels.id} & set(v.linchpins)
    assert "2 linchpin(s): removing any one of them changes the verdict" in v.confidence_reasons
    kinds = {a.explanation.split(" ")[0] for a in pa.alternatives if a.item == line.id}
    assert kinds == {"Someone", "A"}  # compromised host + framer, nothing else
    assert not any("VPN" in a.explanation for a in pa.alternatives)
    assert not any("forged" in a.explanation for a in pa.alternatives)
    assert pa.priors.startswith("priors: unknown third party 0.75")


def test_two_episodes_almost_certain_moderate_every_item_sensitive():
    obs = quick_episodes(2)
    pa = one(obs)
    v = pa.verdict
    # R = 3.566139 (7 active hours): pattern of life actor 3.309525, false flag 1.641535;
    # slip pattern 3 ** sqrt(2) = 4.728804; range access 0.3; exposure channels 0.5.
    # actor 36 x 3.309525 = 119.142903; false flag 36 / 4.728804 x 0.3 x 0.5 x 1.641535 =
    # 1.874531; unknown 1 -> raised to the floor 119.142903 / 100 = 1.191429.
    # x priors: 23.828581 : 0.093727 : 0.893572 -> 0.960215
    assert round(check_pattern_line(pa, obs), 6) == 3.566139
    assert v.probability == 0.960215
    assert (v.likelihood, v.confidence) == ("almost certain", "moderate")
    # Items that move the word by one band ("very likely") are sensitive and listed, and none
    # is a linchpin (model 2.3: a linchpin changes the actor or moves the likelihood by more
    # than one band): without the pattern of life 0.899202, without the slip pattern
    # (false flag 8.864289) 0.946878, without either episode 0.835461 (example 1). Without the
    # range access (false flag 6.248436: 0.951805) or the exposure channels (0.956602) the
    # word holds.
    episodes = {line.id for line in pa.evidence if line.kind == "actor-range-episode"}
    kept = {line.id for line in pa.evidence if line.kind in ("range-access", "exposure-channels")}
    assert len(episodes) == 2 and len(kept) == 2
    expected = {line.id for line in pa.evidence} - kept | {s.id for s in pa.slips}
    assert set(v.linchpins) == expected
    assert not any("linchpin(s)" in r for r in v.confidence_reasons)


def test_three_episodes_of_one_kind_stay_moderate():
    obs = quick_episodes(3)
    pa = one(obs)
    v = pa.verdict
    # R = 3.562719 (8 active hours): pattern of life actor 3.306447, false flag 1.640680;
    # slip pattern 3 ** sqrt(3) = 6.704992; range access 0.3; exposure channels 0.5.
    # actor 216 x 3.306447 = 714.192514; false flag 216 / 6.704992 x 0.3 x 0.5 x 1.640680 =
    # 7.928126; unknown 1 -> floor 7.141925. x priors: 142.838503 : 0.396406 : 5.356444
    assert round(check_pattern_line(pa, obs), 6) == 3.562719
    assert (v.probability, v.likelihood, v.confidence) == (0.961284, "almost certain", "moderate")
    # three reliable supporting lines, but all of one kind: not high
    assert any("of one kind (adversary activity)" in r for r in v.confidence_reasons)
    # One item holds the actor above 0.95 against a framer: without the slip pattern (false
    # flag 216 x 0.3 x 0.5 x 1.640680 = 53.158022) 0.946863, "very likely", one band: a
    # sensitive item, no linchpin. Without the range access (false flag 26.427087: 0.955329),
    # the exposure channels (0.958726), the pattern of life (216 : 4.832221 : 2.16 -> 0.958687)
    # or an episode (0.960215) the word holds.
    [pattern] = [line for line in pa.evidence if line.kind == "slip-pattern"]
    assert v.linchpins == (pattern.id,)
    assert not any("linchpin(s)" in r for r in v.confidence_reasons)


def test_four_episodes_capped_and_monotone():
    obs = quick_episodes(4)
    pa = one(obs)
    v = pa.verdict
    # R = 3.551580 (9 active hours): pattern of life actor 3.296422, false flag 1.637895;
    # slip pattern 3 ** 2 = 9; range access 0.3; exposure channels 0.5.
    # actor 1296 x 3.296422 = 4272.163154; false flag 1296 / 9 x 0.3 x 0.5 x 1.637895 =
    # 35.378533; unknown 1; both rivals raised to the floor 42.721632: x priors 854.432631 :
    # 2.136082 : 32.041224 (sum 888.609937) -> 0.2 / (0.2 + 0.008) = 0.961538, the ceiling
    assert round(check_pattern_line(pa, obs), 6) == 3.55158
    assert (v.probability, v.likelihood, v.confidence) == (0.961538, "almost certain", "moderate")
    assert probs(pa)["unknown"] == 0.036058
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
    # 4272.163154 x 10 : 35.378533 : 1 -> both rivals on the floor 100 below the actor:
    # 0.2 x 100 : 0.05 x 1 : 0.75 -> 0.961538, and no single item moves it below 0.95
    assert (v.probability, v.likelihood, v.confidence) == (0.961538, "almost certain", "high")
    assert not any("linchpin" in r for r in v.confidence_reasons)
    assert {line.kind for line in pa.evidence} >= {"actor-range-episode", "analyst"}
    # only the item is listed, a sensitive item of confidence alone: without it the four
    # episodes are one kind, 0.961538 "almost certain" but moderate
    [item] = [line for line in pa.evidence if line.kind == "analyst"]
    assert v.linchpins == (item.id,)
    # a B2 item "actor: 3" on three episodes is enough too (model 2.3): it keeps 0.85 x 0.85 =
    # 0.7225 of its weight, 3 ** 0.7225 = 2.211669; actor 714.192514 x 2.211669 = 1579.557356;
    # false flag 7.928126 and unknown 1, both raised to the floor 15.795574 -> 0.961538.
    # Without the slip pattern (false flag 53.158022) the actor is 0.956099, still "almost
    # certain"; the item is a sensitive item (without it 0.961284, moderate)
    weaker = tmp_path / "weaker.yaml"
    weaker.write_text(
        "evidence:\n  - {id: c, summary: s, reliability: B2, likelihoods: {actor: 3}}\n",
        encoding="utf-8",
    )
    [pa3] = assess(quick_episodes(3), [ACTOR], evidence_file=weaker)
    assert (pa3.verdict.probability, pa3.verdict.confidence) == (0.961538, "high")
    [item3] = [line for line in pa3.evidence if line.kind == "analyst"]
    assert pa3.verdict.linchpins == (item3.id,)
    assert not any("linchpin" in r for r in pa3.verdict.confidence_reasons)


def test_an_unreliable_item_of_another_kind_does_not_make_confidence_high(tmp_path):
    # The same four episodes with the same stated ratio, but from a D4 source: the item still
    # supports the actor, yet only reliable lines (A-C, 1-3) count as a second kind, so the
    # verdict keeps the one kind of the episodes and stays moderate.
    evidence = tmp_path / "evidence.yaml"
    evidence.write_text(
        "evidence:\n  - {id: tip, summary: an anonymous tip, reliability: D4, "
        "likelihoods: {actor: 10}}\n",
        encoding="utf-8",
    )
    [pa] = assess(quick_episodes(4), [ACTOR], evidence_file=evidence)
    assert pa.verdict.likelihood == "almost certain"
    assert pa.verdict.confidence == "moderate"
    assert any("every supporting line is of one kind" in r for r in pa.verdict.confidence_reasons)


def test_a_linchpin_withholds_high_confidence(tmp_path):
    # The case of the B2 item above no longer shows it (model 2.3), so: example 1 in one UTC
    # hour (one active hour, no pattern of life) with an A1 item "actor: 10" and a B2 item
    # "actor: 3" (3 ** 0.7225 = 2.211669). Three reliable supporting lines (the episode B2 and
    # both items), two kinds, none against, source A: high before linchpins.
    # actor 6 x 10 x 2.211669 = 132.700133; false flag 6 / 3 x 0.3 = 0.6; unknown 1 -> both
    # raised to the floor 1.327001 -> 0.2 x 100 : 0.05 : 0.75 -> 0.961538.
    # Without the A1 item: 13.270013 : 0.6 : 1 -> 2.654003 : 0.03 : 0.75 -> 0.772860,
    # "likely", two bands down: a linchpin. Without the slip (its event) no actor hypothesis is
    # left: a linchpin. Without the B2 item 12 : 0.03 : 0.75 -> 0.938967 and without the
    # episode line 22.116689 : 0.221167 (floor) : 1 -> 0.853202, one band: sensitive.
    evidence = tmp_path / "evidence.yaml"
    evidence.write_text(
        "evidence:\n"
        "  - {id: code, summary: code reuse, reliability: A1, likelihoods: {actor: 10}}\n"
        "  - {id: tip, summary: a tip, reliability: B2, likelihoods: {actor: 3}}\n",
        encoding="utf-8",
    )
    obs = [tor(0), tor(30, 2), kp(60), tor(190, 3)]
    [pa] = assess(obs, [ACTOR], evidence_file=evidence)
    v = pa.verdict
    assert not [line for line in pa.evidence if line.kind == "pattern-of-life"]
    assert (v.probability, v.likelihood, v.confidence) == (0.961538, "almost certain", "moderate")
    assert "2 linchpin(s): removing any one of them changes the verdict" in v.confidence_reasons
    assert (
        "a verdict that rests on a single item cannot be held with high confidence"
        in v.confidence_reasons
    )
    items = {line.summary.split(" (")[0]: line.id for line in pa.evidence if line.kind == "analyst"}
    [episode] = [line.id for line in pa.evidence if line.kind == "actor-range-episode"]
    [slip] = pa.slips
    assert v.linchpins == tuple(sorted((items["code reuse"], items["a tip"], episode, slip.id)))


def test_exclusivity_below_one_brings_the_vpn_alternative():
    pa = one(quick_episodes(1, exclusivity=0.9))
    assert any("Trend Micro" in a.explanation and "0.90" in a.explanation for a in pa.alternatives)


def test_sender_written_origin_brings_the_forged_header_alternative_and_favours_a_framer():
    obs = quick_episodes(1, channel="email", origin_trust=OriginTrust.SENDER_WRITTEN)
    pa = one(obs)
    assert any("forged" in a.explanation for a in pa.alternatives)
    # Trust weight 0.05. Slip pattern s = (1 + 2 x 0.05) / 2 ** 0.95 = 0.569396, false flag
    # 1 / s = 1.756248; range access 1 + (1 / 0.3 - 1) x 0.05 = 1.116667, false flag 0.895522;
    # exposure channels (an e-mail, not a public statement) 2 ** 0.05 = 1.035265, false flag
    # 0.965936; pattern of life as in example 1 (same hours): 3.277115 : 1.632532 : 1.
    # actor 6 x 3.277115 = 19.662693; false flag 6 x 1.756248 x 0.895522 x 0.965936 x
    # 1.632532 = 14.880707; unknown 1. x priors: 3.932539 : 0.744035 : 0.75 (example 3):
    # against an unknown party the episode weighs fully, against a framer it weighs less than
    # a trusted one (example 1)
    check_pattern_line(pa, obs)
    assert probs(pa) == {"unknown": 0.138209, "actor": 0.724682, "false_flag": 0.13711}
    assert probs(pa)["false_flag"] > probs(one(quick_episodes(1)))["false_flag"]
    assert pa.verdict.likelihood == "likely"
    assert pa.verdict.confidence == "low"


def test_false_flag_best_gives_no_actor_and_says_so():
    obs = [
        # every event at 21:00 in Pyongyang: outside its working hours (model 2.3 reads the
        # routine from 3 active hours, so the first event is at that hour too: at 09:00, as
        # before, R = 0.55 and the actor stayed best, 0.529607)
        observation(at(12 * 3600), "95.90.1.1", P, category=Category.RESIDENTIAL),
        kp(2 * 86400 + 12 * 3600 + 10, channel="posting"),
        kp(5 * 86400 + 12 * 3600, "175.45.178.1", channel="posting"),
    ]
    pa = one(obs, Priors(false_flag_share=0.5))
    v = pa.verdict
    # R = 0.080108: pattern of life actor 0.9 R + 0.1 = 0.172097, false flag 0.25 R + 0.75 =
    # 0.770027; two episodes 36 : 36 : 1; slip pattern (never covered, 0.8 each)
    # 0.8 ** sqrt(2) = 0.729371, false flag 1.371044; range access 0.3; exposure channels:
    # both exposures are postings, in 2 of the persona's 3 sittings (q = 2/3): q ** 2 /
    # (0.5 + 0.5 q ** 2) = 0.615385, false flag 1.625 (model 2.4).
    # actor 36 x 0.172097 = 6.195492; false flag 36 x 1.371044 x 0.3 x 1.625 x 0.770027 =
    # 18.528259; unknown 1. x priors 0.125 : 0.125 : 0.75: 0.774437 : 2.316032 : 0.75
    # (sum 3.840469)
    assert round(check_pattern_line(pa, obs), 6) == 0.080108
    assert probs(pa) == {"unknown": 0.195289, "actor": 0.201652, "false_flag": 0.60306}
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
    assert MODEL_VERSION == "slipcatch-analysis/2.7"


def test_percent_never_rounds_across_an_icd203_band_edge():
    from slipcatch.analysis.confidence import _percent

    assert _percent(0.949348) == "94.9%"  # "very likely", not "95%"
    assert _percent(0.7996) == "79.96%"  # "likely", not "80%"
    assert _percent(0.87) == "87%"
    assert _percent(0.95) == "95%"
    assert (_percent(0.004), _percent(0.996)) == ("<1%", ">99%")
