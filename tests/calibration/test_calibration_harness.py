"""The calibration harness (slipcatch.calibration) and its command line, `slipcatch simulate`."""

from __future__ import annotations

import io
import json
import sys

import pytest
import yaml

from slipcatch import calibration
from slipcatch.analysis import assess, load_evidence_file
from slipcatch.cli import _build_parser, _cmd_simulate, main

SEED = 2026
CASES = 500

# Bounds for the CI run (500 cases, seed 2026, with simulated analyst evidence):
# model 2.5 on simulator 4 scored 0.0986 (scored forecasts, 293 of 500) and 0.0978 (all cases),
# 26 high-confidence verdicts, none wrong. The target, calibration.BRIER_TARGET = 0.10,
# is asserted for both scores on the classes it was set on: model 2.7 scores them 0.0985 (261
# scored) and 0.0953 (448 cases). Two classes of issue 19 (proven staging and pool-heavy
# operators, 52 of the 500 cases) took the whole run to 0.1081 / 0.1017 on simulator 5;
# simulator 6 (a pool user "elsewhere" at least 3 h from the actor's clock, the pool-heavy class
# with the world's analyst evidence) brings them to 0.1231 and the run to 0.1026 / 0.0982
# (docs/calibration.md, "Latest figures"). The target is asserted on the whole run's all-cases
# score; the whole run's scored forecasts, 0.1026 on these 500 (0.0994 pooled over 15,000
# cases), are bounded by their own figure rounded up, so that a regression fails.
BRIER_BOUND = calibration.BRIER_TARGET
BRIER_ALL_BOUND = calibration.BRIER_TARGET
BRIER_WITH_NEW_CLASSES = 0.103
NEW_CLASSES_BOUND = 0.124  # the 52 cases of the two classes: 0.1231 (simulator 5: 0.1567)
#: Variants of the classes model 2.7 added (issue 19, simulator 5; simulator 6 redraws "elsewhere"
#: and gives the pool-heavy class the world's analyst evidence).
EXTRA_VARIANTS = frozenset(
    {
        "framed/proven-staging",
        "actor/staging-claimed-wrongly",
        "actor/pool-heavy",
        "unknown/pool-same-zone",
        "unknown/pool-elsewhere",
    }
)
HIGH_REACHED = 23


@pytest.fixture(scope="module")
def short_outcomes() -> list[calibration.Outcome]:
    return [calibration.outcome(c) for c in calibration.generate(CASES, SEED)]


@pytest.fixture(scope="module")
def short_run(short_outcomes: list[calibration.Outcome]) -> calibration.Report:
    return calibration.score(short_outcomes, SEED)  # what calibration.run(CASES, SEED) scores


def test_short_run_brier_and_high_confidence_bounds(short_run, short_outcomes):
    assert short_run.cases == CASES and short_run.analyst_evidence
    earlier = calibration.score(
        [o for o in short_outcomes if o.case.variant not in EXTRA_VARIANTS], SEED
    )
    assert earlier.cases == 448
    assert earlier.brier <= BRIER_BOUND
    assert earlier.brier_all <= BRIER_ALL_BOUND
    assert short_run.brier <= BRIER_WITH_NEW_CLASSES
    assert short_run.brier_all <= calibration.BRIER_TARGET  # the whole run, new classes included
    new = calibration.score([o for o in short_outcomes if o.case.variant in EXTRA_VARIANTS], SEED)
    assert new.cases == 52 and new.brier <= NEW_CLASSES_BOUND
    assert short_run.high >= HIGH_REACHED  # high confidence is reachable...
    assert short_run.high_error <= calibration.HIGH_ERROR_TARGET  # ...and is rarely wrong
    assert short_run.bands_ok  # every judged band inside its range or next to it
    judged = {term: j for term, _, _, _, j in short_run.bands}
    assert judged["very unlikely"] == judged["very likely"] == judged["almost certain"] == "inside"


