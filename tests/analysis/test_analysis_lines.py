"""Evidence lines: ratios on the hand-computed examples of docs/model.md, and episode grouping."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from slipcatch.analysis import Priors, assess
from slipcatch.analysis.evidence_lines import (
    RULE_ACTOR_RANGE,
    RULE_COUNTRY,
    episode_ratios,
)
from slipcatch.analysis.hypotheses import combine, hypothesis_id, hypothesis_specs, temper
from slipcatch.analysis.simulate import ACTOR, observation
from slipcatch.errors import UsageError
from slipcatch.model import Actor, Category, EvidenceLine, OriginTrust, stable_id

T0 = datetime(2014, 11, 24, 9, 0, tzinfo=UTC)
P = "Guardians of Peace"
PID = stable_id("persona", P)
H_ACTOR = hypothesis_id(PID, "actor", "dprk-rgb")
H_FF = hypothesis_id(PID, "false_flag", "dprk-rgb")
H_UNK = hypothesis_id(PID, "unknown", None)
DOC = Path(__file__).resolve().parents[2] / "docs" / "model.md"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def tor(s: float, n: int = 1):
    return observation(at(s), f"185.220.101.{n}", P, category=Category.TOR)


def kp(s: float, ip: str = "175.45.176.10", exclusivity: float | None = 1.0, **kw):
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


def test_example_1_trusted_quick_return():
    [line] = lines_of([*covered_day(0), kp(300), tor(430)], "actor-range-episode")
    assert ratios(line) == (8.0, 2.666667, 1.0)
    assert line.reliability == "B2"
    assert line.rule == RULE_ACTOR_RANGE


def test_example_2_provider_written_half_exclusive_within_the_hour():
    obs = [
        *covered_day(0),
        kp(300, exclusivity=0.5, channel="email", origin_trust=OriginTrust.SENDER_PROVIDER),
        tor(2300),
    ]
    [line] = lines_of(obs, "actor-range-episode")
    assert episode_ratios(0.3, "return-within-hour") == pytest.approx((3.1, 1.15))
    assert ratios(line) == (3.1, 2.695652, 1.0)
    assert line.reliability == "C4"


def test_example_3_sender_written_carries_almost_no_weight():
    obs = [
        *covered_day(0),
        kp(300, channel="email", origin_trust=OriginTrust.SENDER_WRITTEN),
        tor(360),
    ]
    [line] = lines_of(obs, "actor-range-episode")
    assert ratios(line) == (1.35, 1.227273, 1.0)
    assert line.reliability == "E2"


def test_example_4_lone_event_in_a_persona_without_cover():
    obs = [res(0, "95.90.1.1", "DE"), res(3600, "95.90.1.2", "DE"), kp(7200)]
    [line] = lines_of(obs, "actor-range-episode")
    assert ratios(line) == (8.0, 10.0, 1.0)


def test_example_5_long_exposure_is_capped_per_line():
    obs = [*covered_day(0), kp(300), kp(300 + 2 * 86400, "175.45.178.1"), tor(300 + 2 * 86400 + 60)]
    [line] = lines_of(obs, "actor-range-episode")
    assert ratios(line) == (7.1382, 10.0, 1.0)


def test_example_6_missing_exclusivity_defaults_to_0_8():
    [line] = lines_of([*covered_day(0), kp(300, exclusivity=None), tor(330)], "actor-range-episode")
    assert ratios(line) == (6.6, pytest.approx(6.6 / 2.6, abs=1e-6), 1.0)
    assert line.reliability == "B3"


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


def test_example_8_combined_cap_by_tempering():
    lines = [
        EvidenceLine(
            id=f"l{k}",
            kind="x",
            summary="",
            reliability="B2",
            rule="r",
            likelihoods={"a": 8.0, "f": 8.0 / 3.0, "u": 1.0},
        )
        for k in range(4)
    ]
    combined = combine(lines, ["a", "f", "u"])
    assert combined["a"] == pytest.approx(100.0)
    assert combined["f"] == pytest.approx(8.777247, abs=1e-6)
    assert combined["u"] == 1.0
    two = combine(lines[:2], ["a", "f", "u"])  # 64 : 7.11 : 1 is under the cap
    assert two["a"] == pytest.approx(64.0)
    assert two["f"] == pytest.approx(64.0 / 9.0)


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
        ("unknown", None, 0.5),
        ("actor", "a", 0.2),
        ("false_flag", "a", 0.05),
        ("actor", "b", 0.2),
        ("false_flag", "b", 0.05),
    ]
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
    assert {RULE_ACTOR_RANGE, RULE_COUNTRY} <= headings
