"""Rule "refuting evidence": analyst items that refute a hypothesis or prove staging.

An item declared ``effect: refutes`` (naming the hypotheses it refutes) or ``staging_proven:
true`` (a planted artefact is proven: the actor hypotheses of the staged space are refuted)
states no ratios. Its line gives every refuted hypothesis ``1 / refute_ratio(grade)`` and every
other hypothesis 1. Graded A1-B2 (``PROVEN_GRADES``: a reliable source, confirmed or probably
true) the ratio is ``REFUTE_RATIO`` = 30, beyond the per-line cap; at lower grades it is
``REFUTE_RATIO ** reliability_weight``, kept within ``LINE_CAP``.

Proven staging also changes how the staged actor's exposures are read (``read_under_staging``):
a party that forges code also stages addresses, so the lines that tell the actor's own mistake
from a framer's staging (slip pattern, range access, exposure channels) lose the part of their
weight that favoured the actor: a false-flag likelihood ``l < 1`` becomes
``l ** (1 - staging_strength)``. docs/model.md, "refuting evidence".
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

from slipcatch.model import EvidenceLine, stable_id

from ..analyst import AnalystItem, reliability_weight
from ..hypotheses import LINE_CAP, HypothesisSpec, hypothesis_id
from ..persona_case import PersonaCase
from ._lines import rounded

__all__ = [
    "PROVEN_GRADES",
    "REFUTATION_KIND",
    "REFUTE_RATIO",
    "RULE_REFUTATION",
    "STAGED_KINDS",
    "RefutationScore",
    "read_under_staging",
    "refutation_lines",
    "refutation_scores",
    "refutation_summary",
    "refute_ratio",
    "refuted_specs",
    "staging_strength",
    "staging_strengths",
]

RULE_REFUTATION = "refuting evidence"
REFUTATION_KIND = "analyst-refutation"
#: How much less likely a refuted hypothesis makes the evidence, at grades A1-B2.
REFUTE_RATIO = 30.0
#: Admiralty grades at which a refutation or proven staging counts in full: a completely or
#: usually reliable source (A, B) whose information is confirmed or probably true (1, 2).
PROVEN_GRADES: frozenset[str] = frozenset({"A1", "A2", "B1", "B2"})
#: Line kinds whose false-flag likelihoods proven staging revisits: they tell the actor's own
#: mistake from a framer's staging by how it looks, which a proven forger imitates.
STAGED_KINDS: frozenset[str] = frozenset({"slip-pattern", "range-access", "exposure-channels"})


def staging_strength(grade: str) -> float:
    """1 at ``PROVEN_GRADES``, else the grade's ``reliability_weight`` (B3: 0.51, C3: 0.36)."""
    return 1.0 if grade in PROVEN_GRADES else reliability_weight(grade)


def refute_ratio(grade: str) -> float:
    """``REFUTE_RATIO`` at A1-B2 (beyond ``LINE_CAP``); ``REFUTE_RATIO ** weight`` within
    ``LINE_CAP`` below (B3: 30 ** 0.51 = 5.66; C3: 3.40; E5: 1.08)."""
    if grade in PROVEN_GRADES:
        return REFUTE_RATIO
    return min(LINE_CAP, REFUTE_RATIO ** reliability_weight(grade))


def refuted_specs(item: AnalystItem, specs: Sequence[HypothesisSpec]) -> list[HypothesisSpec]:
    """The persona's hypotheses the item refutes (a kind names every hypothesis of it)."""
    out = []
    for spec in specs:
        names: set[str] = {spec.kind, spec.key or ""} if spec.kind == "analyst" else {spec.kind}
        if spec.actor is not None:
            names.add(f"{spec.kind}:{spec.actor}")
        if names & set(item.refutes):
            out.append(spec)
    return out


@dataclass(frozen=True)
class RefutationScore:
    item: AnalystItem
    ratio: float  # how much less likely each refuted hypothesis makes the evidence
    refuted: tuple[HypothesisSpec, ...]
    beyond_cap: bool


