"""The ACH matrix (evidence x hypothesis) and the diagnosticity of each evidence line.

A cell says whether the line is *consistent* with a hypothesis (its Bayes factor for it against
the prior-weighted rest is at least ``SUPPORT_BF``), *inconsistent* (at most ``CONTRA_BF``) or
*neutral*; the Bayes factor is the weight shown with the mark. A line's *diagnosticity* is the
largest over the smallest likelihood it gives any of the persona's hypotheses: 1 says nothing
(consistent with everything, as in Heuer's ACH), ``LINE_CAP`` is the most a line may say.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from slipcatch.model import EvidenceLine

from .confidence import CONTRA_BF, SUPPORT_BF
from .hypotheses import HypothesisSpec, bayes_factor

__all__ = ["annotate", "consistency", "diagnosticity"]


def diagnosticity(line: EvidenceLine, specs: Sequence[HypothesisSpec]) -> float:
    """max / min of the line's likelihoods over ``specs`` (unstated ones count 1)."""
    values = [line.likelihoods.get(s.id, 1.0) for s in specs]
    if not values or min(values) <= 0.0:
        return 1.0
    return max(values) / min(values)


def consistency(bf: float) -> str:
    """ACH mark for a Bayes factor: consistent, inconsistent or neutral."""
    if bf >= SUPPORT_BF:
        return "consistent"
    if bf <= CONTRA_BF:
        return "inconsistent"
    return "neutral"


def annotate(
    lines: Sequence[EvidenceLine], specs: Sequence[HypothesisSpec]
) -> tuple[EvidenceLine, ...]:
    """The lines with their ACH cells, Bayes factors and diagnosticity filled in."""
    out = []
    for line in lines:
        factors = {s.id: round(bayes_factor(line, s.id, specs), 6) for s in specs}
        out.append(
            replace(
                line,
                consistency={k: consistency(v) for k, v in sorted(factors.items())},
                bayes_factors=dict(sorted(factors.items())),
                diagnosticity=round(diagnosticity(line, specs), 6),
            )
        )
    return tuple(out)
