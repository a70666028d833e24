"""Assessment in depth: pattern of life, analyst evidence, ACH, what would change our mind,
dependence, bad input and determinism (docs/model.md, worked examples 9 and 10)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from slipcatch.analysis import assess
from slipcatch.analysis.analyst import load_evidence_file, parse_evidence, reliability_weight
from slipcatch.analysis.assessment import read_claim
from slipcatch.analysis.pattern_of_life import POL_MIN_HOURS, active_hours, profile
from slipcatch.analysis.reading import ASN_EXCLUSIVITY, read_asn
from slipcatch.analysis.rules.pattern_of_life import RULE_PATTERN
from slipcatch.analysis.whatif import tipping_ratio
from slipcatch.calibration.scenarios import ACTOR, observation
from slipcatch.errors import UsageError
from slipcatch.model import Actor, Category, OriginTrust

from .builders import T0, P, at, kp, pol_likelihoods
from .builders import tor as _tor

RU = Actor(id="ru-gru", name="Russia / GRU", country="RU", timezones=("Europe/Moscow",))


def tor(s: float, n: int = 1, base: datetime = T0, persona: str = P, **kw):
    # distinct digests: several Tor events may share a time and address here
    return _tor(s, n, base, persona, digest=f"tor{s}:{n}", **kw)


def one(observations, actors=(ACTOR,), **kw):
    [pa] = assess(observations, list(actors), **kw)
    return pa


def kinds(pa, kind):
    return [line for line in pa.evidence if line.kind == kind]


def hyp(pa, kind, actor=None):
    [h] = [h for h in pa.hypotheses if h.kind == kind and (actor is None or h.actor == actor)]
    return h


# --- the tz database ----------------------------------------------------------------------


def test_tz_database_has_pyongyang_half_hour_history():
    z = ZoneInfo("Asia/Pyongyang")

    def offset(text: str) -> timedelta | None:
        return datetime.fromisoformat(text).replace(tzinfo=UTC).astimezone(z).utcoffset()

    assert offset("2014-12-01T00:00") == timedelta(hours=9)
    assert offset("2015-08-14T14:59") == timedelta(hours=9)
    assert offset("2015-08-14T15:00") == timedelta(hours=8, minutes=30)
    assert offset("2018-05-04T14:59") == timedelta(hours=8, minutes=30)
    assert offset("2018-05-04T15:00") == timedelta(hours=9)


# --- pattern of life (worked example 9) ----------------------------------------------------


def office_week(start: datetime, days: int = 5, per_day=(0.25, 3.25, 6.25, 9.25), cover=True):
    """4 events a weekday at 00:15, 03:15, 06:15, 09:15 UTC (under cover)."""
    obs = []
    for d in range(days):
        for k, hour in enumerate(per_day):
            t = start + timedelta(days=d, hours=hour)
            obs.append(
                observation(t, f"185.220.101.{k + 1}", P, category=Category.TOR, digest=f"{d}:{k}")
            )
    return obs


def test_example_9_pattern_of_life_fits_in_2016_at_utc_plus_8_30():
    obs = office_week(datetime(2016, 6, 6, tzinfo=UTC))  # Monday
    obs.append(kp(3600, base=datetime(2016, 6, 8, tzinfo=UTC)))
    pa = one(obs)
    [line] = kinds(pa, "pattern-of-life")
    assert line.rule == RULE_PATTERN and line.reliability == "B4"
    # In Pyongyang (UTC+8:30 in June 2016) the 21 active hours are 5 x 08:45, 11:45, 14:45,
    # 17:45 and the slip at 09:30. Of the 33 office days (start 06:00-11:00 every 30 min, 8-10 h)
    # 11:45 is in all; 08:45 in those starting by 08:30 (6 of 11); 09:30 in 8 of 11; 14:45 in
    # all but the 8-hour days starting 06:00 and 06:30; 17:45 in the 8-hour days starting from
    # 10:00 (3), the 9-hour from 09:00 (5), the 10-hour from 08:00 (7). R = 2.629912 against the
    # Internet-user mixture of offsets (tests/analysis/builders.py, pol_likelihoods)
    there, anywhere = pol_likelihoods(active_hours(obs), "Asia/Pyongyang")
    assert there / anywhere == pytest.approx(2.629912, abs=1e-6)
    # actor 0.9 R + 0.1, false flag 0.25 R + 0.75, unknown 1 (no tempering: spread below 10)
    assert line.likelihoods[hyp(pa, "actor").id] == 2.466921
    assert line.likelihoods[hyp(pa, "false_flag").id] == 1.407478
    assert line.likelihoods[hyp(pa, "unknown").id] == 1.0
    assert "at UTC+07:45 to UTC+08:30" in line.summary
    assert "Asia/Pyongyang, UTC+08:30 then" in line.summary
    assert (
        "100% in 08-18 local; with an office day starting 06:00-11:00 the hours are 2.63 times"
        in line.summary
    )
    prof = profile(obs)
    assert prof is not None and prof.best_share == 1.0 and prof.weekday_share == 1.0
    assert len(prof.hours) == 21 and prof.log_anywhere == pytest.approx(math.log(anywhere))


def test_example_9_same_hours_in_2014_read_at_utc_plus_9_and_moscow_does_not_fit():
    obs = office_week(datetime(2014, 11, 24, tzinfo=UTC))  # Monday; Pyongyang UTC+9 then
    obs.append(kp(300, base=datetime(2014, 11, 26, tzinfo=UTC)))  # 00:05, an hour already active
    prof = profile(obs)
    # 20 active hours: the slip at 00:05 stands for its hour (the 00:15 event comes after it)
    assert prof is not None and len(prof.hours) == 20
    assert datetime(2014, 11, 26, 0, 5, tzinfo=UTC) in prof.hours
    pa = one(obs)
    [line] = kinds(pa, "pattern-of-life")
    # at UTC+9 (the offset in force in 2014): 09:15, 12:15, 15:15, 18:15 (09:05 for the slip's
    # hour); 18:15 is outside 08-18 (75% in working hours) but inside the longer office days
    # ending after it, so R = 2.639179: actor 0.9 R + 0.1 = 2.475261, false flag 1.409795
    there, anywhere = pol_likelihoods(prof.hours, "Asia/Pyongyang")
    assert there / anywhere == pytest.approx(2.639179, abs=1e-6)
    assert line.likelihoods[hyp(pa, "actor").id] == 2.475261
    assert line.likelihoods[hyp(pa, "false_flag").id] == 1.409795
    assert "Asia/Pyongyang, UTC+09:00 then): 75% in 08-18 local" in line.summary
    # the same persona against an actor in Moscow (UTC+3 in November 2014): 03:15, 06:15,
    # 09:15, 12:15 local, a quarter of the hours before any office day starts: R = 0.000279,
    # so the actor falls to its floor POL_OFF_HOURS: 0.9 x 0.000279 + 0.1 = 0.100251, and the
    # false flag to 1 - POL_MIMIC: 0.25 x 0.000279 + 0.75 = 0.75007 (spread 9.98, below 10)
    moved = [o for o in obs if o.address.category != Category.ACTOR]
    moved.append(
        observation(
            datetime(2014, 11, 26, 0, 5, tzinfo=UTC),
            "194.61.40.9",
            P,
            category=Category.ACTOR,
            actor="ru-gru",
            exclusivity=1.0,
        )
    )
    there, anywhere = pol_likelihoods(active_hours(moved), "Europe/Moscow")
    assert there / anywhere == pytest.approx(0.000279, abs=1e-6)
    pa = one(moved, actors=(RU,))
    [line] = kinds(pa, "pattern-of-life")
    assert line.likelihoods[hyp(pa, "actor", "ru-gru").id] == 0.100251
    assert line.likelihoods[hyp(pa, "false_flag", "ru-gru").id] == 0.75007
    assert line.likelihoods[hyp(pa, "unknown").id] == 1.0
    assert "Europe/Moscow, UTC+03:00 then): 50% in 08-18 local" in line.summary


def test_pattern_of_life_needs_three_active_hours():
    assert POL_MIN_HOURS == 3
    # fifty events in one UTC hour and one in the next: two active hours, no line, however many
    # events or days (model 2.2 asked for 20 events over 5 days)
    burst = [tor(60 * k, k % 3 + 1) for k in range(50)]
    two = [*burst, tor(3600 + 60, 2)]
    assert len(active_hours(two)) == 2
    assert profile(two) is None
    assert not kinds(one(two), "pattern-of-life")
    # a third active hour is enough: a line (no actor hypothesis here, so it weighs nothing)
    three = [*two, tor(2 * 86400, 3)]
    prof = profile(three)
    assert prof is not None and prof.events == 52 and prof.days == 2
    assert prof.hours == (T0, T0 + timedelta(seconds=3660), T0 + timedelta(days=2))
    [line] = kinds(one(three), "pattern-of-life")
    assert "52 events in 3 active hours over 2 days" in line.summary
    assert "no actor hypothesis to compare" in line.summary
    assert set(line.likelihoods.values()) == {1.0}


# --- analyst evidence (worked example 10) -------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "evidence.yaml"
    path.write_text(text, encoding="utf-8")
    return path


QUICK = [tor(0), tor(60, 2), kp(300), tor(430, 3)]


def test_example_10_analyst_ratio_is_discounted_by_its_admiralty_code(tmp_path):
    assert reliability_weight("B2") == pytest.approx(0.7225)
    assert reliability_weight("D4") == pytest.approx(0.1225)
    path = write(
        tmp_path,
        "evidence:\n  - {id: code, summary: code reuse, reliability: B2,"
        " likelihoods: {actor: 3}}\n",
    )
    pa = one(QUICK, evidence_file=path)
    [line] = kinds(pa, "analyst")
    assert line.likelihoods[hyp(pa, "actor").id] == 2.211669
    assert line.likelihoods[hyp(pa, "false_flag").id] == 1.0
    assert line.reliability == "B2" and line.rule == "analyst evidence"
    path = write(
        tmp_path,
        "evidence:\n  - {id: code, summary: code reuse, reliability: D4,"
        " likelihoods: {actor: 3}}\n",
    )
    [line] = kinds(one(QUICK, evidence_file=path), "analyst")
    assert max(line.likelihoods.values()) == pytest.approx(1.144056, abs=1e-6)


def test_analyst_hypotheses_priors_and_statement(tmp_path):
    path = write(
        tmp_path,
        """
