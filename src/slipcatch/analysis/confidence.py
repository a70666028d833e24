"""Verdict, confidence and the skeptic's alternatives.

ICD 203 keeps two judgements apart: *likelihood* (how probable the verdict is: the posterior,
expressed with ``model.icd203_term``) and *confidence* (how good the basis for that judgement
is: number of independent reliable lines, source reliability, consistency, linchpins). The rules
are in docs/model.md, "Confidence".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from slipcatch.model import (
    Actor,
    Alternative,
    EvidenceLine,
    OriginTrust,
    Slip,
    icd203_term,
)

from .episodes import Episode
from .hypotheses import KIND_RANK, HypothesisSpec, bayes_factor
from .reading import listing_texts
from .rules.slip_pattern import SLIP_PATTERNS

__all__ = [
    "ACTIVITY_KIND",
    "ADDRESS_KINDS",
    "CONTRA_BF",
    "HIGH_KINDS",
    "SUPPORT_BF",
    "Judgement",
    "alternatives",
    "base_confidence",
    "contradicting",
    "is_reliable",
    "judge",
    "statement",
    "supporting",
]

#: A line supports a hypothesis when it favours it over the prior-weighted rest by this much.
SUPPORT_BF = 1.25
#: A line contradicts a hypothesis when it favours the rest by this much (1 / 1.25).
CONTRA_BF = 0.8
#: High confidence needs reliable supporting lines of at least this many kinds (independent
#: methods).
HIGH_KINDS = 2
#: Line kinds that all rest on the activity the adversary itself produced — where its
#: addresses were, how its exposures ended, on which channel, at what hours it worked: a party
#: able to stage the events sets all of that, so together they are ONE kind for
#: ``HIGH_KINDS``. High confidence therefore needs a reliable line of another kind (analyst
#: evidence such as code reuse or a tip), as the FBI's 2014 judgement rested on malware and
#: infrastructure links as well as on the addresses.
ADDRESS_KINDS = frozenset(
    {
        "actor-range-episode",
        "slip-pattern",
        "range-access",
        "exposure-channels",
        "pattern-of-life",
        "country-hit",
        "exposed-elsewhere",
    }
)
#: The name of that one kind in confidence reasons.
ACTIVITY_KIND = "adversary activity"

Confidence = Literal["low", "moderate", "high"]


def is_reliable(line: EvidenceLine) -> bool:
    """Admiralty source A-C and information credibility 1-3."""
    code = line.reliability
    return len(code) == 2 and code[0] in "ABC" and code[1] in "123"


def supporting(
    lines: Sequence[EvidenceLine], target: str, specs: Sequence[HypothesisSpec]
) -> list[EvidenceLine]:
    """Lines whose Bayes factor for ``target`` against the rest is at least ``SUPPORT_BF``."""
    return [line for line in lines if bayes_factor(line, target, specs) >= SUPPORT_BF]


def _favours_a_rival(line: EvidenceLine, target: str, specs: Sequence[HypothesisSpec]) -> bool:
    mine = line.likelihoods.get(target, 1.0)
    return any(
        line.likelihoods.get(s.id, 1.0) >= SUPPORT_BF * mine for s in specs if s.id != target
    )


def contradicting(
    lines: Sequence[EvidenceLine], target: str, specs: Sequence[HypothesisSpec]
) -> list[EvidenceLine]:
    """Lines that point away from ``target``.

    A line contradicts when its Bayes factor for ``target`` against the rest is at most
    ``CONTRA_BF``, or when it favours some single rival over ``target`` by ``SUPPORT_BF`` or
    more (an exposure that looks staged supports "actor" against "unknown" but contradicts it
    against "false flag"; such a line both supports and contradicts).
    """
    return [
        line
        for line in lines
        if bayes_factor(line, target, specs) <= CONTRA_BF or _favours_a_rival(line, target, specs)
    ]


@dataclass(frozen=True)
class Judgement:
    """The verdict before its wording: what is best supported and how firmly."""

    best: HypothesisSpec
    posteriors: Mapping[str, float]
    actor: str | None  # the verdict's actor: set only when an actor hypothesis is best
    subject: str | None  # the actor the probability is about (best-supported actor, if any)
    probability: float
    likelihood: str
    confidence: Confidence
    reasons: tuple[str, ...]

    @property
    def key(self) -> tuple[str | None, str, str]:
        """What a linchpin must change: the verdict's actor, likelihood word or confidence."""
        return (self.actor, self.likelihood, self.confidence)


