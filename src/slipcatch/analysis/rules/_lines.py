"""Helpers the rules share to turn their numbers into ``EvidenceLine``s."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from slipcatch.model import EvidenceLine, OriginTrust, Persona, stable_id

from ..episodes import Episode
from ..hypotheses import HypothesisSpec, hypothesis_id
from ..persona_case import PersonaCase

__all__ = [
    "TRUST_LETTER",
    "by_actor",
    "episode_line_id",
    "false_flag_line",
    "group_ids",
    "reliability",
    "rounded",
    "span",
    "trust_text",
]

#: The source-reliability letter (NATO admiralty code) of an origin, by who wrote it.
TRUST_LETTER: Mapping[OriginTrust | None, str] = {
    None: "B",
    OriginTrust.TRUSTED_RELAY: "B",
    OriginTrust.SENDER_PROVIDER: "C",
    OriginTrust.SENDER_WRITTEN: "E",
}


def reliability(trust: OriginTrust | None, exclusivity: float) -> str:
    """Admiralty code: the origin's letter, credibility 2/3/4 by the range's exclusivity."""
    digit = "2" if exclusivity >= 0.95 else "3" if exclusivity >= 0.7 else "4"
    return TRUST_LETTER[trust] + digit


def rounded(likelihoods: Mapping[str, float]) -> dict[str, float]:
    return {k: round(v, 6) for k, v in sorted(likelihoods.items())}


def span(first: datetime, last: datetime) -> str:
    if first == last:
        return f"{first:%Y-%m-%d %H:%M:%S}"
    if first.date() == last.date():
        return f"{first:%Y-%m-%d %H:%M:%S}-{last:%H:%M:%S}"
    return f"{first:%Y-%m-%d %H:%M:%S} to {last:%Y-%m-%d %H:%M:%S}"


def trust_text(trust: OriginTrust | None) -> str:
    return "logged by the receiving side" if trust is None else f"origin {trust.value}"


def episode_line_id(persona: Persona, ep: Episode) -> str:
    """The id of an episode's actor-range line."""
    return stable_id(
        "line", persona.id, "actor-range-episode", ep.actor, ep.observations[0].event.id
    )


def by_actor(episodes: Sequence[Episode]) -> dict[str, list[Episode]]:
    """The episodes of each actor, in their order."""
    out: dict[str, list[Episode]] = {}
    for ep in episodes:
        out.setdefault(ep.actor, []).append(ep)
    return out


def group_ids(group: Sequence[Episode]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(event ids, slip ids) of an actor's episodes, for ``false_flag_line``."""
    return (
        tuple(e for ep in group for e in ep.event_ids),
        tuple(sorted({s.id for ep in group for s in ep.slips})),
    )


def false_flag_line(
    persona: Persona,
    actor: str,
    specs: Sequence[HypothesisSpec],
    *,
    kind: str,
    rule: str,
    ratio: float,
    summary: str,
    reliability: str,
    event_ids: tuple[str, ...],
    slip_ids: tuple[str, ...] = (),
) -> EvidenceLine:
    """A per-actor line that weighs only the actor against its false flag: false flag
    ``1 / ratio``, every other hypothesis 1."""
    likelihoods = dict.fromkeys((s.id for s in specs), 1.0)
    likelihoods[hypothesis_id(persona.id, "false_flag", actor)] = 1.0 / ratio
    return EvidenceLine(
        id=stable_id("line", persona.id, kind, actor),
        kind=kind,
        summary=summary,
        likelihoods=rounded(likelihoods),
        reliability=reliability,
        rule=rule,
        event_ids=event_ids,
        slip_ids=slip_ids,
    )


def episode_false_flag_line(
    case: PersonaCase,
    actor: str,
    episodes: Sequence[Episode],
    strongest: Episode,
    *,
    kind: str,
    rule: str,
    ratio: float,
    summary: str,
) -> EvidenceLine:
    """A ``false_flag_line`` over an actor's episodes (their events and slips), graded by who
    wrote the strongest episode's origin, at credibility 3: what such a line reads off the
    adversary's own activity, a framer can imitate."""
    event_ids, slip_ids = group_ids(episodes)
    return false_flag_line(
        case.persona,
        actor,
        case.specs,
        kind=kind,
        rule=rule,
        ratio=ratio,
        summary=summary,
        reliability=TRUST_LETTER[strongest.trust] + "3",
        event_ids=event_ids,
        slip_ids=slip_ids,
    )