def test_high_confidence_comes_only_with_analyst_evidence(short_run):
    # since model 2.2 every line read off the adversary's own activity is one kind (model 2.3
    # adds the range-access line to it, model 2.4 the exposure-channels line), so "high" needs
    # an analyst item; the cases without any are never high
    by_group = {g: (n, high) for g, n, _, _, high, _ in short_run.by_analyst}
    assert sum(high for g, (_, high) in by_group.items() if g.endswith("/none")) == 0
    assert by_group["actor/code-reuse"][1] == 24  # all of them right on this run
    bare = calibration.run(40, SEED, analyst_evidence=False)
    assert not bare.analyst_evidence and bare.high == 0
    assert {g.rsplit("/", 1)[1] for g, *_ in bare.by_analyst} == {"none"}


def test_ground_truth_includes_the_ambiguous_cases():
    variants = {case.variant for case in calibration.generate(CASES, SEED)}
    assert {
        "framed/mimic",
        "framed/forged-headers",
        "framed/public-statements",
        "unknown/hop-in-actor-range",
        "actor/covered/1-lapses",
    } <= variants
    assert any(v.startswith("actor/sender-written/") for v in variants)
    assert any(v.endswith("/0-lapses") for v in variants)  # actors that never slip


def test_parties_other_than_the_actor_use_one_to_three_hosts_in_its_range():
    # simulator 4: a host is an address; the actor's own operators use any address of the range
    def range_addresses(case: calibration.SimCase) -> set[str]:
        return {o.address.ip for o in case.observations if o.address.category.value == "actor"}

    cases = calibration.generate(CASES, SEED)
    staged = [c for c in cases if c.variant in ("framed/mimic", "framed/public-statements")]
    assert staged and all(1 <= len(range_addresses(c)) <= 3 for c in staged)
    assert {len(range_addresses(c)) for c in staged} == {1, 2, 3}
    hops = [c for c in cases if c.variant == "unknown/hop-in-actor-range"]
    assert hops and all(1 <= len(range_addresses(c)) <= 3 for c in hops)
    actors = [c for c in cases if c.variant == "actor/covered/2+-lapses"]
    assert max(len(range_addresses(c)) for c in actors) > 3


def test_cases_are_deterministic_and_a_prefix_is_a_smaller_run():
    a = calibration.generate(30, 7)
    b = calibration.generate(60, 7)
    assert repr(a) == repr(b[:30])
    assert repr(calibration.generate(30, 8)) != repr(a)


def test_score_on_hand_made_outcomes():
    case_true = calibration.SimCase(0, "actor", "actor/x", "dprk-rgb", "dprk-rgb", ())
    case_false = calibration.SimCase(1, "framed", "framed/x", "dprk-rgb", None, ())
    case_none = calibration.SimCase(2, "noise", "noise/plain", None, None, ())
    outcomes = [
        calibration.Outcome(case_true, 0.9, "dprk-rgb", "actor", "very likely", "high"),
        calibration.Outcome(case_false, 0.6, "dprk-rgb", "actor", "likely", "high"),
        calibration.Outcome(case_none, None, None, "unknown", "almost no chance", "low"),
    ]
    report = calibration.score(outcomes, seed=1)
    assert report.assessable == 2
    assert report.brier == pytest.approx((0.1**2 + 0.6**2) / 2, abs=1e-6)
    assert report.brier_all == pytest.approx((0.1**2 + 0.6**2 + 0.0) / 3, abs=1e-6)
    assert (report.high, report.high_wrong) == (2, 1)
    assert dict(report.confusion)["framed"] == (("names its actor", 1),)
    assert dict(report.confusion)["noise"] == (("no actor hypothesis", 1),)
    assert report.bands[4][:2] == ("likely", 1) and report.bands[4][4] == "too few to judge"
    # standard errors of the means of the squared errors: (0.01, 0.36) -> sd 0.261630 / sqrt 2;
    # (0.01, 0.36, 0) -> mean 0.123333, sd 0.205020 / sqrt 3
    assert report.brier_se == pytest.approx(0.175, abs=1e-6)
    assert report.brier_all_se == pytest.approx(0.118369, abs=1e-6)
    assert calibration.standard_error([0.0, 1.0]) == pytest.approx(0.5)
    assert calibration.standard_error([0.3]) == 0.0
    text = calibration.render(report)
    assert "standard error 0.1750, 95 % interval 0.0000-0.5280" in text
    # 0.185 misses the 0.10 target, but the target lies inside its interval: the report says so
    assert "TARGETS MISSED\n(the Brier target 0.1 lies inside the score's 95 % interval" in text