def base_confidence(
    lines: Sequence[EvidenceLine], specs: Sequence[HypothesisSpec], best: HypothesisSpec
) -> tuple[Confidence, tuple[str, ...]]:
    """Confidence from the lines alone (linchpins are applied by the caller).

    high: at least 3 reliable supporting lines, none contradicting, best source A or B, and
    reliable supporting lines of at least ``HIGH_KINDS`` kinds (every kind in ``ADDRESS_KINDS``
    counts as one: without reliable analyst evidence no verdict is high);
    moderate: at least 2 reliable supporting lines and contradicting lines fewer than half of
    them; low: anything else, and always when no actor hypothesis exists.
    """
    if not any(s.kind == "actor" for s in specs):
        return "low", (
            "no event came from an actor's exclusive range, so no line of evidence can tell a "
            "known actor from an unknown party",
        )
    sup = supporting(lines, best.id, specs)
    strong = [line for line in sup if is_reliable(line)]
    con = contradicting(lines, best.id, specs)
    n = len(strong)
    letters = sorted(line.reliability[0] for line in strong)
    best_letter = letters[0] if letters else None
    reasons = [
        f"{n} independent reliable line(s) support the best-supported hypothesis "
        f"({len(sup)} supporting in all; dependent events are grouped and counted once)",
        f"{len(con)} line(s) point another way",
    ]
    if best_letter is not None:
        reasons.append(f"most reliable supporting source: {best_letter} (Admiralty)")
    weak = sorted(line.id for line in sup if not is_reliable(line))
    if weak:
        reasons.append(
            f"{len(weak)} supporting line(s) rest on weak sources (sender-written headers, "
            "geolocation or uncertain exclusivity)"
        )
    # Kinds of *reliable* supporting lines: a weak item of another kind (a D4 tip) does not
    # corroborate what the adversary's own activity shows.
    kinds = sorted({ACTIVITY_KIND if line.kind in ADDRESS_KINDS else line.kind for line in strong})
    level: Confidence
    if n >= 3 and not con and best_letter in ("A", "B") and len(kinds) >= HIGH_KINDS:
        level = "high"
    elif n >= 2 and 2 * len(con) < n:
        level = "moderate"
    else:
        level = "low"
        if n < 2:
            reasons.append("fewer than two independent reliable lines")
    if n >= 3 and not con and best_letter in ("A", "B") and len(kinds) < HIGH_KINDS:
        reasons.append(
            f"every supporting line is of one kind ({', '.join(kinds)}): a party able to fake "
            "that kind of evidence could fake all of it, so confidence is not high without "
            "corroboration of another kind (analyst evidence such as code reuse, language or a "
            "tip)"
        )
    return level, tuple(reasons)


def judge(
    lines: Sequence[EvidenceLine],
    specs: Sequence[HypothesisSpec],
    posteriors: Mapping[str, float],
) -> Judgement:
    """Pick the best-supported hypothesis and state probability, likelihood and confidence.

    ``probability`` is P(best hypothesis) when it is an actor hypothesis; otherwise it is the
    probability that the best-supported *actor* hypothesis is true (so it stays a probability of
    attribution, below 0.5 whenever the verdict names no actor), or 0 when there is none.
    """
    best = min(specs, key=lambda s: (-posteriors[s.id], KIND_RANK[s.kind], s.id))
    actor_specs = [s for s in specs if s.kind == "actor"]
    if best.kind == "actor":
        subject: HypothesisSpec | None = best
    elif actor_specs:
        subject = min(actor_specs, key=lambda s: (-posteriors[s.id], s.id))
    else:
        subject = None
    probability = round(posteriors[subject.id], 6) if subject is not None else 0.0
    level, reasons = base_confidence(lines, specs, best)
    return Judgement(
        best=best,
        posteriors=posteriors,
        actor=best.actor if best.kind == "actor" else None,
        subject=subject.actor if subject is not None else None,
        probability=probability,
        likelihood=icd203_term(probability),
        confidence=level,
        reasons=reasons,
    )


def _percent(p: float) -> str:
    if p < 0.01:
        return "<1%"
    if p > 0.99:
        return ">99%"
    # Never let rounding carry a probability across an ICD 203 band edge in the wording
    # ("very likely (95%)" for 0.9493 reads as a contradiction): add decimals there.
    for digits in range(4):
        text = f"{p:.{digits}%}"
        if icd203_term(float(text.rstrip("%")) / 100) == icd203_term(p):
            break
    return text


def _actor_name(actor: str, actors: Mapping[str, Actor]) -> str:
    known = actors.get(actor)
    return f"{known.name} ({actor})" if known is not None and known.name != actor else actor


def statement(persona_name: str, j: Judgement, actors: Mapping[str, Actor]) -> str:
    """The verdict as one ICD 203 sentence (likelihood only; confidence is stated apart)."""
    if j.subject is None:
        return (
            f"The evidence is insufficient to attribute persona '{persona_name}' to any known "
            "actor."
        )
    head = (
        f"We assess it is {j.likelihood} ({_percent(j.probability)}) that persona "
        f"'{persona_name}' is operated by {_actor_name(j.subject, actors)}"
    )
    if j.best.kind == "actor":
        return head + "."
    if j.best.kind == "analyst":
        return (
            head + "; the better-supported explanation is the analyst's hypothesis "
            f"'{j.best.key}': {j.best.statement.rstrip('.')}."
        )
    if j.best.kind == "false_flag" and j.best.actor is not None:
        return (
            head + "; the better-supported explanation is that someone else staged traffic "
            f"through the address space of {_actor_name(j.best.actor, actors)}."
        )
    return head + "; an unknown third party is the better-supported explanation."


