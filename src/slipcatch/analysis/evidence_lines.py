"""Evidence lines: independent items with a likelihood for every hypothesis.

These rules produce lines here (each is a heading in docs/model.md, which gives the reasons and
worked examples):

- ``actor-range episode``: events from one actor's exclusive range, grouped into episodes so
  that dependent events count once; each tells "someone used the range" (the actor by mistake or
  a framer on purpose) from "an unknown party happened to hop there";
- ``slip pattern``: how the actor's episodes ended (a quick return to cover, or a long
  exposure), one line per actor: a framer who imitates a mistake once imitates it every time,
  so the pattern is one observation however many episodes show it;
- ``range access``: the access to the range a framer would have needed, one line per actor;
- ``exposure channels``: whether the actor's exposures all fell on public-statement channels
  while the persona also worked elsewhere (a plan to be seen), one line per actor;
- ``country hit without exclusive range``: exposed events geolocated to one country (weak,
  compromisable evidence: a host's location is not its operator's);
- ``exposed elsewhere``: a persona that also hops through hosts in countries unrelated to any
  hypothesised actor makes an address in an actor's range look like one more hop.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from slipcatch.model import (
    COVER,
    Actor,
    Category,
    EvidenceLine,
    Fact,
    Observation,
    OriginTrust,
    Persona,
    Slip,
    stable_id,
    utc,
)

from .hypotheses import LINE_CAP, HypothesisSpec, hypothesis_id
from .slips import EXPOSED, works_under_cover

__all__ = [
    "ADDRESS_WINDOW_SECONDS",
    "ASN_EXCLUSIVITY",
    "ASN_SOURCE",
    "BACKEND_CHANNELS",
    "BURST_SECONDS",
    "CHANNEL_RATIOS",
    "COUNTRY_OTHER_TILT",
    "COUNTRY_SPONSOR_RATIO",
    "DEFAULT_EXCLUSIVITY",
    "ELSEWHERE_RATIO",
    "FORGE_RATIO",
    "FRAMER_ACCESS",
    "OPEN_ADDRESS_FACTOR",
    "PROJECTED_OPEN_FACTOR",
    "PUBLIC_CHANNELS",
    "RULE_ACCESS",
    "RULE_ACTOR_RANGE",
    "RULE_CHANNELS",
    "RULE_COUNTRY",
    "RULE_ELSEWHERE",
    "RULE_SLIP_PATTERN",
    "R_EPISODE",
    "SLIP_PATTERNS",
    "STAGING_PLAN_SHARE",
    "TRUST_WEIGHT",
    "Episode",
    "access_factor",
    "access_lines",
    "actor_range_lines",
    "channel_kind",
    "channel_plan_factor",
    "country_lines",
    "elsewhere_line",
    "episode_factors",
    "event_exclusivity",
    "event_trust",
    "exposure_channel_lines",
    "exposure_runs",
    "group_episodes",
    "listing_texts",
    "open_listings",
    "public_share",
    "read_asn",
    "slip_pattern",
    "slip_pattern_lines",
]

RULE_ACTOR_RANGE = "actor-range episode"
RULE_COUNTRY = "country hit without exclusive range"
RULE_SLIP_PATTERN = "slip pattern"
RULE_ELSEWHERE = "exposed elsewhere"
RULE_ACCESS = "range access"
RULE_CHANNELS = "exposure channels"

#: actor : unknown ratio of one episode at full exclusivity and full origin trust.
R_EPISODE = 6.0
#: Exclusivity assumed when the registry states none for the range.
DEFAULT_EXCLUSIVITY = 0.8
#: An address that an intel source lists as cover (a VPN exit, a proxy, hosting anyone can rent)
#: at the event's time is open to third parties whatever the exclusivity registered for its
#: range: "a leased block with known VPN abuse" (Trend Micro, 'A Closer Look at North Korea's
#: Internet', 2017, found VPN providers using space registered to North Korea). Its exclusivity
#: is multiplied by OPEN_ADDRESS_FACTOR (model 2.4): the listing makes most of the address's use
#: somebody else's, while leaving room for the actor running the service itself. A listing that
#: is a later snapshot projected back to the event (``Fact.projected``) may not have applied
#: then: PROJECTED_OPEN_FACTOR, halfway.
OPEN_ADDRESS_FACTOR = 0.2
PROJECTED_OPEN_FACTOR = 0.6
#: ASN-level hit (model 2.6): an exposed address announced by an AS the registry says the
#: actor's side operates (``Actor.asns``), outside every registered range, is read as an address
#: of the actor's space of this exclusivity: the AS is the actor's, but nobody vouched for the
#: prefix, so a mixture ratio of 1.71 against an unknown party (weak, as the issue asks).
ASN_EXCLUSIVITY = 0.5
#: ``Fact.source`` of the fact an ASN-level hit adds.
ASN_SOURCE = "asn-level"
#: How far the origin address can be believed, by who wrote it. ``None``: not e-mail, the
#: receiving side logged the address itself (web, ssh, a table supplied by the analyst).
TRUST_WEIGHT: Mapping[OriginTrust | None, float] = {
    None: 1.0,
    OriginTrust.TRUSTED_RELAY: 1.0,
    OriginTrust.SENDER_PROVIDER: 0.6,
    OriginTrust.SENDER_WRITTEN: 0.05,
}
_TRUST_LETTER: Mapping[OriginTrust | None, str] = {
    None: "B",
    OriginTrust.TRUSTED_RELAY: "B",
    OriginTrust.SENDER_PROVIDER: "C",
    OriginTrust.SENDER_WRITTEN: "E",
}
#: Events of one actor closer than this belong to one episode (one sitting, any channel).
BURST_SECONDS = 600.0
#: Re-use of one address within this window belongs to the same episode (one working day).
ADDRESS_WINDOW_SECONDS = 12 * 3600.0

#: Slip patterns: name -> (actor : false_flag ratio at full weight, meaning). Thresholds are on
#: the exposure time: first exposed event of a slip to the next covered event.
SLIP_PATTERNS: Mapping[str, tuple[float, str]] = {
    "quick-return": (3.0, "back under cover within 10 minutes"),
    "return-within-hour": (1.5, "back under cover within an hour"),
    "return-within-day": (1 / 1.5, "back under cover within a day"),
    "long-exposure": (1 / 3.0, "exposed for more than a day before returning to cover"),
    "unclosed": (1.0, "no covered event followed"),
    "partial-cover": (1.0, "the persona does not work under cover"),
    "no-cover": (0.8, "the persona never used cover"),
}
_QUICK, _HOUR, _DAY = 600.0, 3600.0, 86400.0

#: Where an episode's events were seen (model 2.1). A framer needs its staging to be found and
#: attributed, so it plants it where investigators look: public statements. An operator's
#: mistakes happen wherever it works, including its back-end access (interactive logins), which
#: it does not expect anyone to read. Channel names (``Event.channel``) are compared in lower
#: case; for "zeek:ssh" and the like, the part after the last colon.
BACKEND_CHANNELS: frozenset[str] = frozenset({"ssh", "rdp", "login", "auth"})
PUBLIC_CHANNELS: frozenset[str] = frozenset({"posting", "post", "statement", "paste"})
#: Channel kind -> actor : false-flag ratio at full weight, per episode. "public" is 1 since
#: model 2.4: whether exposure fell *only* on public channels is one persona-level observation,
#: the exposure-channels line (``STAGING_PLAN_SHARE``), not a per-episode one.
CHANNEL_RATIOS: Mapping[str, float] = {"back-end": 2.0, "public": 1.0, "other": 1.0}
#: Share of framers who confine their staged exposure to public statements (model 2.4). Nobody
#: has counted it; P(all exposure public | framer) is linear in the share, so averaging over a
#: uniform prior on it is the same as taking its mean, 1/2.
STAGING_PLAN_SHARE = 0.5
#: How much likelier a framer's staging is than an operator's mistake to rest on an origin only
#: the sender wrote (model 2.1): a forged header costs a framer nothing. Applied as
#: ``FORGE_RATIO ** (1 - trust weight)`` against the actor in the slip-pattern line.
FORGE_RATIO = 2.0

#: Largest actor : unknown ratio of a sponsor-country hit outside any exclusive range.
COUNTRY_SPONSOR_RATIO = 2.0
#: unknown : every other hypothesis for a hit in a country that sponsors no hypothesised actor.
COUNTRY_OTHER_TILT = 1.1
#: unknown : every other hypothesis when a persona with an actor hypothesis was also exposed
#: outside any exclusive range in a country sponsoring none of its hypothesised actors (model
#: 2.1): a party that hops through compromised hosts makes the range event one more hop. Under
#: "unknown" (the range event is such a hop) other hops are expected (about 0.6-0.8); operators
#: of known actors hop too (Sony: a Thai hotel), about 0.3; 2 is below that ratio.
ELSEWHERE_RATIO = 2.0
#: Chance that a framer who wants an actor's address in the logs gets a host inside a range the
#: actor uses exclusively (model 2.3); in a shared range it gets one as easily as anybody. So
#: P(a logged use of the range | framer) / P(... | actor) = FRAMER_ACCESS + (1 - FRAMER_ACCESS)
#: x (1 - exclusivity), and the range-access line gives the false flag that much.
FRAMER_ACCESS = 0.3


def _is_email(obs: Observation) -> bool:
    return obs.event.channel == "email" or obs.event.channel.startswith("email")


def event_trust(obs: Observation) -> OriginTrust | None:
    """Who wrote the event's origin address; None for addresses the receiving side logged.

    An e-mail without a stated trust is taken as sender-written: nothing vouches for it.
    """
    if obs.event.origin_trust is not None:
        return obs.event.origin_trust
    return OriginTrust.SENDER_WRITTEN if _is_email(obs) else None


def read_asn(obs: Observation, owners: Mapping[int, str]) -> Observation:
    """``obs`` as an ASN-level hit when its exposed address (``residential`` or ``unknown``)
    is announced by an AS the registry gives to one actor (``owners``: AS number -> actor id):
    an address of that actor's space with exclusivity ``ASN_EXCLUSIVITY``, its prefix shown as
    ``AS<n>``. Addresses in a registered range, cover and reserved addresses stay as they are (a
    VPN exit in the actor's AS is still someone's VPN)."""
    address = obs.address
    asn = address.asn
    actor = owners.get(asn) if asn is not None else None
    if actor is None or address.category not in (Category.RESIDENTIAL, Category.UNKNOWN):
        return obs
    fact = Fact(
        range=f"AS{asn}",
        category=Category.ACTOR,
        source=ASN_SOURCE,
        label=f"AS{asn}, operated by the side of {actor}; outside its registered ranges",
        actor=actor,
        asn=asn,
        country=address.country,
        exclusivity=ASN_EXCLUSIVITY,
    )
    return replace(
        obs,
        address=replace(
            address,
            category=Category.ACTOR,
            actor=actor,
            prefix=f"AS{asn}",
            facts=(*address.facts, fact),
        ),
    )


def open_listings(obs: Observation) -> tuple[Fact, ...]:
    """The facts that list the event's address as cover (VPN, proxy, hosting, Tor) then."""
    return tuple(f for f in obs.address.facts if f.category in COVER and f.actor is None)


