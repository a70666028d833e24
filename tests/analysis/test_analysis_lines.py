"""Evidence lines: ratios on the hand-computed examples of docs/model.md, and episode grouping."""

from __future__ import annotations

import math
import random
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slipcatch.analysis import Priors, assess
from slipcatch.analysis import pattern_of_life as pol
from slipcatch.analysis.confidence import ADDRESS_KINDS
from slipcatch.analysis.episodes import OPEN_ADDRESS_FACTOR, PROJECTED_OPEN_FACTOR
from slipcatch.analysis.hypotheses import (
    LINE_CAP,
    combine,
    hypothesis_id,
    hypothesis_specs,
    temper,
)
from slipcatch.analysis.pattern_of_life import active_hours, routine_log_likelihood
from slipcatch.analysis.persona_case import persona_case
from slipcatch.analysis.rules import (
    RULE_ACCESS,
    RULE_ACTOR_RANGE,
    RULE_ANALYST,
    RULE_CHANNELS,
    RULE_COUNTRY,
    RULE_PATTERN,
    RULE_SLIP_PATTERN,
)
from slipcatch.analysis.rules.channels import (
    STAGING_PLAN_SHARE,
    channel_plan_factor,
    public_share,
)
from slipcatch.analysis.rules.pattern_of_life import POL_MIMIC, POL_OFF_HOURS, pattern_lines
from slipcatch.analysis.rules.slip_pattern import CHANNEL_RATIOS
from slipcatch.calibration.scenarios import ACTOR, observation
from slipcatch.errors import UsageError
from slipcatch.model import (
    Actor,
    Category,
    EvidenceLine,
    Fact,
    OperatingPeriod,
    OriginTrust,
    stable_id,
)

from .builders import P, at, kp, pol_likelihoods, tor

PID = stable_id("persona", P)
H_ACTOR = hypothesis_id(PID, "actor", "dprk-rgb")
H_FF = hypothesis_id(PID, "false_flag", "dprk-rgb")
H_UNK = hypothesis_id(PID, "unknown", None)
DOC = Path(__file__).resolve().parents[2] / "docs" / "model.md"


def res(s: float, ip: str, country: str):
    return observation(at(s), ip, P, category=Category.RESIDENTIAL, country=country)


def covered_day(day: int, start_s: float = 0.0) -> list:
    base = day * 86400 + start_s
    return [tor(base), tor(base + 60, 2), tor(base + 120, 3)]


def lines_of(observations, kind: str | None = None) -> list[EvidenceLine]:
    [pa] = assess(observations, [ACTOR])
    return [line for line in pa.evidence if kind is None or line.kind == kind]


def ratios(line: EvidenceLine) -> tuple[float, float, float]:
    return line.likelihoods[H_ACTOR], line.likelihoods[H_FF], line.likelihoods[H_UNK]


# --- hand-computed examples (docs/model.md, "Worked examples") -----------------------------


def pattern_line(observations) -> EvidenceLine:
    [line] = lines_of(observations, "slip-pattern")
    assert line.rule == RULE_SLIP_PATTERN
    return line


def test_example_1_trusted_quick_return():
    obs = [*covered_day(0), kp(300), tor(430)]
    [line] = lines_of(obs, "actor-range-episode")
    assert ratios(line) == (6.0, 6.0, 1.0)  # r = 1 + 5 x 1 for actor and false flag alike
    assert line.reliability == "B2"
    assert line.rule == RULE_ACTOR_RANGE
    pattern = pattern_line(obs)
    assert ratios(pattern) == (1.0, 0.333333, 1.0)  # quick return: s = 3, false flag 1/s
    assert pattern.reliability == "B3"
    assert pattern.slip_ids == line.slip_ids
    # model 2.3: exclusivity 1, logged: a framer needs a host inside, 1 / (0.3 + 0.7 x 0)
    [access] = lines_of(obs, "range-access")
    assert ratios(access) == (1.0, 0.3, 1.0)


def test_example_2_provider_written_half_exclusive_within_the_hour():
    obs = [
        *covered_day(0),
        kp(300, exclusivity=0.5, channel="email", origin_trust=OriginTrust.SENDER_PROVIDER),
        tor(2300),
    ]
    [line] = lines_of(obs, "actor-range-episode")
    # model 2.4: r from the exclusivity alone, 1 / (1/6 + 5/6 x 0.5) = 1 / 0.583333 = 1.714286
    # (models 2.1-2.3: 1 + 5 x 0.5 = 3.5)
    assert ratios(line) == (1.714286, 1.714286, 1.0)
    assert line.reliability == "C4"
    # model 2.3: the pattern ratio moves toward 1 by the trust weight (0.6) only, not by
    # exclusivity x trust: 1 + (1.5 - 1) x 0.6 = 1.3, over FORGE_RATIO ** (1 - 0.6) = 2 ** 0.4 =
    # 1.319508: s = 0.985216, false flag 1 / s = 1.015006
    assert ratios(pattern_line(obs)) == (1.0, 1.015006, 1.0)
    # range access: a = 1 / (0.3 + 0.7 x 0.5) = 1 / 0.65 = 1.538462; factor 1 + 0.538462 x 0.6
    # = 1.323077, false flag 1 / 1.323077 = 0.755814; reliability as the episode's
    [access] = lines_of(obs, "range-access")
    assert ratios(access) == (1.0, 0.755814, 1.0)
    assert access.reliability == "C4"


