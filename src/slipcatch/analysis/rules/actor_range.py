"""Rule "actor-range episode": one line per episode of events from an actor's space.

Each episode tells "someone used the range" (the actor by mistake or a framer on purpose) from
"an unknown party happened to hop there"; the slip pattern (one line per actor) tells the actor
and the framer apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from slipcatch.model import EvidenceLine

from ..episodes import Episode
from ..hypotheses import hypothesis_id
from ..persona_case import PersonaCase
from ..reading import ASN_SOURCE, listing_texts
from ._lines import episode_line_id, reliability, rounded, span, trust_text
from .slip_pattern import SLIP_PATTERNS, episode_ratio

__all__ = [
    "RULE_ACTOR_RANGE",
    "R_EPISODE",
    "EpisodeScore",
    "actor_range_lines",
    "actor_range_scores",
    "episode_summary",
    "range_ratio",
]

RULE_ACTOR_RANGE = "actor-range episode"
#: actor : unknown ratio of one episode at full exclusivity and full origin trust.
R_EPISODE = 6.0


def range_ratio(exclusivity: float) -> float:
    """actor-or-false-flag : unknown of one episode in a range of this exclusivity ``e``.

    An unknown party uses the range as much as others use it, ``1 - e``, and an exclusive range
    only through a compromised or borrowed host, ``1 / R_EPISODE`` of the owner's use:
    ``r = 1 / (1 / R_EPISODE + (1 - 1 / R_EPISODE) (1 - e))`` (a half-shared range: 1.71).
    The origin's trust does not enter: a forged origin is a framer's, which this line weighs
    like the actor.
    """
    return 1.0 / (1.0 / R_EPISODE + (1.0 - 1.0 / R_EPISODE) * (1.0 - exclusivity))


@dataclass(frozen=True)
class EpisodeScore:
    """The numbers of one episode's line."""

    episode: Episode
    ratio: float  # actor or false flag : unknown; 1 for the same host again (``Episode.repeat``)
    pattern_ratio: float  # actor : false flag of the episode (``slip_pattern.episode_ratio``)
    asn_level: bool  # the space is an AS of the actor's side, not a registered range


def actor_range_scores(case: PersonaCase) -> list[EpisodeScore]:
    """One score per episode, in the case's episode order."""
    return [
        EpisodeScore(
            episode=ep,
            ratio=1.0 if ep.repeat else range_ratio(ep.exclusivity),
            pattern_ratio=episode_ratio(ep),
            asn_level=any(f.source == ASN_SOURCE for o in ep.observations for f in o.address.facts),
        )
        for ep in case.episodes
    ]


def episode_summary(score: EpisodeScore, name: str) -> str:
    """The line's text; ``name`` is the actor's registry name."""
    ep = score.episode
    prefixes = sorted({o.address.prefix or o.address.ip for o in ep.observations})
    channels = sorted({o.event.channel for o in ep.observations})
    closing = (
        f"exposure {ep.exposure_seconds:.0f} s"
        if ep.exposure_seconds is not None
        else "no exposure time"
    )
    listed = listing_texts(ep.observations)
    listing = (
        f"; the address was listed as {', '.join(listed)} then, so a third party could use it"
        if listed
        else ""
    )
    space = (
        f"an AS of the side of {name}, outside its registered ranges (ASN-level hit; "
        if score.asn_level
        else f"exclusive range of {name} ("
    )
    repeat = (
        f"{', '.join(ep.repeat)} already used in an earlier episode: the same host again, "
        "counted once (repeated use of one address is not independent); "
        if ep.repeat
        else ""
    )
    return (
        f"{len(ep.observations)} event(s) from {', '.join(prefixes)}, {space}"
        f"exclusivity {ep.exclusivity:.2f}, {trust_text(ep.trust)}{listing}), "
        f"{span(ep.first, ep.last)} UTC via {', '.join(channels)}; "
        f"{SLIP_PATTERNS[ep.pattern][1]} ({closing}); channel {ep.channel}; "
        f"{repeat}actor or false flag : unknown {score.ratio:.2f}; pattern ratio "
        f"{score.pattern_ratio:.2f} (see the slip pattern line)"
    )


def actor_range_lines(case: PersonaCase) -> list[EvidenceLine]:
    """Likelihoods: the actor and its false flag ``r`` each, every other hypothesis 1."""
    out = []
    for score in actor_range_scores(case):
        ep = score.episode
        likelihoods = dict.fromkeys(case.spec_ids, 1.0)
        # A framer staging through the range produces an episode as readily as the actor's
        # operator forgetting the cover: the episode weighs both against an unknown party.
        likelihoods[hypothesis_id(case.persona.id, "actor", ep.actor)] = score.ratio
        likelihoods[hypothesis_id(case.persona.id, "false_flag", ep.actor)] = score.ratio
        known = case.actors.get(ep.actor)
        out.append(
            EvidenceLine(
                id=episode_line_id(case.persona, ep),
                kind="actor-range-episode",
                summary=episode_summary(score, known.name if known is not None else ep.actor),
                likelihoods=rounded(likelihoods),
                reliability=reliability(ep.trust, ep.exclusivity),
                rule=RULE_ACTOR_RANGE,
                event_ids=ep.event_ids,
                slip_ids=tuple(s.id for s in ep.slips),
            )
        )
    return out
