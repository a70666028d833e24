"""Seeded generators of observation sets with known ground truth, for calibration.

Everything here builds ``model.Observation`` objects directly (no evidence files, no intel pack),
so the analytic model can be checked in isolation: ``observation`` makes one, and the case
generators make whole personas whose truth is known by construction. The same seed always gives
the same case. Tests compare ``assess(case.observations, case.actors)`` against ``case.truth``
over several seeds; the scored harness (``cases``, ``scoring``) builds its personas with
``observation`` too.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from slipcatch.model import (
    Actor,
    AddressFacts,
    Category,
    Event,
    EvidenceRef,
    Fact,
    Observation,
    OriginTrust,
    event_id,
    utc,
)

__all__ = [
    "ACTOR",
    "ACTOR_PREFIX",
    "START",
    "Case",
    "duplicated",
    "hops_only",
    "lone_actor_event",
    "noise_only",
    "observation",
    "slipping_operator",
    "staged_exposure",
]

SOURCE = "simulate"
START = datetime(2014, 11, 20, 8, 0, tzinfo=UTC)
ACTOR = Actor(
    id="dprk-rgb",
    name="DPRK / Reconnaissance General Bureau",
    aliases=("Lazarus Group",),
    country="KP",
    timezones=("Asia/Pyongyang",),
)
ACTOR_PREFIX = "175.45.176.0/22"

#: Synthetic address plan: category -> (address stem, prefix, country).
_PLAN: Mapping[str, tuple[str, str, str | None]] = {
    "tor": ("185.220.101.", "185.220.101.0/24", "DE"),
    "vpn": ("45.83.64.", "45.83.64.0/24", "NL"),
    "hosting": ("5.9.10.", "5.9.0.0/16", "DE"),
    "res-TW": ("1.160.7.", "1.160.0.0/12", "TW"),
    "res-JP": ("126.0.3.", "126.0.0.0/8", "JP"),
    "res-DE": ("95.90.1.", "95.90.0.0/16", "DE"),
}


def observation(
    time: datetime,
    ip: str,
    persona: str,
    *,
    category: Category,
    channel: str = "web",
    actor: str | None = None,
    exclusivity: float | None = None,
    country: str | None = None,
    asn: int | None = None,
    prefix: str | None = None,
    origin_trust: OriginTrust | None = None,
    digest: str = "",
    attributes: Mapping[str, str] | None = None,
) -> Observation:
    """One observation built by hand: an event and what its address was at the time.

    ``actor`` with ``exclusivity`` adds the registry fact that puts the address in the actor's
    exclusive range. ``digest`` distinguishes otherwise identical events (it feeds the event id).
    """
    t = utc(time)
    ev = Event(
        id=event_id(channel, t, ip, persona, digest or f"{category}:{ip}"),
        time=t,
        src_ip=ip,
        persona=persona,
        channel=channel,
        evidence=EvidenceRef(path=SOURCE, sha256="0" * 64, locator=f"record {digest or ip}"),
        attributes=dict(attributes or {}),
        origin_trust=origin_trust,
    )
    facts: tuple[Fact, ...] = ()
    if actor is not None:
        facts = (
            Fact(
                range=prefix or ip,
                category=Category.ACTOR,
                source=SOURCE,
                actor=actor,
                country=country,
                asn=asn,
                exclusivity=exclusivity,
            ),
        )
    addr = AddressFacts(
        ip=ip,
        time=t,
        category=category,
        country=country,
        asn=asn,
        prefix=prefix,
        actor=actor if category == Category.ACTOR else None,
        facts=facts,
    )
    return Observation(event=ev, address=addr)


@dataclass(frozen=True)
class Case:
    """A generated persona (plus any noise) and the truth behind it."""

    name: str
    persona: str
    observations: tuple[Observation, ...]
    truth: str | None  # actor id truly operating the persona; None for nobody known
    actors: tuple[Actor, ...] = (ACTOR,)


class _Builder:
    def __init__(self, seed: int, persona: str, channel: str) -> None:
        self.rng = random.Random(seed)
        self.persona = persona
        self.channel = channel
        self.items: list[Observation] = []

    def add(
        self,
        t: datetime,
        kind: str,
        *,
        persona: str | None = None,
        exclusivity: float = 1.0,
        origin_trust: OriginTrust | None = None,
    ) -> None:
        n = len(self.items)
        who = persona or self.persona
        if kind == "actor":
            ip = f"175.45.{self.rng.randint(176, 179)}.{self.rng.randint(1, 254)}"
            obs = observation(
                t,
                ip,
                who,
                category=Category.ACTOR,
                channel=self.channel,
                actor=ACTOR.id,
                exclusivity=exclusivity,
                country="KP",
                asn=131279,
                prefix=ACTOR_PREFIX,
                origin_trust=origin_trust,
                digest=f"{n}",
            )
        else:
            stem, prefix, country = _PLAN[kind]
            category = Category.RESIDENTIAL if kind.startswith("res-") else Category(kind)
            ip = f"{stem}{self.rng.randint(1, 250)}"
            obs = observation(
                t,
                ip,
                who,
                category=category,
                channel=self.channel,
                country=country,
                prefix=prefix,
                origin_trust=origin_trust,
                digest=f"{n}",
            )
        self.items.append(obs)

    def cover(self) -> str:
        return self.rng.choice(("tor", "tor", "vpn", "hosting"))


def slipping_operator(
    seed: int,
    *,
    persona: str = "Op Shadow",
    days: int = 20,
    slips: int = 4,
    close_seconds: tuple[int, int] = (60, 360),
    exclusivity: float = 1.0,
    origin_trust: OriginTrust | None = None,
    channel: str = "posting",
    start_hour_utc: int = 23,
) -> Case:
    """An operator under cover (3 covered events a day) who slips ``slips`` times from actor
    space, on different days, each time back under cover ``close_seconds`` later.

    The working day starts at ``start_hour_utc`` (default 23:00 UTC, 08:00 in Pyongyang in 2014)
    plus 0-4 hours, so the operator keeps the actor's office hours."""
    b = _Builder(seed, persona, channel)
    slip_days = set(b.rng.sample(range(1, days), slips))
    day_one = START.replace(hour=0) + timedelta(hours=start_hour_utc)
    for day in range(days):
        base = day_one + timedelta(days=day, hours=b.rng.randint(0, 4))
        for k in range(3):
            b.add(base + timedelta(minutes=40 * k + b.rng.randint(0, 20)), b.cover())
        if day in slip_days:
            t = base + timedelta(hours=3)
            b.add(t, "actor", exclusivity=exclusivity, origin_trust=origin_trust)
            b.add(t + timedelta(seconds=b.rng.randint(*close_seconds)), b.cover())
    return Case("slipping-operator", persona, tuple(b.items), ACTOR.id)


