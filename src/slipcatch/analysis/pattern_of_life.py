"""Pattern of life: when the persona works, against each actor's time zone as it was then.

This module holds the persona's profile and the likelihood arithmetic; the evidence line it
feeds is the rule ``rules.pattern_of_life``.

The persona's activity is reduced to *active hours* (distinct UTC hours with at least one event;
events in one hour are one sitting, so a burst cannot weigh more than a quiet hour). They are
read as draws from a working routine: an operator works an office day of ``w`` hours with
an unknown discipline ``d`` and at any hour otherwise, so an active hour falls on a given office
hour with density ``d / w + (1 - d) / 24`` and on any other hour with ``(1 - d) / 24``.
Integrating ``d`` over a uniform prior, and the office day over starts from 06:00 to 11:00 local
(every half hour) and lengths of 8, 9 and 10 hours, gives the likelihood of the hours for a
zone. (``WORK_START``-``WORK_END``, 08:00-18:00, is used only to describe the profile.)

- *Actor's zone*: each hypothesised actor's time zones (``Actor.timezones``, IANA names) are
  applied to every active hour *through the tz database*, so the offset in force at that moment is
  used (Pyongyang was UTC+8:30 from 2015-08-15 to 2018-05-04, UTC+9 before and after).
- *Anywhere*: the mixture over UTC offsets weighted by the world's Internet users
  (``INTERNET_USERS_BY_OFFSET``): a party whose location nothing tells.

``R`` = likelihood in the actor's zone / likelihood anywhere (``zone_ratio``); the rule turns
it into the line's likelihoods. A match is weak by construction (every country in the same band
of offsets shares it, and the ratio is bounded by how few offsets fit; docs/model.md,
"pattern of life").
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slipcatch.model import Observation, utc

__all__ = [
    "INTERNET_USERS_BY_OFFSET",
    "POL_MIN_HOURS",
    "WEEKDAYS",
    "WORK_END",
    "WORK_START",
    "Profile",
    "active_hours",
    "offsets_text",
    "profile",
    "routine_log_likelihood",
    "zone_offsets",
    "zone_ratio",
    "zone_share",
]

#: Fewer active hours than this give no line: too little to speak of a routine.
POL_MIN_HOURS = 3
#: Local working hours, [start, end).
WORK_START, WORK_END = 8, 18
#: The office day is not known to the hour: it starts between 06:00 and 11:00 local (every
#: half hour, equally likely) and lasts 8, 9 or 10 hours.
_STARTS = tuple(range(6 * 60, 11 * 60 + 1, 30))
_LENGTHS = (8, 9, 10)
_BIN = 15  # minutes
_BINS = 1440 // _BIN
_START_BINS = tuple(start // _BIN for start in _STARTS)
#: Where a party whose location nothing tells works: the world's Internet users by the UTC
#: offset of their standard time, in millions, rounded (ITU and national figures, about 2023;
#: docs/model.md, "pattern of life"). A match with an actor's zone is worth little when many
#: people share that band of offsets (UTC+7 to +10 holds a third of them).
INTERNET_USERS_BY_OFFSET: Mapping[int, int] = {
    -10 * 60: 1,
    -9 * 60: 1,
    -8 * 60: 60,
    -7 * 60: 30,
    -6 * 60: 200,
    -5 * 60: 260,
    -4 * 60: 60,
    -3 * 60: 230,
    -1 * 60: 2,
    0: 140,
    1 * 60: 330,
    2 * 60: 250,
    3 * 60: 270,
    3 * 60 + 30: 70,
    4 * 60: 25,
    4 * 60 + 30: 8,
    5 * 60: 140,
    5 * 60 + 30: 890,
    5 * 60 + 45: 15,
    6 * 60: 90,
    6 * 60 + 30: 25,
    7 * 60: 320,
    8 * 60: 1250,
    9 * 60: 180,
    10 * 60: 25,
    11 * 60: 3,
    12 * 60: 5,
}
#: Midpoints of 20 equal steps of the discipline d over [0, 1] (a uniform prior).
_DISCIPLINE = tuple((i + 0.5) / 20 for i in range(20))

_OFFSETS = tuple(range(-12 * 60, 14 * 60 + 1, 15))  # minutes east of UTC
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


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
    histogram: tuple[int, ...]  # active hours per UTC quarter hour of the day (96 bins)

    @property
    def log_anywhere(self) -> float:
        """Log-likelihood of the hours for an operator at an unknown offset (computed on first
        use: only personas with an actor hypothesis need it)."""
        return _anywhere(self.histogram)


def active_hours(observations: Sequence[Observation]) -> tuple[datetime, ...]:
    """The first event time of every distinct UTC hour with activity, in time order."""
    seen: dict[int, datetime] = {}
    for obs in observations:
        t = utc(obs.event.time)
        key = int(t.timestamp() // 3600)  # the UTC hour, as a number (cheaper than replace)
        first = seen.get(key)
        if first is None or t < first:
            seen[key] = t
    return tuple(seen[k] for k in sorted(seen))


def _in_work(local: datetime) -> bool:
    return WORK_START <= local.hour < WORK_END


def _log_sum_exp(values: Sequence[float]) -> float:
    top = max(values)
    return top + math.log(math.fsum(math.exp(v - top) for v in values))


def _log_mean_exp(values: Sequence[float]) -> float:
    return _log_sum_exp(values) - math.log(len(values))


@lru_cache(maxsize=65536)
def routine_log_likelihood(inside: int, hours: int, width: int = WORK_END - WORK_START) -> float:
    """Log-likelihood of ``hours`` active hours of which ``inside`` fall in a ``width``-hour
    office day, for an operator of unknown discipline (uniform prior, 20-step midpoint rule).

    Each hour is a draw: with probability d one of the ``width`` office hours, else any of 24.
    Raises ValueError unless 0 <= inside <= hours and 0 < width < 24.
    """
    if not 0 <= inside <= hours or not 0 < width < 24:
        raise ValueError(f"need 0 <= inside <= {hours} and 0 < width < 24, not {inside}, {width}")
    terms = []
    for d in _DISCIPLINE:
        office = d / width + (1.0 - d) / 24.0
        other = (1.0 - d) / 24.0
        terms.append(inside * math.log(office) + (hours - inside) * math.log(other))
    return _log_mean_exp(terms)


def _histogram(times: Sequence[datetime]) -> tuple[int, ...]:
    """Counts of ``times`` per ``_BIN``-minute bin of their day, in their own zone (96 bins)."""
    counts = [0] * _BINS
    for t in times:
        counts[(t.hour * 60 + t.minute) // _BIN] += 1
    return tuple(counts)


def _shifted(histogram: Sequence[int], offset: int) -> tuple[int, ...]:
    """A UTC histogram read at a fixed ``offset`` (minutes east, a whole number of bins)."""
    k = offset // _BIN
    return tuple(histogram[(b - k) % _BINS] for b in range(_BINS))


def _routine(histogram: Sequence[int], starts: Sequence[int]) -> float:
    """Log of the mean likelihood over office days starting at ``starts`` (bins) and lasting
    each of ``_LENGTHS`` hours."""
    n = sum(histogram)
    doubled = list(histogram) * 2
    prefix = [0]
    for c in doubled:
        prefix.append(prefix[-1] + c)
    terms = []
    for hours in _LENGTHS:
        span = hours * 60 // _BIN
        for start in starts:
            inside = prefix[start + span] - prefix[start]
            terms.append(routine_log_likelihood(inside, n, hours))
    return _log_mean_exp(terms)


def profile(observations: Sequence[Observation]) -> Profile | None:
    """The persona's profile, or None below ``POL_MIN_HOURS`` active hours."""
    hours = active_hours(observations)
    n = len(hours)
    if n < POL_MIN_HOURS:
        return None
    # Offsets are whole quarter hours and 08:00-18:00 starts and ends on one, so an hour is in
    # working hours at offset ``off`` exactly when its quarter-hour bin, shifted, is.
    histogram = _histogram(hours)
    lo, hi = WORK_START * 60 // _BIN, WORK_END * 60 // _BIN
    counts = {off: sum(_shifted(histogram, off)[lo:hi]) for off in _OFFSETS}
    best = max(counts.values())
    best_offsets = tuple(off for off in _OFFSETS if counts[off] == best)
    first = best_offsets[0]
    by_day = Counter((t + timedelta(minutes=first)).weekday() for t in hours)
    by_weekday = tuple(by_day.get(d, 0) for d in range(7))
    return Profile(
        hours=hours,
        events=len({obs.event.id for obs in observations}),
        days=len({utc(obs.event.time).date() for obs in observations}),
        best_share=best / n,
        best_offsets=best_offsets,
        weekday_share=sum(by_weekday[:5]) / n,
        by_weekday=by_weekday,
        histogram=histogram,
    )


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _zone_inside(hours: Sequence[datetime], zone: str) -> int | None:
    tz = _zone(zone)
    if tz is None:
        return None
    return sum(1 for t in hours if _in_work(t.astimezone(tz)))


