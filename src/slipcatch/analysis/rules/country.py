"""Rule "country hit without exclusive range": exposed events geolocated to one country.

Weak, compromisable evidence: a host's location is not its operator's. A hit in a hypothesised
actor's sponsor country leans toward the actor (and half as much toward its false flag); a hit
in a country an actor is reported to operate from is neutral; any other country leans toward
an unknown party.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from slipcatch.model import EvidenceLine, Observation, OriginTrust, stable_id

from ..hypotheses import hypothesis_id
from ..persona_case import PersonaCase
from ..reading import TRUST_WEIGHT, event_trust
from ..slips import EXPOSED
from ._lines import TRUST_LETTER, rounded, trust_text

__all__ = [
    "COUNTRY_OTHER_TILT",
    "COUNTRY_SPONSOR_RATIO",
    "RULE_COUNTRY",
    "CountryScore",
    "country_lines",
    "country_scores",
    "country_summary",
]

RULE_COUNTRY = "country hit without exclusive range"
#: Largest actor : unknown ratio of a sponsor-country hit outside any exclusive range.
COUNTRY_SPONSOR_RATIO = 2.0
#: unknown : every other hypothesis for a hit in a country that sponsors no hypothesised actor.
COUNTRY_OTHER_TILT = 1.1


@dataclass(frozen=True)
class CountryScore:
    """The numbers of one country's line."""

    country: str  # ISO code, upper case
    members: tuple[Observation, ...]
    trust: OriginTrust | None  # the strongest origin among the members
    sponsored: tuple[str, ...]  # hypothesised actors whose sponsor country it is
    operating: tuple[str, ...]  # others reported to operate there at every member's time
    likelihoods: dict[str, float] = field(default_factory=dict)  # unrounded

    @property
    def reason(self) -> str:
        """ "operating" (neutral), "sponsor" or "other"."""
        if self.operating and not self.sponsored:
            return "operating"
        return "sponsor" if self.sponsored else "other"


def country_scores(case: PersonaCase) -> list[CountryScore]:
    """One score per country code of exposed events outside any actor's space, by code."""
    by_country: dict[str, list[Observation]] = {}
    for obs in case.observations:
        if obs.address.category not in EXPOSED or obs.address.actor:
            continue
        country = (obs.address.country or "").strip().upper()
        if country:
            by_country.setdefault(country, []).append(obs)
    actors = case.actors
    hypothesised = sorted({s.actor for s in case.specs if s.actor is not None})
    out = []
    for country in sorted(by_country):
        members = by_country[country]
        trust = min((event_trust(o) for o in members), key=lambda t: -TRUST_WEIGHT[t])
        weight = TRUST_WEIGHT[trust]
        sponsored = [
            a for a in hypothesised if a in actors and (actors[a].country or "").upper() == country
        ]
        # reported to operate there at the time of every one of these events
        operating = [
            a
            for a in hypothesised
            if a in actors
            and a not in sponsored
            and all(actors[a].operates_in(country, o.event.time) for o in members)
        ]
        likelihoods = dict.fromkeys(case.spec_ids, 1.0)
        if sponsored:
            for actor in sponsored:
                likelihoods[hypothesis_id(case.persona.id, "actor", actor)] = (
                    1.0 + (COUNTRY_SPONSOR_RATIO - 1.0) * weight
                )
                likelihoods[hypothesis_id(case.persona.id, "false_flag", actor)] = (
                    1.0 + (COUNTRY_SPONSOR_RATIO - 1.0) * weight / 2.0
                )
        elif not operating:
            likelihoods[hypothesis_id(case.persona.id, "unknown", None)] = (
                1.0 + (COUNTRY_OTHER_TILT - 1.0) * weight
            )
        out.append(
            CountryScore(
                country, tuple(members), trust, tuple(sponsored), tuple(operating), likelihoods
            )
        )
    return out


def country_summary(score: CountryScore, case: PersonaCase) -> str:
    names = {a: case.actors[a].name for a in (*score.sponsored, *score.operating)}
    country = score.country
    if score.reason == "operating":
        meaning = (
            f"a country {', '.join(names[a] for a in score.operating)} is reported to "
            "operate from (registry): consistent with it and with compromised or borrowed "
            f"infrastructure there alike, so neutral; this is not attribution to {country}"
        )
    elif score.reason == "sponsor":
        meaning = (
            f"sponsor country of {', '.join(names[a] for a in score.sponsored)}, but not in "
            "a registered exclusive range: weak, a host there can be compromised or mislocated"
        )
    else:
        meaning = (
            "consistent with compromised or borrowed infrastructure there; this is not "
            f"attribution to {country}"
        )
    categories = sorted({str(o.address.category) for o in score.members})
    return (
        f"{len(score.members)} exposed event(s) ({', '.join(categories)}) geolocated to "
        f"{country}, {trust_text(score.trust)}; {meaning}"
    )


def country_lines(case: PersonaCase) -> list[EvidenceLine]:
    slip_of = {eid: slip.id for slip in case.slips for eid in slip.event_ids}
    return [
        EvidenceLine(
            id=stable_id("line", case.persona.id, "country-hit", score.country),
            kind="country-hit",
            summary=country_summary(score, case),
            likelihoods=rounded(score.likelihoods),
            reliability=TRUST_LETTER[score.trust] + "4",
            rule=RULE_COUNTRY,
            event_ids=tuple(o.event.id for o in score.members),
            slip_ids=tuple(
                sorted({slip_of[o.event.id] for o in score.members if o.event.id in slip_of})
            ),
        )
        for score in country_scores(case)
    ]
