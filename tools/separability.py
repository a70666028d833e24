#!/usr/bin/env python3
"""How separable is the simulated world? A learned upper bound for the calibration harness.

The calibration harness (``slipcatch.calibration``) scores the model's forecasts on
simulated cases. Whether a Brier score is good depends on how much the simulated evidence can
tell at all. This tool estimates that: it trains classifiers on simulated cases *with their
truth* (seeds that are not scored) and scores them on the harness's cases, next to the model:

- ``model``: the model's own forecasts (the harness's scored Brier);
- ``model, recalibrated``: a logistic recalibration of the model's probability (what better
  calibration alone could gain);
- ``lines, linear``: logistic regression on the model's evidence lines (log-likelihood ratios of
  the actor and of its false flag against the unknown party, summed per line kind): what
  re-weighting the model's lines could gain;
- ``lines, boosted``: gradient boosting on the same line features (non-linear combinations);
- ``all features, boosted``: gradient boosting on the lines plus raw case features (events in the
  range, channels, origin trust, exclusivity, cover share, timing, analyst items).

A classifier that learns from the simulator's truth also learns how the simulator draws cases,
including choices no real case promises (docs/calibration.md, "How separable is the simulated
world"). Its score is a bound for *this* simulated world, not a target for the model.

Usage (needs the ``diag`` extra: ``pip install -e '.[diag]'``)::

    python tools/separability.py [--train-cases 1000] [--train-seeds 101-112]
                                 [--eval-cases 1000] [--eval-seeds 2026,7,11]
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slipcatch import calibration
from slipcatch.analysis import assess
from slipcatch.analysis import pattern_of_life as pol
from slipcatch.analysis.reading import event_trust
from slipcatch.model import COVER, Category

__all__ = ["Row", "features", "main", "rows", "scores"]


@dataclass(frozen=True)
class Row:
    """One scored case: its features, its truth (1: the actor of interest operates it)."""

    seed: int
    index: int
    variant: str
    y: int
    model_p: float
    x: Mapping[str, float]


def features(case: calibration.SimCase) -> tuple[float, dict[str, float]] | None:
    """(model forecast, features) of a case the harness scores; None when it scores none."""
    [pa] = assess(case.observations, calibration.ACTORS, evidence_file=case.analyst)
    mine = [h for h in pa.hypotheses if h.kind == "actor" and h.actor == case.actor]
    if case.actor is None or not mine:
        return None
    a_id = mine[0].id
    f_id = next(h.id for h in pa.hypotheses if h.kind == "false_flag" and h.actor == case.actor)
    u_id = next(h.id for h in pa.hypotheses if h.kind == "unknown")
    x: Counter[str] = Counter()
    for line in pa.evidence:
        lk = line.likelihoods
        x[f"line:{line.kind}:actor"] += math.log(lk.get(a_id, 1.0) / lk.get(u_id, 1.0))
        x[f"line:{line.kind}:false_flag"] += math.log(lk.get(f_id, 1.0) / lk.get(u_id, 1.0))
    obs = case.observations
    in_range = [
        o for o in obs if o.address.category == Category.ACTOR and o.address.actor == case.actor
    ]
    x["raw:events"] = len(obs)
    x["raw:cover_share"] = sum(o.address.category in COVER for o in obs) / len(obs)
    x["raw:range_events"] = len(in_range)
    for o in in_range:
        trust = event_trust(o)
        x[f"raw:trust:{trust.value if trust else 'logged'}"] += 1
        x[f"raw:channel:{o.event.channel}"] += 1
    exclusivities = [
        f.exclusivity for o in in_range for f in o.address.facts if f.exclusivity is not None
    ]
    x["raw:exclusivity"] = max(exclusivities) if exclusivities else -1.0
    residential = [o for o in obs if o.address.category == Category.RESIDENTIAL]
    x["raw:residential"] = len(residential)
    x["raw:residential_countries"] = len({o.address.country for o in residential})
    prof = pol.profile(obs)
    if prof is not None:
        zone = next(a.timezones[0] for a in calibration.ACTORS if a.id == case.actor)
        x["raw:timing_log_r"] = math.log(pol.zone_ratio(prof, zone) or 1.0)
        x["raw:timing_share"] = pol.zone_share(prof.hours, zone) or 0.0
        x["raw:active_hours"] = len(prof.hours)
    for item in case.analyst.items if case.analyst is not None else ():
        x[f"raw:analyst:{item.key}"] = 1.0
        x[f"raw:analyst:{item.key}:code"] = "ABCDEF".index(item.reliability[0]) * 10 + int(
            item.reliability[1]
        )
    return mine[0].probability, dict(x)


def rows(cases: int, seeds: Sequence[int]) -> list[Row]:
    """The scored cases of ``seeds``, ``cases`` each, with their features."""
    out = []
    for seed in seeds:
        for case in calibration.generate(cases, seed):
            got = features(case)
            if got is not None:
                p, x = got
                y = int(case.truth == case.actor)
                out.append(Row(seed, case.index, case.variant, y, p, x))
    return out


def _brier(p: Sequence[float], y: Sequence[int]) -> float:
    return math.fsum((a - b) ** 2 for a, b in zip(p, y, strict=True)) / len(y)


def scores(train: Sequence[Row], *tests: Sequence[Row]) -> list[dict[str, float]]:
    """Brier score of each forecaster on each of ``tests``; the classifiers are fitted once, on
    ``train`` (with the features seen there)."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    keys = sorted({k for r in train for k in r.x})
    lines = [k for k in keys if k.startswith("line:")]

    def matrix(rs: Sequence[Row], cols: Sequence[str], fill: float) -> np.ndarray:
        return np.array([[r.x.get(c, fill) for c in cols] for r in rs], dtype=float)

    def logit(rs: Sequence[Row]) -> np.ndarray:
        p = np.clip(np.array([r.model_p for r in rs]), 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p))[:, None]

    y_train = np.array([r.y for r in train])

    def boosted(cols: Sequence[str]) -> HistGradientBoostingClassifier:
        return HistGradientBoostingClassifier(
            max_iter=300,
            learning_rate=0.05,
            max_leaf_nodes=15,
            min_samples_leaf=40,
            l2_regularization=1.0,
            random_state=0,
        ).fit(matrix(train, cols, math.nan), y_train)

    recal = LogisticRegression().fit(logit(train), y_train)
    linear = LogisticRegression(C=10.0, max_iter=5000).fit(matrix(train, lines, 0.0), y_train)
    boosted_lines, boosted_all = boosted(lines), boosted(keys)

    def probabilities(model: Any, x: np.ndarray) -> list[float]:
        return [float(v) for v in model.predict_proba(x)[:, 1]]

    out = []
    for test in tests:
        y = [r.y for r in test]
        out.append(
            {
                "model": _brier([r.model_p for r in test], y),
                "model, recalibrated": _brier(probabilities(recal, logit(test)), y),
                "lines, linear": _brier(probabilities(linear, matrix(test, lines, 0.0)), y),
                "lines, boosted": _brier(
                    probabilities(boosted_lines, matrix(test, lines, math.nan)), y
                ),
                "all features, boosted": _brier(
                    probabilities(boosted_all, matrix(test, keys, math.nan)), y
                ),
            }
        )
    return out


#: Seed lists: ``"2026,7,11"`` or ranges ``"101-112"`` (the harness's own parser).
_seeds = calibration.parse_seeds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/separability.py", description=__doc__)
    parser.add_argument("--train-cases", type=int, default=1000)
    parser.add_argument("--train-seeds", default="101-112")
    parser.add_argument("--eval-cases", type=int, default=1000)
    parser.add_argument("--eval-seeds", default="2026,7,11")
    args = parser.parse_args(argv)
    train = rows(args.train_cases, _seeds(args.train_seeds))
    test_seeds = _seeds(args.eval_seeds)
    test = rows(args.eval_cases, test_seeds)
    print(f"training: {len(train)} scored cases; evaluation: {len(test)} scored cases")
    print("| forecaster | " + " | ".join(f"seed {s}" for s in test_seeds) + " | all |")
    print("| --- |" + " ---: |" * (len(test_seeds) + 1))
    *per_seed, pooled = scores(train, *[[r for r in test if r.seed == s] for s in test_seeds], test)
    for name in pooled:
        cells = " | ".join(f"{s[name]:.4f}" for s in per_seed)
        print(f"| {name} | {cells} | {pooled[name]:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
