"""What would change our mind: hypothetical evidence to re-run the model with.

Each ``WhatIf`` is a concrete change to the persona's input: observations added or altered, or
an extra evidence line. The caller (``assessment``) re-runs the whole model on it, so the
resulting probability is what the model would actually say, not an estimate (docs/model.md,
"What would change our mind"): the changed observations go through every rule (``RULES``), and
an extra line is a stated item weighed as the analyst-evidence rule weighs one
(``rules.analyst.effective_likelihoods``), passed through by ``rules.hypothetical``.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from slipcatch.model import (
    COVER,
    Actor,
    AddressFacts,
    Category,
    Event,
    EvidenceLine,
    EvidenceRef,
    Fact,
    Observation,
    OriginTrust,
    Persona,
    stable_id,
    utc,
)

from .episodes import channel_kind
from .hypotheses import HypothesisSpec
from .reading import stated_trust
from .rules.analyst import RULE_ANALYST, analyst_line, effective_likelihoods

__all__ = [
    "CLOSE_SECONDS",
    "ELSEWHERE_COUNTRY",
    "SHARED_EXCLUSIVITY",
    "STAGING_RATIO",
    "TIE_RATIO",
    "TIPPING_MAX",
    "WHATIF_RELIABILITY",
    "WhatIf",
    "ratio_line",
    "tipping_ratio",
    "what_ifs",
]

#: A hypothetical slip is closed this many seconds later (a quick return).
CLOSE_SECONDS = 120.0
#: Exclusivity of a range shown to have been shared (a VPN provider's exit in it, say).
SHARED_EXCLUSIVITY = 0.2
#: Country code used for "a country that sponsors no hypothesised actor" (ISO user-assigned).
ELSEWHERE_COUNTRY = "ZZ"
#: Hypothetical analyst items: independent evidence of staging (false flag : others) and
#: independent evidence tying the tools to the actor (actor : others), both stated as B2.
STAGING_RATIO = 3.0
TIE_RATIO = 3.0
WHATIF_RELIABILITY = "B2"
#: The largest ratio ``tipping_ratio`` searches up to; a verdict no ratio up to it moves has no
#: tipping point reported.
TIPPING_MAX = 1e9
_SOURCE = "what-if"


@dataclass(frozen=True)
class WhatIf:
    """One hypothetical change to a persona's input."""

    kind: str
    actor: str  # the actor whose attribution the change is about
    description: str
    observations: tuple[Observation, ...]
    extra_lines: tuple[EvidenceLine, ...] = ()
    # True when ``observations`` are the persona's own, unchanged: only lines are added, so the
    # caller may recombine its lines instead of re-running the analysis of the observations.
    lines_only: bool = False


def _event(
    template: Event | None, persona: str, t: datetime, ip: str, tag: str, channel: str = "web"
) -> Event:
    ev_id = stable_id("ev", _SOURCE, persona, tag, t.isoformat())
    ref = EvidenceRef(path=_SOURCE, sha256="0" * 64, locator=tag)
    if template is None:
        return Event(id=ev_id, time=t, src_ip=ip, persona=persona, channel=channel, evidence=ref)
    # Logged by the receiving side: not e-mail, no origin trust to discount.
    return replace(
        template,
        id=ev_id,
        time=t,
        src_ip=ip,
        channel=channel,
        evidence=ref,
        attributes={},
        origin_trust=None,
        entry_ip=None,
        hops=(),
    )


def _slip(
    persona: Persona,
    observations: Sequence[Observation],
    address: AddressFacts,
    tag: str,
    channel: str = "web",
) -> tuple[Observation, ...]:
    """An exposed event on ``channel`` a day after the last one, and (if the persona uses cover)
    a return to cover ``CLOSE_SECONDS`` later."""
    last = utc(observations[-1].event.time)
    t = last + timedelta(days=1)
    exposed = Observation(
        event=_event(observations[-1].event, persona.name, t, address.ip, tag, channel),
        address=replace(address, time=t),
    )
    covered = [obs for obs in observations if obs.address.category in COVER]
    if not covered:
        return (exposed,)
    back = t + timedelta(seconds=CLOSE_SECONDS)
    template = covered[-1]
    cover = Observation(
        event=_event(template.event, persona.name, back, template.address.ip, tag + ":cover"),
        address=replace(template.address, time=back),
    )
    return (exposed, cover)


def _fresh(address: AddressFacts, used: set[str]) -> AddressFacts:
    """``address`` moved to the first host of its prefix the persona has not used: a hypothetical
    further slip is a new lapse, not the same host again (which counts once,
    ``Episode.repeat``). The address itself when it has no prefix or every host is used."""
    try:
        network = ipaddress.ip_network(address.prefix or "", strict=False)
    except ValueError:
        return address
    for k, host in enumerate(network.hosts()):
        if str(host) not in used:
            return replace(address, ip=str(host))
        if k > len(used):
            break
    return address