def listing_texts(observations: Sequence[Observation]) -> list[str]:
    """The cover listings of the events' addresses, as "vpn by <source>" ("(projected)" when
    the listing is a later snapshot applied back to the event), sorted and without repeats."""
    return sorted(
        {
            f"{f.category} by {f.source}{' (projected)' if f.projected else ''}"
            for o in observations
            for f in open_listings(o)
        }
    )


def event_exclusivity(obs: Observation, actor: str) -> float:
    """How exclusively ``actor`` used the address at the time (0..1).

    The largest ``Fact.exclusivity`` among the facts naming the actor (``DEFAULT_EXCLUSIVITY``
    when none states one), times ``OPEN_ADDRESS_FACTOR`` when an intel source lists the address
    itself as cover at that time (``PROJECTED_OPEN_FACTOR`` when every such listing is
    projected from a later snapshot).
    """
    values = [
        f.exclusivity
        for f in obs.address.facts
        if f.actor == actor and f.exclusivity is not None and 0.0 <= f.exclusivity <= 1.0
    ]
    exclusivity = max(values) if values else DEFAULT_EXCLUSIVITY
    listings = open_listings(obs)
    if listings:
        current = any(not f.projected for f in listings)
        exclusivity *= OPEN_ADDRESS_FACTOR if current else PROJECTED_OPEN_FACTOR
    return exclusivity


