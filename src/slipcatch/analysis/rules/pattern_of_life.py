"""Rule "pattern of life": the persona's working hours against each actor's time zone.

Per actor hypothesis whose actor states a known time zone, with ``R`` its best zone's
``zone_ratio`` (``analysis.pattern_of_life``): the actor gets
``(1 - POL_OFF_HOURS) R + POL_OFF_HOURS`` (some operators work nights or to a target's day), its
false flag ``POL_MIMIC R + (1 - POL_MIMIC)`` (a careful framer keeps the actor's hours), every
other hypothesis 1; the line is tempered to ``LINE_CAP`` and scaled so the unknown party stays
at 1. Its credibility is 4 so that it never counts toward confidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from slipcatch.model import EvidenceLine, OriginTrust, stable_id

from ..hypotheses import LINE_CAP, temper
from ..pattern_of_life import (
    WEEKDAYS,
    WORK_END,
    WORK_START,
    Profile,
    offsets_text,
    profile,
    zone_offsets,
    zone_ratio,
    zone_share,
)
from ..persona_case import PersonaCase
from ..reading import stated_trust

__all__ = [
    "POL_MIMIC",
    "POL_OFF_HOURS",
    "RULE_PATTERN",
    "PatternScore",
    "ZoneFit",
    "pattern_lines",
    "pattern_score",
    "pattern_summary",
]

RULE_PATTERN = "pattern of life"
#: Share of an actor's operators whose routine is not the actor's office day (night shifts,
#: working to a target's day, travel). Bounds the line against the actor at 1 / POL_OFF_HOURS.
POL_OFF_HOURS = 0.1
#: Share of framers who keep the framed actor's office hours. Bounds actor : false flag at
#: (1 - POL_OFF_HOURS) / POL_MIMIC.
POL_MIMIC = 0.25


@dataclass(frozen=True)
class ZoneFit:
    """How one hypothesised actor's best time zone fits the hours (zone None: none known)."""

    actor: str
    zone: str | None = None
    ratio: float = 1.0  # R
    share: float = 0.0  # of active hours in local working hours there


@dataclass(frozen=True)
class PatternScore:
    profile: Profile
    fits: tuple[ZoneFit, ...]
    likelihoods: dict[str, float]  # tempered, relative to the unknown party; unrounded
    sender_written: int  # events whose origin only the sender wrote
    events: int

    @property
    def letter(self) -> str:
        """E when most events rest on a sender-written origin, else B."""
        return "E" if 2 * self.sender_written > self.events else "B"


def pattern_score(case: PersonaCase) -> PatternScore | None:
    """None below ``POL_MIN_HOURS`` active hours."""
    prof = profile(case.observations)
    if prof is None:
        return None
    specs = case.specs
    likelihoods = {s.id: 1.0 for s in specs}
    fits = []
    for spec in specs:
        if spec.kind != "actor" or spec.actor is None:
            continue
        actor = case.actors.get(spec.actor)
        zones = actor.timezones if actor is not None else ()
        scored = [(zone_ratio(prof, z), z) for z in zones]
        known = [(r, z) for r, z in scored if r is not None]
        if not known:
            fits.append(ZoneFit(spec.actor))
            continue
        ratio, zone = max(known, key=lambda item: (item[0], item[1]))
        likelihoods[spec.id] = (1.0 - POL_OFF_HOURS) * ratio + POL_OFF_HOURS
        for other in specs:
            if other.kind == "false_flag" and other.actor == spec.actor:
                likelihoods[other.id] = POL_MIMIC * ratio + (1.0 - POL_MIMIC)
        fits.append(ZoneFit(spec.actor, zone, ratio, zone_share(prof.hours, zone) or 0.0))
    tempered = temper(likelihoods, LINE_CAP) if likelihoods else {}
    # Relative to the unknown-party hypothesis (which the line leaves at 1), when there is one.
    base = next((tempered[s.id] for s in specs if s.kind == "unknown"), 1.0)
    sender = sum(
        1 for obs in case.observations if stated_trust(obs) == OriginTrust.SENDER_WRITTEN
    )
    return PatternScore(
        prof,
        tuple(fits),
        {k: v / base for k, v in tempered.items()},
        sender,
        len(case.observations),
    )


def _fit_text(fit: ZoneFit, prof: Profile) -> str:
    if fit.zone is None:
        return f"{fit.actor}: no known time zone"
    return (
        f"{fit.actor} ({fit.zone}, {zone_offsets(prof.hours, fit.zone)} then): {fit.share:.0%} "
        f"in {WORK_START:02d}-{WORK_END:02d} local; with an office day starting 06:00-11:00 "
        f"the hours are {fit.ratio:.2f} times as likely there as for a party located anywhere"
    )


def pattern_summary(score: PatternScore) -> str:
    prof = score.profile
    parts = [_fit_text(fit, prof) for fit in score.fits]
    days = " ".join(f"{d} {c}" for d, c in zip(WEEKDAYS, prof.by_weekday, strict=True))
    return (
        f"{prof.events} events in {len(prof.hours)} active hours over {prof.days} days; at best "
        f"{prof.best_share:.0%} of active hours fall in {WORK_START:02d}-{WORK_END:02d} local, "
        f"at {offsets_text(prof.best_offsets)}; weekdays {prof.weekday_share:.0%} ({days}); "
        + ("; ".join(parts) if parts else "no actor hypothesis to compare")
    )


def pattern_lines(case: PersonaCase) -> list[EvidenceLine]:
    """At most one line."""
    score = pattern_score(case)
    if score is None:
        return []
    return [
        EvidenceLine(
            id=stable_id("line", case.persona.id, "pattern-of-life"),
            kind="pattern-of-life",
            summary=pattern_summary(score),
            likelihoods={k: round(v, 6) for k, v in sorted(score.likelihoods.items())},
            reliability=score.letter + "4",
            rule=RULE_PATTERN,
            event_ids=(),
        )
    ]
