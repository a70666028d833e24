"""The simulated world: its actors, address space, clocks and the builder of one case.

Every case is one persona built from ``model.Observation`` objects (no files, no intel pack), so
the analytic model is what is tested. This module holds what every kind of truth draws from:
the registry actors (``ACTORS``) and their exclusive ranges, the cover networks, residential
lines by country, the operators' time zones and office days, and ``CaseBuilder``, which turns
those draws into observations. The four kinds of truth are drawn in ``cases``; the ground-truth
distribution and the figures are in docs/calibration.md.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from slipcatch.analysis import AnalystEvidence
from slipcatch.model import Actor, Category, Observation, OriginTrust

from .scenarios import observation

__all__ = [
    "ACTORS",
    "ELSEWHERE_MIN_HOURS",
    "MIMIC_HOURS_SHARE",
    "NIGHT_SHARE",
    "OTHER_ZONES",
    "RESIDENTIAL",
    "CaseBuilder",
    "SimCase",
    "hop_exclusivity",
    "hops",
    "offset_gap_hours",
    "zones_elsewhere",
]

ACTORS: tuple[Actor, ...] = (
    Actor(
        id="dprk-rgb",
        name="DPRK / Reconnaissance General Bureau",
        country="KP",
        timezones=("Asia/Pyongyang",),
        # What the shipped registry knows (data/actors.yaml): the model is tested with it.
        operating_countries=("CN", "IN", "MY", "NZ", "NP", "KE", "MZ", "ID"),
    ),
    Actor(id="ru-gru", name="Russia / GRU", country="RU", timezones=("Europe/Moscow",)),
)
#: Synthetic exclusive ranges: actor -> (address stem builder, prefix).
_RANGES: Mapping[str, tuple[str, str]] = {
    "dprk-rgb": ("175.45.{}.{}", "175.45.176.0/22"),
    "ru-gru": ("194.61.{}.{}", "194.61.40.0/22"),
}
_COVER = {
    "tor": ("185.220.101.", "185.220.101.0/24", "DE"),
    "vpn": ("45.83.64.", "45.83.64.0/24", "NL"),
    "proxy": ("103.5.6.", "103.5.6.0/24", "SG"),
    "hosting": ("5.9.10.", "5.9.0.0/16", "DE"),
}
RESIDENTIAL = {
    "TW": "1.160.7.",
    "JP": "126.0.3.",
    "DE": "95.90.1.",
    "US": "73.15.2.",
    "BR": "177.33.4.",
    "KR": "121.130.5.",
    "FR": "90.12.6.",
    "CN": "116.22.7.",
    "IR": "5.120.8.",
    "RU": "95.24.9.",
}
#: Operator time zones for parties other than the actor (Seoul and Shanghai share or nearly share
#: Pyongyang's offset: a working-hours match cannot tell them apart, honestly).
OTHER_ZONES = (
    "Europe/Berlin",
    "America/New_York",
    "America/Sao_Paulo",
    "Asia/Shanghai",
    "Asia/Seoul",
    "Asia/Tehran",
    "Europe/London",
    "Asia/Taipei",
    "Europe/Kiev",
    "America/Los_Angeles",
)
_EXCLUSIVITY: tuple[float | None, ...] = (1.0, 1.0, 0.95, 0.9, 0.8, 0.7, 0.5, None)
#: Every operator's office day starts in this range of local minutes and lasts this long;
#: NIGHT_SHARE of actor operators work a night shift starting in _NIGHT_START;
#: MIMIC_HOURS_SHARE of framers keep the framed actor's hours (they operate on its clock). The
#: values are set apart from the model's own assumptions (08:00-18:00, 10 % off-hours operators,
#: 25 % hour-keeping framers), so that the model is not tested on the world it assumes.
_DAY_START = (7 * 60, 10 * 60)
_DAY_LENGTH = (8 * 60, 10 * 60)
_NIGHT_START = (20 * 60, 23 * 60)
NIGHT_SHARE = 0.05
MIMIC_HOURS_SHARE = 0.2
#: A party "elsewhere" (simulator 6) keeps a clock at least this many hours from the actor's:
#: the spread of office-day starts within one zone (_DAY_START, 07:00-10:00). A party whose
#: offset differs by less can keep the hours an operator in the actor's own zone keeps (a
#: Shanghai office starting 07:00 is a Pyongyang office starting 08:00), so its hours are those
#: of the actor's zone in this world's own terms: a neighbour, not somebody elsewhere.
ELSEWHERE_MIN_HOURS = (_DAY_START[1] - _DAY_START[0]) / 60
_TRUSTS = (OriginTrust.TRUSTED_RELAY, OriginTrust.SENDER_PROVIDER, OriginTrust.SENDER_WRITTEN)
_FIRST_DAY = date(2013, 1, 1)
_SPAN_DAYS = 7 * 365


@dataclass(frozen=True)
class SimCase:
    """One simulated persona with its truth."""

    index: int
    scenario: str  # actor | framed | unknown | noise
    variant: str  # finer description (e.g. "framed/mimic", "actor/sender-written")
    actor: str | None  # actor of interest: the true, the framed or the touched one
    truth: str | None  # actor truly operating the persona, None for nobody known
    observations: tuple[Observation, ...]
    # Simulated analyst evidence, as a parsed evidence file (None: the analyst has nothing).
    analyst: AnalystEvidence | None = None

    @property
    def analyst_tag(self) -> str:
        """Which analyst items the case carries: "none", "code-reuse", "language" or both."""
        keys = sorted(item.key for item in self.analyst.items) if self.analyst else []
        return "+".join(keys) or "none"


class CaseBuilder:
    """Builds one case's observations."""

    def __init__(self, rng: random.Random, persona: str, zone: str) -> None:
        self.rng = rng
        self.persona = persona
        self.tz = ZoneInfo(zone)
        self.items: list[Observation] = []
        self.start = _FIRST_DAY + timedelta(days=rng.randrange(_SPAN_DAYS))
        self.exclusivity = rng.choice(_EXCLUSIVITY)
        weights = [rng.random() + 0.05 for _ in _COVER]
        self.cover_weights = dict(zip(_COVER, weights, strict=True))
        # The operator's own office day: starts 07:00-10:00 local, lasts 8-10 hours (the model
        # assumes 08:00-18:00 for everybody).
        self.work_start = rng.randint(*_DAY_START)
        self.work_length = rng.randint(*_DAY_LENGTH)
        # A party that is not the actor and uses hosts in its range (``few_hosts``) has a few
        # of them: 1-3 (from the persona's name, so that no random draw is added), whose
        # addresses are the first ones drawn; later draws fall on one of them (the draws still
        # happen, so every other draw of the case is the same with ``few_hosts`` on or off).
        self.few_hosts = False
        self.hosts: list[str] = []
        self.host_count = 1 + zlib.crc32(persona.encode()) % 3

    def night_shift(self) -> None:
        """Work a night shift instead: the office day starts 20:00-23:00 local."""
        self.work_start = self.rng.randint(*_NIGHT_START)

    # --- time -------------------------------------------------------------------------------
    def days(self, n: int) -> list[date]:
        """n active days, mostly working days, from the case's start."""
        out: list[date] = []
        d = self.start
        while len(out) < n:
            if d.weekday() < 5 or self.rng.random() < 0.15:
                out.append(d)
            d += timedelta(days=1)
        return out

    def moment(self, day: date, discipline: float) -> datetime:
        """A time on ``day`` in the operator's zone: office hours with probability
        ``discipline``, else any hour."""
        if self.rng.random() < discipline:
            minute = self.work_start + self.rng.randint(0, self.work_length - 1)
        else:
            minute = self.rng.randint(0, 24 * 60 - 1)
        # Wall-clock arithmetic: a night shift runs past midnight into the next local day.
        local = datetime.combine(day, time(0), tzinfo=self.tz) + timedelta(
            minutes=minute, seconds=self.rng.randint(0, 59)
        )
        return local.astimezone(UTC)

    # --- addresses --------------------------------------------------------------------------
    def _n(self) -> int:
        return len(self.items)

    def channel(self) -> tuple[str, OriginTrust | None]:
        ch = self.rng.choice(("web", "posting", "email", "email", "ssh"))
        return (ch, self.rng.choice(_TRUSTS)) if ch == "email" else (ch, None)

    def cover(self, t: datetime, channel: str | None = None) -> None:
        kind = self.rng.choices(list(self.cover_weights), list(self.cover_weights.values()))[0]
        stem, prefix, country = _COVER[kind]
        ch, trust = (channel, None) if channel else self.channel()
        if ch == "email" and trust is None:
            trust = OriginTrust.TRUSTED_RELAY
        self.items.append(
            observation(
                t,
                f"{stem}{self.rng.randint(1, 250)}",
                self.persona,
                category=Category(kind),
                channel=ch,
                country=country,
                prefix=prefix,
                origin_trust=trust,
                digest=str(self._n()),
            )
        )

    def residential(
        self,
        t: datetime,
        country: str,
        channel: str | None = None,
        trust: OriginTrust | None = None,
    ) -> None:
        ch, tr = (channel, trust) if channel else self.channel()
        self.items.append(
            observation(
                t,
                f"{RESIDENTIAL[country]}{self.rng.randint(1, 250)}",
                self.persona,
                category=Category.RESIDENTIAL,
                channel=ch,
                country=country,
                origin_trust=tr,
                digest=str(self._n()),
            )
        )

    def _host(self, drawn: str) -> str:
        if not self.few_hosts:
            return drawn
        if len(self.hosts) < self.host_count and drawn not in self.hosts:
            self.hosts.append(drawn)
            return drawn
        return self.hosts[zlib.crc32(drawn.encode()) % len(self.hosts)]

    def actor_ip(self, actor: str) -> str:
        stem, _ = _RANGES[actor]
        base = 176 if actor == "dprk-rgb" else 40
        return stem.format(base + self.rng.randint(0, 3), self.rng.randint(1, 254))

    def actor_event(
        self, t: datetime, actor: str, ip: str, channel: str, trust: OriginTrust | None
    ) -> None:
        country = next(a.country for a in ACTORS if a.id == actor)
        self.items.append(
            observation(
                t,
                ip,
                self.persona,
                category=Category.ACTOR,
                channel=channel,
                actor=actor,
                exclusivity=self.exclusivity,
                country=country,
                prefix=_RANGES[actor][1],
                origin_trust=trust,
                digest=str(self._n()),
            )
        )

    # --- building blocks ----------------------------------------------------------------------
    def covered_activity(
        self,
        days: Sequence[date],
        per_day: tuple[int, int],
        discipline: float,
        cover_share: float = 1.0,
        exposed: Sequence[str] = (),
    ) -> None:
        """Routine activity: under cover with probability ``cover_share``, else from a
        residential address in one of ``exposed``."""
        for day in days:
            for _ in range(self.rng.randint(*per_day)):
                t = self.moment(day, discipline)
                if exposed and self.rng.random() >= cover_share:
                    self.residential(t, self.rng.choice(tuple(exposed)))
                else:
                    self.cover(t)

    def closure(self) -> float | None:
        roll = self.rng.random()
        if roll < 0.55:
            return float(self.rng.randint(20, 600))
        if roll < 0.75:
            return float(self.rng.randint(601, 3600))
        if roll < 0.92:
            return float(self.rng.randint(3601, 86400))
        return None

    def lapse(
        self,
        t: datetime,
        actor: str,
        *,
        events: int,
        close: float | None,
        channel: str,
        trust: OriginTrust | None,
        spacing: float = 90.0,
    ) -> None:
        """``events`` from the actor's range starting at ``t`` (one address, or a new one now
        and then), then back under cover ``close`` seconds after the last."""
        ip = self._host(self.actor_ip(actor))
        last = t
        for k in range(events):
            last = t + timedelta(seconds=k * spacing * (0.5 + self.rng.random()))
            if k and self.rng.random() < 0.3:
                ip = self._host(self.actor_ip(actor))
            self.actor_event(last, actor, ip, channel, trust)
        if close is not None:
            self.cover(last + timedelta(seconds=close), channel if channel != "email" else None)