@dataclass(frozen=True)
class Episode:
    """Events from one actor's range that count as one independent item."""

    actor: str
    observations: tuple[Observation, ...]
    slips: tuple[Slip, ...]
    weight: float  # exclusivity x trust weight of its strongest event, 0..1
    exclusivity: float  # of that event
    trust: OriginTrust | None  # of that event
    weakest_trust: OriginTrust | None  # among all its events
    min_exclusivity: float
    pattern: str
    exposure_seconds: float | None
    channel: str = "other"  # "back-end", "public" or "other" (``channel_kind``)

    @property
    def first(self) -> datetime:
        return utc(self.observations[0].event.time)

    @property
    def last(self) -> datetime:
        return utc(self.observations[-1].event.time)


def _find(parent: list[int], k: int) -> int:
    while parent[k] != k:
        parent[k] = parent[parent[k]]
        k = parent[k]
    return k


def _union(parent: list[int], a: int, b: int) -> None:
    ra, rb = _find(parent, a), _find(parent, b)
    if ra != rb:
        parent[max(ra, rb)] = min(ra, rb)


def exposure_runs(persona: Persona, observations: Sequence[Observation]) -> dict[str, int]:
    """Event id -> number of covered events before it, for a persona that works under cover.

    Two exposed events with the same number lie in one uninterrupted exposure (no return to
    cover between them). Empty for a persona that does not work under cover: there, being
    exposed is its normal state, not a lapse, and says nothing about dependence.
    """
    if not works_under_cover(persona, observations):
        return {}
    runs: dict[str, int] = {}
    covered = 0
    for obs in observations:
        if obs.address.category in COVER:
            covered += 1
        else:
            runs[obs.event.id] = covered
    return runs


def group_episodes(
    events: Sequence[Observation],
    slip_of: Mapping[str, Slip],
    run_of: Mapping[str, int] | None = None,
) -> list[list[Observation]]:
    """Group one actor's events (in time order) into episodes.

    Two events are in one episode when (transitively) they are in the same slip, or in one
    uninterrupted exposure (``run_of``: no covered event of the persona between them), or follow
    each other within ``BURST_SECONDS`` (whatever the channel or address), or one re-uses the
    other's address within ``ADDRESS_WINDOW_SECONDS`` of its previous use.
    """
    run_of = run_of or {}
    parent = list(range(len(events)))
    last_use: dict[str, tuple[datetime, int]] = {}
    for k, obs in enumerate(events):
        t = utc(obs.event.time)
        if k > 0:
            prev = events[k - 1]
            if (t - utc(prev.event.time)).total_seconds() <= BURST_SECONDS:
                _union(parent, k, k - 1)
            slip, prev_slip = slip_of.get(obs.event.id), slip_of.get(prev.event.id)
            if slip is not None and prev_slip is not None and slip.id == prev_slip.id:
                _union(parent, k, k - 1)
            run, prev_run = run_of.get(obs.event.id), run_of.get(prev.event.id)
            if run is not None and run == prev_run:
                _union(parent, k, k - 1)
        seen = last_use.get(obs.address.ip)
        if seen is not None and (t - seen[0]).total_seconds() <= ADDRESS_WINDOW_SECONDS:
            _union(parent, k, seen[1])
        last_use[obs.address.ip] = (t, k)
    groups: dict[int, list[Observation]] = {}
    for k, obs in enumerate(events):
        groups.setdefault(_find(parent, k), []).append(obs)
    return [groups[root] for root in sorted(groups)]


