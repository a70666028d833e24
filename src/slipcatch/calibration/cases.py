"""The four kinds of truth and ``generate``, which draws cases with fixed shares.

Four kinds of truth, drawn with fixed shares (``SCENARIO_SHARES``):

- ``actor``: an operator of a registry actor, working the actor's office hours in its time zone
  (as it was then), under cover, forgetting it 0-6 times (each lapse 1-3 events from the actor's
  exclusive range, any address of it, closed quickly or slowly, on any channel, with any origin
  trust);
- ``framed``: a framer in another time zone staging exposure from an actor's range: public
  statements with long exposures, sender-written e-mail headers, or a mimicked quick slip through
  a host in the range (the hard case); a framer with hosts there has 1-3 of them, and its
  stagings show their addresses (``FEW_HOSTS_IN_RANGE``);
- ``unknown``: an operator with compromised hosts in several countries, one of them sometimes
  inside an actor's range (one to three addresses there, as for a framer);
- ``noise``: uncovered activity from many networks, now and then from a shared actor range.

Two classes added with model 2.7 (issue 19) replace a share of the cases, drawn from their own
stream (seed, i, "class") so that every other case stays as it was (``EXTRA_SHARES``):

- ``proven-staging``: a framer's mimicked quick slips through a host in the range, with the
  analyst's proof of a planted artefact (``staging_proven``) graded A1-C3; and, for a sixth of the
  class, the real actor's slips with a mistaken "proof" graded at most B3;
- ``pool-heavy``: tens to hundreds of uncovered logins from a low-exclusivity range (0.1-0.3: an
  ISP's dynamic pool) by its actor (half the class) or by somebody else using the same pool, in
  the actor's time zone (a quarter) or elsewhere (a quarter: simulator 6 draws a zone at least
  ``world.ELSEWHERE_MIN_HOURS`` from the actor's, ``world.zones_elsewhere``).

Each case may also carry simulated analyst evidence (``analyst.analyst_document``), given to
``assess`` exactly as a user's ``--evidence-file`` would be: every case but the proven-staging
class's, whose one analyst finding is about the planted artefact itself (simulator 6 extends it
to the pool-heavy class, which simulator 5 left without).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import replace

from slipcatch.analysis.analyst import parse_evidence
from slipcatch.model import OriginTrust

from .analyst import analyst_document
from .world import (
    ACTORS,
    MIMIC_HOURS_SHARE,
    NIGHT_SHARE,
    OTHER_ZONES,
    RESIDENTIAL,
    CaseBuilder,
    SimCase,
    hop_exclusivity,
    hops,
    zones_elsewhere,
)

__all__ = ["EXTRA_SHARES", "FEW_HOSTS_IN_RANGE", "SCENARIO_SHARES", "generate"]

#: A party that uses hosts in an actor's range without being the actor (a framer staging
#: through them, an unknown party hopping through one) has 1-3 of them, not the whole range.
#: False: each of its stagings or hops draws any address of the range (every other draw of every
#: case stays the same).
FEW_HOSTS_IN_RANGE = True
SCENARIO_SHARES: Mapping[str, float] = {
    "actor": 0.40,
    "framed": 0.10,
    "unknown": 0.30,
    "noise": 0.20,
}


#: Classes of model 2.7 and the share of cases each replaces (drawn from a separate stream).
EXTRA_SHARES: Mapping[str, float] = {"proven-staging": 0.04, "pool-heavy": 0.06}
_PROVEN_GRADES = ("A1", "A2", "B1", "B2", "B2", "B3", "C2", "C3")
_MISTAKEN_GRADES = ("B3", "C2", "C3", "D3")


def _staging_document(actor: str, grade: str) -> dict:
    return {
        "evidence": [
            {
                "id": "planted-artefact",
                "summary": "A planted artefact imitating the actor's tooling (simulated)",
                "reliability": grade,
                "staging_proven": True,
                "refutes": f"actor:{actor}",
                "justification": "simulated forensic finding",
            }
        ]
    }


def _proven_staging_case(rng: random.Random, index: int) -> SimCase:
    actor = rng.choice(ACTORS)
    mistaken = rng.random() < 1 / 6
    zone = actor.timezones[0] if mistaken or rng.random() < 0.5 else rng.choice(OTHER_ZONES)
    g = CaseBuilder(rng, f"persona-{index}", zone)
    days = g.days(rng.randint(5, 30))
    discipline = rng.uniform(0.6, 0.95)
    g.covered_activity(days, (1, 5), discipline)
    if not mistaken:
        g.exclusivity = hop_exclusivity(rng)
        g.few_hosts = FEW_HOSTS_IN_RANGE
    for _ in range(rng.randint(1, 3)):
        g.lapse(
            g.moment(rng.choice(days), discipline),
            actor.id,
            events=rng.randint(1, 2),
            close=float(rng.randint(30, 600)),
            channel=rng.choice(("web", "ssh", "posting")),
            trust=None,
        )
    grade = rng.choice(_MISTAKEN_GRADES if mistaken else _PROVEN_GRADES)
    evidence = parse_evidence(
        _staging_document(actor.id, grade),
        f"simulated-staging-{index}",
        [a.id for a in ACTORS],
        [f"persona-{index}"],
    )
    if mistaken:
        return SimCase(
            index,
            "actor",
            "actor/staging-claimed-wrongly",
            actor.id,
            actor.id,
            tuple(g.items),
            evidence,
        )
    return SimCase(
        index, "framed", "framed/proven-staging", actor.id, None, tuple(g.items), evidence
    )


def _pool_heavy_case(rng: random.Random, index: int) -> SimCase:
    actor = rng.choice(ACTORS)
    roll = rng.random()
    # Elsewhere: a zone at least ELSEWHERE_MIN_HOURS from the actor's (simulator 6; simulator 5
    # drew any of OTHER_ZONES, Seoul's clock that is Pyongyang's and Kyiv's that is Moscow's).
    zone = actor.timezones[0] if roll < 0.75 else rng.choice(zones_elsewhere(actor))
    g = CaseBuilder(rng, f"persona-{index}", zone)
    g.exclusivity = rng.choice((0.1, 0.2, 0.3))
    days = g.days(rng.randint(10, 60))
    discipline = rng.uniform(0.6, 0.95)
    for day in days:
        for _ in range(rng.randint(2, 12)):
            g.actor_event(
                g.moment(day, discipline),
                actor.id,
                g.actor_ip(actor.id),
                rng.choice(("ssh", "rdp", "web")),
                None,
            )
    if roll < 0.5:
        return SimCase(index, "actor", "actor/pool-heavy", actor.id, actor.id, tuple(g.items))
    variant = "unknown/pool-same-zone" if roll < 0.75 else "unknown/pool-elsewhere"
    return SimCase(index, "unknown", variant, actor.id, None, tuple(g.items))


_EXTRA_MAKERS = {"proven-staging": _proven_staging_case, "pool-heavy": _pool_heavy_case}


def _actor_case(rng: random.Random, index: int) -> SimCase:
    actor = rng.choice(ACTORS)
    g = CaseBuilder(rng, f"persona-{index}", actor.timezones[0])
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
            exposed=(actor.country or "KP",) if actor.country in RESIDENTIAL else ("CN",),
        )
    else:
        g.covered_activity(days, (1, 6), discipline)
    if rng.random() < 0.3:
        # Operators of known actors hop through compromised hosts abroad too (the Sony case's
        # Thai hotel): the same hops as the unknown operator's.
        hops(g, rng, days, discipline)
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
    zone = rng.choice(OTHER_ZONES)
    g = CaseBuilder(rng, f"persona-{index}", actor.timezones[0] if keeps_hours else zone)
    days = g.days(rng.randint(3, 30))
    discipline = rng.uniform(0.5, 0.95)
    g.covered_activity(days, (1, 5), discipline)
    style = rng.choices(("public-statements", "forged-headers", "mimic"), (0.4, 0.3, 0.3))[0]
    if style != "forged-headers":
        # Staging from inside the range needs a host there, which is as hard for a framer as
        # for anybody else: exclusivity drawn as for an unknown party's hop; and a host is an
        # address: 1-3 hosts, whose addresses the stagings show.
        g.exclusivity = hop_exclusivity(rng)
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
    g = CaseBuilder(rng, f"persona-{index}", rng.choice(OTHER_ZONES))
    days = g.days(rng.randint(3, 30))
    discipline = rng.uniform(0.4, 0.95)
    g.covered_activity(days, (1, 6), discipline)
    hops(g, rng, days, discipline)
    actor: str | None = None
    if rng.random() < 0.2:
        # One of the compromised hops happens to sit in an actor's range. A host there is open
        # to others in proportion to how shared the range is, so the range's exclusivity is
        # drawn with weight (1.05 - exclusivity): an exclusive range is rarely a hop.
        actor = rng.choice(ACTORS).id
        g.exclusivity = hop_exclusivity(rng)
        g.few_hosts = FEW_HOSTS_IN_RANGE  # compromised hosts have addresses
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
    g = CaseBuilder(rng, f"persona-{index}", rng.choice(OTHER_ZONES))
    days = g.days(rng.randint(1, 20))
    countries = sorted(RESIDENTIAL)
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
        roll, extra = random.Random(f"{seed}:{i}:class").random(), None
        for name, share in EXTRA_SHARES.items():
            if roll < share:
                extra = name
                break
            roll -= share
        if extra is not None:
            case = _EXTRA_MAKERS[extra](random.Random(f"{seed}:{i}:{extra}"), i)
            if not analyst_evidence:
                case = replace(case, analyst=None)
        if analyst_evidence and case.analyst is None:
            # Every case without an analyst finding of its own (all but the proven-staging
            # class, whose finding is the planted artefact itself) gets the world's analyst
            # evidence; simulator 6 extends it to the pool-heavy class.
            actor, doc = analyst_document(case, random.Random(f"{seed}:{i}:analyst"))
            if doc:
                # The path a user's --evidence-file takes after YAML parsing.
                evidence = parse_evidence(
                    doc, f"simulated-analyst-{seed}-{i}", actor_ids, [f"persona-{i}"]
                )
                case = replace(case, actor=actor, analyst=evidence)
        out.append(case)
    return out