def _actor_address(actor: str, observations: Sequence[Observation]) -> AddressFacts:
    mine = [
        o for o in observations if o.address.category == Category.ACTOR and o.address.actor == actor
    ]
    if mine:
        return _fresh(mine[-1].address, {o.address.ip for o in mine})
    fact = Fact(
        range="hypothetical", category=Category.ACTOR, source=_SOURCE, actor=actor, exclusivity=1.0
    )
    return AddressFacts(
        ip="hypothetical",
        time=utc(observations[-1].event.time),
        category=Category.ACTOR,
        actor=actor,
        facts=(fact,),
    )


def _line(
    persona: Persona,
    kind: str,
    text: str,
    ratios: Mapping[str, float],
    specs: Sequence[HypothesisSpec],
) -> EvidenceLine:
    """A hypothetical analyst item stating ``ratios`` (hypothesis id -> ratio) at
    ``WHATIF_RELIABILITY``, weighed as the analyst-evidence rule weighs a stated item."""
    likelihoods = effective_likelihoods(lambda spec: ratios.get(spec.id), WHATIF_RELIABILITY, specs)
    return analyst_line(
        stable_id("line", persona.id, _SOURCE, kind), text, likelihoods, WHATIF_RELIABILITY
    )


def what_ifs(
    persona: Persona,
    observations: Sequence[Observation],
    specs: Sequence[HypothesisSpec],
    subject: str | None,
    actors: Mapping[str, Actor],
    country_codes: Sequence[str] = (),
) -> list[WhatIf]:
    """The hypothetical changes worth testing for one persona.

    ``subject`` is the actor the verdict's probability is about (None when no actor hypothesis
    exists); then only a first slip from the range of an actor whose sponsor country the
    persona's exposed events were geolocated to (``country_codes``) is tried.
    """
    if not observations:
        return []
    obs = tuple(observations)
    out: list[WhatIf] = []
    if subject is None:
        for actor in sorted(actors):
            if (actors[actor].country or "").upper() not in {c.upper() for c in country_codes}:
                continue
            name = actors[actor].name
            out.append(
                WhatIf(
                    "first-actor-slip",
                    actor,
                    f"a slip from an exclusive range of {name}, logged by the receiving side and "
                    f"back under cover within {CLOSE_SECONDS:.0f} s",
                    obs + _slip(persona, obs, _actor_address(actor, obs), "first-actor-slip"),
                )
            )
        return out
    name = actors[subject].name if subject in actors else subject
    mine = [o for o in obs if o.address.category == Category.ACTOR and o.address.actor == subject]
    prefixes = ", ".join(sorted({o.address.prefix or o.address.ip for o in mine})) or "its range"
    out.append(
        WhatIf(
            "another-actor-slip",
            subject,
            f"another slip from {name}'s range ({prefixes}), logged by the receiving side and back "
            f"under cover within {CLOSE_SECONDS:.0f} s",
            obs + _slip(persona, obs, _actor_address(subject, obs), "another-actor-slip"),
        )
    )
    elsewhere = AddressFacts(
        ip="hypothetical-elsewhere",
        time=utc(obs[-1].event.time),
        category=Category.RESIDENTIAL,
        country=ELSEWHERE_COUNTRY,
    )
    out.append(
        WhatIf(
            "exposed-elsewhere",
            subject,
            "a direct connection from the same persona outside any actor range (a residential "
            "address in a country that sponsors no hypothesised actor), logged by the receiving "
            f"side and back under cover within {CLOSE_SECONDS:.0f} s",
            obs + _slip(persona, obs, elsewhere, "exposed-elsewhere"),
        )
    )
    if mine and channel_kind(mine) != "back-end":
        # Exposure where a framer does not stage (an interactive login nobody was meant to
        # read) speaks against staging twice: the back-end channel ratio and the exposure
        # channels (docs/model.md, "slip pattern" and "exposure channels").
        out.append(
            WhatIf(
                "backend-slip",
                subject,
                f"a slip from {name}'s range ({prefixes}) on a back-end channel (an interactive "
                f"ssh login), logged by the receiving side and back under cover within "
                f"{CLOSE_SECONDS:.0f} s",
                obs + _slip(persona, obs, _actor_address(subject, obs), "backend-slip", "ssh"),
            )
        )
    if mine:

        def shared(o: Observation) -> Observation:
            if o.address.category != Category.ACTOR or o.address.actor != subject:
                return o
            facts = tuple(
                replace(
                    f,
                    exclusivity=min(
                        f.exclusivity if f.exclusivity is not None else 1.0, SHARED_EXCLUSIVITY
                    ),
                )
                if f.actor == subject
                else f
                for f in o.address.facts
            )
            if not any(f.actor == subject for f in facts):
                facts += (
                    Fact(
                        range=o.address.prefix or o.address.ip,
                        category=Category.ACTOR,
                        source=_SOURCE,
                        actor=subject,
                        exclusivity=SHARED_EXCLUSIVITY,
                    ),
                )
            return replace(o, address=replace(o.address, facts=facts))

        out.append(
            WhatIf(
                "range-shared",
                subject,
                f"evidence that {prefixes} was used by others at the time (e.g. a VPN provider's "
                f"exit there): exclusivity {SHARED_EXCLUSIVITY}",
                tuple(shared(o) for o in obs),
            )
        )
        weak = [
            o
            for o in mine
            if stated_trust(o) in (OriginTrust.SENDER_WRITTEN, OriginTrust.SENDER_PROVIDER)
        ]
        if weak:
            ids = {o.event.id for o in weak}
            out.append(
                WhatIf(
                    "origin-confirmed",
                    subject,
                    "the receiving side's own logs confirming the origin address of the "
                    f"{len(weak)} e-mail(s) from {name}'s range",
                    tuple(
                        replace(o, event=replace(o.event, origin_trust=OriginTrust.TRUSTED_RELAY))
                        if o.event.id in ids
                        else o
                        for o in obs
                    ),
                )
            )
    by_kind = {(s.kind, s.actor): s.id for s in specs}
    ff = by_kind.get(("false_flag", subject))
    if ff is not None:
        out.append(
            WhatIf(
                "staging-evidence",
                subject,
                f"independent evidence of staging (e.g. tooling or language of another party), "
                f"{WHATIF_RELIABILITY}, stated false flag : others {STAGING_RATIO:g}",
                obs,
                (
                    _line(
                        persona,
                        "staging-evidence",
                        "hypothetical: evidence of staging",
                        {ff: STAGING_RATIO},
                        specs,
                    ),
                ),
                lines_only=True,
            )
        )
    act = by_kind.get(("actor", subject))
    if act is not None:
        out.append(
            WhatIf(
                "tooling-tie",
                subject,
                f"independent evidence tying the tools to {name} (e.g. code reuse), "
                f"{WHATIF_RELIABILITY}, stated actor : others {TIE_RATIO:g}",
                obs,
                (
                    _line(
                        persona, "tooling-tie", "hypothetical: tooling tie", {act: TIE_RATIO}, specs
                    ),
                ),
                lines_only=True,
            )
        )
    return out