def test_example_3_sender_written_weighs_against_unknown_and_toward_a_framer():
    obs = [
        *covered_day(0),
        kp(300, channel="email", origin_trust=OriginTrust.SENDER_WRITTEN),
        tor(360),
    ]
    [line] = lines_of(obs, "actor-range-episode")
    # model 2.1: true or forged by a framer, never an unknown party's accident: r = 6 against
    # unknown; the pattern 1.1 / 2 ** 0.95 = 0.569395 turns toward the framer
    assert ratios(line) == (6.0, 6.0, 1.0)
    assert line.reliability == "E2"
    assert ratios(pattern_line(obs)) == (1.0, 1.756248, 1.0)


def test_example_4_lone_event_in_a_persona_without_cover():
    obs = [res(0, "95.90.1.1", "DE"), res(3600, "95.90.1.2", "DE"), kp(7200)]
    [line] = lines_of(obs, "actor-range-episode")
    assert ratios(line) == (6.0, 6.0, 1.0)
    assert ratios(pattern_line(obs)) == (1.0, 1.25, 1.0)  # no-cover: s = 0.8


def test_example_5_long_exposure_looks_like_staging():
    obs = [*covered_day(0), kp(300), kp(300 + 2 * 86400, "175.45.178.1"), tor(300 + 2 * 86400 + 60)]
    [line] = lines_of(obs, "actor-range-episode")
    assert ratios(line) == (6.0, 6.0, 1.0)
    assert ratios(pattern_line(obs)) == (1.0, 3.0, 1.0)  # long exposure: s = 1/3


def test_example_6_missing_exclusivity_defaults_to_0_8():
    obs = [*covered_day(0), kp(300, exclusivity=None), tor(330)]
    [line] = lines_of(obs, "actor-range-episode")
    assert ratios(line) == (3.0, 3.0, 1.0)  # r = 1 / (1/6 + 5/6 x 0.2) (model 2.3: 1 + 5 x 0.8)
    assert line.reliability == "B3"
    # model 2.3: logged (trust weight 1), so the quick return keeps s = 3 whatever the
    # exclusivity (model 2.2 moved it by exclusivity x trust: 1 + 2 x 0.8 = 2.6)
    assert ratios(pattern_line(obs)) == (1.0, 0.333333, 1.0)
    # range access: 1 / (0.3 + 0.7 x 0.2) = 1 / 0.44, false flag 0.44
    [access] = lines_of(obs, "range-access")
    assert ratios(access) == (1.0, 0.44, 1.0)
    assert access.reliability == "B3"


def test_episode_ratio_mixes_others_use_of_the_range_with_compromise():
    # model 2.4: r = 1 / (1/6 + 5/6 (1 - e)): an unknown party uses the range as much as others
    # do (1 - e), and its exclusive part only through a compromised host (1/6 of the owner's use)
    expected = {0.2: 1.2, 0.5: 1.714286, 0.8: 3.0, 0.9: 4.0, 0.95: 4.8, 1.0: 6.0}
    got = {}
    for e in expected:
        obs = [*covered_day(0), kp(300, exclusivity=e), tor(430)]
        [line] = lines_of(obs, "actor-range-episode")
        got[e] = ratios(line)[0]
        assert ratios(line) == (got[e], got[e], 1.0)
    assert got == expected
    # never above the linear form of models 2.1-2.3, equal at both ends
    assert all(r <= 1 + 5 * e + 1e-9 for e, r in got.items())


def _listed(obs, *facts):
    return replace(obs, address=replace(obs.address, facts=obs.address.facts + facts))


def test_example_16_an_address_listed_as_cover_is_open_to_third_parties():
    vpn = Fact(range="175.45.176.0/24", category=Category.VPN, source="vpn-list", label="X VPN")
    obs = [*covered_day(0), _listed(kp(300), vpn), tor(430)]
    [line] = lines_of(obs, "actor-range-episode")
    # exclusivity 1.0 x OPEN_ADDRESS_FACTOR 0.2 = 0.2: r = 1 / (1/6 + 5/6 x 0.8) = 1.2
    assert OPEN_ADDRESS_FACTOR == 0.2 and PROJECTED_OPEN_FACTOR == 0.6
    assert ratios(line) == (1.2, 1.2, 1.0) and line.reliability == "B4"
    assert "exclusivity 0.20" in line.summary and "listed as vpn by vpn-list" in line.summary
    # range access at 0.2: 1 / (0.3 + 0.7 x 0.8) = 1 / 0.86, false flag 0.86
    assert ratios(lines_of(obs, "range-access")[0]) == (1.0, 0.86, 1.0)
    # posterior: 1.2 : 1.2 / 3 x 0.86 x 0.5 : 1 x priors -> 0.24 / (0.24 + 0.0086 + 0.75),
    # the same as example 1's "range-shared" what-if; no actor named
    [pa] = assess(obs, [ACTOR])
    assert pa.verdict.actor is None
    assert {h.kind: h.probability for h in pa.hypotheses}["actor"] == 0.240336
    assert any("listed as vpn by vpn-list" in a.explanation for a in pa.alternatives)
    # a listing projected from a later snapshot may not have applied then: x 0.6,
    # r = 1 / (1/6 + 5/6 x 0.4) = 2
    projected = replace(vpn, projected=True)
    [line] = lines_of(
        [*covered_day(0), _listed(kp(300), projected), tor(430)], "actor-range-episode"
    )
    assert ratios(line) == (2.0, 2.0, 1.0) and "vpn by vpn-list (projected)" in line.summary
    # the VPN alternative names the listing in the same words, projected or not
    [pa] = assess([*covered_day(0), _listed(kp(300), projected), tor(430)], [ACTOR])
    assert any("listed as vpn by vpn-list (projected)." in a.explanation for a in pa.alternatives)
    # one listing observed then is enough, whatever else is projected
    both = [*covered_day(0), _listed(kp(300), projected, vpn), tor(430)]
    assert ratios(lines_of(both, "actor-range-episode")[0])[0] == 1.2
    # facts that only carry a country or name the actor's range do not open the address
    geo = Fact(range="175.45.176.0/22", category=None, source="geo", country="KP")
    [line] = lines_of([*covered_day(0), _listed(kp(300), geo), tor(430)], "actor-range-episode")
    assert ratios(line) == (6.0, 6.0, 1.0) and "listed" not in line.summary


