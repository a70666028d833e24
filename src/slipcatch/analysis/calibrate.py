"""Calibration harness: many simulated cases with stated ground truth, scored.

Run it as ``python -m slipcatch.analysis.calibrate [--cases N] [--seed S] [--json]`` or
``slipcatch simulate [--cases N] [--seed S] [--json]``. The ground-truth distribution, the
scoring and the latest figures are in docs/calibration.md.

Every case is one persona built from ``model.Observation`` objects (no files, no intel pack), so
the analytic model is what is tested. Four kinds of truth, drawn with fixed shares
(``SCENARIO_SHARES``):

- ``actor``: an operator of a registry actor, working the actor's office hours in its time zone
  (as it was then), under cover, forgetting it 0-6 times (each lapse 1-3 events from the actor's
  exclusive range, any address of it, closed quickly or slowly, on any channel, with any origin
  trust);
- ``framed``: a framer in another time zone staging exposure from an actor's range: public
  statements with long exposures, sender-written e-mail headers, or a mimicked quick slip through
  a host in the range (the hard case); a framer with hosts there has 1-3 of them, and its
  stagings show their addresses (simulator 4, ``FEW_HOSTS_IN_RANGE``);
- ``unknown``: an operator with compromised hosts in several countries, one of them sometimes
  inside an actor's range (one to three addresses there, as for a framer);
- ``noise``: uncovered activity from many networks, now and then from a shared actor range.

Each case may also carry simulated analyst evidence (``analyst_evidence``): a code-reuse item
linking the tooling to the actor of interest (found for 50 % of actors, planted by 30 % of framers,
coincidental for 5 % of other parties) and language analysis pointing away from that actor (15 %
of actors, 35 % of everyone else, when the actor is under consideration). The items are YAML-shaped
documents validated by ``analyst.parse_evidence`` and given to ``assess`` exactly as a user's
``--evidence-file`` would be. Rates, stated ratios and reliability mixes are in
docs/calibration.md, "Analyst evidence in the harness"; they were fixed before the runs.

The forecast scored is the model's probability that the case's actor of interest (the true
actor, the framed one, the one whose range was touched, or the one an analyst item names)
operates the persona.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from slipcatch.model import ICD203_BANDS, Actor, Category, Observation, OriginTrust, icd203_term

from .analyst import AnalystEvidence, parse_evidence
from .assessment import assess
from .simulate import observation

__all__ = [
    "ACTORS",
    "AWAY_RATES",
    "BRIER_TARGET",
    "CODE_REUSE_RATES",
    "HIGH_ERROR_TARGET",
    "MIMIC_HOURS_SHARE",
    "MIN_BAND_CASES",
    "NIGHT_SHARE",
    "SCENARIO_SHARES",
    "Outcome",
    "Report",
    "SimCase",
    "analyst_document",
    "generate",
    "main",
    "parse_seeds",
    "run",
    "run_seeds",
    "score",
    "standard_error",
]

#: Targets (issue "Assessment in depth"): Brier score, and the error rate of high confidence.
BRIER_TARGET = 0.10
HIGH_ERROR_TARGET = 0.05
#: A probability band with fewer cases than this is reported but not judged.
MIN_BAND_CASES = 10

#: Simulator 4: a party that uses hosts in an actor's range without being the actor (a framer
#: staging through them, an unknown party hopping through one) has 1-3 of them, not the range.
FEW_HOSTS_IN_RANGE = True
SCENARIO_SHARES: Mapping[str, float] = {
    "actor": 0.40,
    "framed": 0.10,
    "unknown": 0.30,
    "noise": 0.20,
}

#: Simulated analyst evidence (docs/calibration.md, "Analyst evidence in the harness"); fixed
#: before the runs, not fitted. P(a code-reuse item naming the actor of interest | truth):
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
_RESIDENTIAL = {
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
_OTHER_ZONES = (
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
#: Simulator 3 (model 2.3 work): every operator's office day starts in this range of local
#: minutes and lasts this long; NIGHT_SHARE of actor operators work a night shift starting in
#: _NIGHT_START; MIMIC_HOURS_SHARE of framers keep the framed actor's hours (they operate on its
#: clock). Fixed before the first model 2.3 run, deliberately unlike the model's own
#: assumptions (08:00-18:00, 10 % off-hours operators, 25 % hour-keeping framers).
_DAY_START = (7 * 60, 10 * 60)
_DAY_LENGTH = (8 * 60, 10 * 60)
_NIGHT_START = (20 * 60, 23 * 60)
NIGHT_SHARE = 0.05
MIMIC_HOURS_SHARE = 0.2
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


class _Gen:
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
        # The operator's own office day: starts 07:00-10:00 local, lasts 8-10 hours (simulator
        # 3; the model assumes 08:00-18:00 for everybody).
        self.work_start = rng.randint(*_DAY_START)
        self.work_length = rng.randint(*_DAY_LENGTH)
        # A party that is not the actor and uses hosts in its range (simulator 4) has a few of
        # them: 1-3 (from the persona's name, so that no random draw is added), whose addresses
        # are the first ones drawn; later draws fall on one of them (the draws still happen, so
        # the rest of the case is the same as simulator 3's).
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
                f"{_RESIDENTIAL[country]}{self.rng.randint(1, 250)}",
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


def _hop_exclusivity(rng: random.Random) -> float | None:
    """The exclusivity of a range somebody other than its actor got a host in: a host there is
    open to others in proportion to how shared the range is, so each value is drawn with weight
    (1.05 - exclusivity) (unstated counts as 0.8): an exclusive range is rarely open."""
    return rng.choices(_EXCLUSIVITY, [1.05 - (0.8 if e is None else e) for e in _EXCLUSIVITY])[0]


def _hops(g: _Gen, rng: random.Random, days: Sequence[date], discipline: float) -> None:
    """1-6 brief exposures through compromised residential hosts in 1-4 countries."""
    countries = rng.sample(sorted(_RESIDENTIAL), rng.randint(1, 4))
    for _ in range(rng.randint(1, 6)):
        t = g.moment(rng.choice(days), discipline)
        g.residential(t, rng.choice(countries))
        close = g.closure()
        if close is not None:
            g.cover(t + timedelta(seconds=close))


def _actor_case(rng: random.Random, index: int) -> SimCase:
    actor = rng.choice(ACTORS)
    g = _Gen(rng, f"persona-{index}", actor.timezones[0])
    if rng.random() < NIGHT_SHARE:
        g.night_shift()
    days = g.days(rng.randint(3, 30))
    discipline = rng.uniform(0.6, 0.95)
    style = rng.choices(("covered", "sender-written", "light-cover"), (0.75, 0.15, 0.10))[0]
    if style == "light-cover":
        # Works mostly from home-country residential lines; actor-space events are routine.
        g.covered_activity(
            days,
            (1, 6),
            discipline,
            cover_share=0.4,
            exposed=(actor.country or "KP",) if actor.country in _RESIDENTIAL else ("CN",),
        )
    else:
        g.covered_activity(days, (1, 6), discipline)
    if rng.random() < 0.3:
        # Operators of known actors hop through compromised hosts abroad too (the Sony case's
        # Thai hotel): the same hops as the unknown operator's.
        _hops(g, rng, days, discipline)
    lapses = rng.randint(0, 6)
    for _ in range(lapses):
        day = rng.choice(days)
        trust: OriginTrust | None
        if style == "sender-written":
            channel, trust = "email", OriginTrust.SENDER_WRITTEN
        else:
            channel, trust = g.channel()
        g.lapse(
            g.moment(day, discipline),
            actor.id,
            events=rng.randint(1, 3),
            close=g.closure(),
            channel=channel,
            trust=trust,
        )
    variant = f"actor/{style}/{min(lapses, 2) if lapses < 2 else '2+'}-lapses"
    return SimCase(index, "actor", variant, actor.id, actor.id, tuple(g.items))


def _framed_case(rng: random.Random, index: int) -> SimCase:
    actor = rng.choice(ACTORS)
    keeps_hours = rng.random() < MIMIC_HOURS_SHARE
    zone = rng.choice(_OTHER_ZONES)
    g = _Gen(rng, f"persona-{index}", actor.timezones[0] if keeps_hours else zone)
    days = g.days(rng.randint(3, 30))
    discipline = rng.uniform(0.5, 0.95)
    g.covered_activity(days, (1, 5), discipline)
    style = rng.choices(("public-statements", "forged-headers", "mimic"), (0.4, 0.3, 0.3))[0]
    if style != "forged-headers":
        # Staging from inside the range needs a host there, which is as hard for a framer as
        # for anybody else (simulator 3): exclusivity drawn as for an unknown party's hop; and
        # a host is an address: 1-3 hosts, whose addresses the stagings show (simulator 4).
        g.exclusivity = _hop_exclusivity(rng)
        g.few_hosts = FEW_HOSTS_IN_RANGE
    for _ in range(rng.randint(1, 5)):
        day = rng.choice(days)
        t = g.moment(day, discipline)
        if style == "public-statements":
            # Statements posted from the actor's space, left exposed for hours to days.
            g.lapse(
                t,
                actor.id,
                events=rng.randint(1, 4),
                close=float(rng.randint(3600, 3 * 86400)),
                channel="posting",
                trust=None,
                spacing=float(rng.randint(600, 20000)),
            )
        elif style == "forged-headers":
            close = float(rng.randint(30, 900)) if rng.random() < 0.5 else g.closure()
            g.lapse(
                t,
                actor.id,
                events=rng.randint(1, 2),
                close=close,
                channel="email",
                trust=OriginTrust.SENDER_WRITTEN,
            )
        else:
            # Through a host in the range, briefly, imitating a mistake.
            trust = rng.choice((None, OriginTrust.SENDER_PROVIDER))
            g.lapse(
                t,
                actor.id,
                events=1,
                close=float(rng.randint(30, 900)),
                channel="email" if trust else rng.choice(("web", "posting")),
                trust=trust,
            )
    return SimCase(index, "framed", f"framed/{style}", actor.id, None, tuple(g.items))


def _unknown_case(rng: random.Random, index: int) -> SimCase:
    g = _Gen(rng, f"persona-{index}", rng.choice(_OTHER_ZONES))
    days = g.days(rng.randint(3, 30))
    discipline = rng.uniform(0.4, 0.95)
    g.covered_activity(days, (1, 6), discipline)
    _hops(g, rng, days, discipline)
    actor: str | None = None
    if rng.random() < 0.2:
        # One of the compromised hops happens to sit in an actor's range. A host there is open
        # to others in proportion to how shared the range is, so the range's exclusivity is
        # drawn with weight (1.05 - exclusivity): an exclusive range is rarely a hop.
        actor = rng.choice(ACTORS).id
        g.exclusivity = _hop_exclusivity(rng)
        g.few_hosts = FEW_HOSTS_IN_RANGE  # compromised hosts have addresses (simulator 4)
        channel, trust = g.channel()
        g.lapse(
            g.moment(rng.choice(days), discipline),
            actor,
            events=rng.randint(1, 2),
            close=g.closure(),
            channel=channel,
            trust=trust,
        )
    variant = "unknown/hop-in-actor-range" if actor else "unknown/hops"
    return SimCase(index, "unknown", variant, actor, None, tuple(g.items))


def _noise_case(rng: random.Random, index: int) -> SimCase:
    g = _Gen(rng, f"persona-{index}", rng.choice(_OTHER_ZONES))
    days = g.days(rng.randint(1, 20))
    countries = sorted(_RESIDENTIAL)
    for day in days:
        for _ in range(rng.randint(1, 4)):
            t = g.moment(day, 0.3)
            if rng.random() < 0.3:
                g.cover(t)
            else:
                g.residential(t, rng.choice(countries))
    actor: str | None = None
    if rng.random() < 0.15:
        actor = rng.choice(ACTORS).id
        g.exclusivity = rng.choice((0.5, 0.7, None))
        channel, trust = g.channel()
        g.actor_event(g.moment(rng.choice(days), 0.3), actor, g.actor_ip(actor), channel, trust)
    variant = "noise/touches-actor-range" if actor else "noise/plain"
    return SimCase(index, "noise", variant, actor, None, tuple(g.items))


_MAKERS = {
    "actor": _actor_case,
    "framed": _framed_case,
    "unknown": _unknown_case,
    "noise": _noise_case,
}


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


def generate(n: int, seed: int, analyst_evidence: bool = True) -> list[SimCase]:
    """``n`` cases; case ``i`` depends only on (seed, i), so a prefix of a run is a smaller run.

    The analyst evidence is drawn from its own stream (seed, i, "analyst"), so the observations
    are the same with ``analyst_evidence`` on or off.
    """
    out = []
    names = list(SCENARIO_SHARES)
    actor_ids = [a.id for a in ACTORS]
    for i in range(n):
        rng = random.Random(f"{seed}:{i}")
        scenario = rng.choices(names, [SCENARIO_SHARES[k] for k in names])[0]
        case = _MAKERS[scenario](rng, i)
        if analyst_evidence:
            actor, doc = analyst_document(case, random.Random(f"{seed}:{i}:analyst"))
            if doc:
                # The path a user's --evidence-file takes after YAML parsing.
                evidence = parse_evidence(
                    doc, f"simulated-analyst-{seed}-{i}", actor_ids, [f"persona-{i}"]
                )
                case = replace(case, actor=actor, analyst=evidence)
        out.append(case)
    return out


@dataclass(frozen=True)
class Outcome:
    """What the model said about one case."""

    case: SimCase
    forecast: float | None  # P(actor of interest operates the persona); None: no hypothesis
    verdict_actor: str | None
    best_kind: str
    likelihood: str
    confidence: str

    @property
    def outcome(self) -> int:
        return int(self.case.actor is not None and self.case.truth == self.case.actor)

    @property
    def correct(self) -> bool:
        return self.verdict_actor == self.case.truth


def _outcome(case: SimCase) -> Outcome:
    [pa] = assess(case.observations, ACTORS, evidence_file=case.analyst)
    v = pa.verdict
    best = max(pa.hypotheses, key=lambda h: (h.probability, h.kind == "unknown"))
    forecast = None
    if case.actor is not None:
        mine = [h for h in pa.hypotheses if h.kind == "actor" and h.actor == case.actor]
        forecast = mine[0].probability if mine else None
    return Outcome(case, forecast, v.actor, best.kind, v.likelihood, v.confidence)


@dataclass(frozen=True)
class Report:
    """Scores of one calibration run (docs/calibration.md explains every figure)."""

    cases: int
    seed: int
    assessable: int
    brier: float
    brier_all: float
    bands: tuple[tuple[str, int, float, float, str], ...]  # term, n, mean p, observed, judgement
    confusion: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]
    high: int
    high_wrong: int
    # variant, cases, mean forecast, observed frequency, Brier score of its scored forecasts
    by_variant: tuple[tuple[str, int, float, float, float | None], ...]
    # truth/analyst items, cases, forecasts scored, Brier, high confidence, high and wrong
    by_analyst: tuple[tuple[str, int, int, float | None, int, int], ...] = ()
    analyst_evidence: bool = True
    # standard errors of the two Brier scores (the cases' squared errors: sd / sqrt(n))
    brier_se: float = 0.0
    brier_all_se: float = 0.0
    # a pooled run (``run_seeds``): the seeds whose cases it holds (``cases`` counts them all)
    seeds: tuple[int, ...] = ()

    @property
    def high_error(self) -> float:
        return self.high_wrong / self.high if self.high else 0.0

    @property
    def bands_ok(self) -> bool:
        return all(j != "outside" for *_, j in self.bands)

    @property
    def passed(self) -> bool:
        return self.brier <= BRIER_TARGET and self.high_error <= HIGH_ERROR_TARGET and self.bands_ok

    def as_dict(self) -> dict[str, object]:
        return {
            "cases": self.cases,
            "seed": self.seed,
            "seeds": list(self.seeds),
            "assessable": self.assessable,
            "brier": self.brier,
            "brier_all_cases": self.brier_all,
            "brier_standard_error": self.brier_se,
            "brier_all_cases_standard_error": self.brier_all_se,
            "bands": [
                dict(zip(("term", "n", "mean_forecast", "observed", "judgement"), b, strict=True))
                for b in self.bands
            ],
            "confusion": {row: dict(cols) for row, cols in self.confusion},
            "high_confidence": {
                "cases": self.high,
                "wrong": self.high_wrong,
                "error_rate": round(self.high_error, 6),
            },
            "by_variant": [
                dict(zip(("variant", "n", "mean_forecast", "observed", "brier"), v, strict=True))
                for v in self.by_variant
            ],
            "analyst_evidence": self.analyst_evidence,
            "by_analyst_evidence": [
                dict(
                    zip(("group", "n", "scored", "brier", "high", "high_wrong"), v, strict=True)
                )
                for v in self.by_analyst
            ],
            "targets": {"brier": BRIER_TARGET, "high_confidence_error": HIGH_ERROR_TARGET},
            "passed": self.passed,
        }


def _band_index(p: float) -> int:
    return [t for t, _, _ in ICD203_BANDS].index(icd203_term(min(1.0, max(0.0, p))))


def standard_error(values: Sequence[float]) -> float:
    """Standard error of the mean of ``values`` (sample standard deviation / sqrt(n)); 0 for
    fewer than two values. For a Brier score, the values are the cases' squared errors."""
    n = len(values)
    if n < 2:
        return 0.0
    mean = math.fsum(values) / n
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1) / n)