def offset_gap_hours(zone: str, other: str) -> float:
    """The smallest gap, in hours around the clock, between the UTC offsets of two IANA zones
    on any day of the simulated span (noon UTC of every day from _FIRST_DAY over _SPAN_DAYS and
    the longest case after it): both zones' history applies (Moscow UTC+4 in 2011-2014,
    Pyongyang UTC+8:30 in 2015-2018, summer time)."""
    return _offset_gap_hours(*sorted((zone, other)))


@cache
def _offset_gap_hours(zone: str, other: str) -> float:
    a, b = ZoneInfo(zone), ZoneInfo(other)
    first = datetime.combine(_FIRST_DAY, time(12), tzinfo=UTC)
    gap = 24.0
    for day in range(_SPAN_DAYS + 120):
        t = first + timedelta(days=day)
        offset_a, offset_b = t.astimezone(a).utcoffset(), t.astimezone(b).utcoffset()
        assert offset_a is not None and offset_b is not None
        hours = abs((offset_a - offset_b).total_seconds()) / 3600 % 24
        gap = min(gap, hours, 24 - hours)
    return gap


def zones_elsewhere(actor: Actor) -> tuple[str, ...]:
    """The zones of ``OTHER_ZONES`` at least ``ELSEWHERE_MIN_HOURS`` from every zone of
    ``actor`` throughout the simulated span: where a party "elsewhere" may sit (for DPRK, not
    Seoul, Shanghai or Taipei; for Moscow, not Kyiv, Tehran, Berlin or London)."""
    return tuple(
        zone
        for zone in OTHER_ZONES
        if all(offset_gap_hours(zone, own) >= ELSEWHERE_MIN_HOURS for own in actor.timezones)
    )


def hop_exclusivity(rng: random.Random) -> float | None:
    """The exclusivity of a range somebody other than its actor got a host in: a host there is
    open to others in proportion to how shared the range is, so each value is drawn with weight
    (1.05 - exclusivity) (unstated counts as 0.8): an exclusive range is rarely open."""
    return rng.choices(_EXCLUSIVITY, [1.05 - (0.8 if e is None else e) for e in _EXCLUSIVITY])[0]


def hops(g: CaseBuilder, rng: random.Random, days: Sequence[date], discipline: float) -> None:
    """1-6 brief exposures through compromised residential hosts in 1-4 countries."""
    countries = rng.sample(sorted(RESIDENTIAL), rng.randint(1, 4))
    for _ in range(rng.randint(1, 6)):
        t = g.moment(rng.choice(days), discipline)
        g.residential(t, rng.choice(countries))
        close = g.closure()
        if close is not None:
            g.cover(t + timedelta(seconds=close))