def test_example_7_country_lines():
    obs = [
        *covered_day(0),
        kp(300),
        tor(330),
        res(1000, "1.160.7.7", "TW"),
        res(1010, "126.0.3.3", "JP"),
        res(1020, "210.52.109.9", "KP"),
        tor(1100),
    ]
    lines = {
        line.summary.split("geolocated to ")[1][:2]: line for line in lines_of(obs, "country-hit")
    }
    assert sorted(lines) == ["JP", "KP", "TW"]
    assert ratios(lines["KP"]) == (2.0, 1.5, 1.0)
    assert ratios(lines["TW"]) == (1.0, 1.0, 1.1)
    assert ratios(lines["JP"]) == (1.0, 1.0, 1.1)
    assert all(line.rule == RULE_COUNTRY and line.reliability == "B4" for line in lines.values())
    assert "not attribution to TW" in lines["TW"].summary


def test_example_8_slip_pattern_counts_sqrt_k_and_the_total_floor():
    obs = []
    for day in range(4):
        obs += [
            tor(day * 86400),
            tor(day * 86400 + 60, 2),
            kp(day * 86400 + 300, f"175.45.17{6 + day}.1"),
            tor(day * 86400 + 420, 3),
        ]
    pattern = pattern_line(obs)
    # four quick returns: S = 3 ** (4 / sqrt(4)) = 9, not 3 ** 4
    assert ratios(pattern) == (1.0, pytest.approx(1 / 9, abs=1e-6), 1.0)
    lines = [
        EvidenceLine(
            id=f"l{k}",
            kind="x",
            summary="",
            reliability="B2",
            rule="r",
            likelihoods={"a": 6.0, "f": 6.0, "u": 1.0},
        )
        for k in range(4)
    ] + [
        EvidenceLine(
            id="p",
            kind="y",
            summary="",
            reliability="B3",
            rule="r",
            likelihoods={"a": 1.0, "f": 1 / 9, "u": 1.0},
        )
    ]
    combined = combine(lines, ["a", "f", "u"])
    # 1296 : 144 : 1 -> unknown raised to 1296 / 100: relative 100 : 11.111 : 1
    assert combined == {"a": pytest.approx(100.0), "f": pytest.approx(100 / 9), "u": 1.0}
    two = combine(lines[:2], ["a", "f", "u"])  # 36 : 36 : 1 is above the floor
    assert two == {"a": pytest.approx(36.0), "f": pytest.approx(36.0), "u": 1.0}


def test_total_floor_is_monotone_in_evidence_for_the_leader():
    base = {"a": 6.0, "f": 2.0, "u": 1.0}
    previous = 0.0
    for k in range(1, 8):
        lines = [
            EvidenceLine(
                id=f"l{i}", kind="x", summary="", reliability="B2", rule="r", likelihoods=base
            )
            for i in range(k)
        ]
        c = combine(lines, ["a", "f", "u"])
        assert c["a"] / c["f"] >= previous  # more of the same never lowers the lead
        previous = c["a"] / c["f"]
        assert max(c.values()) / min(c.values()) <= 100.0 + 1e-9


def test_temper_keeps_order_and_rejects_bad_values():
    out = temper({"x": 1000.0, "y": 10.0, "z": 0.5}, 100.0)
    assert out["x"] == pytest.approx(100.0)
    assert out["z"] == 1.0
    assert out["x"] > out["y"] > out["z"]
    with pytest.raises(ValueError):
        temper({"x": 0.0}, 10.0)
    with pytest.raises(ValueError):
        temper({"x": math.nan}, 10.0)


# --- episode grouping -------------------------------------------------------------------


def test_burst_across_channels_and_addresses_is_one_episode():
    obs = [
        *covered_day(0),
        kp(300, "175.45.176.10"),
        kp(420, "175.45.179.3", channel="email"),
        tor(500),
        kp(800, "175.45.178.8"),
        tor(900),
    ]
    [line] = lines_of(obs, "actor-range-episode")
    assert len(line.event_ids) == 3
    assert len(line.slip_ids) == 3  # 176, 179 (different /24s), then 178 after cover


def test_address_reuse_within_twelve_hours_is_one_episode():
    obs = [*covered_day(0), kp(300), tor(400), kp(300 + 3 * 3600), tor(400 + 3 * 3600)]
    assert len(lines_of(obs, "actor-range-episode")) == 1


def test_different_addresses_hours_apart_are_separate_episodes():
    obs = [
        *covered_day(0),
        kp(300),
        tor(400),
        kp(300 + 3 * 3600, "175.45.177.1"),
        tor(400 + 3 * 3600),
    ]
    assert len(lines_of(obs, "actor-range-episode")) == 2