def test_cli_simulate_prints_the_report(capsys):
    assert main(["simulate", "--cases", "12", "--seed", "3", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["cases"] == 12 and doc["seed"] == 3
    assert {"brier", "brier_all_cases", "bands", "confusion", "high_confidence"} <= set(doc)
    assert doc["brier_standard_error"] > 0 and doc["brier_all_cases_standard_error"] > 0
    assert main(["simulate", "--cases", "0"]) == 2
    assert "--cases must be at least 1" in capsys.readouterr().err


def test_seeds_are_scored_together(capsys):
    one, other = calibration.run(15, 3), calibration.run(15, 4)
    pooled = calibration.run_seeds(15, [3, 4])
    assert (pooled.cases, pooled.seed, pooled.seeds) == (30, 3, (3, 4))
    assert pooled.assessable == one.assessable + other.assessable
    # the pooled Brier score is the mean over both runs' scored forecasts
    expected = (one.brier * one.assessable + other.brier * other.assessable) / pooled.assessable
    assert pooled.brier == pytest.approx(expected, abs=1e-5)
    assert pooled.high == one.high + other.high
    assert main(["simulate", "--cases", "15", "--seeds", "3,4", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["cases"], doc["seeds"]) == (30, [3, 4])
    assert main(["simulate", "--seeds", "3,x"]) == 2
    assert "--seeds must be integers separated by commas" in capsys.readouterr().err
    assert calibration.parse_seeds(" 2026, 7,11 ") == [2026, 7, 11]
    with pytest.raises(ValueError):
        calibration.parse_seeds(",")


def test_cli_simulate_renders_markdown(capsys):
    assert main(["simulate", "--cases", "8", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert "| ICD 203 band | cases | mean forecast | observed | judgement |" in out


def test_cli_simulate_without_analyst_evidence(capsys):
    assert main(["simulate", "--cases", "8", "--seed", "5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["analyst_evidence"] is True
    assert main(["simulate", "--cases", "8", "--seed", "5", "--json", "--no-analyst-evidence"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["analyst_evidence"] is False
    assert doc == calibration.run(8, 5, analyst_evidence=False).as_dict()


def test_cli_simulate_exits_0_when_a_target_is_missed(capsys):
    # 6 cases of seed 2 miss the Brier target: the run still completed, so the exit status is 0
    # and the report says so
    assert main(["simulate", "--cases", "6", "--seed", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["passed"] is False
    assert main(["simulate", "--cases", "6", "--seed", "2"]) == 0
    assert "TARGETS MISSED" in capsys.readouterr().out


def test_progress_line_counts_cases_and_rate():
    stream = io.StringIO()
    ticks = iter([0.0, 0.1, 0.2, 1.0, 2.0])
    line = calibration.ProgressLine(stream, interval=0.5, clock=lambda: next(ticks))
    line(1, 3)  # shown: the first call
    line(2, 3)  # 0.2 s: within the interval, not shown
    line(3, 3)  # the last case: always shown, ends the line
    assert stream.getvalue() == (
        "\rsimulate: 1/3 cases, 10.0 cases/s\rsimulate: 3/3 cases, 3.0 cases/s\n"
    )


def test_run_tells_progress_after_each_case():
    seen: list[tuple[int, int]] = []
    report = calibration.run(4, 3, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert report == calibration.run(4, 3)
    seen.clear()
    calibration.run_seeds(2, [3, 4], progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_cli_simulate_progress_only_when_forced_or_on_a_terminal(capsys):
    args = _build_parser().parse_args(["simulate", "--cases", "3", "--seed", "5"])
    assert _cmd_simulate(args, progress=True) == 0
    err = capsys.readouterr().err
    assert err.startswith("\rsimulate: 1/3 cases") and "simulate: 3/3 cases" in err
    assert err.endswith("\n")
    # under pytest stderr is not a terminal: silent, as in a pipe
    assert main(["simulate", "--cases", "3", "--seed", "5"]) == 0
    assert capsys.readouterr().err == ""


def test_cli_simulate_quiet_is_silent_on_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    args = _build_parser().parse_args(["simulate", "--cases", "3", "--seed", "5"])
    assert _cmd_simulate(args) == 0
    assert "simulate: 3/3 cases" in capsys.readouterr().err
    assert main(["simulate", "--cases", "3", "--seed", "5", "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_the_classes_of_model_2_7_replace_their_share_and_leave_the_rest():
    with_extra = calibration.generate(1000, SEED)
    extra = [c for c in with_extra if c.variant in EXTRA_VARIANTS]
    # 10 % of the cases (4 % proven staging, 6 % pool-heavy), drawn from their own stream
    assert 70 <= len(extra) <= 130
    assert {c.variant for c in extra} == EXTRA_VARIANTS
    for case in extra:
        if "staging" in case.variant:
            [item] = case.analyst.items
            assert item.effect == "staging" and item.refutes == (f"actor:{case.actor}",)
            assert item.justification
        else:
            excl = {f.exclusivity for o in case.observations for f in o.address.facts if f.actor}
            assert excl and max(excl) <= 0.3
            assert len(case.observations) >= 20
            # simulator 6: the world's analyst evidence, as for every case without its own
            keys = {item.key for item in case.analyst.items} if case.analyst else set()
            assert keys <= {"code-reuse", "language"}


def test_analyst_evidence_rates_and_form():
    cases = [c for c in calibration.generate(1000, SEED) if c.variant not in EXTRA_VARIANTS]
    found: dict[str, list[int]] = {}
    codes: dict[str, set[str]] = {"code-reuse": set(), "language": set()}
    for case in cases:
        keys = {item.key: item for item in (case.analyst.items if case.analyst else ())}
        found.setdefault(case.scenario, []).append("code-reuse" in keys)
        for key, item in keys.items():
            codes[key].add(item.reliability)
            assert item.personas == (f"persona-{case.index}",)
            named = {k.split(":", 1)[1] for k, _ in item.likelihoods if ":" in k}
            assert named == {case.actor}  # the item is about the actor the forecast is about
        if "language" in keys:
            # only about an actor under consideration: its range was hit or code names it
            assert "code-reuse" in keys or any(
                o.address.actor == case.actor for o in case.observations
            )
    for scenario, rate in calibration.CODE_REUSE_RATES.items():
        hits = found[scenario]
        sigma = (rate * (1 - rate) / len(hits)) ** 0.5
        assert abs(sum(hits) / len(hits) - rate) <= 3 * sigma, scenario
    assert codes["code-reuse"] <= {f"{a}{c}" for a in "ABC" for c in "123"}
    assert codes["language"] <= {f"{a}{c}" for a in "BCD" for c in "234"}
    # a code-reuse item is of the same form whoever the truth is: an actor's, a framer's planted
    # one and a coincidental one state ratios from the same set, with or without a false flag
    forms: dict[str, set[tuple[float, bool]]] = {}
    for case in cases:
        for item in case.analyst.items if case.analyst else ():
            if item.key == "code-reuse":
                table = {k.split(":")[0]: v for k, v in item.likelihoods}
                assert table.get("false_flag", table["actor"] / 2) == table["actor"] / 2
                forms.setdefault(case.scenario, set()).add((table["actor"], "false_flag" in table))
    assert forms["actor"] == {(float(r), f) for r in range(3, 11) for f in (False, True)}
    assert forms["framed"] <= forms["actor"] and len(forms["framed"]) >= 8


def test_analyst_evidence_takes_the_evidence_file_path(tmp_path):
    cases = calibration.generate(60, SEED)
    case = next(c for c in cases if c.analyst and len(c.analyst.items) == 2)
    doc = {
        "evidence": [
            {
                "id": item.key,
                "summary": item.summary,
                "reliability": item.reliability,
                "personas": list(item.personas),
                "likelihoods": dict(item.likelihoods),
            }
            for item in case.analyst.items
        ]
    }
    path = tmp_path / "analyst.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    from_file = load_evidence_file(path, [a.id for a in calibration.ACTORS])
    assert from_file.items == case.analyst.items
    by_file = assess(case.observations, calibration.ACTORS, evidence_file=path)
    by_harness = assess(case.observations, calibration.ACTORS, evidence_file=case.analyst)
    assert [pa.verdict for pa in by_file] == [pa.verdict for pa in by_harness]
    [pa] = by_harness
    assert sorted(line.kind for line in pa.evidence if line.kind == "analyst") == ["analyst"] * 2


def test_analyst_evidence_leaves_the_observations_alone():
    with_items = calibration.generate(40, 7)
    without = calibration.generate(40, 7, analyst_evidence=False)
    assert [c.observations for c in with_items] == [c.observations for c in without]
    assert all(c.analyst is None for c in without)
    assert any(c.analyst is not None for c in with_items)


def test_harness_actor_knows_what_the_shipped_registry_knows():
    # the harness tests the model with the knowledge a user's run has: the simulated DPRK actor
    # carries the registry's sponsor, time zone and operating countries
    from slipcatch.intel.sources import actors as registry

    shipped = {a.id: a for a in registry.load().actors}["dprk-rgb"]
    [dprk] = [a for a in calibration.ACTORS if a.id == "dprk-rgb"]
    assert (dprk.country, dprk.timezones, dprk.operating_countries) == (
        shipped.country,
        shipped.timezones,
        shipped.operating_countries,
    )


def test_brier_decomposition_by_band_on_hand_made_pairs():
    pairs = [(0.9, 1), (0.85, 0), (0.6, 0), (0.7, 1), (0.1, 0)]
    # bands: very likely {0.9: 1, 0.85: 0} mean 0.875, observed 0.5; likely {0.6: 0, 0.7: 1}
    # mean 0.65, observed 0.5; very unlikely {0.1: 0}. Observed overall 0.4.
    # reliability (2 x 0.375^2 + 2 x 0.15^2 + 0.1^2) / 5 = 0.33625 / 5 = 0.06725
    # resolution (2 x 0.1^2 + 2 x 0.1^2 + 0.4^2) / 5 = 0.2 / 5 = 0.04; uncertainty 0.4 x 0.6
    assert calibration.decompose(pairs) == (0.06725, 0.04, 0.24)
    assert calibration.decompose([]) == (0.0, 0.0, 0.0)
    # forecasts equal to their band's frequency leave nothing to recalibrate
    assert calibration.decompose([(0.5, 1), (0.5, 0)]) == (0.0, 0.0, 0.25)


def test_the_report_carries_the_decomposition(capsys):
    report = calibration.run(40, 5)
    rel, res, unc = report.decomposition
    assert 0 <= rel <= 1 and 0 <= res <= unc <= 0.25
    assert f"reliability {rel:.4f} (the most a recalibration could remove)" in calibration.render(
        report
    )
    assert report.as_dict()["brier_decomposition"] == {
        "reliability": rel,
        "resolution": res,
        "uncertainty": unc,
    }
