"""The report as text: Markdown tables (the form docs/calibration.md quotes); and a progress
line for a terminal."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from .scoring import BRIER_TARGET, HIGH_ERROR_TARGET, Report

__all__ = ["ProgressLine", "render"]


def _interval(value: float, se: float) -> str:
    return f"{max(0.0, value - 1.96 * se):.4f}-{value + 1.96 * se:.4f}"


def render(report: Report) -> str:
    """The report as Markdown tables (the form docs/calibration.md quotes)."""
    lines = [
        f"cases: {report.cases} ("
        + (
            f"seeds {', '.join(map(str, report.seeds))}, pooled"
            if report.seeds
            else f"seed {report.seed}"
        )
        + f"); forecasts scored: {report.assessable}; "
        f"analyst evidence simulated: {'yes' if report.analyst_evidence else 'no'}",
        f"Brier score (scored forecasts): {report.brier:.4f} (target <= {BRIER_TARGET}; "
        f"standard error {report.brier_se:.4f}, 95 % interval "
        f"{_interval(report.brier, report.brier_se)})",
        f"Brier score (all cases, no hypothesis = 0): {report.brier_all:.4f} (standard error "
        f"{report.brier_all_se:.4f})",
        "Brier decomposition by ICD 203 band (scored forecasts): reliability "
        f"{report.decomposition[0]:.4f} (the most a recalibration could remove), resolution "
        f"{report.decomposition[1]:.4f}, uncertainty {report.decomposition[2]:.4f}",
        f"high confidence: {report.high} cases, {report.high_wrong} wrong "
        f"({report.high_error:.1%}; target <= {HIGH_ERROR_TARGET:.0%})",
        "",
        "| ICD 203 band | cases | mean forecast | observed | judgement |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    lines += [f"| {t} | {n} | {p:.3f} | {o:.3f} | {j} |" for t, n, p, o, j in report.bands]
    columns = sorted({c for _, cols in report.confusion for c, _ in cols})
    lines += [
        "",
        "| truth \\ verdict | " + " | ".join(columns) + " |",
        "| --- |" + " ---: |" * len(columns),
    ]
    for row, cols in report.confusion:
        counts = dict(cols)
        lines.append(f"| {row} | " + " | ".join(str(counts.get(c, 0)) for c in columns) + " |")
    lines += [
        "",
        "| variant | cases | mean forecast | observed | Brier (scored) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {v} | {n} | {p:.3f} | {o:.3f} | {'-' if b is None else f'{b:.3f}'} |"
        for v, n, p, o, b in report.by_variant
    ]
    lines += [
        "",
        "| truth / analyst items | cases | scored | Brier (scored) | high | high and wrong |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {g} | {n} | {s} | {'-' if b is None else f'{b:.3f}'} | {h} | {w} |"
        for g, n, s, b, h, w in report.by_analyst
    ]
    lines += ["", "targets met" if report.passed else "TARGETS MISSED"]
    if report.brier > BRIER_TARGET >= report.brier - 1.96 * report.brier_se:
        lines.append(
            f"(the Brier target {BRIER_TARGET} lies inside the score's 95 % interval "
            f"{_interval(report.brier, report.brier_se)}: this many cases cannot tell; "
            "run more, e.g. --cases 5000)"
        )
    return "\n".join(lines)


class ProgressLine:
    """Cases done of the total and the rate, rewritten in place on ``stream`` (a terminal).

    A ``scoring.Progress`` callback. It writes at most every ``interval`` seconds and always for
    the last case, which ends the line. ``clock`` is injectable so that tests see fixed rates.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        interval: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self.shown = -interval

    def __call__(self, done: int, total: int) -> None:
        now = self.clock() - self.started
        last = done >= total
        if not last and now - self.shown < self.interval:
            return
        self.shown = now
        rate = f", {done / now:.1f} cases/s" if now > 0 else ""
        self.stream.write(f"\rsimulate: {done}/{total} cases{rate}" + ("\n" if last else ""))
        self.stream.flush()