def slip_pattern(slips: Sequence[Slip], persona: Persona) -> tuple[str, float | None]:
    """The pattern name of an episode's slips and its exposure time in seconds.

    Exposure runs from the episode's first exposed event to the return to cover after its last
    slip; None when no covered event followed (or when there are no slips).
    """
    if not slips:
        return ("no-cover" if persona.cover_ratio == 0.0 else "partial-cover"), None
    ends = []
    for slip in slips:
        if slip.closed_after_seconds is None:
            return "unclosed", None
        ends.append(
            (slip.last_seen - slips[0].first_seen).total_seconds() + slip.closed_after_seconds
        )
    exposure = max(ends)
    if exposure <= _QUICK:
        return "quick-return", exposure
    if exposure <= _HOUR:
        return "return-within-hour", exposure
    if exposure <= _DAY:
        return "return-within-day", exposure
    return "long-exposure", exposure


def channel_kind(observations: Sequence[Observation]) -> str:
    """The channel kind of an episode's events.

    "back-end" when any event was on a back-end channel (an interactive login), "public" when
    every event was on a public-statement channel, else "other".
    """
    names = [obs.event.channel.lower().rsplit(":", 1)[-1] for obs in observations]
    if any(n in BACKEND_CHANNELS for n in names):
        return "back-end"
    if names and all(n in PUBLIC_CHANNELS for n in names):
        return "public"
    return "other"


def episode_factors(ep: Episode) -> tuple[float, float]:
    """(actor-or-false-flag : unknown, actor : false flag) of one episode (model 2.1).

    The first rests on the range's exclusivity ``e`` only (model 2.4): an unknown party uses the
    range as much as others use it, ``1 - e``, and an exclusive range only through a compromised
    or borrowed host, ``1 / R_EPISODE`` of the owner's use, so
    ``r = 1 / (1 / R_EPISODE + (1 - 1 / R_EPISODE) (1 - e))`` (models 2.1-2.3:
    ``1 + (R_EPISODE - 1) e``, which made a half-shared range worth 3.5 instead of 1.71).
    An origin the sender wrote is either true (then it places the sender as well as a log does)
    or forged, and only a party that wants the actor's address there forges it: a framer. So a
    weak origin does not weaken the case against an unknown party; it weakens the case against
    a framer. The second is the slip pattern and the channel kind, each moved toward 1 by the
    origin's trust weight (model 2.3; exclusivity concerns third parties, not how the actor's or
    a framer's own use of the range ended), divided by ``FORGE_RATIO ** (1 - trust weight)``.
    """
    r = 1.0 / (1.0 / R_EPISODE + (1.0 - 1.0 / R_EPISODE) * (1.0 - ep.exclusivity))
    s_pattern = SLIP_PATTERNS[ep.pattern][0]
    s_channel = CHANNEL_RATIOS[ep.channel]
    trust = TRUST_WEIGHT[ep.trust]
    s = (1.0 + (s_pattern - 1.0) * trust) * (1.0 + (s_channel - 1.0) * trust)
    return r, s / FORGE_RATIO ** (1.0 - trust)


def _build_episode(
    actor: str, members: Sequence[Observation], slip_of: Mapping[str, Slip], persona: Persona
) -> Episode:
    scored = []
    for obs in members:
        trust = event_trust(obs)
        excl = event_exclusivity(obs, actor)
        scored.append((excl * TRUST_WEIGHT[trust], excl, trust, obs.event.id))
    # Strongest event first; ties broken by event id for determinism.
    scored.sort(key=lambda item: (-item[0], item[3]))
    weight, excl, trust, _ = scored[0]
    slips_by_id = {}
    for obs in members:
        slip = slip_of.get(obs.event.id)
        if slip is not None:
            slips_by_id[slip.id] = slip
    slips = tuple(sorted(slips_by_id.values(), key=lambda s: (s.first_seen, s.id)))
    pattern, exposure = slip_pattern(slips, persona)
    trusts = [event_trust(obs) for obs in members]
    weakest = min(trusts, key=lambda t: TRUST_WEIGHT[t])
    return Episode(
        actor=actor,
        observations=tuple(members),
        slips=slips,
        weight=weight,
        exclusivity=excl,
        trust=trust,
        weakest_trust=weakest,
        min_exclusivity=min(item[1] for item in scored),
        pattern=pattern,
        exposure_seconds=exposure,
        channel=channel_kind(members),
    )


def _reliability(trust: OriginTrust | None, exclusivity: float) -> str:
    digit = "2" if exclusivity >= 0.95 else "3" if exclusivity >= 0.7 else "4"
    return _TRUST_LETTER[trust] + digit


def _rounded(likelihoods: Mapping[str, float]) -> dict[str, float]:
    return {k: round(v, 6) for k, v in sorted(likelihoods.items())}


