"""``PersonaCase``: everything the rules read about one persona, computed once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from slipcatch.model import Actor, Category, EvidenceLine, Observation, Persona, Slip

from .analyst import AnalystEvidence, AnalystItem
from .episodes import Episode, actor_episodes
from .hypotheses import HypothesisSpec, Priors, hypothesis_specs
from .personas import build_persona
from .slips import find_slips

__all__ = ["PersonaCase", "persona_case"]


@dataclass(frozen=True)
class PersonaCase:
    """One persona's input to the rules.

    ``observations`` are the persona's, in time order, as the analysis reads them
    (``reading.read_observation``); ``episodes`` group the events from actors' spaces
    (``episodes.actor_episodes``); ``specs`` are the hypotheses the lines weigh; ``extra`` holds
    hypothetical lines a what-if adds (``whatif``), passed through by the last rule.
    """

    persona: Persona
    observations: tuple[Observation, ...]
    slips: tuple[Slip, ...]
    specs: tuple[HypothesisSpec, ...]
    episodes: tuple[Episode, ...]
    actors: Mapping[str, Actor]
    analyst: AnalystEvidence | None = None
    extra: tuple[EvidenceLine, ...] = ()

    @property
    def spec_ids(self) -> list[str]:
        return [s.id for s in self.specs]

    @property
    def analyst_items(self) -> tuple[AnalystItem, ...]:
        """The analyst items that apply to this persona."""
        if self.analyst is None:
            return ()
        return tuple(i for i in self.analyst.items if i.applies_to(self.persona.name))


def persona_case(
    name: str,
    observations: Sequence[Observation],
    actors: Mapping[str, Actor],
    priors: Priors,
    analyst: AnalystEvidence | None = None,
    extra: Sequence[EvidenceLine] = (),
) -> PersonaCase:
    """The ``PersonaCase`` of persona ``name`` from its (already read) observations."""
    persona = build_persona(name, observations)
    slips = tuple(find_slips(persona, observations))
    hit = {
        obs.address.actor
        for obs in observations
        if obs.address.category == Category.ACTOR and obs.address.actor
    }
    items = [i for i in analyst.items if i.applies_to(name)] if analyst is not None else []
    # An actor an analyst item names has support too, and gets its pair of hypotheses.
    hit.update(a for item in items for a in item.actors)
    specs = tuple(
        hypothesis_specs(
            persona.id,
            sorted(a for a in hit if a),
            priors,
            analyst.hypotheses if analyst is not None else (),
        )
    )
    return PersonaCase(
        persona=persona,
        observations=tuple(observations),
        slips=slips,
        specs=specs,
        episodes=actor_episodes(
            persona,
            observations,
            slips,
            [p for p in analyst.pools if p.applies_to(name)] if analyst is not None else (),
        ),
        actors=actors,
        analyst=analyst,
        extra=tuple(extra),
    )
