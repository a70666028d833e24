"""A ``PersonaCase`` built from hand-made observations as ``assess`` builds it."""

from __future__ import annotations

from collections.abc import Sequence

from slipcatch.analysis.analyst import AnalystEvidence
from slipcatch.analysis.hypotheses import Priors, hypothesis_id
from slipcatch.analysis.persona_case import PersonaCase, persona_case
from slipcatch.analysis.personas import group_by_persona
from slipcatch.analysis.reading import asn_owners, read_observation
from slipcatch.calibration.scenarios import ACTOR
from slipcatch.model import Actor, Observation

from ..builders import P


def case_of(
    observations: Sequence[Observation],
    actors: Sequence[Actor] = (ACTOR,),
    analyst: AnalystEvidence | None = None,
) -> PersonaCase:
    """The case of the one persona in ``observations`` (read, grouped and ordered)."""
    owners = asn_owners(actors)
    [(persona, ordered)] = group_by_persona([read_observation(o, owners) for o in observations])
    return persona_case(persona.name, ordered, {a.id: a for a in actors}, Priors(), analyst)


def hyp(case: PersonaCase, kind: str, actor: str | None = ACTOR.id) -> str:
    """The id of the case's hypothesis of ``kind`` (about ``actor``)."""
    return hypothesis_id(case.persona.id, kind, None if kind == "unknown" else actor)


__all__ = ["P", "case_of", "hyp"]