def staged_exposure(seed: int, *, persona: str = "Op Stage", days: int = 20) -> Case:
    """A persona under cover whose actor-space traffic runs for two days on end before it
    returns to cover: the look of staging rather than of a mistake."""
    b = _Builder(seed, persona, "posting")
    for day in range(days):
        base = START + timedelta(days=day, hours=b.rng.randint(0, 8))
        if day in (5, 6):
            for k in range(4):
                b.add(base + timedelta(hours=3 * k), "actor")
            continue
        for k in range(3):
            b.add(base + timedelta(minutes=40 * k), b.cover())
    return Case("staged-exposure", persona, tuple(b.items), None)


def noise_only(seed: int, *, persona: str = "Op Noise", days: int = 15) -> Case:
    """A persona mixing cover and residential addresses (TW, JP, DE), never in actor space."""
    b = _Builder(seed, persona, "posting")
    for day in range(days):
        base = START + timedelta(days=day, hours=b.rng.randint(0, 10))
        for k in range(4):
            roll = b.rng.random()
            kind = b.cover() if roll < 0.7 else b.rng.choice(("res-TW", "res-JP", "res-DE"))
            b.add(base + timedelta(minutes=30 * k + b.rng.randint(0, 10)), kind)
    return Case("noise-only", persona, tuple(b.items), None)


def hops_only(
    seed: int, *, persona: str = "Op Hops", countries: Sequence[str] = ("TW", "JP")
) -> Case:
    """A covered persona whose only exposures are residential hops in ``countries``."""
    b = _Builder(seed, persona, "email")
    for day in range(10):
        base = START + timedelta(days=day, hours=b.rng.randint(0, 10))
        for k in range(3):
            b.add(
                base + timedelta(minutes=20 * k), b.cover(), origin_trust=OriginTrust.TRUSTED_RELAY
            )
        b.add(
            base + timedelta(hours=2),
            f"res-{b.rng.choice(tuple(countries))}",
            origin_trust=OriginTrust.TRUSTED_RELAY,
        )
        b.add(
            base + timedelta(hours=2, minutes=3), b.cover(), origin_trust=OriginTrust.TRUSTED_RELAY
        )
    return Case("hops-only", persona, tuple(b.items), None)


def lone_actor_event(seed: int, *, persona: str = "Op Lone", days: int = 12) -> Case:
    """A persona that never uses cover, with one event from actor space."""
    b = _Builder(seed, persona, "posting")
    for day in range(days):
        t = START + timedelta(days=day, hours=b.rng.randint(0, 12))
        b.add(t, "res-DE")
        b.add(t + timedelta(hours=2), "res-DE")
    b.add(START + timedelta(days=days // 2, hours=15), "actor")
    return Case("lone-actor-event", persona, tuple(b.items), None)


def duplicated(case: Case) -> Case:
    """The same case with every event seen twice (a second copy with its own id, same time)."""
    copies = []
    for obs in case.observations:
        ev = obs.event
        twin_id = event_id(ev.channel, ev.time, ev.src_ip, ev.persona, ev.id + ":copy")
        copies.append(replace(obs, event=replace(ev, id=twin_id)))
    return replace(
        case, name=case.name + "-duplicated", observations=case.observations + tuple(copies)
    )
