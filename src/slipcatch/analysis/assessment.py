"""``assess``: from observations to one PersonaAssessment per persona."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from slipcatch.model import (
    Actor,
    Category,
    EvidenceLine,
    Hypothesis,
    Observation,
    Persona,
    PersonaAssessment,
    Slip,
    Verdict,
)

from .confidence import (
    Judgement,
    alternatives,
    contradicting,
    judge,
    statement,
    supporting,
)
from .evidence_lines import Episode, actor_range_lines, country_lines
from .hypotheses import HypothesisSpec, Priors, combine, hypothesis_specs, posterior
from .personas import build_persona, group_by_persona
from .slips import find_slips

__all__ = ["LOO_LINE_LIMIT", "LOO_SLIP_LIMIT", "MODEL_VERSION", "assess"]

#: Version of the analytic model (rules, numbers, caps); bump when any of them changes.
MODEL_VERSION = "slipcatch-analysis/1.0"

#: Leave-one-out re-runs the persona's analysis once per attributing slip; beyond this many
#: attributing slips only evidence lines are tested, and the verdict says so.
LOO_SLIP_LIMIT = 16
#: Leave-one-out over evidence lines costs lines^2; beyond this many lines it is skipped and
#: the verdict says so.
LOO_LINE_LIMIT = 400


@dataclass(frozen=True)
class _Core:
    persona: Persona
    slips: tuple[Slip, ...]
    specs: tuple[HypothesisSpec, ...]
    episodes: tuple[tuple[EvidenceLine, Episode], ...]
    country: tuple[EvidenceLine, ...]
    judgement: Judgement

    @property
    def lines(self) -> tuple[EvidenceLine, ...]:
        return tuple(line for line, _ in self.episodes) + self.country


def _judge_lines(lines: Sequence[EvidenceLine], specs: Sequence[HypothesisSpec]) -> Judgement:
    return judge(lines, specs, posterior(specs, combine(lines, [s.id for s in specs])))


def _core(
    name: str, observations: Sequence[Observation], actors: Mapping[str, Actor], priors: Priors
) -> _Core:
    persona = build_persona(name, observations)
    slips = find_slips(persona, observations)
    hit = {
        obs.address.actor
        for obs in observations
        if obs.address.category == Category.ACTOR and obs.address.actor
    }
    specs = tuple(hypothesis_specs(persona.id, sorted(a for a in hit if a), priors))
    episodes = tuple(actor_range_lines(persona, observations, slips, specs, actors))
    country = tuple(country_lines(persona, observations, slips, specs, actors))
    lines = tuple(line for line, _ in episodes) + country
    return _Core(persona, slips, specs, episodes, country, _judge_lines(lines, specs))


def _linchpins(
    core: _Core,
    observations: Sequence[Observation],
    actors: Mapping[str, Actor],
    priors: Priors,
) -> tuple[list[str], list[str]]:
    """(items whose removal changes the verdict's actor or word, items changing only confidence)."""
    base = core.judgement
    decisive: list[str] = []
    confidence_only: list[str] = []

    def note(item: str, other: Judgement) -> None:
        if (other.actor, other.likelihood) != (base.actor, base.likelihood):
            decisive.append(item)
        elif other.confidence != base.confidence:
            confidence_only.append(item)

    lines = core.lines
    if len(lines) <= LOO_LINE_LIMIT:
        for k, line in enumerate(lines):
            rest = lines[:k] + lines[k + 1 :]
            note(line.id, _judge_lines(rest, core.specs))
    attributing = [s for s in core.slips if s.attributed_to is not None]
    if len(attributing) <= LOO_SLIP_LIMIT:
        for slip in attributing:
            drop = set(slip.event_ids)
            kept = [obs for obs in observations if obs.event.id not in drop]
            if kept:
                note(slip.id, _core(core.persona.name, kept, actors, priors).judgement)
    return decisive, confidence_only


def _assess_one(
    name: str, observations: Sequence[Observation], actors: Mapping[str, Actor], priors: Priors
) -> PersonaAssessment:
    core = _core(name, observations, actors, priors)
    j = core.judgement
    decisive, confidence_only = _linchpins(core, observations, actors, priors)
    confidence = j.confidence
    reasons = list(j.reasons)
    if len(core.lines) > LOO_LINE_LIMIT:
        reasons.append(f"linchpins not tested over more than {LOO_LINE_LIMIT} evidence lines")
    if sum(1 for s in core.slips if s.attributed_to is not None) > LOO_SLIP_LIMIT:
        reasons.append(f"linchpins not tested over more than {LOO_SLIP_LIMIT} attributing slips")
    if decisive:
        reasons.append(f"{len(decisive)} linchpin(s): removing any one of them changes the verdict")
        if confidence == "high":
            confidence = "moderate"
            reasons.append(
                "a verdict that rests on a single item cannot be held with high confidence"
            )
    lines = core.lines
    hypotheses = []
    for spec in core.specs:
        known = actors.get(spec.actor) if spec.actor is not None else None
        actor_name = known.name if known is not None else spec.actor
        if spec.kind == "actor":
            text = f"Persona '{name}' is operated by {actor_name}."
        elif spec.kind == "false_flag":
            text = (
                f"Someone other than {actor_name} staged traffic through its address space to "
                f"make persona '{name}' look like {actor_name}."
            )
        else:
            text = f"Persona '{name}' is operated by a party that is not a known actor."
        hypotheses.append(
            Hypothesis(
                id=spec.id,
                kind=spec.kind,
                actor=spec.actor,
                statement=text,
                prior=round(spec.prior, 6),
                probability=round(j.posteriors[spec.id], 6),
                supporting=tuple(line.id for line in supporting(lines, spec.id, core.specs)),
                contradicting=tuple(line.id for line in contradicting(lines, spec.id, core.specs)),
            )
        )
    verdict = Verdict(
        actor=j.actor,
        probability=j.probability,
        likelihood=j.likelihood,
        confidence=confidence,
        statement=statement(name, j, actors),
        confidence_reasons=tuple(reasons),
        linchpins=tuple(sorted(set(decisive) | set(confidence_only))),
    )
    return PersonaAssessment(
        persona=core.persona,
        slips=core.slips,
        evidence=lines,
        hypotheses=tuple(hypotheses),
        verdict=verdict,
        alternatives=alternatives(core.episodes, core.country, core.slips, core.specs, actors),
    )


def assess(
    observations: Sequence[Observation],
    actors: Sequence[Actor],
    priors: Priors | None = None,
) -> list[PersonaAssessment]:
    """Assess every persona in ``observations``: slips, evidence lines, hypotheses, verdict.

    Observations may come in any order; duplicates of one event id count once. ``actors`` names
    the actors (an actor id met in an address but absent here is used as its own name). The
    result is sorted by persona name and is identical for identical input.

    Raises:
        UsageError: ``priors`` holds a share outside (0, 1) (raised when ``Priors`` is built).
    """
    priors = priors if priors is not None else Priors()
    by_id = {a.id: a for a in sorted(actors, key=lambda a: (a.id, a.name), reverse=True)}
    return [
        _assess_one(persona.name, obs, by_id, priors)
        for persona, obs in group_by_persona(observations)
    ]
