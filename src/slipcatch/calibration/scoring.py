"""Scoring: each case assessed as a user's run would be, its forecast scored against the truth.

The forecast scored is the model's probability that the case's actor of interest (the true
actor, the framed one, the one whose range was touched, or the one an analyst item names)
operates the persona. ``score`` gives the Brier score, reliability by ICD 203 band, verdict
confusion and the error rate of high confidence (docs/calibration.md explains every figure).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from slipcatch.analysis import assess
from slipcatch.model import ICD203_BANDS, icd203_term

from .cases import generate
from .world import ACTORS, SimCase

__all__ = [
    "BRIER_TARGET",
    "HIGH_ERROR_TARGET",
    "MIN_BAND_CASES",
    "Outcome",
    "Progress",
    "Report",
    "decompose",
    "parse_seeds",
    "run",
    "run_seeds",
    "score",
    "standard_error",
]

#: Called after each assessed case with (cases done, cases in the run).
Progress = Callable[[int, int], None]

#: Targets (issue "Assessment in depth"): Brier score, and the error rate of high confidence.
BRIER_TARGET = 0.10
HIGH_ERROR_TARGET = 0.05
#: A probability band with fewer cases than this is reported but not judged.
MIN_BAND_CASES = 10


@dataclass(frozen=True)
class Outcome:
    """What the model said about one case."""

    case: SimCase
    forecast: float | None  # P(actor of interest operates the persona); None: no hypothesis
    verdict_actor: str | None
    best_kind: str
    likelihood: str
    confidence: str

    @property
    def outcome(self) -> int:
        return int(self.case.actor is not None and self.case.truth == self.case.actor)

    @property
    def correct(self) -> bool:
        return self.verdict_actor == self.case.truth


def outcome(case: SimCase) -> Outcome:
    """What the model says about one simulated case (its forecast for the actor of interest)."""
    [pa] = assess(case.observations, ACTORS, evidence_file=case.analyst)
    v = pa.verdict
    best = max(pa.hypotheses, key=lambda h: (h.probability, h.kind == "unknown"))
    forecast = None
    if case.actor is not None:
        mine = [h for h in pa.hypotheses if h.kind == "actor" and h.actor == case.actor]
        forecast = mine[0].probability if mine else None
    return Outcome(case, forecast, v.actor, best.kind, v.likelihood, v.confidence)


@dataclass(frozen=True)
class Report:
    """Scores of one calibration run (docs/calibration.md explains every figure)."""

    cases: int
    seed: int
    assessable: int
    brier: float
    brier_all: float
    bands: tuple[tuple[str, int, float, float, str], ...]  # term, n, mean p, observed, judgement
    confusion: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]
    high: int
    high_wrong: int
    # variant, cases, mean forecast, observed frequency, Brier score of its scored forecasts
    by_variant: tuple[tuple[str, int, float, float, float | None], ...]
    # truth/analyst items, cases, forecasts scored, Brier, high confidence, high and wrong
    by_analyst: tuple[tuple[str, int, int, float | None, int, int], ...] = ()
    analyst_evidence: bool = True
    # standard errors of the two Brier scores (the cases' squared errors: sd / sqrt(n))
    brier_se: float = 0.0
    brier_all_se: float = 0.0
    # a pooled run (``run_seeds``): the seeds whose cases it holds (``cases`` counts them all)
    seeds: tuple[int, ...] = ()
    # Murphy's decomposition of the scored forecasts' Brier score by ICD 203 band
    # (``decompose``): reliability, resolution, uncertainty
    decomposition: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def high_error(self) -> float:
        return self.high_wrong / self.high if self.high else 0.0

    @property
    def bands_ok(self) -> bool:
        return all(j != "outside" for *_, j in self.bands)

    @property
    def passed(self) -> bool:
        return self.brier <= BRIER_TARGET and self.high_error <= HIGH_ERROR_TARGET and self.bands_ok

    def as_dict(self) -> dict[str, object]:
        return {
            "cases": self.cases,
            "seed": self.seed,
            "seeds": list(self.seeds),
            "assessable": self.assessable,
            "brier": self.brier,
            "brier_all_cases": self.brier_all,
            "brier_standard_error": self.brier_se,
            "brier_all_cases_standard_error": self.brier_all_se,
            "bands": [
                dict(zip(("term", "n", "mean_forecast", "observed", "judgement"), b, strict=True))
                for b in self.bands
            ],
            "confusion": {row: dict(cols) for row, cols in self.confusion},
            "high_confidence": {
                "cases": self.high,
                "wrong": self.high_wrong,
                "error_rate": round(self.high_error, 6),
            },
            "by_variant": [
                dict(zip(("variant", "n", "mean_forecast", "observed", "brier"), v, strict=True))
                for v in self.by_variant
            ],
            "brier_decomposition": dict(
                zip(("reliability", "resolution", "uncertainty"), self.decomposition, strict=True)
            ),
            "analyst_evidence": self.analyst_evidence,
            "by_analyst_evidence": [
                dict(
                    zip(("group", "n", "scored", "brier", "high", "high_wrong"), v, strict=True)
                )
                for v in self.by_analyst
            ],
            "targets": {"brier": BRIER_TARGET, "high_confidence_error": HIGH_ERROR_TARGET},
            "passed": self.passed,
        }


def _band_index(p: float) -> int:
    return [t for t, _, _ in ICD203_BANDS].index(icd203_term(min(1.0, max(0.0, p))))


def standard_error(values: Sequence[float]) -> float:
    """Standard error of the mean of ``values`` (sample standard deviation / sqrt(n)); 0 for
    fewer than two values. For a Brier score, the values are the cases' squared errors."""
    n = len(values)
    if n < 2:
        return 0.0
    mean = math.fsum(values) / n
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1) / n)