def _span(first: datetime, last: datetime) -> str:
    if first == last:
        return f"{first:%Y-%m-%d %H:%M:%S}"
    if first.date() == last.date():
        return f"{first:%Y-%m-%d %H:%M:%S}-{last:%H:%M:%S}"
    return f"{first:%Y-%m-%d %H:%M:%S} to {last:%Y-%m-%d %H:%M:%S}"


def _trust_text(trust: OriginTrust | None) -> str:
    return "logged by the receiving side" if trust is None else f"origin {trust.value}"


def actor_range_lines(
    persona: Persona,
    observations: Sequence[Observation],
    slips: Sequence[Slip],
    specs: Sequence[HypothesisSpec],
    actors: Mapping[str, Actor],
) -> list[tuple[EvidenceLine, Episode]]:
    """One line per episode of events from an actor's exclusive range, in time order."""
    slip_of = {eid: slip for slip in slips for eid in slip.event_ids}
    run_of = exposure_runs(persona, observations)
    by_actor: dict[str, list[Observation]] = {}
    for obs in observations:
        if obs.address.category == Category.ACTOR and obs.address.actor:
            by_actor.setdefault(obs.address.actor, []).append(obs)
    out = []
    all_ids = [s.id for s in specs]
    for actor in sorted(by_actor):
        # Addresses of the actor's earlier episodes (model 2.5): an episode whose every address
        # was used before shows the same host again, which the actor's operator and a third
        # party holding that host both do; it adds nothing against an unknown party.
        counted: set[str] = set()
        for members in group_episodes(by_actor[actor], slip_of, run_of):
            ep = _build_episode(actor, members, slip_of, persona)
            r, s = episode_factors(ep)
            addresses = {o.address.ip for o in members}
            repeat = sorted(addresses) if addresses <= counted else []
            counted |= addresses
            if repeat:
                r = 1.0
            likelihoods = dict.fromkeys(all_ids, 1.0)
            # A framer staging through the range produces an episode as readily as the actor's
            # operator forgetting the cover: the episode weighs both against an unknown party,
            # and the slip pattern (one line per actor) tells them apart.
            likelihoods[hypothesis_id(persona.id, "actor", actor)] = r
            likelihoods[hypothesis_id(persona.id, "false_flag", actor)] = r
            name = actors[actor].name if actor in actors else actor
            prefixes = sorted({o.address.prefix or o.address.ip for o in members})
            channels = sorted({o.event.channel for o in members})
            closing = (
                f"exposure {ep.exposure_seconds:.0f} s"
                if ep.exposure_seconds is not None
                else "no exposure time"
            )
            listed = listing_texts(members)
            listing = (
                f"; the address was listed as {', '.join(listed)} then, so a third party could "
                "use it"
                if listed
                else ""
            )
            asn_level = any(f.source == ASN_SOURCE for o in members for f in o.address.facts)
            space = (
                f"an AS of the side of {name}, outside its registered ranges (ASN-level hit; "
                if asn_level
                else f"exclusive range of {name} ("
            )
            summary = (
                f"{len(members)} event(s) from {', '.join(prefixes)}, {space}"
                f"exclusivity {ep.exclusivity:.2f}, {_trust_text(ep.trust)}{listing}), "
                f"{_span(ep.first, ep.last)} UTC via {', '.join(channels)}; "
                f"{SLIP_PATTERNS[ep.pattern][1]} ({closing}); channel {ep.channel}; "
                + (
                    f"{', '.join(repeat)} already used in an earlier episode: the same host "
                    "again, counted once (repeated use of one address is not independent); "
                    if repeat
                    else ""
                )
                + f"actor or false flag : unknown {r:.2f}; pattern ratio {s:.2f} (see the slip "
                "pattern line)"
            )
            line = EvidenceLine(
                id=stable_id("line", persona.id, "actor-range-episode", actor, members[0].event.id),
                kind="actor-range-episode",
                summary=summary,
                likelihoods=_rounded(likelihoods),
                reliability=_reliability(ep.trust, ep.exclusivity),
                rule=RULE_ACTOR_RANGE,
                event_ids=tuple(o.event.id for o in members),
                slip_ids=tuple(s.id for s in ep.slips),
            )
            out.append((line, ep))
    return out


