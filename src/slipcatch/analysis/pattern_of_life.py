"""Pattern of life: when the persona works, against each actor's time zone as it was then.

The persona's activity is reduced to *active hours* (distinct UTC hours with at least one event;
events in one hour are one sitting, so a burst cannot weigh more than a quiet hour). For every UTC
offset from -12:00 to +14:00 in 15-minute steps, the share of active hours that fall in local
working hours (``WORK_START`` to ``WORK_END``) is computed; the best offsets are those with the
highest share. Each hypothesised actor's time zones (``Actor.timezones``, IANA names) are then
applied to every active hour *through the tz database*, so the offset in force at that moment is
used (Pyongyang was UTC+8:30 from 2015-08-15 to 2018-05-04, UTC+9 before and after).

A working-hours match is weak evidence: every country in the same offset shares it, and a
disciplined operator (or a framer) can keep any hours. The ratio is therefore modest, and the
line's credibility is 4 so that it never counts toward confidence (docs/model.md, "pattern of
life").
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slipcatch.model import Actor, EvidenceLine, Observation, OriginTrust, Persona, stable_id, utc

from .hypotheses import LINE_CAP, HypothesisSpec

if TYPE_CHECKING:
    from .evidence_lines import Episode

__all__ = [
    "POL_CLEAR",
    "POL_MATCH_RATIO",
    "POL_MIN_DAYS",
    "POL_MIN_EVENTS",
    "POL_MISMATCH_GAP",
    "POL_MISMATCH_RATIO",
    "POL_TOLERANCE",
    "RULE_PATTERN",
    "RULE_SLIP_HOURS",
    "SLIP_HOURS_IN",
    "SLIP_HOURS_OUT",
    "WORK_END",
    "WORK_START",
    "Profile",
    "active_hours",
    "pattern_line",
    "profile",
    "slip_hours_lines",
    "zone_share",
]

RULE_PATTERN = "pattern of life"
RULE_SLIP_HOURS = "slip hours"

#: actor : every other hypothesis for one actor-range episode that began inside (``IN``) or
#: outside (``OUT``) the actor's local working hours (model 2.1). Under the actor hypothesis a
#: slip is a mistake made while at work: in office hours about 3 times in 4 (APT1: 75 %).
#: Under any other hypothesis the hour is that of a party in some other zone, or of a framer
#: who may time its staging; taken as 1 in 2 (a 10-hour window fits 42 % of random hours,
#: neighbouring zones and careful framers push that up). 0.75 / 0.5 = 1.5, 0.25 / 0.5 = 0.5.
SLIP_HOURS_IN = 1.5
SLIP_HOURS_OUT = 0.5

#: Fewer events (or days) than this give no line: too little to speak of a working pattern.
POL_MIN_EVENTS = 20
POL_MIN_DAYS = 5
#: Local working hours, [start, end).
WORK_START, WORK_END = 8, 18
#: The pattern is *clear* when at least this share of active hours fits working hours at the
#: best offset (random activity fits a 10-hour window about 42 % of the time).
POL_CLEAR = 0.65
#: An actor's zone *matches* when its share is within this of the best offset's share.
POL_TOLERANCE = 0.10
#: It *mismatches* when its share is at least this far below the best.
POL_MISMATCH_GAP = 0.35
#: actor : every other hypothesis, for a match and for a mismatch.
POL_MATCH_RATIO = 1.5
POL_MISMATCH_RATIO = 0.4

_OFFSETS = tuple(range(-12 * 60, 14 * 60 + 1, 15))  # minutes east of UTC
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Profile:
    """The persona's working pattern: active hours and the offsets that best fit working hours."""

    hours: tuple[datetime, ...]  # first event time of each active UTC hour, in time order
    events: int
    days: int
    best_share: float
    best_offsets: tuple[int, ...]  # minutes east of UTC, ascending
    weekday_share: float  # share of active hours on Mon-Fri, at the first best offset
    by_weekday: tuple[int, ...]  # active hours per local weekday (Mon..Sun), first best offset


def active_hours(observations: Sequence[Observation]) -> tuple[datetime, ...]:
    """The first event time of every distinct UTC hour with activity, in time order."""
    seen: dict[datetime, datetime] = {}
    for obs in observations:
        t = utc(obs.event.time)
        key = t.replace(minute=0, second=0, microsecond=0)
        if key not in seen or t < seen[key]:
            seen[key] = t
    return tuple(seen[k] for k in sorted(seen))


