"""tools/separability.py: the learned bound on how separable the simulated world is."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

from slipcatch import calibration

_PATH = Path(__file__).resolve().parents[1] / "tools" / "separability.py"
_SPEC = importlib.util.spec_from_file_location("separability", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
sep = importlib.util.module_from_spec(_SPEC)
sys.modules["separability"] = sep
_SPEC.loader.exec_module(sep)


def test_rows_are_the_harness_scored_cases_with_its_forecasts():
    rows = sep.rows(60, [2026])
    report = calibration.run(60, 2026)
    assert len(rows) == report.assessable
    brier = math.fsum((r.model_p - r.y) ** 2 for r in rows) / len(rows)
    assert round(brier, 6) == report.brier
    # every row carries the model's line features and the raw case features
    assert all(
        any(k.startswith("line:actor-range-episode") for k in r.x)
        or any(k.startswith("line:analyst") for k in r.x)
        for r in rows
    )
    assert all(r.x["raw:range_events"] >= 0 and 0 <= r.x["raw:cover_share"] <= 1 for r in rows)


def test_scores_name_every_forecaster_and_the_model_score_is_the_harness_score():
    train = sep.rows(150, [5])
    test = sep.rows(60, [2026])
    [got] = sep.scores(train, test)
    assert list(got) == [
        "model",
        "model, recalibrated",
        "lines, linear",
        "lines, boosted",
        "all features, boosted",
    ]
    assert round(got["model"], 6) == calibration.run(60, 2026).brier
    assert all(0.0 <= v <= 1.0 for v in got.values())


def test_seed_ranges():
    assert sep._seeds("101-103,7") == [101, 102, 103, 7]
