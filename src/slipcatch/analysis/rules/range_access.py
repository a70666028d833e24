"""Rule "range access": the access to an actor's range a framer would have needed.

One line per actor: a framer who has a host in the range uses it for every staging, so access is
one observation however many episodes show it; the episode that needed the most access decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from slipcatch.model import EvidenceLine

from ..episodes import Episode
from ..persona_case import PersonaCase
from ..reading import TRUST_WEIGHT
from ._lines import by_actor, false_flag_line, reliability, trust_text

__all__ = [
    "FRAMER_ACCESS",
    "RULE_ACCESS",
    "AccessScore",
    "access_factor",
    "access_lines",
    "access_scores",
    "access_summary",
]

RULE_ACCESS = "range access"
#: Chance that a framer who wants an actor's address in the logs gets a host inside a range the
#: actor uses exclusively; in a shared range it gets one as easily as anybody. So
#: P(a logged use of the range | framer) / P(... | actor) = FRAMER_ACCESS + (1 - FRAMER_ACCESS)
#: x (1 - exclusivity), and the range-access line gives the false flag that much.
FRAMER_ACCESS = 0.3


def access_factor(ep: Episode) -> float:
    """actor : false flag of one episode from the access a framer would need.

    A logged use of a range the actor holds with exclusivity e needs a host inside it:
    ``a = 1 / (FRAMER_ACCESS + (1 - FRAMER_ACCESS) (1 - e))``. A forged header needs none, so
    the factor moves toward 1 with the origin's trust weight: ``1 + (a - 1) x trust``.
    """
    a = 1.0 / (FRAMER_ACCESS + (1.0 - FRAMER_ACCESS) * (1.0 - ep.exclusivity))
    return 1.0 + (a - 1.0) * TRUST_WEIGHT[ep.trust]


@dataclass(frozen=True)
class AccessScore:
    actor: str
    strongest: Episode  # the episode that needed the most access
    factor: float  # its ``access_factor``: actor : false flag


def access_scores(case: PersonaCase) -> list[AccessScore]:
    """One score per actor whose strongest episode gives a factor above 1, by actor id."""
    groups = by_actor(case.episodes)
    out = []
    for actor in sorted(groups):
        group = groups[actor]
        strongest = max(group, key=lambda ep: (access_factor(ep), ep.observations[0].event.id))
        factor = access_factor(strongest)
        if factor > 1.0:
            out.append(AccessScore(actor, strongest, factor))
    return out


def access_summary(score: AccessScore) -> str:
    return (
        f"the range of {score.actor} was used with exclusivity "
        f"{score.strongest.exclusivity:.2f}, {trust_text(score.strongest.trust)}: a framer "
        f"would have needed a host inside it (assumed possible for {FRAMER_ACCESS:.0%} of "
        f"framers in a fully exclusive range); actor : false flag {score.factor:.2f}"
    )


def access_lines(case: PersonaCase) -> list[EvidenceLine]:
    """Likelihoods: false flag ``1 / factor``, every other hypothesis 1."""
    return [
        false_flag_line(
            case.persona,
            score.actor,
            case.specs,
            kind="range-access",
            rule=RULE_ACCESS,
            ratio=score.factor,
            summary=access_summary(score),
            reliability=reliability(score.strongest.trust, score.strongest.exclusivity),
            event_ids=score.strongest.event_ids,
        )
        for score in access_scores(case)
    ]
