"""Evidence lines: ratios on the hand-computed examples of docs/model.md, and episode grouping."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from slipcatch.analysis import Priors, assess
from slipcatch.analysis.analyst import RULE_ANALYST
from slipcatch.analysis.evidence_lines import (
    RULE_ACTOR_RANGE,
    RULE_COUNTRY,
    RULE_SLIP_PATTERN,
    episode_ratios,
)
from slipcatch.analysis.hypotheses import combine, hypothesis_id, hypothesis_specs, temper
from slipcatch.analysis.pattern_of_life import RULE_PATTERN
from slipcatch.analysis.simulate import ACTOR, observation
from slipcatch.errors import UsageError
from slipcatch.model import Actor, Category, EvidenceLine, OriginTrust, stable_id

from .builders import T0, P, at, kp, tor

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


def test_example_2_provider_written_half_exclusive_within_the_hour():
    obs = [
        *covered_day(0),
        kp(300, exclusivity=0.5, channel="email", origin_trust=OriginTrust.SENDER_PROVIDER),
        tor(2300),
    ]
    [line] = lines_of(obs, "actor-range-episode")
    assert episode_ratios(0.3, "return-within-hour") == pytest.approx((2.5, 1.15))
    # model 2.1: r from the exclusivity alone (1 + 5 x 0.5); the provider-written origin moves
    # the pattern ratio 1.15 by FORGE_RATIO ** -(1 - 0.6): 1.15 / 2 ** 0.4 = 0.871537
    assert ratios(line) == (3.5, 3.5, 1.0)
    assert line.reliability == "C4"
    assert ratios(pattern_line(obs)) == (1.0, 1.147398, 1.0)


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
    assert ratios(line) == (5.0, 5.0, 1.0)
    assert line.reliability == "B3"
    assert ratios(pattern_line(obs)) == (1.0, 0.384615, 1.0)  # s = 1 + 2 x 0.8 = 2.6


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


def test_example_11_slip_hours_in_the_actor_zone_with_tz_history():
    # 00:05 UTC = 09:05 in Pyongyang (in hours); a day later 12:05 UTC = 21:05 (outside)
    obs = [*covered_day(0), kp(300), tor(430), *covered_day(1), kp(86400 + 12 * 3600 + 300)]
    obs.append(tor(86400 + 12 * 3600 + 400, 4))
    [line] = lines_of(obs, "slip-hours")
    # exp((ln 1.5 + ln 0.5) / sqrt(2)) = 0.8159344, to the actor only
    assert ratios(line) == (0.815934, 1.0, 1.0)
    assert line.reliability == "B4" and line.rule == "slip hours"
    [single] = lines_of([*covered_day(0), kp(300), tor(430)], "slip-hours")
    assert ratios(single) == (1.5, 1.0, 1.0)
    # 23:15 UTC is 08:15 in Pyongyang in November 2014 (UTC+9), 07:45 in June 2016 (UTC+8:30)
    for when, expected in (
        (datetime(2014, 11, 24, 23, 15, tzinfo=UTC), 1.5),
        (datetime(2016, 6, 6, 23, 15, tzinfo=UTC), 0.5),
    ):
        shift = (when - T0).total_seconds()
        case = [tor(shift - 600), tor(shift - 300, 2), kp(shift), tor(shift + 120, 3)]
        [hours] = lines_of(case, "slip-hours")
        assert ratios(hours) == (expected, 1.0, 1.0)


def test_slip_hours_give_way_to_a_pattern_of_life_that_speaks():
    # 20 covered events in Pyongyang office hours over 5 days plus one slip: the pattern of life
    # fits (actor 1.5), so the slip hours are not counted a second time
    obs = []
    for day in range(5):
        base = day * 86400
        obs += [tor(base + 900), tor(base + 3 * 3600 + 900, 2), tor(base + 6 * 3600 + 900, 3)]
        obs.append(tor(base + 8 * 3600 + 900, 4))
    obs += [kp(2 * 86400 + 2 * 3600), tor(2 * 86400 + 2 * 3600 + 120, 5)]
    [pol] = lines_of(obs, "pattern-of-life")
    assert pol.likelihoods[H_ACTOR] == 1.5
    assert lines_of(obs, "slip-hours") == []


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


def test_example_13_channel_of_the_episode():
    # quick return s = 3; back-end x 2 -> 6; public x 1/1.5 -> 2 (trusted, exclusivity 1)
    ssh = [*covered_day(0), kp(300, channel="ssh"), tor(430)]
    assert ratios(pattern_line(ssh)) == (1.0, 0.166667, 1.0)
    zeek = [*covered_day(0), kp(300, channel="zeek:ssh"), tor(430)]
    assert ratios(pattern_line(zeek)) == (1.0, 0.166667, 1.0)
    post = [*covered_day(0), kp(300, channel="posting"), tor(430)]
    assert ratios(pattern_line(post)) == (1.0, 0.5, 1.0)
    assert "public channel x1" in pattern_line(post).summary