def country_lines(
    persona: Persona,
    observations: Sequence[Observation],
    slips: Sequence[Slip],
    specs: Sequence[HypothesisSpec],
    actors: Mapping[str, Actor],
) -> list[EvidenceLine]:
    """One line per country of exposed events outside any exclusive range, by country code."""
    by_country: dict[str, list[Observation]] = {}
    for obs in observations:
        if obs.address.category not in EXPOSED or obs.address.actor:
            continue
        country = (obs.address.country or "").strip().upper()
        if country:
            by_country.setdefault(country, []).append(obs)
    slip_of = {eid: slip.id for slip in slips for eid in slip.event_ids}
    hypothesised = sorted({s.actor for s in specs if s.actor is not None})
    all_ids = [s.id for s in specs]
    out = []
    for country in sorted(by_country):
        members = by_country[country]
        trust = min((event_trust(o) for o in members), key=lambda t: -TRUST_WEIGHT[t])
        weight = TRUST_WEIGHT[trust]
        sponsored = [
            a for a in hypothesised if a in actors and (actors[a].country or "").upper() == country
        ]
        # reported to operate there at the time of every one of these events
        operating = [
            a
            for a in hypothesised
            if a in actors
            and a not in sponsored
            and all(actors[a].operates_in(country, o.event.time) for o in members)
        ]
        likelihoods = dict.fromkeys(all_ids, 1.0)
        if operating and not sponsored:
            meaning = (
                f"a country {', '.join(actors[a].name for a in operating)} is reported to "
                "operate from (registry): consistent with it and with compromised or borrowed "
                f"infrastructure there alike, so neutral; this is not attribution to {country}"
            )
        elif sponsored:
            for actor in sponsored:
                likelihoods[hypothesis_id(persona.id, "actor", actor)] = (
                    1.0 + (COUNTRY_SPONSOR_RATIO - 1.0) * weight
                )
                likelihoods[hypothesis_id(persona.id, "false_flag", actor)] = (
                    1.0 + (COUNTRY_SPONSOR_RATIO - 1.0) * weight / 2.0
                )
            meaning = (
                f"sponsor country of {', '.join(actors[a].name for a in sponsored)}, but not in "
                "a registered exclusive range: weak, a host there can be compromised or mislocated"
            )
        else:
            likelihoods[hypothesis_id(persona.id, "unknown", None)] = (
                1.0 + (COUNTRY_OTHER_TILT - 1.0) * weight
            )
            meaning = (
                "consistent with compromised or borrowed infrastructure there; this is not "
                f"attribution to {country}"
            )
        categories = sorted({str(o.address.category) for o in members})
        summary = (
            f"{len(members)} exposed event(s) ({', '.join(categories)}) geolocated to {country}, "
            f"{_trust_text(trust)}; {meaning}"
        )
        out.append(
            EvidenceLine(
                id=stable_id("line", persona.id, "country-hit", country),
                kind="country-hit",
                summary=summary,
                likelihoods=_rounded(likelihoods),
                reliability=_TRUST_LETTER[trust] + "4",
                rule=RULE_COUNTRY,
                event_ids=tuple(o.event.id for o in members),
                slip_ids=tuple(
                    sorted({slip_of[o.event.id] for o in members if o.event.id in slip_of})
                ),
            )
        )
    return out


def _by_actor(
    episodes: Sequence[tuple[EvidenceLine, Episode]],
) -> dict[str, list[tuple[EvidenceLine, Episode]]]:
    """The episode lines and episodes of each actor, in their order."""
    out: dict[str, list[tuple[EvidenceLine, Episode]]] = {}
    for line, ep in episodes:
        out.setdefault(ep.actor, []).append((line, ep))
    return out


def _false_flag_line(
    persona: Persona,
    actor: str,
    specs: Sequence[HypothesisSpec],
    *,
    kind: str,
    rule: str,
    ratio: float,
    summary: str,
    reliability: str,
    event_ids: tuple[str, ...],
    slip_ids: tuple[str, ...] = (),
) -> EvidenceLine:
    """A per-actor line that weighs only the actor against its false flag: false flag
    ``1 / ratio``, every other hypothesis 1."""
    likelihoods = dict.fromkeys((s.id for s in specs), 1.0)
    likelihoods[hypothesis_id(persona.id, "false_flag", actor)] = 1.0 / ratio
    return EvidenceLine(
        id=stable_id("line", persona.id, kind, actor),
        kind=kind,
        summary=summary,
        likelihoods=_rounded(likelihoods),
        reliability=reliability,
        rule=rule,
        event_ids=event_ids,
        slip_ids=slip_ids,
    )