def score(outcomes: Sequence[Outcome], seed: int = 0, analyst_evidence: bool = True) -> Report:
    """Brier score, reliability by ICD 203 band, verdict confusion and high-confidence errors.

    ``analyst_evidence`` only records whether the cases carried simulated analyst evidence."""
    scored = [o for o in outcomes if o.forecast is not None]
    sq = [(o.forecast - o.outcome) ** 2 for o in scored if o.forecast is not None]
    brier = math.fsum(sq) / len(sq) if sq else 0.0
    sq_all = [((o.forecast or 0.0) - o.outcome) ** 2 for o in outcomes]
    brier_all = math.fsum(sq_all) / len(sq_all) if sq_all else 0.0
    bands = []
    for k, (term, _lo, _hi) in enumerate(ICD203_BANDS):
        inside = [o for o in scored if o.forecast is not None and _band_index(o.forecast) == k]
        n = len(inside)
        if not n:
            bands.append((term, 0, 0.0, 0.0, "empty"))
            continue
        mean_p = math.fsum(o.forecast or 0.0 for o in inside) / n
        observed = sum(o.outcome for o in inside) / n
        where = _band_index(observed)
        if n < MIN_BAND_CASES:
            judgement = "too few to judge"
        elif where == k:
            judgement = "inside"
        elif abs(where - k) == 1:
            judgement = "next to it"
        else:
            judgement = "outside"
        bands.append((term, n, round(mean_p, 4), round(observed, 4), judgement))

    def column(o: Outcome) -> str:
        if o.verdict_actor is not None:
            return "names its actor" if o.verdict_actor == o.case.actor else "names another actor"
        if o.forecast is None:
            return "no actor hypothesis"
        return {"false_flag": "false flag best", "unknown": "unknown best"}.get(
            o.best_kind, o.best_kind + " best"
        )

    rows: dict[str, Counter[str]] = {}
    for o in outcomes:
        rows.setdefault(o.case.scenario, Counter())[column(o)] += 1
    confusion = tuple((row, tuple(sorted(rows[row].items()))) for row in sorted(rows))
    high = [o for o in outcomes if o.confidence == "high"]
    variants: dict[str, list[Outcome]] = {}
    for o in outcomes:
        variants.setdefault(o.case.variant, []).append(o)

    def variant_brier(group: Sequence[Outcome]) -> float | None:
        errors = [(o.forecast - o.outcome) ** 2 for o in group if o.forecast is not None]
        return round(math.fsum(errors) / len(errors), 4) if errors else None

    by_variant = tuple(
        (
            name,
            len(group),
            round(math.fsum(o.forecast or 0.0 for o in group) / len(group), 4),
            round(sum(o.outcome for o in group) / len(group), 4),
            variant_brier(group),
        )
        for name, group in sorted(variants.items())
    )
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault(f"{o.case.scenario}/{o.case.analyst_tag}", []).append(o)
    by_analyst = tuple(
        (
            name,
            len(group),
            sum(1 for o in group if o.forecast is not None),
            variant_brier(group),
            sum(1 for o in group if o.confidence == "high"),
            sum(1 for o in group if o.confidence == "high" and not o.correct),
        )
        for name, group in sorted(groups.items())
    )
    return Report(
        cases=len(outcomes),
        seed=seed,
        assessable=len(scored),
        brier=round(brier, 6),
        brier_all=round(brier_all, 6),
        brier_se=round(standard_error(sq), 6),
        brier_all_se=round(standard_error(sq_all), 6),
        bands=tuple(bands),
        confusion=confusion,
        high=len(high),
        high_wrong=sum(1 for o in high if not o.correct),
        by_variant=by_variant,
        by_analyst=by_analyst,
        analyst_evidence=analyst_evidence,
    )