def test_same_address_next_day_is_a_new_episode():
    obs = [
        *covered_day(0),
        kp(300),
        tor(400),
        *covered_day(1),
        kp(86400 + 13 * 3600),
        tor(86400 + 13 * 3600 + 60),
    ]
    assert len(lines_of(obs, "actor-range-episode")) == 2


def test_uninterrupted_exposure_is_one_episode():
    # no covered event between the two actor events: one lapse, whatever the /24
    obs = [*covered_day(0), kp(300), kp(300 + 5 * 3600, "175.45.178.1"), tor(300 + 5 * 3600 + 30)]
    [line] = lines_of(obs, "actor-range-episode")
    assert len(line.event_ids) == 2
    assert "return-within-day" not in line.summary
    assert "within a day" in line.summary


def test_priors_allocation_and_validation():
    specs = hypothesis_specs(PID, ["b", "a"], Priors())
    assert [(s.kind, s.actor, round(s.prior, 6)) for s in specs] == [
        ("unknown", None, 0.75),
        ("actor", "a", 0.1),
        ("false_flag", "a", 0.025),
        ("actor", "b", 0.1),
        ("false_flag", "b", 0.025),
    ]
    # analyst hypotheses take their prior off the top; the rest is shared as before
    specs = hypothesis_specs(
        PID,
        ["a"],
        Priors(analyst=(("insider", 0.2),)),
        [("insider", "An insider."), ("tip", "A tipped party.")],
    )
    assert [(s.kind, s.key, round(s.prior, 6)) for s in specs] == [
        ("unknown", None, round(0.75 * 0.75, 6)),
        ("actor", None, round(0.75 * 0.25 * 0.8, 6)),
        ("false_flag", None, round(0.75 * 0.25 * 0.2, 6)),
        ("analyst", "insider", 0.2),
        ("analyst", "tip", 0.05),
    ]
    assert math.fsum(s.prior for s in specs) == pytest.approx(1.0)
    assert [(s.kind, s.prior) for s in hypothesis_specs(PID, [], Priors())] == [("unknown", 1.0)]
    with pytest.raises(UsageError):
        Priors(unknown=1.0)
    with pytest.raises(UsageError):
        Priors(false_flag_share=-0.1)


def test_custom_priors_are_stated_on_the_hypotheses():
    obs = [*covered_day(0), kp(300), tor(430)]
    [pa] = assess(obs, [ACTOR], Priors(unknown=0.8, false_flag_share=0.5))
    assert {h.kind: h.prior for h in pa.hypotheses} == {
        "unknown": 0.8,
        "actor": 0.1,
        "false_flag": 0.1,
    }


def test_unknown_actor_id_is_its_own_name():
    obs = [*covered_day(0), kp(300), tor(430)]
    [pa] = assess(obs, [Actor(id="other", name="Other")])
    assert pa.verdict.statement.endswith("operated by dprk-rgb.")


def test_every_rule_is_a_heading_in_the_model_doc():
    headings = {
        m.group(1).strip() for m in re.finditer(r"^#+ (.+)$", DOC.read_text("utf-8"), re.MULTILINE)
    }
    assert {RULE_ACTOR_RANGE, RULE_COUNTRY, RULE_SLIP_PATTERN, RULE_PATTERN, RULE_ANALYST} <= (
        headings
    )
    assert {"ACH matrix", "What would change our mind"} <= headings


# --- model 2.1 rules (docs/model.md, examples 11-13) ---------------------------------------


# Model 2.3 (pattern of life as a likelihood) by hand: n active hours read as draws, each in
# the office day with probability d (uniform prior, 20-step midpoint rule); with W office hours
# an inside hour has density g(d) = d / W + (1 - d) / 24 = a + b d, an outside one (1 - d) / 24.
# For n = 3 all inside or all outside, the midpoint rule on a cubic is exact up to -(h^2 / 24)
# (f'(1) - f'(0)), h = 1 / 20:
#   none inside:   mean of ((1 - d) / 24)^3 = (1/4 - 3 / 9600) / 24^3 = 0.2496875 / 13824
#   all 3 inside:  ((a + b)^4 - a^4) / (4 b) - 3 b ((a + b)^2 - a^2) / 9600, a = 1/24, b = 1/W - a
E0 = 0.2496875 / 24**3
E3 = {
    w: ((1 / w) ** 4 - (1 / 24) ** 4) / (4 * (1 / w - 1 / 24))
    - 3 * (1 / w - 1 / 24) * ((1 / w) ** 2 - (1 / 24) ** 2) / 9600
    for w in (8, 9, 10)
}


def test_routine_log_likelihood_by_hand():
    assert math.exp(routine_log_likelihood(0, 3, 10)) == pytest.approx(E0, rel=1e-12)
    for w in (8, 9, 10):
        assert math.exp(routine_log_likelihood(3, 3, w)) == pytest.approx(E3[w], rel=1e-12)
    assert E3[8] == pytest.approx(7.230179e-4, rel=1e-6)
    assert E3[10] == pytest.approx(4.155033e-4, rel=1e-6)
    with pytest.raises(ValueError):
        routine_log_likelihood(4, 3)
    with pytest.raises(ValueError):
        routine_log_likelihood(1, 3, 24)


