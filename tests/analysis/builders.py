"""Observations for hand-built analysis cases, shared by the tests of this package."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slipcatch.analysis.pattern_of_life import INTERNET_USERS_BY_OFFSET, routine_log_likelihood
from slipcatch.calibration.scenarios import observation
from slipcatch.model import Category, Observation

T0 = datetime(2014, 11, 24, 0, 0, tzinfo=UTC)  # 09:00 in Pyongyang
P = "Guardians of Peace"


def at(seconds: float, base: datetime = T0) -> datetime:
    return base + timedelta(seconds=seconds)


def tor(s: float, n: int = 1, base: datetime = T0, persona: str = P, **kw: Any) -> Observation:
    """A Tor exit event ``s`` seconds after ``base``."""
    return observation(at(s, base), f"185.220.101.{n}", persona, category=Category.TOR, **kw)


def kp(
    s: float,
    ip: str = "175.45.176.10",
    base: datetime = T0,
    actor: str = "dprk-rgb",
    exclusivity: float | None = 1.0,
    persona: str = P,
    **kw: Any,
) -> Observation:
    """An event from the DPRK range 175.45.176.0/22 ``s`` seconds after ``base``."""
    return observation(
        at(s, base),
        ip,
        persona,
        category=Category.ACTOR,
        actor=actor,
        exclusivity=exclusivity,
        prefix="175.45.176.0/22",
        country="KP",
        **kw,
    )


def pol_likelihoods(hours: Sequence[datetime], zone: str) -> tuple[float, float]:
    """(likelihood in ``zone``, likelihood at an unknown offset) of active ``hours`` under the
    working routine (``analysis.pattern_of_life``), recomputed from its definition for the
    tests, not by the module's code:
    an office day starting 06:00-11:00 local every 30 minutes and lasting 8, 9 or 10 hours
    (33 days, equally likely); an hour at minute m of the local day is inside when
    start <= m < start + 60 x length (no office day crosses midnight); each day contributes
    ``exp(routine_log_likelihood(inside, n, length))``. The unknown offset is the
    ``INTERNET_USERS_BY_OFFSET``-weighted mean of the same at every listed offset.
    """

    def mean_over_days(minutes: Sequence[int]) -> float:
        values = [
            math.exp(
                routine_log_likelihood(
                    sum(1 for m in minutes if start <= m < start + 60 * length),
                    len(minutes),
                    length,
                )
            )
            for length in (8, 9, 10)
            for start in range(6 * 60, 11 * 60 + 1, 30)
        ]
        return math.fsum(values) / len(values)

    tz = ZoneInfo(zone)
    local = [t.astimezone(tz) for t in hours]
    there = mean_over_days([t.hour * 60 + t.minute for t in local])
    total = sum(INTERNET_USERS_BY_OFFSET.values())
    anywhere = math.fsum(
        users / total * mean_over_days([(t.hour * 60 + t.minute + off) % 1440 for t in hours])
        for off, users in sorted(INTERNET_USERS_BY_OFFSET.items())
    )
    return there, anywhere