def _in_work(local: datetime) -> bool:
    return WORK_START <= local.hour < WORK_END


def profile(observations: Sequence[Observation]) -> Profile | None:
    """The persona's profile, or None below ``POL_MIN_EVENTS`` events or ``POL_MIN_DAYS`` days."""
    ids = {obs.event.id for obs in observations}
    days = {utc(obs.event.time).date() for obs in observations}
    if len(ids) < POL_MIN_EVENTS or len(days) < POL_MIN_DAYS:
        return None
    hours = active_hours(observations)
    n = len(hours)
    shares = {
        off: sum(1 for t in hours if _in_work(t + timedelta(minutes=off))) / n for off in _OFFSETS
    }
    best = max(shares.values())
    best_offsets = tuple(off for off in _OFFSETS if shares[off] == best)
    first = best_offsets[0]
    by_day = Counter((t + timedelta(minutes=first)).weekday() for t in hours)
    by_weekday = tuple(by_day.get(d, 0) for d in range(7))
    return Profile(
        hours=hours,
        events=len(ids),
        days=len(days),
        best_share=best,
        best_offsets=best_offsets,
        weekday_share=sum(by_weekday[:5]) / n,
        by_weekday=by_weekday,
    )


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def zone_share(hours: Sequence[datetime], zone: str) -> float | None:
    """Share of ``hours`` in local working hours in ``zone``, with the offset in force at each
    moment (tz database history); None when the zone is unknown to the tz database."""
    tz = _zone(zone)
    if tz is None or not hours:
        return None
    return sum(1 for t in hours if _in_work(t.astimezone(tz))) / len(hours)