priors: {unknown: 0.5, insider: 0.3}
hypotheses:
  - {id: insider, statement: "A disgruntled insider operated the persona."}
evidence:
  - id: inside-knowledge
    summary: the messages quote internal documents nobody outside had
    reliability: A1
    personas: [Guardians of Peace]
    likelihoods: {insider: 9, actor: 1, false_flag: 1, unknown: 1}
""",
    )
    pa = one(QUICK, evidence_file=path)
    insider = hyp(pa, "analyst")
    assert insider.prior == 0.3
    # the rest (0.7) shared as the file's priors say: unknown 0.35, actor 0.28, false flag 0.07
    assert hyp(pa, "unknown").prior == 0.35
    assert hyp(pa, "actor").prior == 0.28
    assert hyp(pa, "false_flag").prior == pytest.approx(0.07)
    assert insider.statement == "A disgruntled insider operated the persona."
    assert max(pa.hypotheses, key=lambda h: h.probability).kind == "analyst"
    assert pa.verdict.actor is None
    assert "the analyst's hypothesis 'insider': A disgruntled insider operated the persona." in (
        pa.verdict.statement
    )
    assert "insider 0.30" in pa.priors


def test_named_actor_in_evidence_creates_its_hypotheses(tmp_path):
    path = write(
        tmp_path,
        "evidence:\n  - {id: tip, summary: a tip, reliability: C3,"
        " likelihoods: {'actor:ru-gru': 2}}\n",
    )
    pa = one(QUICK, actors=(ACTOR, RU), evidence_file=path)
    assert {(h.kind, h.actor) for h in pa.hypotheses} == {
        ("unknown", None),
        ("actor", "dprk-rgb"),
        ("false_flag", "dprk-rgb"),
        ("actor", "ru-gru"),
        ("false_flag", "ru-gru"),
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "evidence:\n  - {id: x, summary: s, reliability: G7, likelihoods: {actor: 2}}\n",
            "evidence[0] 'x'): unknown reliability code 'G7'",
        ),
        (
            "evidence:\n  - {id: x, summary: s, reliability: B2, likelihoods: {actor: 0}}\n",
            "evidence[0] 'x'): likelihood ratio for 'actor' must be a positive number, not 0",
        ),
        (
            "evidence:\n  - {id: x, summary: s, reliability: B2, likelihoods: {actor: -1}}\n",
            "must be a positive number, not -1",
        ),
        (
            "evidence:\n  - {id: x, summary: s, reliability: B2, likelihoods: {actor: .inf}}\n",
            "must be a positive number",
        ),
        (
            "evidence:\n  - {id: x, summary: s, reliability: B2, likelihoods: {martians: 2}}\n",
            "unknown hypothesis 'martians'",
        ),
        (
            "evidence:\n  - {id: x, summary: s, reliability: B2,"
            " likelihoods: {'actor:nobody': 2}}\n",
            "unknown hypothesis 'actor:nobody'",
        ),
        (
            "evidence:\n  - {id: x, summary: s, reliability: B2, personas: [Nobody],"
            " likelihoods: {actor: 2}}\n",
            "unknown persona(s): Nobody",
        ),
        (
            "evidence:\n  - {id: x, summary: s, reliability: B2, weight: 3,"
            " likelihoods: {actor: 2}}\n",
            "unknown key(s): weight",
        ),
        ("priors: {unknown: 1.5}\n", "(priors): prior unknown must be strictly between 0 and 1"),
        ("priors: {insider: 0.2}\n", "prior for unknown hypothesis 'insider'"),
        ("evidence: [\n", "not valid YAML"),
    ],
)
def test_bad_evidence_file_names_file_and_entry(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(UsageError) as info:
        assess(QUICK, [ACTOR], evidence_file=path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_missing_evidence_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="cannot read evidence file"):
        load_evidence_file(tmp_path / "absent.yaml")


def test_parse_evidence_rejects_a_list_document():
    with pytest.raises(UsageError, match="is a mapping"):
        parse_evidence([1, 2], "inline")


# --- ACH matrix and diagnosticity ---------------------------------------------------------


def test_ach_marks_weights_and_diagnosticity_on_example_1():
    pa = one(QUICK)
    [episode] = kinds(pa, "actor-range-episode")
    [pattern] = kinds(pa, "slip-pattern")
    a, f, u = hyp(pa, "actor").id, hyp(pa, "false_flag").id, hyp(pa, "unknown").id
    # episode 6 : 6 : 1; priors 0.2 : 0.05 : 0.75
    assert episode.diagnosticity == 6.0
    assert episode.bayes_factors[a] == pytest.approx(6 / ((0.05 * 6 + 0.75) / 0.8), abs=1e-6)
    assert episode.bayes_factors[u] == pytest.approx(1 / 6, abs=1e-6)
    assert episode.consistency == {a: "consistent", f: "consistent", u: "inconsistent"}
    # pattern 1 : 1/3 : 1
    assert pattern.diagnosticity == pytest.approx(3.0, abs=1e-5)
    assert pattern.consistency[f] == "inconsistent"
    assert pattern.consistency[a] == "neutral"  # 1 / ((0.05/3 + 0.75) / 0.8) = 1.04


# --- what would change our mind -----------------------------------------------------------


def test_counterfactuals_are_real_re_runs_sorted_by_shift():
    pa = one(QUICK)
    by_kind = {c.kind: c for c in pa.counterfactuals}
    assert set(by_kind) == {
        "another-actor-slip",
        "backend-slip",
        "contrary-evidence",
        "exposed-elsewhere",
        "range-shared",
        "staging-evidence",
        "tooling-tie",
    }
    shifts = [abs(c.shift) for c in pa.counterfactuals]
    assert shifts == sorted(shifts, reverse=True)
    more = by_kind["another-actor-slip"]
    # the re-run equals assessing the persona with one more quick slip a day later, from a new
    # address in the range (the first host of 175.45.176.0/22 the persona has not used)
    fresh = "175.45.176.1"
    again = one([*QUICK, kp(430 + 86400, ip=fresh, channel="web"), tor(430 + 86400 + 120, 3)])
    # two quick episodes (6 x 6 : 6 x 6 : 1), slip pattern S = 3 ** (2 / sqrt 2) = 4.728804,
    # range access 0.3 and exposure channels 0.5 once each (one line per actor); two active
    # hours, no pattern of life: actor 36, false flag 36 / 4.728804 x 0.3 x 0.5 = 1.141937,
    # unknown 1; priors 0.2 : 0.05 : 0.75 -> 7.2 / (7.2 + 0.057097 + 0.75) = 0.899202
    assert more.probability == hyp(again, "actor").probability == 0.899202
    # before: example 1, 6 : 6 x 1/3 x 0.3 x 0.5 : 1 -> 1.2 / (1.2 + 0.015 + 0.75) = 0.610687
    assert pa.verdict.probability == 0.610687
    assert more.shift == pytest.approx(0.899202 - 0.610687, abs=1e-6)
    assert more.likelihood == "very likely" and more.verdict_actor == "dprk-rgb"
    # exclusivity 0.2: r = 1 / (1/6 + 5/6 x 0.8) = 1.2, quick return 1/3 (trust weight 1),
    # access 1 / (0.3 + 0.7 x 0.8) = 1 / 0.86, channels 0.5: 1.2 : 1.2 / 3 x 0.86 x 0.5 : 1 ->
    # 0.24 / (0.24 + 0.0086 + 0.75) = 0.240336
    shared = by_kind["range-shared"]
    assert shared.probability == 0.240336 and shared.likelihood == "unlikely"
    assert shared.verdict_actor is None
    assert by_kind["staging-evidence"].shift < 0 < by_kind["tooling-tie"].shift
    # a direct connection from elsewhere (ZZ, trusted): exposed-elsewhere line, unknown x 2, and
    # the country tilt 1.1: 1.2 : 0.015 : 0.75 x 2.2 -> 1.2 / 2.865 = 0.418848
    assert by_kind["exposed-elsewhere"].probability == 0.418848
    # the same slip on ssh instead (back-end channel x 2): S = exp((ln 3 + ln 6) / sqrt 2) =
    # 7.719900, false flag 36 / 7.7199 x 0.3 x 0.5 = 0.699491 -> 7.2 / (7.2 + 0.034975 + 0.75)
    # = 0.901694, a little more than a web slip
    backend = by_kind["backend-slip"]
    again = one([*QUICK, kp(430 + 86400, ip=fresh, channel="ssh"), tor(430 + 86400 + 120, 3)])
    assert backend.probability == hyp(again, "actor").probability == 0.901694
    assert "ssh login" in backend.description
    # a persona whose exposure already came through a back-end login is not offered it
    ssh = one([tor(0), tor(60, 2), kp(300, channel="ssh"), tor(430, 3)])
    assert "backend-slip" not in {c.kind for c in ssh.counterfactuals}


def test_a_later_episode_from_an_address_already_counted_adds_nothing_against_unknown():
    # model 2.5: the same host again a day later (outside the 12 h address window, so its own
    # episode) counts once against an unknown party: episodes 6 and 1; the slip pattern still
    # sees two quick returns, S = 3 ** (2 / sqrt 2) = 4.728804; access 0.3, channels 0.5 once.
    # actor 6, false flag 6 / 4.728804 x 0.3 x 0.5 = 0.190322, unknown 1 ->
    # 1.2 / (1.2 + 0.009516 + 0.75) = 0.612396 (a new address: 0.899202, above)
    pa = one([*QUICK, kp(430 + 86400, channel="web"), tor(430 + 86400 + 120, 3)])
    assert hyp(pa, "actor").probability == 0.612396
    first, second = kinds(pa, "actor-range-episode")
    actor = hyp(pa, "actor").id
    assert first.likelihoods[actor] == 6.0 and second.likelihoods[actor] == 1.0
    assert "175.45.176.10 already used in an earlier episode" in second.summary
    assert "already used" not in first.summary
    [pattern] = kinds(pa, "slip-pattern")
    assert "quick-return x2" in pattern.summary
    # an episode with one new address among repeated ones still counts in full
    mixed = one(
        [
            *QUICK,
            kp(430 + 86400, channel="web"),
            kp(430 + 86400 + 30, ip="175.45.177.5", channel="web"),
            tor(430 + 86400 + 150, 3),
        ]
    )
    assert [line.likelihoods[actor] for line in kinds(mixed, "actor-range-episode")] == [6.0, 6.0]


def test_tipping_ratio_is_the_least_ratio_that_changes_the_outcome_rounded_up():
    # a point on a figure is returned as it is; a strict bound goes to the next figure up
    assert tipping_ratio(lambda k: k >= 2.5) == 2.5
    assert tipping_ratio(lambda k: k > 2.5) == 2.51
    assert tipping_ratio(lambda k: k >= 3.14159) == 3.15
    assert tipping_ratio(lambda k: k >= 1234.5) == 1240.0
    assert tipping_ratio(lambda k: k >= 1.0) == 1.0
    assert tipping_ratio(lambda k: False) is None
    assert tipping_ratio(lambda k: k > 50, limit=20.0) is None


def test_contrary_evidence_is_the_margin_of_a_favoured_verdict():
    # example 1: combined 6 : 0.3 : 1, weights 1.2 : 0.015 : 0.75 -> 0.610687, "likely" (>= 0.55)
    pa = one(QUICK)
    rows = {c.id.rsplit(":", 1)[1]: c for c in pa.counterfactuals if c.kind == "contrary-evidence"}
    assert set(rows) == {hyp(pa, "unknown").id, hyp(pa, "false_flag").id}
    # unknown x k: 1.2 / (1.215 + 0.75 k) < 0.55 from k > 1.289091 -> 1.29 (3 figures, up);
    # 1.2 / (1.215 + 0.9675) = 0.549828, "roughly even chance"
    unknown = rows[hyp(pa, "unknown").id]
    assert unknown.ratio == 1.29 and unknown.probability == 0.549828
    assert unknown.likelihood == "roughly even chance" and unknown.verdict_actor == "dprk-rgb"
    assert unknown.shift == pytest.approx(0.549828 - 0.610687, abs=1e-6)
    assert "an unknown third party" in unknown.description and "1.29 : 1" in unknown.description
    # false flag x k: 1.2 / (1.95 + 0.015 k) < 0.55 from k > 15.454545 -> 15.5; 1.2 / 2.1825 =
    # 0.549828 (the same denominator as above, by chance); more
    # than one line may carry (LINE_CAP 10), and the description says so
    flag = rows[hyp(pa, "false_flag").id]
    assert flag.ratio == 15.5 and flag.probability == 0.549828
    assert "beyond the 10 : 1 any one line may carry" in flag.description
    assert "beyond" not in unknown.description


def test_contrary_evidence_has_one_row_per_rival_with_two_actors():
    gru_event = observation(
        at(2 * 86400), "194.61.40.9", P, category=Category.ACTOR, actor="ru-gru", exclusivity=1.0
    )
    obs = [
        *QUICK,
        tor(86400),
        kp(86400 + 300, ip="175.45.177.3"),
        tor(86400 + 400, 4),
        gru_event,
        tor(2 * 86400 + 700, 5),
    ]
    pa = one(obs, actors=(ACTOR, RU))
    assert pa.verdict.actor == "dprk-rgb"
    rows = {c.id.rsplit(":", 1)[1]: c for c in pa.counterfactuals if c.kind == "contrary-evidence"}
    rivals = {h.id for h in pa.hypotheses if h.id != hyp(pa, "actor", "dprk-rgb").id}
    assert set(rows) == rivals and len(rivals) == 4
    for c in rows.values():
        assert c.likelihood != pa.verdict.likelihood and c.shift < 0
    # the rival actor needs less than its own false flag, the unknown party least of all
    gru = rows[hyp(pa, "actor", "ru-gru").id]
    gru_flag = rows[hyp(pa, "false_flag", "ru-gru").id]
    assert rows[hyp(pa, "unknown").id].ratio < gru.ratio < gru_flag.ratio
    assert "favouring Russia / GRU over every other" in gru.description


def test_supporting_evidence_is_the_least_ratio_that_lifts_an_unfavoured_verdict():
    # exclusivity 0.2 (the range-shared what-if above): weights 0.24 : 0.0086 : 0.75 -> 0.240336
    pa = one([tor(0), tor(60, 2), kp(300, exclusivity=0.2), tor(430, 3)])
    assert pa.verdict.probability == 0.240336 and pa.verdict.likelihood == "unlikely"
    [row] = [c for c in pa.counterfactuals if c.kind == "supporting-evidence"]
    # actor x k: 0.24 k / (0.24 k + 0.7586) >= 0.45 from k >= 2.586136 -> 2.59; 0.450370
    assert row.kind == "supporting-evidence" and row.ratio == 2.59
    assert row.probability == 0.45037 and row.likelihood == "roughly even chance"
    assert row.id.endswith(hyp(pa, "actor").id)
    assert all(c.ratio is None for c in pa.counterfactuals if c is not row)


def test_sender_written_episode_offers_origin_confirmed_and_no_hypothesis_offers_first_slip():
    obs = [
        tor(0),
        tor(60, 2),
        kp(300, channel="email", origin_trust=OriginTrust.SENDER_WRITTEN),
        tor(360, 3),
    ]
    confirmed = {c.kind: c for c in one(obs).counterfactuals}["origin-confirmed"]
    assert confirmed.probability == 0.610687  # becomes example 1 (see above)
    hop = [
        tor(0),
        tor(60, 2),
        observation(at(100), "210.52.109.9", P, category=Category.RESIDENTIAL, country="KP"),
        tor(200, 3),
    ]
    pa = one(hop)
    assert [c.kind for c in pa.counterfactuals] == ["first-actor-slip"]
    assert pa.counterfactuals[0].probability > 0.5


# --- dependence ---------------------------------------------------------------------------


def test_every_event_twice_and_one_slip_on_two_channels_keep_the_verdict():
    base = []
    for day in range(3):
        s = day * 86400
        base += [
            tor(s, 1),
            tor(s + 60, 2),
            kp(s + 300, f"175.45.17{6 + day}.1", digest=f"k{day}"),
            tor(s + 420, 3),
        ]
    v = one(base).verdict
    twice = base + [
        observation(
            o.event.time,
            o.event.src_ip,
            P,
            category=o.address.category,
            actor=o.address.actor,
            exclusivity=1.0 if o.address.actor else None,
            digest="copy" + o.event.id,
        )
        for o in base
    ]
    v2 = one(twice).verdict
    assert (v2.actor, v2.likelihood) == (v.actor, v.likelihood)
    assert v2.probability == pytest.approx(v.probability, abs=0.02)
    # the same slip seen by mail and by the web server in the same minute: one episode
    echo = base + [
        kp(
            day * 86400 + 310,
            f"175.45.17{6 + day}.1",
            channel="email",
            origin_trust=OriginTrust.TRUSTED_RELAY,
            digest=f"mail{day}",
        )
        for day in range(3)
    ]
    pa3 = one(echo)
    assert len(kinds(pa3, "actor-range-episode")) == 3
    assert (pa3.verdict.actor, pa3.verdict.likelihood) == (v.actor, v.likelihood)
    assert pa3.verdict.probability == v.probability


# --- bad input ----------------------------------------------------------------------------


def test_degenerate_personas_give_a_low_confidence_answer_never_an_error():
    t = datetime(2014, 12, 1, tzinfo=UTC)
    cases = {
        "one event": [kp(0)],
        "reserved only": [
            observation(t, f"10.0.0.{n}", P, category=Category.RESERVED, digest=str(n))
            for n in range(30)
        ],
        "all at one second": [
            observation(
                t,
                f"175.45.176.{n}" if n % 3 == 0 else f"185.220.101.{n}",
                P,
                category=Category.ACTOR if n % 3 == 0 else Category.TOR,
                actor="dprk-rgb" if n % 3 == 0 else None,
                exclusivity=1.0 if n % 3 == 0 else None,
                digest=str(n),
            )
            for n in range(40)
        ],
    }
    for name, obs in cases.items():
        pa = one(obs)
        assert pa.verdict.confidence == "low", name
        assert pa.verdict.likelihood not in ("very likely", "almost certain"), name
        assert not kinds(pa, "pattern-of-life"), name  # one day: no pattern to speak of
        assert all(math.isfinite(c.probability) for c in pa.counterfactuals), name
    assert assess([], [ACTOR]) == []
    assert assess([], [ACTOR], evidence_file=None) == []


# --- determinism --------------------------------------------------------------------------


def test_same_inputs_identical_assessment_with_evidence_file(tmp_path):
    path = write(
        tmp_path,
        "evidence:\n  - {id: code, summary: code reuse, reliability: B2,"
        " likelihoods: {actor: 3}}\n",
    )
    obs = office_week(datetime(2016, 6, 6, tzinfo=UTC)) + QUICK
    first = repr(assess(obs, [ACTOR, RU], evidence_file=path))
    assert repr(assess(list(reversed(obs)), [RU, ACTOR], evidence_file=path)) == first


# --- claimed origins (model 2.6) -----------------------------------------------------------


def _mail_via(category: Category, s: float, claimed, ip: str = "46.28.106.77"):
    """An e-mail that entered through ``ip`` (a rented server) whose own header names
    ``claimed`` (an observation's address facts) as the client behind it."""
    carrier = observation(
        at(s), ip, P, category=category, channel="email", country="CZ",
        origin_trust=OriginTrust.TRUSTED_RELAY, attributes={"claimed_client_ip": claimed.ip},
    )  # fmt: skip
    return replace(carrier, claimed=claimed)


def test_a_sender_written_claim_behind_cover_is_read_at_the_claimed_client():
    japan = observation(at(300), "126.209.87.154", P, category=Category.RESIDENTIAL, country="JP")
    mail = _mail_via(Category.HOSTING, 300, japan.address)
    pa = one([tor(0), tor(60, 2), mail, tor(430, 3)])
    [slip] = pa.slips
    # the slip is the claimed client's, with the e-mail's own event id and sender-written trust
    assert (slip.ip, slip.country, slip.event_ids) == ("126.209.87.154", "JP", (mail.event.id,))
    assert slip.origin_trust == OriginTrust.SENDER_WRITTEN and slip.closed_after_seconds == 130
    # country hit at the sender-written trust weight 0.05: unknown 1 + 0.1 x 0.05 = 1.005
    [line] = kinds(pa, "country-hit")
    assert line.likelihoods[hyp(pa, "unknown").id] == 1.005 and line.reliability == "E4"
    assert "origin sender-written" in line.summary
    assert read_claim(mail).event.id == mail.event.id
    assert read_claim(mail).event.src_ip == "126.209.87.154"


def test_a_claim_in_an_actor_range_is_a_sender_written_episode_and_an_exposed_entry_wins():
    kp_claim = kp(300, ip="175.45.176.33").address
    mail = _mail_via(Category.VPN, 300, kp_claim)
    pa = one([tor(0), tor(60, 2), mail, tor(430, 3)])
    # a forged header costs nothing, so only a framer or the operator puts an actor address
    # there: r = 6 for both (trust does not weaken r), reliability E (sender-written)
    [episode] = kinds(pa, "actor-range-episode")
    assert episode.likelihoods[hyp(pa, "actor").id] == 6.0
    assert episode.likelihoods[hyp(pa, "false_flag").id] == 6.0
    assert episode.reliability.startswith("E")
    # an entry that is itself exposed (a residential relay) is better evidence than a claim
    # about what lay behind it: the claim is not read
    exposed = _mail_via(Category.RESIDENTIAL, 300, kp_claim, ip="95.90.1.7")
    assert read_claim(exposed) is exposed
    # a claim of a reserved address, or of more cover, behind cover says nothing more
    for category, ip in ((Category.RESERVED, "10.1.2.3"), (Category.VPN, "45.83.64.9")):
        inner = observation(at(300), ip, P, category=category).address
        mail = _mail_via(Category.HOSTING, 300, inner)
        assert read_claim(mail) is mail
    pa = one([tor(0), tor(60, 2), exposed, tor(430, 3)])
    assert not [h for h in pa.hypotheses if h.kind == "actor"]


# --- ASN-level hits (model 2.6) -------------------------------------------------------------


def test_an_exposed_address_of_the_actors_own_as_is_a_weak_actor_range_hit():
    star = replace(ACTOR, asns=(131279,))
    hit = observation(
        at(300), "175.45.180.9", P, category=Category.RESIDENTIAL, country="KP", asn=131279
    )
    obs = [tor(0), tor(60, 2), hit, tor(430, 3)]
    pa = one(obs, actors=(star,))
    [episode] = kinds(pa, "actor-range-episode")
    # ASN_EXCLUSIVITY 0.5: r = 1 / (1/6 + 5/6 x 0.5) = 1.714286 for the actor and its false flag
    assert ASN_EXCLUSIVITY == 0.5
    assert episode.likelihoods[hyp(pa, "actor").id] == 1.714286
    assert episode.likelihoods[hyp(pa, "false_flag").id] == 1.714286
    assert "from AS131279, an AS of the side of DPRK" in episode.summary
    assert "outside its registered ranges (ASN-level hit; exclusivity 0.50" in episode.summary
    [slip] = pa.slips
    assert (slip.attributed_to, slip.prefix, slip.asn) == ("dprk-rgb", "AS131279", 131279)
    # quick return 3, access 1 / (0.3 + 0.7 x 0.5) -> false flag 0.65, channels 0.5:
    # 0.2 x 1.714286 : 0.05 x 1.714286 / 3 x 0.65 x 0.5 : 0.75 -> 0.311082 ("unlikely")
    assert hyp(pa, "actor").probability == 0.311082
    assert not kinds(pa, "country-hit")  # the AS is the more specific fact: no KP country line
    # without the registry's AS number the same event is a plain KP residential exposure
    plain = one(obs)
    assert not [h for h in plain.hypotheses if h.kind == "actor"]
    # an address of a registered range keeps its range; cover in the AS stays cover
    assert read_asn(kp(300), {131279: "dprk-rgb"}) == kp(300)
    vpn = observation(at(300), "175.45.180.10", P, category=Category.VPN, asn=131279)
    assert read_asn(vpn, {131279: "dprk-rgb"}) is vpn
    # an AS two actors claim tells them apart from nobody: no hit
    other = Actor(id="other", name="Other", asns=(131279,))
    both = one(obs, actors=(star, other))
    assert not [h for h in both.hypotheses if h.kind == "actor"]