def test_example_11_pattern_of_life_on_three_hours_at_ten_in_pyongyang():
    # 01:00 UTC on three days of November 2014 = 10:00 in Pyongyang (UTC+9); the slip's hour
    # holds two events, the first stands for it: three active hours, enough for a line
    obs = [tor(3600), kp(86400 + 3600), tor(86400 + 3720, 2), tor(2 * 86400 + 3600, 3)]
    hours = active_hours(obs)
    assert [t.hour * 60 + t.minute for t in hours] == [60, 60, 60]
    [line] = lines_of(obs, "pattern-of-life")
    assert line.rule == RULE_PATTERN and line.reliability == "B4"
    # 10:00 lies in the office days starting 06:00 ... 10:00 (9 of the 11 starts, whatever the
    # length), not in those starting 10:30 and 11:00: in Pyongyang the 33 office days give
    # (9 E3[W] + 2 E0) summed over W = 8, 9, 10, over 33 = 4.604123e-4
    there = math.fsum(9 * E3[w] + 2 * E0 for w in (8, 9, 10)) / 33
    assert there == pytest.approx(4.604123e-4, rel=1e-6)
    reference, anywhere = pol_likelihoods(hours, "Asia/Pyongyang")
    assert reference == pytest.approx(there, rel=1e-12)
    # the same mixture at every offset, weighted by Internet users (UTC+8, a third of them, sees
    # 09:00: 7 of 11 starts): R = there / anywhere = 2.633138
    r = there / anywhere
    assert r == pytest.approx(2.633138, abs=1e-6)
    # actor 0.9 R + 0.1 = 2.469824, false flag 0.25 R + 0.75 = 1.408285, unknown 1; spread
    # below LINE_CAP, so tempering leaves them
    assert (1 - POL_OFF_HOURS, POL_MIMIC) == (0.9, 0.25)
    assert ratios(line) == (2.469824, 1.408285, 1.0)
    assert ratios(line) == (
        round(0.9 * r + 0.1, 6),
        round(0.25 * r + 0.75, 6),
        1.0,
    )
    assert "Asia/Pyongyang, UTC+09:00 then" in line.summary
    assert "the hours are 2.63 times as likely there as for a party located anywhere" in (
        line.summary
    )
    assert "fits" not in line.summary and "actor ratio" not in line.summary


def test_pattern_of_life_reads_each_hour_at_the_offset_in_force_then():
    # 23:15 UTC is 08:15 in Pyongyang in November 2014 (UTC+9), 07:45 in June 2016 (UTC+8:30):
    # 08:15 lies in the office days starting 06:00 ... 08:00 (5 of 11), 07:45 in those starting
    # 06:00 ... 07:30 (4 of 11). The unknown-offset likelihood is the same (same UTC times of
    # day), so R 2014 / R 2016 = sum_W (5 E3 + 6 E0) / sum_W (4 E3 + 7 E0) = 1.228965
    expected = {}
    for when in (
        datetime(2014, 11, 24, 23, 15, tzinfo=UTC),
        datetime(2016, 6, 6, 23, 15, tzinfo=UTC),
    ):
        case = [tor(0, base=when), kp(86400, base=when), tor(86520, 2, base=when)]
        case.append(tor(2 * 86400, 3, base=when))
        [line] = lines_of(case, "pattern-of-life")
        there, anywhere = pol_likelihoods(active_hours(case), "Asia/Pyongyang")
        r = there / anywhere
        assert ratios(line) == (round(0.9 * r + 0.1, 6), round(0.25 * r + 0.75, 6), 1.0)
        expected[when.year] = (r, anywhere, line)
    inside_2014 = math.fsum(5 * E3[w] + 6 * E0 for w in (8, 9, 10)) / 33
    inside_2016 = math.fsum(4 * E3[w] + 7 * E0 for w in (8, 9, 10)) / 33
    assert expected[2014][1] == pytest.approx(expected[2016][1], rel=1e-12)
    assert expected[2014][0] / expected[2016][0] == pytest.approx(inside_2014 / inside_2016)
    assert inside_2014 / inside_2016 == pytest.approx(1.228965, abs=1e-6)
    assert expected[2014][0] == pytest.approx(2.591192, abs=1e-6)  # actor 2.432073
    assert expected[2016][0] == pytest.approx(2.108435, abs=1e-6)  # actor 1.997592
    assert ratios(expected[2014][2]) == (2.432073, 1.397798, 1.0)
    assert ratios(expected[2016][2]) == (1.997592, 1.277109, 1.0)
    assert "UTC+09:00 then" in expected[2014][2].summary
    assert "UTC+08:30 then" in expected[2016][2].summary


def test_timing_is_one_line_the_pattern_of_life():
    # model 2.3: no slip-hours line any more; the pattern of life covers timing, from three
    # active hours on. 4 hours a day at 09:15, 12:15, 15:15, 17:15 in Pyongyang (UTC+9) over 5
    # days plus a slip at 11:00 on the third: 21 active hours
    obs = []
    for day in range(5):
        base = day * 86400
        obs += [tor(base + 900), tor(base + 3 * 3600 + 900, 2), tor(base + 6 * 3600 + 900, 3)]
        obs.append(tor(base + 8 * 3600 + 900, 4))
    obs += [kp(2 * 86400 + 2 * 3600), tor(2 * 86400 + 2 * 3600 + 120, 5)]
    kinds = [line.kind for line in lines_of(obs)]
    assert "slip-hours" not in kinds and kinds.count("pattern-of-life") == 1
    [pol] = lines_of(obs, "pattern-of-life")
    there, anywhere = pol_likelihoods(active_hours(obs), "Asia/Pyongyang")
    r = there / anywhere
    assert r == pytest.approx(2.661695, abs=1e-6)
    assert ratios(pol) == (2.495526, 1.415424, 1.0)  # 0.9 R + 0.1, 0.25 R + 0.75
    # a lone quick slip (one active hour) gives no timing line at all
    single = lines_of([*covered_day(0), kp(300), tor(430)])
    assert not [line for line in single if line.kind in ("pattern-of-life", "slip-hours")]