def alternatives(
    episodes: Sequence[tuple[EvidenceLine, Episode]],
    country_lines: Sequence[EvidenceLine],
    slips: Sequence[Slip],
    specs: Sequence[HypothesisSpec],
    actors: Mapping[str, Actor],
) -> tuple[Alternative, ...]:
    """The skeptic's view of every attributing item: other explanations and discriminators."""
    out: list[Alternative] = []
    actor_hyp = {s.actor: s.id for s in specs if s.kind == "actor"}
    for line, ep in episodes:
        # Every episode names an actor, however weakly: the skeptic's view is most needed
        # where the support is thin (a sender-written origin barely moves the posterior).
        name = actors[ep.actor].name if ep.actor in actors else ep.actor
        ranges = ", ".join(sorted({o.address.prefix or o.address.ip for o in ep.observations}))
        zones = ", ".join(actors[ep.actor].timezones) if ep.actor in actors else ""
        out.append(
            Alternative(
                item=line.id,
                explanation=(
                    f"Someone else used a compromised host inside {ranges} ({name}'s range) "
                    "as a hop."
                ),
                discriminator=(
                    "whether the same addresses served unrelated intrusions or other personas "
                    "at the time; what the host was (server or user machine); whether the "
                    "persona's working hours fit the actor's" + (f" ({zones})" if zones else "")
                ),
            )
        )
        if ep.min_exclusivity < 1.0:
            listed = listing_texts(ep.observations)
            out.append(
                Alternative(
                    item=line.id,
                    explanation=(
                        "A VPN or hosting provider used space registered to the actor's country "
                        "so that foreign servers geolocate there (Trend Micro, 'A Closer Look at "
                        f"North Korea's Internet', 2017); exclusivity was {ep.min_exclusivity:.2f}"
                        + (f"; the address was listed as {', '.join(listed)}." if listed else ".")
                    ),
                    discriminator=(
                        "BGP origin and upstream of the prefix on that date; commercial VPN exit "
                        "lists for the date; reverse DNS of the address"
                    ),
                )
            )
        if ep.weakest_trust == OriginTrust.SENDER_WRITTEN:
            out.append(
                Alternative(
                    item=line.id,
                    explanation=(
                        "The origin address was read from a header the sender wrote, which can "
                        "be forged."
                    ),
                    discriminator=(
                        "the receiving side's own Received header or mail-server log for the "
                        "message (its entry address); DKIM or ARC signatures over the headers"
                    ),
                )
            )
        if ep.pattern == "quick-return":
            framer = (
                "A framer mimicked a mistake: a brief exposure from the actor's space followed "
                "by a return to cover."
            )
        else:
            framer = (
                "Someone staged traffic through the actor's space to frame it; the pattern ("
                f"{SLIP_PATTERNS[ep.pattern][1]}) fits staging at least as well as a mistake."
            )
        out.append(
            Alternative(
                item=line.id,
                explanation=framer,
                discriminator=(
                    "whether the exposure was made to be found (publicised, repeated, long) and "
                    "whether tools, infrastructure and language match the actor's known work"
                ),
            )
        )
    for slip in slips:
        if slip.attributed_to is None:
            continue
        closed = (
            f"{slip.closed_after_seconds:.0f} s later"
            if slip.closed_after_seconds is not None
            else "(none followed)"
        )
        out.append(
            Alternative(
                item=slip.id,
                explanation=(
                    f"The direct connection from {slip.ip} may have come from a compromised host "
                    "or a framer rather than the persona's operator forgetting the cover."
                ),
                discriminator=(
                    f"whether other personas or intrusions used {slip.ip} around "
                    f"{slip.first_seen:%Y-%m-%d %H:%M} UTC; whether the next covered event "
                    f"{closed} continues the same session (same identity, same target)"
                ),
            )
        )
    for line in country_lines:
        favoured = [
            a for a, hid in actor_hyp.items() if bayes_factor(line, hid, specs) >= SUPPORT_BF
        ]
        if not favoured:
            continue
        out.append(
            Alternative(
                item=line.id,
                explanation=(
                    "Geolocation places a host, not its operator: a host outside any registered "
                    "range can be compromised, borrowed, or mislocated by the database."
                ),
                discriminator=(
                    "registry and routing records for the address on the date; whether the host "
                    "is a residential line or a server"
                ),
            )
        )
    return tuple(sorted(out, key=lambda a: (a.item, a.explanation)))