def decompose(pairs: Sequence[tuple[float, int]]) -> tuple[float, float, float]:
    """Murphy's decomposition of the Brier score of (forecast, outcome) ``pairs``, the forecasts
    grouped by ICD 203 band: (reliability, resolution, uncertainty), with
    reliability ``sum n_k (mean forecast_k - observed_k)^2 / N``, resolution
    ``sum n_k (observed_k - observed)^2 / N`` and uncertainty ``observed (1 - observed)``.

    Brier = reliability - resolution + uncertainty + the forecasts' spread within bands.
    Reliability is the most any recalibration of the forecasts band by band could remove;
    resolution is how far the bands' outcomes differ, which only more information raises.
    (0, 0, 0) for no pairs.
    """
    n = len(pairs)
    if not n:
        return (0.0, 0.0, 0.0)
    observed = math.fsum(y for _, y in pairs) / n
    stats = _band_stats(pairs).values()
    reliability = math.fsum(k * (mean_p - seen) ** 2 for k, mean_p, seen in stats) / n
    resolution = math.fsum(k * (seen - observed) ** 2 for k, _, seen in stats) / n
    return (round(reliability, 6), round(resolution, 6), round(observed * (1 - observed), 6))


def _band_stats(pairs: Sequence[tuple[float, int]]) -> dict[int, tuple[int, float, float]]:
    """ICD 203 band index -> (forecasts, mean forecast, observed frequency) of the (forecast,
    outcome) ``pairs`` in it; bands without any are absent."""
    bands: dict[int, list[tuple[float, int]]] = {}
    for p, y in pairs:
        bands.setdefault(_band_index(p), []).append((p, y))
    return {
        k: (len(g), math.fsum(p for p, _ in g) / len(g), math.fsum(y for _, y in g) / len(g))
        for k, g in bands.items()
    }


