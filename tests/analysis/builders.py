"""Observations for hand-built analysis cases, shared by the tests of this package."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from slipcatch.analysis.simulate import observation
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