def test_range_access_line_gives_the_false_flag_the_access_a_framer_would_need():
    # model 2.3: a = 1 / (0.3 + 0.7 (1 - exclusivity)), factor = 1 + (a - 1) x trust weight,
    # false flag 1 / factor, one line per actor, reliability as the episode's
    logged = [*covered_day(0), kp(300), tor(430)]
    [line] = lines_of(logged, "range-access")
    assert ratios(line) == (1.0, 0.3, 1.0)  # a = 1 / 0.3, weight 1
    assert line.rule == RULE_ACCESS == "range access" and line.reliability == "B2"
    [episode] = lines_of(logged, "actor-range-episode")
    assert line.event_ids == episode.event_ids
    assert "actor : false flag 3.33" in line.summary
    assert "range-access" in ADDRESS_KINDS  # adversary activity, for confidence
    # exclusivity 0.5, provider-written (weight 0.6): a = 1 / 0.65, factor = 1 + (a - 1) x 0.6
    provider = [
        *covered_day(0),
        kp(300, exclusivity=0.5, channel="email", origin_trust=OriginTrust.SENDER_PROVIDER),
        tor(430),
    ]
    a = 1 / 0.65
    [line] = lines_of(provider, "range-access")
    assert ratios(line) == (1.0, round(1 / (1 + (a - 1) * 0.6), 6), 1.0) == (1.0, 0.755814, 1.0)
    # sender-written (weight 0.05), exclusivity 1: factor 1 + (10/3 - 1) x 0.05 = 1.116667
    forged = [
        *covered_day(0),
        kp(300, channel="email", origin_trust=OriginTrust.SENDER_WRITTEN),
        tor(430),
    ]
    [line] = lines_of(forged, "range-access")
    assert ratios(line) == (1.0, 0.895522, 1.0) and line.reliability == "E2"
    # a range anybody uses (exclusivity 0): a = 1, factor 1, no line
    assert lines_of([*covered_day(0), kp(300, exclusivity=0.0), tor(430)], "range-access") == []
    # two episodes: the one that needed most access stands for both (one observation)
    two = [
        *covered_day(0),
        kp(300, exclusivity=0.5),
        tor(430),
        *covered_day(1),
        kp(86400 + 300, "175.45.177.1"),
        tor(86400 + 430),
    ]
    [line] = lines_of(two, "range-access")
    assert ratios(line) == (1.0, 0.3, 1.0)
    assert line.event_ids == (two[-2].event.id,)


def test_example_12_exposed_elsewhere():
    base = [*covered_day(0), kp(300), tor(430)]
    hop = [*base, res(2 * 86400, "1.160.7.7", "TW"), tor(2 * 86400 + 120, 5)]
    [line] = lines_of(hop, "exposed-elsewhere")
    assert ratios(line) == (1.0, 1.0, 2.0)  # unknown 1 + (2 - 1) x 1
    assert line.reliability == "B4" and line.rule == "exposed elsewhere"
    forged = observation(
        at(2 * 86400),
        "1.160.7.8",
        P,
        category=Category.RESIDENTIAL,
        country="TW",
        channel="email",
        origin_trust=OriginTrust.SENDER_WRITTEN,
    )
    [weak] = lines_of([*base, forged, tor(2 * 86400 + 120, 5)], "exposed-elsewhere")
    assert ratios(weak) == (1.0, 1.0, 1.05) and weak.reliability == "E4"
    # the sponsor country is not "elsewhere", and without an actor hypothesis there is no line
    home = [*base, res(2 * 86400, "210.52.109.9", "KP"), tor(2 * 86400 + 120, 5)]
    assert lines_of(home, "exposed-elsewhere") == []
    assert lines_of([tor(0), tor(60, 2), res(100, "1.160.7.7", "TW")], "exposed-elsewhere") == []


def test_operating_country_hop_is_neutral_not_elsewhere():
    # An actor whose operators are reported to work from China (registry operating_countries):
    # a Chinese residential hop is neither attribution nor "exposed elsewhere"
    abroad = Actor(
        id="dprk-rgb",
        name="DPRK",
        country="KP",
        timezones=("Asia/Pyongyang",),
        operating_countries=("CN",),
    )
    base = [*covered_day(0), kp(300), tor(430)]
    hop = [*base, res(2 * 86400, "116.22.7.7", "CN"), tor(2 * 86400 + 120, 5)]
    [pa] = assess(hop, [abroad])
    [line] = [line for line in pa.evidence if line.kind == "country-hit"]
    assert ratios(line) == (1.0, 1.0, 1.0)
    assert "reported to operate from" in line.summary and "not attribution to CN" in line.summary
    assert not [line for line in pa.evidence if line.kind == "exposed-elsewhere"]
    # example 1's posterior is left as it was (0.610687): the hop moves nothing
    assert pa.verdict.probability == 0.610687
    # without the registry entry the same hop is elsewhere: unknown x 2 and the tilt 1.1
    [plain] = assess(hop, [ACTOR])
    assert plain.verdict.probability == 0.418848
    # the sponsor country wins over an operating country listing
    both = Actor(id="dprk-rgb", name="DPRK", country="KP", operating_countries=("KP", "CN"))
    home = [*base, res(2 * 86400, "210.52.109.9", "KP"), tor(2 * 86400 + 120, 5)]
    [pa] = assess(home, [both])
    [line] = [line for line in pa.evidence if line.kind == "country-hit"]
    assert ratios(line) == (2.0, 1.5, 1.0)


