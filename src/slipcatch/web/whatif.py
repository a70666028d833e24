"""The live what-if: a persona's verdict recomputed by the analysis' own functions.

The analysis combines a persona's evidence lines in ``analysis.assessment._judge_lines``:
``posterior(specs, combine(lines, ids))`` then ``judge(lines, specs, posteriors)`` (modules
``slipcatch.analysis.hypotheses`` and ``slipcatch.analysis.confidence``; ``analysis`` exports
only ``assess`` and ``Priors``). The workbench calls those same three functions on the lines
the analyst kept, with hypotheses built by ``hypothesis_specs`` from the priors asked for, then
applies the linchpin rule of ``assess`` over lines (a line whose removal changes the actor or
moves the likelihood by more than one ICD 203 band caps "high" at "moderate").

A changed exclusivity of an actor's range re-runs the public ``slipcatch.analysis.assess`` on
the persona's observations with that exclusivity in every fact of the actor's ranges (the
analyst-evidence lines of the recorded run are carried over, since the case does not keep the
evidence file), and then combines as above.

What is not re-run: the leave-one-out over attributing slips (``assess`` re-derives the lines
without each slip's events); a verdict ``assess`` capped for a slip linchpin is stated as such.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from slipcatch.analysis import Priors, assess
from slipcatch.analysis.confidence import judge
from slipcatch.analysis.hypotheses import HypothesisSpec, combine, hypothesis_specs, posterior
from slipcatch.errors import UsageError
from slipcatch.model import (
    ICD203_BANDS,
    Assessment,
    Category,
    EvidenceLine,
    Observation,
    PersonaAssessment,
    icd203_term,
)

__all__ = ["WhatIfRequest", "recompute"]

_TERMS = tuple(term for term, _, _ in ICD203_BANDS)
#: As analysis.assessment.LINCHPIN_BANDS: more than this many bands is a linchpin.
LINCHPIN_BANDS = 1


@dataclass(frozen=True)
class WhatIfRequest:
    persona_id: str
    drop: frozenset[str] = frozenset()  # evidence line ids ticked off
    unknown: float | None = None  # prior of the unknown party
    false_flag_share: float | None = None
    exclusivity: float | None = None  # for every range of the persona's actors

    @classmethod
    def from_json(cls, data: Any) -> WhatIfRequest:
        if not isinstance(data, dict):
            raise UsageError("what-if: expected a JSON object")

        def share(key: str) -> float | None:
            v = data.get(key)
            if v is None or v == "":
                return None
            try:
                f = float(v)
            except (TypeError, ValueError) as exc:
                raise UsageError(f"what-if: {key} must be a number") from exc
            if not 0.0 < f < 1.0 and not (key == "exclusivity" and 0.0 < f <= 1.0):
                raise UsageError(f"what-if: {key} must lie in (0, 1)")
            return f

        drop = data.get("drop", [])
        if not isinstance(drop, list) or not all(isinstance(x, str) for x in drop):
            raise UsageError("what-if: drop must be a list of line ids")
        return cls(
            persona_id=str(data.get("persona_id", "")),
            drop=frozenset(drop),
            unknown=share("unknown"),
            false_flag_share=share("false_flag_share"),
            exclusivity=share("exclusivity"),
        )


def _persona(assessment: Assessment, persona_id: str) -> PersonaAssessment:
    for pa in assessment.personas:
        if pa.persona.id == persona_id:
            return pa
    raise UsageError(f"what-if: no persona {persona_id!r}")


def _priors_of(pa: PersonaAssessment) -> tuple[float, float]:
    """(unknown, false-flag share) the recorded run used, read back from its hypotheses."""
    unknown = next((h.prior for h in pa.hypotheses if h.kind == "unknown"), 0.75)
    analyst = sum(h.prior for h in pa.hypotheses if h.kind == "analyst")
    actor = sum(h.prior for h in pa.hypotheses if h.kind == "actor")
    ff = sum(h.prior for h in pa.hypotheses if h.kind == "false_flag")
    rest = 1.0 - analyst
    u = unknown / rest if rest > 0 else 0.75
    share = ff / (actor + ff) if actor + ff > 0 else 0.2
    return u, share


def _specs(pa: PersonaAssessment, unknown: float, ff_share: float) -> list[HypothesisSpec]:
    actors = sorted({h.actor for h in pa.hypotheses if h.kind == "actor" and h.actor})
    analyst = [h for h in pa.hypotheses if h.kind == "analyst"]
    # hypothesis_specs takes the analyst priors off the top; they are kept as recorded.
    base = hypothesis_specs(pa.persona.id, actors, Priors(unknown, ff_share))
    rest = 1.0 - sum(h.prior for h in analyst)
    specs = [replace(s, prior=s.prior * rest) for s in base]
    specs += [
        HypothesisSpec(h.id, "analyst", None, h.prior, statement=h.statement) for h in analyst
    ]
    return specs


def _exclusive(
    observations: Sequence[Observation], actors: set[str], e: float
) -> list[Observation]:
    out = []
    for o in observations:
        a = o.address
        if a.category == Category.ACTOR and a.actor in actors:
            facts = tuple(
                replace(f, exclusivity=e) if f.actor in actors and f.exclusivity is not None else f
                for f in a.facts
            )
            o = replace(o, address=replace(a, facts=facts))
        out.append(o)
    return out


def _judged(lines: Sequence[EvidenceLine], specs: Sequence[HypothesisSpec]) -> Any:
    return judge(lines, specs, posterior(specs, combine(lines, [s.id for s in specs])))


def recompute(assessment: Assessment, req: WhatIfRequest) -> dict[str, Any]:
    """The persona's verdict without the dropped lines, under the priors and exclusivity asked."""
    pa = _persona(assessment, req.persona_id)
    u0, ff0 = _priors_of(pa)
    unknown = req.unknown if req.unknown is not None else u0
    ff_share = req.false_flag_share if req.false_flag_share is not None else ff0
    specs = _specs(pa, unknown, ff_share)
    lines: list[EvidenceLine] = list(pa.evidence)
    notes: list[str] = []
    if req.exclusivity is not None:
        actors = {h.actor for h in pa.hypotheses if h.kind == "actor" and h.actor}
        obs = [o for o in assessment.observations if o.event.persona == pa.persona.name]
        obs = _exclusive(obs, actors, req.exclusivity)
        priors = Priors(unknown, ff_share)
        rerun = assess(obs, assessment.actors, priors)
        [fresh] = [p for p in rerun if p.persona.id == pa.persona.id]
        analyst = [line for line in pa.evidence if line.kind == "analyst"]
        lines = [line for line in fresh.evidence if line.kind != "analyst"] + analyst
        notes.append(
            f"lines re-derived by assess() with exclusivity {req.exclusivity:g} for "
            f"{', '.join(sorted(actors))}; analyst lines carried over from the recorded run"
        )
    kept = [line for line in lines if line.id not in req.drop]
    j = _judged(kept, specs)
    confidence = j.confidence
    reasons = list(j.reasons)
    decisive = []
    for k, line in enumerate(kept):
        other = _judged(kept[:k] + kept[k + 1 :], specs)
        bands = abs(_TERMS.index(other.likelihood) - _TERMS.index(j.likelihood))
        if other.actor != j.actor or bands > LINCHPIN_BANDS:
            decisive.append(line.id)
    if decisive:
        reasons.append(f"{len(decisive)} linchpin(s): removing any one of them changes the verdict")
        if confidence == "high":
            confidence = "moderate"
            reasons.append(
                "a verdict that rests on a single item cannot be held with high confidence"
            )
    return {
        "persona_id": pa.persona.id,
        "dropped": sorted(req.drop & {line.id for line in lines}),
        "priors": {"unknown": round(unknown, 6), "false_flag_share": round(ff_share, 6)},
        "exclusivity": req.exclusivity,
        "actor": j.actor,
        "subject": j.subject,
        "probability": j.probability,
        "likelihood": icd203_term(j.probability),
        "confidence": confidence,
        "reasons": reasons,
        "linchpins": decisive,
        "posteriors": {k: round(v, 6) for k, v in sorted(j.posteriors.items())},
        "lines": len(kept),
        "notes": notes,
        "recorded": {
            "actor": pa.verdict.actor,
            "probability": pa.verdict.probability,
            "likelihood": pa.verdict.likelihood,
            "confidence": pa.verdict.confidence,
        },
    }
