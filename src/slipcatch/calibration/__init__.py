"""The calibration bench: simulated cases with stated ground truth, assessed and scored.

A bench for the analytic model, not part of it: it imports ``slipcatch.analysis`` as a user's
run would and nothing imports it but the command line (``slipcatch simulate``), the tests and
``tools/``. The ground-truth distribution, the scoring and the latest figures are in
docs/calibration.md.

Modules: ``world`` (actors, address space, clocks, the builder of one case), ``cases`` (the four
kinds of truth and ``generate``), ``analyst`` (simulated analyst evidence), ``scoring``
(``Outcome``, ``Report``, ``score``, ``run``, ``run_seeds``), ``render`` (the Markdown report and
a progress line), ``scenarios`` (hand-sized seeded personas and ``observation``, for tests).

Public surface::

    generate(n, seed, analyst_evidence=True) -> list[SimCase]
    run(n=1000, seed=2026, analyst_evidence=True, *, progress=None) -> Report
    run_seeds(n, seeds, analyst_evidence=True, *, progress=None) -> Report
    score(outcomes, seed=0, analyst_evidence=True) -> Report
    render(report) -> str          report.as_dict() -> the JSON form
    parse_seeds("2026,7,101-112") -> list[int]
"""

from __future__ import annotations

from .analyst import AWAY_RATES, CODE_REUSE_RATES, analyst_document
from .cases import SCENARIO_SHARES, generate
from .render import ProgressLine, render
from .scoring import (
    BRIER_TARGET,
    HIGH_ERROR_TARGET,
    MIN_BAND_CASES,
    Outcome,
    Progress,
    Report,
    decompose,
    outcome,
    parse_seeds,
    run,
    run_seeds,
    score,
    standard_error,
)
from .world import ACTORS, MIMIC_HOURS_SHARE, NIGHT_SHARE, SimCase

__all__ = [
    "ACTORS",
    "AWAY_RATES",
    "BRIER_TARGET",
    "CODE_REUSE_RATES",
    "HIGH_ERROR_TARGET",
    "MIMIC_HOURS_SHARE",
    "MIN_BAND_CASES",
    "NIGHT_SHARE",
    "SCENARIO_SHARES",
    "Outcome",
    "Progress",
    "ProgressLine",
    "Report",
    "SimCase",
    "analyst_document",
    "decompose",
    "generate",
    "outcome",
    "parse_seeds",
    "render",
    "run",
    "run_seeds",
    "score",
    "standard_error",
]