def _offset_text(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    h, m = divmod(abs(minutes), 60)
    return f"UTC{sign}{h:02d}:{m:02d}"


def _offsets_text(offsets: Sequence[int]) -> str:
    # Contiguous runs of 15-minute steps read as ranges: "UTC+06:00 to UTC+09:00".
    runs: list[list[int]] = []
    for off in offsets:
        if runs and off - runs[-1][-1] == 15:
            runs[-1].append(off)
        else:
            runs.append([off])
    return ", ".join(
        _offset_text(r[0]) if len(r) == 1 else f"{_offset_text(r[0])} to {_offset_text(r[-1])}"
        for r in runs
    )


def _zone_offsets(hours: Sequence[datetime], zone: str) -> str:
    tz = _zone(zone)
    if tz is None:
        return "unknown zone"
    offs = sorted(
        {int((t.astimezone(tz).utcoffset() or timedelta()).total_seconds() // 60) for t in hours}
    )
    return "/".join(_offset_text(o) for o in offs)


def pattern_line(
    persona: Persona,
    observations: Sequence[Observation],
    specs: Sequence[HypothesisSpec],
    actors: Mapping[str, Actor],
) -> EvidenceLine | None:
    """The pattern-of-life line of one persona, or None when there is too little activity.

    Per actor hypothesis whose actor states time zones: match (the zone's share of active hours
    in working hours is within ``POL_TOLERANCE`` of the best offset's, and the pattern is clear)
    gives the actor ``POL_MATCH_RATIO``; a clear pattern the zone misses by ``POL_MISMATCH_GAP``
    or more gives ``POL_MISMATCH_RATIO``; anything else 1. Every other hypothesis gets 1.
    """
    prof = profile(observations)
    if prof is None:
        return None
    likelihoods = {s.id: 1.0 for s in specs}
    parts = []
    for spec in specs:
        if spec.kind != "actor" or spec.actor is None:
            continue
        actor = actors.get(spec.actor)
        zones = actor.timezones if actor is not None else ()
        scored = [(zone_share(prof.hours, z), z) for z in zones]
        known = [(share, z) for share, z in scored if share is not None]
        if not known:
            parts.append(f"{spec.actor}: no known time zone")
            continue
        share, zone = max(known, key=lambda item: (item[0], item[1]))
        if prof.best_share < POL_CLEAR:
            verdict, ratio = "pattern too unclear to compare", 1.0
        elif share >= prof.best_share - POL_TOLERANCE:
            verdict, ratio = "fits", POL_MATCH_RATIO
        elif share <= prof.best_share - POL_MISMATCH_GAP:
            verdict, ratio = "does not fit", POL_MISMATCH_RATIO
        else:
            verdict, ratio = "fits partly", 1.0
        likelihoods[spec.id] = ratio
        parts.append(
            f"{spec.actor} ({zone}, {_zone_offsets(prof.hours, zone)} then): {share:.0%} "
            f"in working hours, {verdict} (actor ratio {ratio:g})"
        )
    n = len(prof.hours)
    clear = "clear" if prof.best_share >= POL_CLEAR else "no clear"
    days = " ".join(f"{d} {c}" for d, c in zip(_WEEKDAYS, prof.by_weekday, strict=True))
    summary = (
        f"{prof.events} events in {n} active hours over {prof.days} days; {clear} working-hours "
        f"pattern: {prof.best_share:.0%} of active hours fall in {WORK_START:02d}-{WORK_END:02d} "
        f"local at {_offsets_text(prof.best_offsets)}; weekdays {prof.weekday_share:.0%} "
        f"({days}); " + ("; ".join(parts) if parts else "no actor hypothesis to compare")
    )
    sender = sum(1 for obs in observations if obs.event.origin_trust == OriginTrust.SENDER_WRITTEN)
    letter = "E" if 2 * sender > len(observations) else "B"
    return EvidenceLine(
        id=stable_id("line", persona.id, "pattern-of-life"),
        kind="pattern-of-life",
        summary=summary,
        # Both ratios are far inside LINE_CAP, so the values are kept as stated (not tempered).
        likelihoods={k: round(v, 6) for k, v in sorted(likelihoods.items())},
        reliability=letter + "4",
        rule=RULE_PATTERN,
        event_ids=(),
    )


def slip_hours_lines(
    persona: Persona,
    episodes: Sequence[Episode],
    specs: Sequence[HypothesisSpec],
    actors: Mapping[str, Actor],
) -> list[EvidenceLine]:
    """One line per actor hypothesis: did its range's episodes begin in its working hours?

    Each episode's first event is put in the actor's time zones through the tz database (the
    offset in force then); it is *in* hours when it falls in ``WORK_START``-``WORK_END`` local
    in any of them. Per episode ``SLIP_HOURS_IN`` or ``SLIP_HOURS_OUT``; the line's ratio is
    ``exp(sum(ln) / sqrt(k))`` (one operator's or one framer's habit: sqrt(k) observations, as
    for the slip pattern), given to the actor; every other hypothesis gets 1. No line for an
    actor without a known time zone.
    """
    by_actor: dict[str, list[Episode]] = {}
    for ep in episodes:
        by_actor.setdefault(ep.actor, []).append(ep)
    out = []
    all_ids = [s.id for s in specs]
    for spec in specs:
        if spec.kind != "actor" or spec.actor not in by_actor:
            continue
        actor = actors.get(spec.actor)
        zones = [z for z in (actor.timezones if actor is not None else ()) if _zone(z)]
        if not zones:
            continue
        group = sorted(by_actor[spec.actor], key=lambda ep: (ep.first, ep.observations[0].event.id))
        inside = [any(_in_work(ep.first.astimezone(_zone(z))) for z in zones) for ep in group]
        logs = [math.log(SLIP_HOURS_IN if ok else SLIP_HOURS_OUT) for ok in inside]
        ratio = math.exp(math.fsum(logs) / math.sqrt(len(logs)))
        ratio = min(LINE_CAP, max(1.0 / LINE_CAP, ratio))
        likelihoods = dict.fromkeys(all_ids, 1.0)
        likelihoods[spec.id] = ratio
        sender = all(
            obs.event.origin_trust == OriginTrust.SENDER_WRITTEN
            for ep in group
            for obs in ep.observations
        )
        summary = (
            f"{sum(inside)} of {len(group)} episode(s) from the range of {spec.actor} began in "
            f"working hours ({WORK_START:02d}-{WORK_END:02d}) in {', '.join(zones)} as it was "
            f"then; actor ratio {ratio:.2f} (a mistake is made at work; a framer or another "
            "party keeps its own hours unless it times its staging)"
        )
        out.append(
            EvidenceLine(
                id=stable_id("line", persona.id, "slip-hours", spec.actor),
                kind="slip-hours",
                summary=summary,
                likelihoods={k: round(v, 6) for k, v in sorted(likelihoods.items())},
                # Timing can be kept by a careful framer and is shared by neighbouring zones:
                # credibility 4, never a reliable line (like the pattern of life).
                reliability=("E" if sender else "B") + "4",
                rule=RULE_SLIP_HOURS,
                event_ids=tuple(o.event.id for ep in group for o in ep.observations),
            )
        )
    return out
