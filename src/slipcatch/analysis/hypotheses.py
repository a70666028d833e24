"""Hypotheses, priors, and how evidence lines combine into posteriors.

For a persona, the hypotheses are: for every actor with any support (an event from its
exclusive range, or an analyst's evidence line naming it), ``actor`` (that actor operates the
persona) and ``false_flag`` (someone else staged traffic through that actor's space to frame it);
always one ``unknown`` (a party that is not a known actor); and the analyst's own hypotheses from
an evidence file (kind ``analyst``, e.g. "an insider"). Priors are explicit (``Priors``) and
recorded on every ``Hypothesis``.

Lines combine by multiplying likelihoods (summing logs, with ``math.fsum`` over lines in id order
so the result never depends on input order); no hypothesis then ends more than ``TOTAL_CAP``
times less likely than the best (a floor), so that no amount of dependent evidence reaches
certainty. Within a line, the spread is capped by power tempering (``temper``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from slipcatch.errors import UsageError
from slipcatch.model import EvidenceLine, stable_id

__all__ = [
    "ANALYST_PRIOR",
    "KIND_RANK",
    "LINE_CAP",
    "TOTAL_CAP",
    "HypothesisSpec",
    "Priors",
    "analyst_hypothesis_id",
    "bayes_factor",
    "combine",
    "hypothesis_id",
    "hypothesis_specs",
    "posterior",
    "temper",
]

#: Largest ratio between any two hypotheses' likelihoods within one evidence line.
LINE_CAP = 10.0
#: Largest ratio between any two hypotheses' combined likelihoods over all lines.
TOTAL_CAP = 100.0

#: Tie-break order when two hypotheses are equally probable: the less accusatory one wins.
KIND_RANK: Mapping[str, int] = {"unknown": 0, "false_flag": 1, "actor": 2, "analyst": 3}

HypothesisKind = Literal["actor", "false_flag", "unknown", "analyst"]

#: Prior of an analyst hypothesis whose prior the evidence file does not state.
ANALYST_PRIOR = 0.05


@dataclass(frozen=True)
class Priors:
    """Prior probabilities of the hypotheses, before any address evidence.

    ``unknown`` is the prior of the unknown-third-party hypothesis; the rest is shared equally
    among the actors whose ranges were hit, and within each actor's share ``false_flag_share``
    goes to its false-flag hypothesis. With one actor and the defaults: unknown 0.5, actor 0.4,
    false flag 0.1. With no actor hypothesis, unknown takes everything.

    Raises:
        UsageError: a share is not strictly between 0 and 1.
    """

    unknown: float = 0.75
    false_flag_share: float = 0.2
    #: Priors of analyst hypotheses by their key (the id in the evidence file); taken off the top
    #: before the rest is shared out. Sorted pairs, so that ``Priors`` stays hashable.
    analyst: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        for name, value in (("unknown", self.unknown), ("false_flag_share", self.false_flag_share)):
            if isinstance(value, bool) or not (
                isinstance(value, int | float) and 0.0 < value < 1.0
            ):
                raise UsageError(f"prior {name} must be strictly between 0 and 1, not {value!r}")
        for key, value in self.analyst:
            if isinstance(value, bool) or not (
                isinstance(value, int | float) and 0.0 < value < 1.0
            ):
                raise UsageError(
                    f"prior of {key!r} must be strictly between 0 and 1, not {value!r}"
                )
        if math.fsum(v for _, v in self.analyst) >= 1.0:
            raise UsageError("the priors of the analyst hypotheses must sum to less than 1")

    def analyst_prior(self, key: str) -> float:
        """The prior of the analyst hypothesis ``key`` (``ANALYST_PRIOR`` when unstated)."""
        return dict(self.analyst).get(key, ANALYST_PRIOR)

    def describe(self, analyst_keys: Sequence[str] = ()) -> str:
        """The priors in one line, for reports."""
        text = (
            f"priors: unknown third party {self.unknown:.2f}; the remaining "
            f"{1 - self.unknown:.2f} split equally among the actors with any support, "
            f"{self.false_flag_share:.2f} of each actor's share to its false-flag hypothesis"
        )
        if analyst_keys:
            parts = ", ".join(f"{k} {self.analyst_prior(k):.2f}" for k in sorted(analyst_keys))
            text += f"; analyst hypotheses taken off the top first: {parts}"
        return text


@dataclass(frozen=True)
class HypothesisSpec:
    id: str
    kind: HypothesisKind
    actor: str | None
    prior: float
    key: str | None = None  # analyst hypotheses: the id given in the evidence file
    statement: str = ""  # analyst hypotheses: the analyst's wording


def hypothesis_id(persona_id: str, kind: str, actor: str | None) -> str:
    """Deterministic id of one hypothesis about one persona."""
    return stable_id("hyp", persona_id, kind, actor or "")


def analyst_hypothesis_id(persona_id: str, key: str) -> str:
    """Deterministic id of the analyst hypothesis ``key`` about one persona."""
    return stable_id("hyp", persona_id, "analyst", key)


def hypothesis_specs(
    persona_id: str,
    actor_ids: Iterable[str],
    priors: Priors,
    analyst: Sequence[tuple[str, str]] = (),
) -> list[HypothesisSpec]:
    """The persona's hypotheses with their priors: unknown, per actor (sorted), then analyst.

    ``analyst`` holds (key, statement) of the analyst's hypotheses; each takes its prior off the
    top, and the rest is shared out as ``Priors`` says.
    """
    actors = sorted(set(actor_ids))
    extra = [
        HypothesisSpec(
            analyst_hypothesis_id(persona_id, key),
            "analyst",
            None,
            priors.analyst_prior(key),
            key=key,
            statement=text,
        )
        for key, text in sorted(set(analyst))
    ]
    rest = 1.0 - math.fsum(s.prior for s in extra)
    if not actors:
        return [
            HypothesisSpec(hypothesis_id(persona_id, "unknown", None), "unknown", None, rest),
            *extra,
        ]
    share = rest * (1.0 - priors.unknown) / len(actors)
    specs = [
        HypothesisSpec(
            hypothesis_id(persona_id, "unknown", None), "unknown", None, rest * priors.unknown
        )
    ]
    for actor in actors:
        specs.append(
            HypothesisSpec(
                hypothesis_id(persona_id, "actor", actor),
                "actor",
                actor,
                share * (1.0 - priors.false_flag_share),
            )
        )
        specs.append(
            HypothesisSpec(
                hypothesis_id(persona_id, "false_flag", actor),
                "false_flag",
                actor,
                share * priors.false_flag_share,
            )
        )
    return specs + extra


def temper(likelihoods: Mapping[str, float], cap: float) -> dict[str, float]:
    """Scale all log-likelihoods by one factor so that max/min is at most ``cap``.

    Order and relative log-distances between hypotheses are kept; only the overall strength is
    reduced. Values are returned relative to the smallest (which becomes 1.0).

    Raises:
        ValueError: a likelihood is not a positive finite number, or ``cap`` is not above 1.
    """
    if cap <= 1.0:
        raise ValueError(f"cap must exceed 1, not {cap!r}")
    logs = {}
    for key in sorted(likelihoods):
        value = likelihoods[key]
        if not (value > 0.0 and math.isfinite(value)):
            raise ValueError(f"likelihood for {key!r} must be positive and finite, not {value!r}")
        logs[key] = math.log(value)
    return _temper_logs(logs, cap)


def _temper_logs(logs: Mapping[str, float], cap: float) -> dict[str, float]:
    if not logs:
        return {}
    low = min(logs.values())
    spread = max(logs.values()) - low
    limit = math.log(cap)
    scale = limit / spread if spread > limit else 1.0
    return {key: math.exp((logs[key] - low) * scale) for key in sorted(logs)}


def combine(
    lines: Sequence[EvidenceLine], hypothesis_ids: Sequence[str], cap: float = TOTAL_CAP
) -> dict[str, float]:
    """Combined likelihood of every hypothesis over independent ``lines``, floored at ``cap``.

    A hypothesis a line does not mention gets likelihood 1 from that line. No hypothesis ends
    more than ``cap`` times less likely than the best one: its log-likelihood is raised to
    ``max - ln(cap)`` when it falls below. Unlike power tempering this is monotone (more
    evidence for the leader never lowers it against any rival) and keeps the contrasts between
    the hypotheses above the floor. Values are returned relative to the smallest.
    """
    ordered = sorted(lines, key=lambda line: line.id)
    logs = {
        hid: math.fsum(math.log(line.likelihoods.get(hid, 1.0)) for line in ordered)
        for hid in sorted(hypothesis_ids)
    }
    if not logs:
        return {}
    floor = max(logs.values()) - math.log(cap)
    clamped = {k: max(v, floor) for k, v in logs.items()}
    low = min(clamped.values())
    return {k: math.exp(clamped[k] - low) for k in sorted(clamped)}


def posterior(
    specs: Sequence[HypothesisSpec], likelihoods: Mapping[str, float]
) -> dict[str, float]:
    """Normalised prior x likelihood for every hypothesis."""
    weights = {s.id: s.prior * likelihoods.get(s.id, 1.0) for s in specs}
    total = math.fsum(weights[k] for k in sorted(weights))
    return {k: weights[k] / total for k in sorted(weights)}


def bayes_factor(line: EvidenceLine, target: str, specs: Sequence[HypothesisSpec]) -> float:
    """How much ``line`` favours ``target`` over the prior-weighted rest of the hypotheses.

    Returns 1.0 when there is no other hypothesis.
    """
    others = [s for s in specs if s.id != target]
    mass = math.fsum(s.prior for s in others)
    if not others or mass <= 0.0:
        return 1.0
    rest = math.fsum(s.prior * line.likelihoods.get(s.id, 1.0) for s in others) / mass
    return line.likelihoods.get(target, 1.0) / rest