def test_a_dated_operating_country_counts_only_within_its_period():
    # the hop is on 2014-11-26; a period that covers it is an operating country then (neutral, as
    # above: 0.610687), one that ended before is not (elsewhere and the tilt: 0.418848)
    base = [*covered_day(0), kp(300), tor(430)]
    hop = [*base, res(2 * 86400, "116.22.7.7", "CN"), tor(2 * 86400 + 120, 5)]

    def with_period(start: str, end: str) -> Actor:
        period = OperatingPeriod(
            "CN", datetime.fromisoformat(start + "T00:00:00+00:00"),
            datetime.fromisoformat(end + "T00:00:00+00:00"),
        )  # fmt: skip
        return replace(ACTOR, operating_periods=(period,))

    [then] = assess(hop, [with_period("2011-01-01", "2015-01-01")])
    assert then.verdict.probability == 0.610687
    assert not [line for line in then.evidence if line.kind == "exposed-elsewhere"]
    [before] = assess(hop, [with_period("2011-01-01", "2014-01-01")])
    assert before.verdict.probability == 0.418848
    [line] = [line for line in before.evidence if line.kind == "exposed-elsewhere"]
    assert "in CN" in line.summary


def test_example_13_channel_of_the_episode():
    # quick return s = 3; back-end x 2 -> 6 (trusted, exclusivity 1); public x 1 since model
    # 2.4 (the exposure-channels line carries it, once per persona)
    ssh = [*covered_day(0), kp(300, channel="ssh"), tor(430)]
    assert ratios(pattern_line(ssh)) == (1.0, 0.166667, 1.0)
    zeek = [*covered_day(0), kp(300, channel="zeek:ssh"), tor(430)]
    assert ratios(pattern_line(zeek)) == (1.0, 0.166667, 1.0)
    post = [*covered_day(0), kp(300, channel="posting"), tor(430)]
    assert ratios(pattern_line(post)) == (1.0, 0.333333, 1.0)
    assert "public channel x1" in pattern_line(post).summary
    assert CHANNEL_RATIOS["public"] == 1.0


def test_channel_plan_factor_hand_computed():
    # pi = 1/2. All public: q^k / (1/2 + q^k / 2); otherwise 1 / (1 - 1/2) = 2.
    assert STAGING_PLAN_SHARE == 0.5
    assert channel_plan_factor(1, True, 0.5) == pytest.approx(0.5 / 0.75)
    assert channel_plan_factor(3, True, 0.5) == pytest.approx(0.125 / 0.5625)
    assert channel_plan_factor(2, False, 0.1) == 2.0
    assert channel_plan_factor(4, True, 1.0) == 1.0  # a persona that only posts
    assert channel_plan_factor(0, True, 0.5) == 1.0  # no episode, no information
    assert channel_plan_factor(2, True, 0.0) == 0.0  # cannot happen by mistake (capped later)


def test_public_share_counts_sittings_not_events():
    # three web events and a posting in one UTC hour: two sittings, one public
    assert public_share([*covered_day(0), kp(300, channel="posting")]) == 0.5
    # fifty postings in that hour are still one sitting
    many = [kp(10 * k, channel="post", digest=str(k)) for k in range(50)]
    assert public_share([*covered_day(0), *many]) == 0.5
    # channel names compared in lower case, after the last colon
    assert public_share([kp(0, channel="forum:Paste")]) == 1.0
    assert public_share([]) == 0.0


def channel_line(observations) -> EvidenceLine:
    [line] = lines_of(observations, "exposure-channels")
    assert line.rule == RULE_CHANNELS and line.kind in ADDRESS_KINDS
    return line


def test_example_15_exposure_channels():
    # example 1 (one web slip): not all exposure public, logged: actor : false flag 2
    line = channel_line([*covered_day(0), kp(300), tor(430)])
    assert ratios(line) == (1.0, 0.5, 1.0) and line.reliability == "B3"
    assert "1 of 1 exposure episode(s)" in line.summary and "false flag 2.00" in line.summary
    # example 13's posting slip: q = 1/2 (web and posting sittings in hour 0), k = 1:
    # 0.5 / (0.5 + 0.25) = 2/3, false flag 1.5
    line = channel_line([*covered_day(0), kp(300, channel="posting"), tor(430)])
    assert ratios(line) == (1.0, 1.5, 1.0)
    assert "0.50^1" in line.summary
    # three such days: q = 3/6, k = 3: 0.125 / 0.5625 = 0.222222, false flag 4.5
    three = [
        obs
        for d in range(3)
        for obs in (
            *covered_day(d),
            kp(d * 86400 + 300, f"175.45.176.{d + 1}", channel="posting"),
            tor(d * 86400 + 430),
        )
    ]
    assert ratios(channel_line(three)) == (1.0, 4.5, 1.0)
    # one posting slip amid 20 hours of web work: q = 1/21, (1/21) / (1/2 + 1/42) = 1/11,
    # false flag 11, kept within the line cap: 10
    busy = [tor(3600 * h + 7200, h + 1) for h in range(20)]
    assert ratios(channel_line([*busy, kp(300, channel="posting"), tor(430)])) == (1.0, 10.0, 1.0)
    # a persona that only ever posts: its mistakes could fall nowhere else, no line
    only = [tor(0, channel="posting"), kp(300, channel="posting"), tor(430, channel="posting")]
    assert lines_of(only, "exposure-channels") == []
    # a sender-written e-mail slip beside a posting one: the e-mail decides (not all public),
    # at its trust weight 0.05: 2 ** 0.05 = 1.035265, false flag 0.965936
    mixed = [
        *covered_day(0),
        kp(300, channel="posting"),
        tor(430),
        *covered_day(1),
        kp(86400 + 300, "175.45.177.1", channel="email", origin_trust=OriginTrust.SENDER_WRITTEN),
        tor(86400 + 430),
    ]
    line = channel_line(mixed)
    assert ratios(line) == (1.0, 0.965936, 1.0) and line.reliability == "E3"
    assert "1 of 2 exposure episode(s)" in line.summary


