"""Rule "analyst evidence": one line per analyst item that applies to the persona.

The items come from the analyst's evidence file (``analysis.analyst``); each states ratios for
hypotheses and a reliability code, which keeps a share of their weight.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from slipcatch.model import EvidenceLine, stable_id

from ..analyst import AnalystItem, reliability_weight
from ..hypotheses import LINE_CAP, HypothesisSpec, temper
from ..persona_case import PersonaCase
from ._lines import rounded

__all__ = [
    "RULE_ANALYST",
    "AnalystScore",
    "analyst_line",
    "analyst_lines",
    "analyst_scores",
    "analyst_summary",
    "effective_likelihoods",
    "stated_ratio",
]

RULE_ANALYST = "analyst evidence"


def stated_ratio(item: AnalystItem, spec: HypothesisSpec) -> float | None:
    """The ratio the item states for ``spec``: a named entry before a kind entry."""
    table = dict(item.likelihoods)
    if spec.kind == "analyst":
        return table.get(spec.key or "", table.get("analyst"))
    if spec.actor is not None and f"{spec.kind}:{spec.actor}" in table:
        return table[f"{spec.kind}:{spec.actor}"]
    return table.get(spec.kind)


def effective_likelihoods(
    stated: Callable[[HypothesisSpec], float | None],
    reliability: str,
    specs: Sequence[HypothesisSpec],
) -> dict[str, float]:
    """Stated ratio ** ``reliability_weight(reliability)`` per hypothesis (1 for a hypothesis
    with no stated ratio), tempered to ``LINE_CAP``; unrounded."""
    w = reliability_weight(reliability)
    likelihoods = {}
    for spec in specs:
        ratio = stated(spec)
        likelihoods[spec.id] = 1.0 if ratio is None else ratio**w
    return temper(likelihoods, LINE_CAP)


@dataclass(frozen=True)
class AnalystScore:
    item: AnalystItem
    weight: float  # the share of the stated ratios' weight the reliability keeps
    likelihoods: dict[str, float]  # effective, unrounded


def analyst_scores(case: PersonaCase) -> list[AnalystScore]:
    """One score per analyst item that applies to the persona, in the file's order."""
    return [
        AnalystScore(
            item,
            reliability_weight(item.reliability),
            effective_likelihoods(partial(stated_ratio, item), item.reliability, case.specs),
        )
        for item in case.analyst_items
        if not item.refuting  # refuting items: rules/refutation.py
    ]


def analyst_summary(score: AnalystScore, source: str) -> str:
    item = score.item
    stated = ", ".join(f"{k} {v:g}" for k, v in item.likelihoods)
    return (
        f"{item.summary} (analyst item '{item.key}' from {source}; stated "
        f"ratios {stated}; {item.reliability} keeps {score.weight:.0%} of their weight)"
    )


def analyst_line(
    line_id: str, summary: str, likelihoods: Mapping[str, float], reliability: str
) -> EvidenceLine:
    """The line of one stated item: its effective ``likelihoods`` (``effective_likelihoods``,
    rounded here) at the item's reliability. The what-ifs build their stated items with it."""
    return EvidenceLine(
        id=line_id,
        kind="analyst",
        summary=summary,
        likelihoods=rounded(likelihoods),
        reliability=reliability,
        rule=RULE_ANALYST,
    )


def analyst_lines(case: PersonaCase) -> list[EvidenceLine]:
    source = case.analyst.source if case.analyst is not None else ""
    return [
        analyst_line(
            # Not the file name: the same item read from a copy is the same line.
            stable_id("line", case.persona.id, "analyst", score.item.key),
            analyst_summary(score, source),
            score.likelihoods,
            score.item.reliability,
        )
        for score in analyst_scores(case)
    ]