def refutation_scores(case: PersonaCase) -> list[RefutationScore]:
    """One score per refuting item that applies to the persona, in the file's order."""
    out = []
    for item in case.analyst_items:
        if not item.refuting:
            continue
        ratio = refute_ratio(item.reliability)
        out.append(
            RefutationScore(item, ratio, tuple(refuted_specs(item, case.specs)), ratio > LINE_CAP)
        )
    return out


def _name(spec: HypothesisSpec) -> str:
    if spec.kind == "analyst":
        return f"analyst hypothesis '{spec.key}'"
    return f"{spec.kind.replace('_', ' ')} {spec.actor}" if spec.actor else spec.kind


def refutation_summary(score: RefutationScore, source: str) -> str:
    item = score.item
    what = "Proven staging" if item.effect == "staging" else "Refutation"
    refuted = ", ".join(_name(s) for s in score.refuted) or "no hypothesis of this persona"
    cap = (
        f"graded {item.reliability}, beyond the per-line cap"
        if score.beyond_cap
        else f"graded {item.reliability}, below A1-B2: weakened"
    )
    staged = (
        "; the exposures in the staged space are read as possibly staged (see the slip "
        "pattern, range access and exposure channels lines)"
        if item.effect == "staging"
        else ""
    )
    return (
        f"{what}: {item.summary} — refutes {refuted}, {score.ratio:.2f} : 1 ({cap}); "
        f"justification: {item.justification} (analyst item '{item.key}' from {source}){staged}"
    )


def refutation_lines(case: PersonaCase) -> list[EvidenceLine]:
    """Likelihoods: every refuted hypothesis ``1 / ratio``, every other 1."""
    source = case.analyst.source if case.analyst is not None else ""
    out = []
    for score in refutation_scores(case):
        likelihoods = dict.fromkeys(case.spec_ids, 1.0)
        for spec in score.refuted:
            likelihoods[spec.id] = 1.0 / score.ratio
        out.append(
            EvidenceLine(
                id=stable_id("line", case.persona.id, "analyst", score.item.key),
                kind=REFUTATION_KIND,
                summary=refutation_summary(score, source),
                likelihoods=rounded(likelihoods),
                reliability=score.item.reliability,
                rule=RULE_REFUTATION,
            )
        )
    return out


def staging_strengths(case: PersonaCase) -> dict[str, tuple[float, str]]:
    """Actor id -> (strength, item key) of the strongest proven staging of its space."""
    out: dict[str, tuple[float, str]] = {}
    for item in case.analyst_items:
        if item.effect != "staging":
            continue
        strength = staging_strength(item.reliability)
        for spec in refuted_specs(item, case.specs):
            if spec.actor is not None and strength > out.get(spec.actor, (0.0, ""))[0]:
                out[spec.actor] = (strength, item.key)
    return out


def read_under_staging(case: PersonaCase, lines: Sequence[EvidenceLine]) -> list[EvidenceLine]:
    """``lines`` with the staged actors' ``STAGED_KINDS`` lines read under proven staging.

    A false-flag likelihood ``l < 1`` (the line favoured the actor's mistake over a framer's
    staging) becomes ``l ** (1 - strength)``; likelihoods above 1 (the line already favoured
    staging) stay. The summary says so.
    """
    staged = staging_strengths(case)
    if not staged:
        return list(lines)
    out = []
    for line in lines:
        hit = None
        if line.kind in STAGED_KINDS:
            for actor, (strength, key) in sorted(staged.items()):
                ff = hypothesis_id(case.persona.id, "false_flag", actor)
                if line.likelihoods.get(ff, 1.0) < 1.0:
                    hit = (ff, strength, key)
                    break
        if hit is None:
            out.append(line)
            continue
        ff, strength, key = hit
        before = line.likelihoods[ff]
        after = math.exp(math.log(before) * (1.0 - strength))
        likelihoods = dict(line.likelihoods)
        likelihoods[ff] = after
        out.append(
            dataclasses.replace(
                line,
                likelihoods=rounded(likelihoods),
                summary=(
                    f"{line.summary}; read under proven staging (analyst item '{key}'): a party "
                    f"that forges artefacts also stages addresses, so the false flag's "
                    f"likelihood goes from {before:.6g} to {after:.6g}"
                ),
            )
        )
    return out