@settings(max_examples=80, deadline=None)
@given(
    st.integers(min_value=1, max_value=12),
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
)
def test_channel_plan_factor_properties(k, q):
    public = channel_plan_factor(k, True, q)
    # all exposure public can only favour a framer, and the less the persona posts, the more
    assert 0.0 <= public <= 1.0
    assert channel_plan_factor(k, True, min(1.0, q + 0.1)) >= public - 1e-12
    # a one-off public slip is no stronger than several
    assert channel_plan_factor(k + 1, True, q) <= public + 1e-12
    assert channel_plan_factor(k, False, q) == 2.0


# --- pattern of life: properties over arbitrary hours -----------------------------------------

_STAMPS = st.integers(
    min_value=int(datetime(2013, 1, 1, tzinfo=UTC).timestamp()),
    max_value=int(datetime(2019, 12, 31, tzinfo=UTC).timestamp()),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_STAMPS, min_size=1, max_size=60))
def test_pattern_line_is_bounded_and_ordered_for_any_hours(stamps):
    obs = [
        observation(
            datetime.fromtimestamp(t, UTC),
            f"185.220.101.{k % 250 + 1}",
            P,
            category=Category.TOR,
            digest=str(k),
        )
        for k, t in enumerate(stamps)
    ]
    obs.append(kp(0, base=datetime.fromtimestamp(stamps[0], UTC)))
    obs.sort(key=lambda o: o.event.time)
    case = persona_case(P, obs, {ACTOR.id: ACTOR}, Priors())
    specs = case.specs
    lines = pattern_lines(case)
    if pol.profile(obs) is None:
        assert lines == []  # fewer than 3 active hours
        return
    [line] = lines
    ids = {s.kind: s.id for s in specs}
    actor, flag, unknown = (line.likelihoods[ids[k]] for k in ("actor", "false_flag", "unknown"))
    assert unknown == 1.0
    values = (actor, flag, unknown)
    assert all(math.isfinite(v) and v > 0 for v in values)
    assert max(values) / min(values) <= LINE_CAP * (1 + 1e-6)
    # the false flag always lies between the actor and the unknown party (it keeps the actor's
    # hours only sometimes), and no timing puts the actor below the off-hours share
    assert min(actor, 1.0) - 1e-6 <= flag <= max(actor, 1.0) + 1e-6
    assert actor >= POL_OFF_HOURS - 1e-6


def test_internet_user_offsets_are_whole_quarter_hours():
    # the "anywhere" likelihood reads the UTC quarter-hour histogram at each offset by shifting
    # whole bins, which is exact only for offsets in whole quarter hours
    assert all(offset % 15 == 0 for offset in pol.INTERNET_USERS_BY_OFFSET)
    assert sum(pol.INTERNET_USERS_BY_OFFSET.values()) == 4880


def test_an_operator_keeps_the_local_clock_across_pyongyangs_change_of_offset():
    # Weekday office hours (8 events a day, 09:00-17:00 at UTC+9) from 24 November 2014 for
    # 300 days, across 15 August 2015, when Pyongyang moved from UTC+9 to UTC+8:30. An operator
    # in Pyongyang keeps the local clock, so its UTC times move 30 minutes later after the
    # change; one that keeps the same UTC times from then on keeps Seoul's or Tokyo's clock.
    change = datetime(2015, 8, 14, 15, 0, tzinfo=UTC)
    rng = random.Random(3)
    local, kept = [], []
    for day in range(300):
        if day % 7 in (5, 6):
            continue
        for _ in range(8):
            s = day * 86400 + rng.uniform(0, 8 * 3600)
            shift = 1800 if at(s) >= change else 0
            local.append(tor(s + shift))
            kept.append(tor(s))
    local.append(kp(10 * 86400 + 600))
    kept.append(kp(10 * 86400 + 600))
    [follows] = lines_of(local, "pattern-of-life")
    [keeps] = lines_of(kept, "pattern-of-life")
    # the actor's line at its ceiling (10) and at its floor (1/10): 1,116 active hours, 200 of
    # the 1,720 events after the change, tell an office day that moved with Pyongyang's clock
    # from one that did not
    assert ratios(follows)[0] == 10.0 and ratios(keeps)[0] == 0.1
    assert "Asia/Pyongyang" in follows.summary