def zone_share(hours: Sequence[datetime], zone: str) -> float | None:
    """Share of ``hours`` in local working hours in ``zone``, with the offset in force at each
    moment (tz database history); None when the zone is unknown to the tz database."""
    inside = _zone_inside(hours, zone)
    if inside is None or not hours:
        return None
    return inside / len(hours)


@lru_cache(maxsize=64)
def _anywhere(histogram: tuple[int, ...]) -> float:
    """Log-likelihood of active hours (their UTC histogram) for an operator at an unknown
    offset, weighted by ``INTERNET_USERS_BY_OFFSET``, with the same uncertain office day as for
    an actor's zone."""
    total = sum(INTERNET_USERS_BY_OFFSET.values())
    return _log_sum_exp(
        [
            _routine(_shifted(histogram, offset), _START_BINS) + math.log(users / total)
            for offset, users in sorted(INTERNET_USERS_BY_OFFSET.items())
        ]
    )


def zone_ratio(prof: Profile, zone: str) -> float | None:
    """``R``: likelihood of the persona's hours for an operator in ``zone`` (tz history, office
    day starting 06:00-11:00 local) over the likelihood for one at an unknown offset; None when
    the zone is unknown."""
    tz = _zone(zone)
    if tz is None:
        return None
    histogram = _histogram([t.astimezone(tz) for t in prof.hours])
    log_zone = _routine(histogram, _START_BINS)
    return math.exp(log_zone - prof.log_anywhere)


def _offset_text(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    h, m = divmod(abs(minutes), 60)
    return f"UTC{sign}{h:02d}:{m:02d}"


def offsets_text(offsets: Sequence[int]) -> str:
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


def zone_offsets(hours: Sequence[datetime], zone: str) -> str:
    tz = _zone(zone)
    if tz is None:
        return "unknown zone"
    offs = sorted(
        {int((t.astimezone(tz).utcoffset() or timedelta()).total_seconds() // 60) for t in hours}
    )
    return "/".join(_offset_text(o) for o in offs)