def _group_ids(
    group: Sequence[tuple[EvidenceLine, Episode]],
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(event ids, slip ids) of an actor's episode lines, for ``_false_flag_line``."""
    return (
        tuple(e for line, _ in group for e in line.event_ids),
        tuple(sorted({sid for line, _ in group for sid in line.slip_ids})),
    )


def slip_pattern_lines(
    persona: Persona,
    episodes: Sequence[tuple[EvidenceLine, Episode]],
    specs: Sequence[HypothesisSpec],
) -> list[EvidenceLine]:
    """One line per actor: how its episodes ended, as one actor : false-flag ratio.

    Each episode's ratio ``s`` comes from ``episode_factors`` (pattern, channel, forgeable
    origin); the line's ratio is ``S = exp(sum(ln s) / sqrt(k))`` over the actor's k episodes
    (k episodes of one habit count as sqrt(k) observations), kept within ``LINE_CAP``.
    Likelihoods: false flag ``1 / S``, every other hypothesis 1.
    """
    by_actor = _by_actor(episodes)
    out = []
    for actor in sorted(by_actor):
        group = by_actor[actor]
        ratios = [episode_factors(ep)[1] for _, ep in group]
        # k episodes of one habit are not k independent observations (a framer who imitates a
        # mistake once imitates it every time) nor one (an operator's lapses are separate
        # events): they count as sqrt(k) observations of their typical (geometric mean) ratio.
        big = math.exp(math.fsum(math.log(x) for x in ratios) / math.sqrt(len(ratios)))
        # The line cap, applied directly to the one ratio the line carries.
        big = min(LINE_CAP, max(1.0 / LINE_CAP, big))
        counts: dict[str, int] = {}
        for _, ep in group:
            counts[ep.pattern] = counts.get(ep.pattern, 0) + 1
            if ep.channel != "other":
                counts[f"{ep.channel} channel"] = counts.get(f"{ep.channel} channel", 0) + 1
            if TRUST_WEIGHT[ep.trust] < 1.0:
                forge = f"origin {ep.trust.value if ep.trust else 'unknown'}"
                counts[forge] = counts.get(forge, 0) + 1
        patterns = ", ".join(f"{name} x{n}" for name, n in sorted(counts.items()))
        strongest = max(group, key=lambda item: (item[1].weight, item[0].id))[1]
        summary = (
            f"how {len(group)} episode(s) from the range of {actor} ended: {patterns}; "
            f"actor : false flag {big:.2f} (geometric mean over the episodes: a habit, imitated "
            "or not, is one observation)"
        )
        event_ids, slip_ids = _group_ids(group)
        out.append(
            _false_flag_line(
                persona,
                actor,
                specs,
                kind="slip-pattern",
                rule=RULE_SLIP_PATTERN,
                ratio=big,
                summary=summary,
                # A framer can imitate a quick return: possibly true at best.
                reliability=_TRUST_LETTER[strongest.trust] + "3",
                event_ids=event_ids,
                slip_ids=slip_ids,
            )
        )
    return out


def elsewhere_line(
    persona: Persona,
    observations: Sequence[Observation],
    specs: Sequence[HypothesisSpec],
    actors: Mapping[str, Actor],
) -> EvidenceLine | None:
    """One line per persona with an actor hypothesis that was also exposed elsewhere.

    "Elsewhere": exposed events outside any exclusive range geolocated to a country that
    sponsors none of the hypothesised actors and is none's reported operating country at the
    event's time (``Actor.operates_in``: undated ``operating_countries`` and dated
    ``operating_periods``). Likelihoods: unknown ``1 + (ELSEWHERE_RATIO - 1) x
    trust`` (the strongest trust among those events), every other hypothesis 1. None when there
    is no actor hypothesis or no such event.
    """
    hypothesised = sorted({s.actor for s in specs if s.kind == "actor" and s.actor is not None})
    if not hypothesised:
        return None
    known = [actors[a] for a in hypothesised if a in actors]
    sponsors = {(a.country or "").upper() for a in known} | {""}

    def elsewhere(obs: Observation) -> bool:
        country = (obs.address.country or "").strip().upper()
        if country in sponsors:
            return False
        return not any(a.operates_in(country, obs.event.time) for a in known)

    members = [
        obs
        for obs in observations
        if obs.address.category in EXPOSED and not obs.address.actor and elsewhere(obs)
    ]
    if not members:
        return None
    trust = min((event_trust(o) for o in members), key=lambda t: -TRUST_WEIGHT[t])
    ratio = 1.0 + (ELSEWHERE_RATIO - 1.0) * TRUST_WEIGHT[trust]
    likelihoods = dict.fromkeys((s.id for s in specs), 1.0)
    likelihoods[hypothesis_id(persona.id, "unknown", None)] = ratio
    countries = sorted({(o.address.country or "").strip().upper() for o in members})
    networks = len({o.address.prefix or o.address.ip for o in members})
    summary = (
        f"{len(members)} exposed event(s) outside any exclusive range, in {', '.join(countries)} "
        f"({networks} network(s)), {_trust_text(trust)}: a persona that hops through hosts "
        f"around the world makes an address in an actor's range look like one more hop; "
        f"unknown : others {ratio:.2f}"
    )
    return EvidenceLine(
        id=stable_id("line", persona.id, "exposed-elsewhere"),
        kind="exposed-elsewhere",
        summary=summary,
        likelihoods=_rounded(likelihoods),
        reliability=_TRUST_LETTER[trust] + "4",
        rule=RULE_ELSEWHERE,
        event_ids=tuple(o.event.id for o in members),
    )


def access_factor(ep: Episode) -> float:
    """actor : false flag of one episode from the access a framer would need (model 2.3).

    A logged use of a range the actor holds with exclusivity e needs a host inside it:
    ``a = 1 / (FRAMER_ACCESS + (1 - FRAMER_ACCESS) (1 - e))``. A forged header needs none, so
    the factor moves toward 1 with the origin's trust weight: ``1 + (a - 1) x trust``.
    """
    a = 1.0 / (FRAMER_ACCESS + (1.0 - FRAMER_ACCESS) * (1.0 - ep.exclusivity))
    return 1.0 + (a - 1.0) * TRUST_WEIGHT[ep.trust]


def access_lines(
    persona: Persona,
    episodes: Sequence[tuple[EvidenceLine, Episode]],
    specs: Sequence[HypothesisSpec],
) -> list[EvidenceLine]:
    """One line per actor with episodes: how hard it would be for a framer to produce them.

    The factor is that of the actor's episode that needed the most access (``access_factor``):
    a framer who has a host in the range uses it for every staging, so access is one
    observation however many episodes show it. Likelihoods: false flag ``1 / factor``, every
    other hypothesis 1.
    """
    by_actor = _by_actor(episodes)
    out = []
    for actor in sorted(by_actor):
        group = [ep for _, ep in by_actor[actor]]
        strongest = max(group, key=lambda ep: (access_factor(ep), ep.observations[0].event.id))
        factor = access_factor(strongest)
        if factor <= 1.0:
            continue
        summary = (
            f"the range of {actor} was used with exclusivity {strongest.exclusivity:.2f}, "
            f"{_trust_text(strongest.trust)}: a framer would have needed a host inside it "
            f"(assumed possible for {FRAMER_ACCESS:.0%} of framers in a fully exclusive range); "
            f"actor : false flag {factor:.2f}"
        )
        out.append(
            _false_flag_line(
                persona,
                actor,
                specs,
                kind="range-access",
                rule=RULE_ACCESS,
                ratio=factor,
                summary=summary,
                reliability=_reliability(strongest.trust, strongest.exclusivity),
                event_ids=tuple(o.event.id for o in strongest.observations),
            )
        )
    return out


def _channel_name(obs: Observation) -> str:
    return obs.event.channel.lower().rsplit(":", 1)[-1]


def public_share(observations: Sequence[Observation]) -> float:
    """The share of the persona's sittings that were on a public-statement channel.

    A sitting is a (channel kind, UTC hour) with at least one event: a slip happens in a sitting,
    and a long sitting of many events is still one chance to forget the cover. 0 for no events.
    """
    sittings = {
        (_channel_name(obs) in PUBLIC_CHANNELS, int(utc(obs.event.time).timestamp() // 3600))
        for obs in observations
    }
    if not sittings:
        return 0.0
    return sum(1 for public, _ in sittings if public) / len(sittings)


def channel_plan_factor(episodes: int, all_public: bool, share: float) -> float:
    """actor : false flag from where an actor's ``episodes`` exposures fell (model 2.4).

    An operator's mistakes fall on its channels in proportion to its sittings there, so all k
    of them land on public channels with probability ``q ** k`` (``q``: ``share``). A framer
    confines its staging to public statements with probability ``STAGING_PLAN_SHARE`` (π) and
    otherwise spreads it as a mistake would: ``π + (1 - π) q ** k``. All public: the ratio is
    ``q ** k / (π + (1 - π) q ** k)`` (at most 1); not all public: ``1 / (1 - π)``.
    """
    if episodes < 1:
        return 1.0
    plan = STAGING_PLAN_SHARE
    if not all_public:
        return 1.0 / (1.0 - plan)
    chance = min(1.0, max(0.0, share)) ** episodes
    return chance / (plan + (1.0 - plan) * chance)


def exposure_channel_lines(
    persona: Persona,
    observations: Sequence[Observation],
    episodes: Sequence[tuple[EvidenceLine, Episode]],
    specs: Sequence[HypothesisSpec],
) -> list[EvidenceLine]:
    """One line per actor with episodes: did its exposures fall only on public channels?

    The ratio is ``channel_plan_factor`` over the actor's episodes (an episode is public when
    every event in it was on a public-statement channel, ``channel_kind``), raised to the trust
    weight of the strongest episode that decides it (the strongest public one when all are
    public, else the strongest other one): an exposure read off a header the sender may have
    written may itself be staging, and says where the sender chose to be seen rather than where
    it slipped. Kept within ``LINE_CAP``. Likelihoods: false flag ``1 / ratio``, every other
    hypothesis 1. No line when the ratio is 1 (a persona that only ever posts: its mistakes
    could fall nowhere else).
    """
    by_actor = _by_actor(episodes)
    share = public_share(observations)
    out = []
    for actor in sorted(by_actor):
        group = by_actor[actor]
        public = sum(1 for _, ep in group if ep.channel == "public")
        all_public = public == len(group)
        deciding = [ep for _, ep in group if (ep.channel == "public") == all_public]
        strongest = max(deciding, key=lambda ep: (TRUST_WEIGHT[ep.trust], ep.weight))
        trust = TRUST_WEIGHT[strongest.trust]
        ratio = channel_plan_factor(len(group), all_public, share) ** trust
        ratio = min(LINE_CAP, max(1.0 / LINE_CAP, ratio))
        if math.isclose(ratio, 1.0):
            continue
        if all_public:
            what = (
                f"all {len(group)} exposure episode(s) from the range of {actor} fell on public-"
                f"statement channels, where {share:.0%} of the persona's sittings were: "
                f"{share:.2f}^{len(group)} for an operator's mistakes, {STAGING_PLAN_SHARE:.0%} "
                "or more for a framer who plans to be seen"
            )
        else:
            what = (
                f"{len(group) - public} of {len(group)} exposure episode(s) from the range of "
                f"{actor} fell outside public-statement channels: not a plan to be seen only "
                f"in public (assumed for {STAGING_PLAN_SHARE:.0%} of framers)"
            )
        event_ids, slip_ids = _group_ids(group)
        out.append(
            _false_flag_line(
                persona,
                actor,
                specs,
                kind="exposure-channels",
                rule=RULE_CHANNELS,
                ratio=ratio,
                summary=f"{what}; {_trust_text(strongest.trust)}; actor : false flag {ratio:.2f}",
                # A framer can spread its staging over channels as a mistake would.
                reliability=_TRUST_LETTER[strongest.trust] + "3",
                event_ids=event_ids,
                slip_ids=slip_ids,
            )
        )
    return out