def ratio_line(
    persona: Persona, kind: str, text: str, hypothesis: str, ratio: float
) -> EvidenceLine:
    """A hypothetical independent line favouring ``hypothesis`` over every other by ``ratio``
    (an effective ratio: no reliability discount, no ``LINE_CAP``).

    Not built with ``rules.analyst.analyst_line``: ``tipping_ratio`` searches this ratio to
    three significant figures and past ``LINE_CAP``, which that rule's rounding to six decimals
    and tempering would change."""
    return EvidenceLine(
        id=stable_id("line", persona.id, _SOURCE, kind, hypothesis),
        kind="analyst",
        summary=text,
        likelihoods={hypothesis: ratio},
        reliability="A1",
        rule=RULE_ANALYST,
    )


def _round_up(x: float, digits: int = 3) -> float:
    """``x`` rounded up to ``digits`` significant figures."""
    scale = 10.0 ** (digits - 1 - math.floor(math.log10(x)))
    return math.ceil(x * scale - 1e-9) / scale


def tipping_ratio(changes: Callable[[float], bool], limit: float = TIPPING_MAX) -> float | None:
    """The smallest ratio ``k >= 1`` (rounded up to three significant figures) for which
    ``changes(k)`` holds, assuming it is monotone (false below some point, true from it on);
    None when it does not hold at ``limit``.

    Bisection on ``ln k`` to a relative precision far finer than the rounding; the rounded value
    is checked again, so the ratio returned always changes the outcome.
    """
    if not changes(limit):
        return None
    if changes(1.0):
        return 1.0
    lo, hi = 0.0, math.log(limit)
    while hi - lo > 1e-6:
        mid = (lo + hi) / 2.0
        if changes(math.exp(mid)):
            hi = mid
        else:
            lo = mid
    # The bisection ends just above the point; a hair below it, rounded up, is the first
    # candidate (2.5000025 -> 2.5), and the next figure up is tried while it does not hold.
    k = _round_up(math.exp(hi) * (1.0 - 1e-4))
    while k < limit and not changes(k):
        k = _round_up(k * 1.001)
    return min(k, limit)