def score(outcomes: Sequence[Outcome], seed: int = 0, analyst_evidence: bool = True) -> Report:
    """Brier score, reliability by ICD 203 band, verdict confusion and high-confidence errors.

    ``analyst_evidence`` only records whether the cases carried simulated analyst evidence."""
    scored = [o for o in outcomes if o.forecast is not None]
    sq = [(o.forecast - o.outcome) ** 2 for o in scored if o.forecast is not None]
    brier = math.fsum(sq) / len(sq) if sq else 0.0
    sq_all = [((o.forecast or 0.0) - o.outcome) ** 2 for o in outcomes]
    brier_all = math.fsum(sq_all) / len(sq_all) if sq_all else 0.0
    pairs = [(o.forecast, o.outcome) for o in scored if o.forecast is not None]
    stats = _band_stats(pairs)
    bands = []
    for k, (term, _lo, _hi) in enumerate(ICD203_BANDS):
        if k not in stats:
            bands.append((term, 0, 0.0, 0.0, "empty"))
            continue
        n, mean_p, observed = stats[k]
        where = _band_index(observed)
        if n < MIN_BAND_CASES:
            judgement = "too few to judge"
        elif where == k:
            judgement = "inside"
        elif abs(where - k) == 1:
            judgement = "next to it"
        else:
            judgement = "outside"
        bands.append((term, n, round(mean_p, 4), round(observed, 4), judgement))

    def column(o: Outcome) -> str:
        if o.verdict_actor is not None:
            return "names its actor" if o.verdict_actor == o.case.actor else "names another actor"
        if o.forecast is None:
            return "no actor hypothesis"
        return {"false_flag": "false flag best", "unknown": "unknown best"}.get(
            o.best_kind, o.best_kind + " best"
        )

    rows: dict[str, Counter[str]] = {}
    for o in outcomes:
        rows.setdefault(o.case.scenario, Counter())[column(o)] += 1
    confusion = tuple((row, tuple(sorted(rows[row].items()))) for row in sorted(rows))
    high = [o for o in outcomes if o.confidence == "high"]
    variants: dict[str, list[Outcome]] = {}
    for o in outcomes:
        variants.setdefault(o.case.variant, []).append(o)

    def variant_brier(group: Sequence[Outcome]) -> float | None:
        errors = [(o.forecast - o.outcome) ** 2 for o in group if o.forecast is not None]
        return round(math.fsum(errors) / len(errors), 4) if errors else None

    by_variant = tuple(
        (
            name,
            len(group),
            round(math.fsum(o.forecast or 0.0 for o in group) / len(group), 4),
            round(sum(o.outcome for o in group) / len(group), 4),
            variant_brier(group),
        )
        for name, group in sorted(variants.items())
    )
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault(f"{o.case.scenario}/{o.case.analyst_tag}", []).append(o)
    by_analyst = tuple(
        (
            name,
            len(group),
            sum(1 for o in group if o.forecast is not None),
            variant_brier(group),
            sum(1 for o in group if o.confidence == "high"),
            sum(1 for o in group if o.confidence == "high" and not o.correct),
        )
        for name, group in sorted(groups.items())
    )
    return Report(
        cases=len(outcomes),
        seed=seed,
        assessable=len(scored),
        brier=round(brier, 6),
        brier_all=round(brier_all, 6),
        brier_se=round(standard_error(sq), 6),
        brier_all_se=round(standard_error(sq_all), 6),
        bands=tuple(bands),
        confusion=confusion,
        high=len(high),
        high_wrong=sum(1 for o in high if not o.correct),
        by_variant=by_variant,
        by_analyst=by_analyst,
        analyst_evidence=analyst_evidence,
        decomposition=decompose(pairs),
    )


def _outcomes(cases: Iterable[SimCase], total: int, progress: Progress | None) -> list[Outcome]:
    out = []
    for case in cases:
        out.append(outcome(case))
        if progress is not None:
            progress(len(out), total)
    return out


def run(
    n: int = 1000,
    seed: int = 2026,
    analyst_evidence: bool = True,
    *,
    progress: Progress | None = None,
) -> Report:
    """Generate ``n`` cases from ``seed``, assess each, and score the forecasts.

    ``analyst_evidence=False`` runs the same cases without their simulated analyst evidence
    (network and timing evidence only). ``progress`` is told after each assessed case."""
    cases = generate(n, seed, analyst_evidence)
    return score(_outcomes(cases, n, progress), seed, analyst_evidence)


def run_seeds(
    n: int,
    seeds: Sequence[int],
    analyst_evidence: bool = True,
    *,
    progress: Progress | None = None,
) -> Report:
    """``n`` cases from each of ``seeds``, scored together (one report; ``cases`` counts them
    all, ``seed`` is the first seed, ``seeds`` all of them).

    Raises:
        ValueError: ``seeds`` is empty.
    """
    if not seeds:
        raise ValueError("run_seeds needs at least one seed")
    cases = (c for seed in seeds for c in generate(n, seed, analyst_evidence))
    outcomes = _outcomes(cases, n * len(seeds), progress)
    report = score(outcomes, seeds[0], analyst_evidence)
    return replace(report, seeds=tuple(seeds))


def parse_seeds(text: str) -> list[int]:
    """``"2026,7,11"`` -> ``[2026, 7, 11]``; ``"101-103"`` -> ``[101, 102, 103]``.

    Raises:
        ValueError: an item is not an integer or a range of them, or there is none.
    """
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        seeds += list(range(int(lo), int(hi) + 1)) if hi else [int(lo)]
    if not seeds:
        raise ValueError("no seed given")
    return seeds
