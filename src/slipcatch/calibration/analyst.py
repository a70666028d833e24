"""Simulated analyst evidence: what an analyst would add to a case with ``--evidence-file``.

A code-reuse item linking the tooling to the actor of interest (found for 50 % of actors,
planted by 30 % of framers, coincidental for 5 % of other parties) and language analysis
pointing away from that actor (15 % of actors, 35 % of everyone else, when the actor is under
consideration). The items are YAML-shaped documents, validated by the analysis' own evidence-file
parser in ``cases.generate``. Rates, stated ratios and reliability mixes are in
docs/calibration.md, "Analyst evidence in the harness"; they are stated assumptions, not fitted
to the model's scores.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from slipcatch.model import Category

from .world import ACTORS, SimCase

__all__ = ["AWAY_RATES", "CODE_REUSE_RATES", "analyst_document"]

#: Simulated analyst evidence (docs/calibration.md, "Analyst evidence in the harness"): stated
#: assumptions, not fitted. P(a code-reuse item naming the actor of interest | truth):
#: operators reuse their tooling (found in half the cases), framers plant it (Olympic Destroyer
#: carried Lazarus code), anyone else only by coincidence (leaked tools).
CODE_REUSE_RATES: Mapping[str, float] = {
    "actor": 0.5,
    "framed": 0.3,
    "unknown": 0.05,
    "noise": 0.05,
}
#: P(language analysis pointing away from the actor of interest | truth), when that actor is
#: under consideration (its range was hit or a code-reuse item names it): the party's own
#: language shows through; operators mislead (Sony 2014: a linguistic analysis favoured Russian
#: speakers) or plant other languages now and then.
AWAY_RATES: Mapping[str, float] = {
    "actor": 0.15,
    "framed": 0.35,
    "unknown": 0.35,
    "noise": 0.35,
}
#: Stated ratio of a code-reuse item (actor : others, as an A1 item), uniform over these.
_CODE_RATIOS = (3, 4, 5, 6, 7, 8, 9, 10)
#: Share of code-reuse items whose analyst also allows for planted code (false flag at half the
#: actor's ratio, the form of docs/model.md's example); the rest state the actor only.
_CAREFUL_SHARE = 0.5
#: Stated ratio of a language item (every other party : the actor).
_AWAY_RATIOS = (2, 3)
#: Admiralty mixes: (letter weights, credibility weights).
_CODE_RELIABILITY = ({"A": 0.2, "B": 0.5, "C": 0.3}, {"1": 0.2, "2": 0.5, "3": 0.3})
_AWAY_RELIABILITY = ({"B": 0.3, "C": 0.5, "D": 0.2}, {"2": 0.2, "3": 0.5, "4": 0.3})


def _code(rng: random.Random, mix: tuple[Mapping[str, float], Mapping[str, float]]) -> str:
    letters, credibility = mix
    return (
        rng.choices(list(letters), list(letters.values()))[0]
        + rng.choices(list(credibility), list(credibility.values()))[0]
    )


def analyst_document(case: SimCase, rng: random.Random) -> tuple[str | None, dict[str, object]]:
    """The analyst's evidence file for ``case`` as the YAML document it would be, and the actor
    of interest afterwards.

    A code-reuse item is found with ``CODE_REUSE_RATES[scenario]``; it names the case's actor of
    interest, or a registry actor at random when the case has none (that actor then becomes the
    actor of interest: the forecast is about it). A language item pointing away from the actor
    of interest is found with ``AWAY_RATES[scenario]`` when that actor is under consideration
    (its range was hit or a code-reuse item names it). Items are drawn whatever the truth's
    network evidence looks like, and of the same form whoever the truth is.
    """
    actor = case.actor
    items: list[dict[str, object]] = []
    if rng.random() < CODE_REUSE_RATES[case.scenario]:
        if actor is None:
            actor = rng.choice(ACTORS).id
        ratio = rng.choice(_CODE_RATIOS)
        likelihoods: dict[str, float] = {f"actor:{actor}": ratio}
        if rng.random() < _CAREFUL_SHARE:
            likelihoods[f"false_flag:{actor}"] = ratio / 2
        items.append(
            {
                "id": "code-reuse",
                "summary": f"the persona's tooling shares code with earlier work of {actor}",
                "reliability": _code(rng, _CODE_RELIABILITY),
                "personas": [f"persona-{case.index}"],
                "likelihoods": likelihoods,
            }
        )
    considered = bool(items) or any(
        obs.address.category == Category.ACTOR and obs.address.actor == actor
        for obs in case.observations
    )
    if actor is not None and considered and rng.random() < AWAY_RATES[case.scenario]:
        ratio = rng.choice(_AWAY_RATIOS)
        items.append(
            {
                "id": "language",
                "summary": f"language analysis of the persona's texts favours a party other "
                f"than {actor}",
                "reliability": _code(rng, _AWAY_RELIABILITY),
                "personas": [f"persona-{case.index}"],
                "likelihoods": {"unknown": ratio, f"false_flag:{actor}": ratio},
            }
        )
    return actor, {"evidence": items} if items else {}
