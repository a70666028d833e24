"""Rule "exposed elsewhere": a persona that also hops through hosts in unrelated countries.

A persona with an actor hypothesis that was also exposed, outside any exclusive range, in a
country that sponsors none of its hypothesised actors (and is none's reported operating country
then) makes an address in an actor's range look like one more hop.
"""

from __future__ import annotations

from dataclasses import dataclass

from slipcatch.model import EvidenceLine, Observation, OriginTrust, stable_id

from ..hypotheses import hypothesis_id
from ..persona_case import PersonaCase
from ..reading import TRUST_WEIGHT, event_trust
from ..slips import EXPOSED
from ._lines import TRUST_LETTER, rounded, trust_text

__all__ = [
    "ELSEWHERE_RATIO",
    "RULE_ELSEWHERE",
    "ElsewhereScore",
    "elsewhere_lines",
    "elsewhere_score",
    "elsewhere_summary",
]

RULE_ELSEWHERE = "exposed elsewhere"
#: unknown : every other hypothesis when a persona with an actor hypothesis was also exposed
#: outside any exclusive range in a country sponsoring none of its hypothesised actors: a party
#: that hops through compromised hosts makes the range event one more hop. Under "unknown" (the
#: range event is such a hop) other hops are expected (about 0.6-0.8); operators of known actors
#: hop too (Sony: a Thai hotel), about 0.3; 2 is below that ratio.
ELSEWHERE_RATIO = 2.0


@dataclass(frozen=True)
class ElsewhereScore:
    members: tuple[Observation, ...]  # the exposed events elsewhere
    trust: OriginTrust | None  # the strongest origin among them
    ratio: float  # unknown : every other hypothesis

    @property
    def countries(self) -> list[str]:
        return sorted({(o.address.country or "").strip().upper() for o in self.members})

    @property
    def networks(self) -> int:
        return len({o.address.prefix or o.address.ip for o in self.members})


def elsewhere_score(case: PersonaCase) -> ElsewhereScore | None:
    """ "Elsewhere": exposed events outside any exclusive range geolocated to a country that
    sponsors none of the hypothesised actors and is none's reported operating country at the
    event's time (``Actor.operates_in``). Ratio ``1 + (ELSEWHERE_RATIO - 1) x trust`` (the
    strongest trust among those events). None when there is no actor hypothesis or no such
    event."""
    hypothesised = sorted(
        {s.actor for s in case.specs if s.kind == "actor" and s.actor is not None}
    )
    if not hypothesised:
        return None
    known = [case.actors[a] for a in hypothesised if a in case.actors]
    sponsors = {(a.country or "").upper() for a in known} | {""}

    def elsewhere(obs: Observation) -> bool:
        country = (obs.address.country or "").strip().upper()
        if country in sponsors:
            return False
        return not any(a.operates_in(country, obs.event.time) for a in known)

    members = tuple(
        obs
        for obs in case.observations
        if obs.address.category in EXPOSED and not obs.address.actor and elsewhere(obs)
    )
    if not members:
        return None
    trust = min((event_trust(o) for o in members), key=lambda t: -TRUST_WEIGHT[t])
    return ElsewhereScore(members, trust, 1.0 + (ELSEWHERE_RATIO - 1.0) * TRUST_WEIGHT[trust])


def elsewhere_summary(score: ElsewhereScore) -> str:
    return (
        f"{len(score.members)} exposed event(s) outside any exclusive range, in "
        f"{', '.join(score.countries)} ({score.networks} network(s)), {trust_text(score.trust)}: "
        "a persona that hops through hosts around the world makes an address in an actor's "
        f"range look like one more hop; unknown : others {score.ratio:.2f}"
    )


def elsewhere_lines(case: PersonaCase) -> list[EvidenceLine]:
    """At most one line. Likelihoods: unknown ``ratio``, every other hypothesis 1."""
    score = elsewhere_score(case)
    if score is None:
        return []
    likelihoods = dict.fromkeys(case.spec_ids, 1.0)
    likelihoods[hypothesis_id(case.persona.id, "unknown", None)] = score.ratio
    return [
        EvidenceLine(
            id=stable_id("line", case.persona.id, "exposed-elsewhere"),
            kind="exposed-elsewhere",
            summary=elsewhere_summary(score),
            likelihoods=rounded(likelihoods),
            reliability=TRUST_LETTER[score.trust] + "4",
            rule=RULE_ELSEWHERE,
            event_ids=tuple(o.event.id for o in score.members),
        )
    ]