def run(n: int = 1000, seed: int = 2026, analyst_evidence: bool = True) -> Report:
    """Generate ``n`` cases from ``seed``, assess each, and score the forecasts.

    ``analyst_evidence=False`` runs the same cases without their simulated analyst evidence
    (network and timing evidence only)."""
    cases = generate(n, seed, analyst_evidence)
    return score([_outcome(case) for case in cases], seed, analyst_evidence)


def run_seeds(n: int, seeds: Sequence[int], analyst_evidence: bool = True) -> Report:
    """``n`` cases from each of ``seeds``, scored together (one report; ``cases`` counts them
    all, ``seed`` is the first seed, ``seeds`` all of them)."""
    if not seeds:
        raise ValueError("run_seeds needs at least one seed")
    outcomes = [_outcome(c) for seed in seeds for c in generate(n, seed, analyst_evidence)]
    report = score(outcomes, seeds[0], analyst_evidence)
    return replace(report, seeds=tuple(seeds))


def _interval(value: float, se: float) -> str:
    return f"{max(0.0, value - 1.96 * se):.4f}-{value + 1.96 * se:.4f}"


def render(report: Report) -> str:
    """The report as Markdown tables (the form docs/calibration.md quotes)."""
    lines = [
        f"cases: {report.cases} ("
        + (
            f"seeds {', '.join(map(str, report.seeds))}, pooled"
            if report.seeds
            else f"seed {report.seed}"
        )
        + f"); forecasts scored: {report.assessable}; "
        f"analyst evidence simulated: {'yes' if report.analyst_evidence else 'no'}",
        f"Brier score (scored forecasts): {report.brier:.4f} (target <= {BRIER_TARGET}; "
        f"standard error {report.brier_se:.4f}, 95 % interval "
        f"{_interval(report.brier, report.brier_se)})",
        f"Brier score (all cases, no hypothesis = 0): {report.brier_all:.4f} (standard error "
        f"{report.brier_all_se:.4f})",
        f"high confidence: {report.high} cases, {report.high_wrong} wrong "
        f"({report.high_error:.1%}; target <= {HIGH_ERROR_TARGET:.0%})",
        "",
        "| ICD 203 band | cases | mean forecast | observed | judgement |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    lines += [f"| {t} | {n} | {p:.3f} | {o:.3f} | {j} |" for t, n, p, o, j in report.bands]
    columns = sorted({c for _, cols in report.confusion for c, _ in cols})
    lines += [
        "",
        "| truth \\ verdict | " + " | ".join(columns) + " |",
        "| --- |" + " ---: |" * len(columns),
    ]
    for row, cols in report.confusion:
        counts = dict(cols)
        lines.append(f"| {row} | " + " | ".join(str(counts.get(c, 0)) for c in columns) + " |")
    lines += [
        "",
        "| variant | cases | mean forecast | observed | Brier (scored) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {v} | {n} | {p:.3f} | {o:.3f} | {'-' if b is None else f'{b:.3f}'} |"
        for v, n, p, o, b in report.by_variant
    ]
    lines += [
        "",
        "| truth / analyst items | cases | scored | Brier (scored) | high | high and wrong |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {g} | {n} | {s} | {'-' if b is None else f'{b:.3f}'} | {h} | {w} |"
        for g, n, s, b, h, w in report.by_analyst
    ]
    lines += ["", "targets met" if report.passed else "TARGETS MISSED"]
    if report.brier > BRIER_TARGET >= report.brier - 1.96 * report.brier_se:
        lines.append(
            f"(the Brier target {BRIER_TARGET} lies inside the score's 95 % interval "
            f"{_interval(report.brier, report.brier_se)}: this many cases cannot tell; "
            "run more, e.g. --cases 5000)"
        )
    return "\n".join(lines)


def parse_seeds(text: str) -> list[int]:
    """``"2026,7,11"`` -> ``[2026, 7, 11]``; ``"101-103"`` -> ``[101, 102, 103]``.

    Raises:
        ValueError: an item is not an integer or a range of them, or there is none.
    """
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        seeds += list(range(int(lo), int(hi) + 1)) if hi else [int(lo)]
    if not seeds:
        raise ValueError("no seed given")
    return seeds


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m slipcatch.analysis.calibrate``: run and print; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(
        prog="python -m slipcatch.analysis.calibrate",
        description="Calibrate the analytic model on simulated cases.",
    )
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--seeds",
        type=parse_seeds,
        default=None,
        help="comma-separated seeds or ranges (7,101-112), scored together (overrides --seed)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    parser.add_argument(
        "--no-analyst-evidence",
        action="store_true",
        help="the same cases without their simulated analyst evidence",
    )
    args = parser.parse_args(argv)
    if args.seeds:
        report = run_seeds(max(1, args.cases), args.seeds, not args.no_analyst_evidence)
    else:
        report = run(max(1, args.cases), args.seed, not args.no_analyst_evidence)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, sort_keys=True))
    else:
        print(render(report))
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
