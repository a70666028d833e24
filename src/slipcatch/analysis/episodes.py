"""Episodes: one actor's events that count as one independent item.

Events from an actor's space are grouped (``group_episodes``) when they share a slip, an
uninterrupted exposure, a burst of activity or a re-used address; each group is an ``Episode``
with the strength of its strongest event (exclusivity x origin trust), how it ended (its slip
pattern) and where it was seen (its channel kind). The rules that weigh an actor's range, its
slip pattern, the access a framer would need and the exposure channels all read these episodes,
computed once per persona (``actor_episodes``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from slipcatch.model import COVER, Category, Observation, OriginTrust, Persona, Slip, utc

from .analyst import DeclaredPool
from .reading import TRUST_WEIGHT, event_trust, open_listings
from .slips import network_of, works_under_cover

__all__ = [
    "ADDRESS_WINDOW_SECONDS",
    "BACKEND_CHANNELS",
    "BURST_SECONDS",
    "DEFAULT_EXCLUSIVITY",
    "OPEN_ADDRESS_FACTOR",
    "POOL_EXCLUSIVITY",
    "POOL_WINDOW_SECONDS",
    "PROJECTED_OPEN_FACTOR",
    "PUBLIC_CHANNELS",
    "Episode",
    "actor_episodes",
    "build_episode",
    "channel_kind",
    "channel_name",
    "event_exclusivity",
    "exposure_runs",
    "group_episodes",
    "pool_effective_count",
    "pool_episodes",
    "slip_pattern",
]

#: Exclusivity assumed when the registry states none for the range.
DEFAULT_EXCLUSIVITY = 0.8
#: An address that an intel source lists as cover (a VPN exit, a proxy, hosting anyone can rent)
#: at the event's time is open to third parties whatever the exclusivity registered for its
#: range: "a leased block with known VPN abuse" (Trend Micro, 'A Closer Look at North Korea's
#: Internet', 2017, found VPN providers using space registered to North Korea). Its exclusivity
#: is multiplied by OPEN_ADDRESS_FACTOR: the listing makes most of the address's use somebody
#: else's, while leaving room for the actor running the service itself. A listing that is a
#: later snapshot projected back to the event (``Fact.projected``) may not have applied then:
#: PROJECTED_OPEN_FACTOR, halfway.
OPEN_ADDRESS_FACTOR = 0.2
PROJECTED_OPEN_FACTOR = 0.6
#: Events of one actor closer than this belong to one episode (one sitting, any channel).
BURST_SECONDS = 600.0
#: Re-use of one address within this window belongs to the same episode (one working day).
ADDRESS_WINDOW_SECONDS = 12 * 3600.0
#: Where an episode's events were seen. A framer needs its staging to be found and attributed,
#: so it plants it where investigators look: public statements. An operator's mistakes happen
#: wherever it works, including its back-end access (interactive logins), which it does not
#: expect anyone to read. Channel names (``Event.channel``) are compared in lower case; for
#: "zeek:ssh" and the like, the part after the last colon.
BACKEND_CHANNELS: frozenset[str] = frozenset({"ssh", "rdp", "login", "auth"})
PUBLIC_CHANNELS: frozenset[str] = frozenset({"posting", "post", "statement", "paste"})
#: Repetition is not independence (model 2.7). Episodes of one actor from a low-exclusivity
#: range (the strongest event's exclusivity below POOL_EXCLUSIVITY: space many others use, such
#: as an ISP's dynamic pool) form one dependent *pool* when they share a /24 (/48), or share an
#: access network (the actor range that names them, else their AS) with less than
#: POOL_WINDOW_SECONDS between one episode and the next: addresses of one DHCP pool or NAT are
#: one source, not hundreds. A pool's evidence saturates (``pool_effective_count``).
POOL_EXCLUSIVITY = 0.5
POOL_WINDOW_SECONDS = 30 * 86400.0
#: Exposure-time thresholds of the slip patterns (``slip_pattern``), in seconds.
_QUICK, _HOUR, _DAY = 600.0, 3600.0, 86400.0


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
    # Its addresses when every one was used in an earlier episode of the actor (the same host
    # again, which counts once); else empty.
    repeat: tuple[str, ...] = ()
    # The dependent pool it belongs to (``pool_episodes``), None when it stands alone.
    pool: str | None = None
    # The key of the analyst-declared pool (``analyst.DeclaredPool``) that pool holds, if any.
    declared: str | None = None

    @property
    def first(self) -> datetime:
        return utc(self.observations[0].event.time)

    @property
    def last(self) -> datetime:
        return utc(self.observations[-1].event.time)

    @property
    def event_ids(self) -> tuple[str, ...]:
        return tuple(o.event.id for o in self.observations)


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


def channel_name(obs: Observation) -> str:
    """The event's channel in lower case, after the last colon ("zeek:ssh" -> "ssh")."""
    return obs.event.channel.lower().rsplit(":", 1)[-1]


def channel_kind(observations: Sequence[Observation]) -> str:
    """The channel kind of an episode's events.

    "back-end" when any event was on a back-end channel (an interactive login), "public" when
    every event was on a public-statement channel, else "other".
    """
    names = [channel_name(obs) for obs in observations]
    if any(n in BACKEND_CHANNELS for n in names):
        return "back-end"
    if names and all(n in PUBLIC_CHANNELS for n in names):
        return "public"
    return "other"


def build_episode(
    actor: str,
    members: Sequence[Observation],
    slip_of: Mapping[str, Slip],
    persona: Persona,
    repeat: Sequence[str] = (),
) -> Episode:
    """The ``Episode`` of one group of ``actor``'s events."""
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
        repeat=tuple(repeat),
    )


def actor_episodes(
    persona: Persona,
    observations: Sequence[Observation],
    slips: Sequence[Slip],
    declared: Sequence[DeclaredPool] = (),
) -> tuple[Episode, ...]:
    """The episodes of events from actors' spaces: by actor id, each actor's in time order;
    ``declared`` are the analyst's pools that apply to the persona (``pool_episodes``)."""
    slip_of = {eid: slip for slip in slips for eid in slip.event_ids}
    run_of = exposure_runs(persona, observations)
    by_actor: dict[str, list[Observation]] = {}
    for obs in observations:
        if obs.address.category == Category.ACTOR and obs.address.actor:
            by_actor.setdefault(obs.address.actor, []).append(obs)
    out = []
    for actor in sorted(by_actor):
        # Addresses of the actor's earlier episodes: an episode whose every address was used
        # before shows the same host again, which the actor's operator and a third party holding
        # that host both do; it adds nothing against an unknown party.
        counted: set[str] = set()
        for members in group_episodes(by_actor[actor], slip_of, run_of):
            addresses = {o.address.ip for o in members}
            repeat = sorted(addresses) if addresses <= counted else []
            counted |= addresses
            out.append(build_episode(actor, members, slip_of, persona, repeat))
    return tuple(pool_episodes(out, declared))


def pool_effective_count(n: int) -> float:
    """How many independent episodes ``n`` episodes of one pool count as: ``1 + ln n``
    (1 -> 1, 10 -> 3.30, 100 -> 5.61, 1000 -> 7.91): each tenfold more adds 2.3."""
    return 1.0 + math.log(n) if n > 1 else float(max(n, 0))


def _access_network(ep: Episode) -> str | None:
    obs = ep.observations[0]
    ranges = sorted(
        (-(f.exclusivity or 0.0), f.range) for f in obs.address.facts if f.actor == ep.actor
    )
    if ranges:
        return ranges[0][1]
    return f"AS{obs.address.asn}" if obs.address.asn is not None else None


def _networks_text(networks: Sequence[str]) -> str:
    """The distinct networks of a pool in order of first use: "A", "A and B", "A, B and C",
    past four "A, B, C, D and 3 more"."""
    seen = list(dict.fromkeys(networks))
    if len(seen) > 4:
        return f"{', '.join(seen[:4])} and {len(seen) - 4} more"
    return seen[0] if len(seen) == 1 else f"{', '.join(seen[:-1])} and {seen[-1]}"


def _declared_pool(ep: Episode, declared: Sequence[DeclaredPool]) -> DeclaredPool | None:
    """The first declared pool (in the file's order) holding one of the episode's events."""
    for pool in declared:
        if any(pool.covers(o.address.ip, utc(o.event.time)) for o in ep.observations):
            return pool
    return None


def pool_episodes(
    episodes: Sequence[Episode], declared: Sequence[DeclaredPool] = ()
) -> list[Episode]:
    """``episodes`` (by actor, each actor's in time order) with ``Episode.pool`` set for those
    that belong to a dependent pool of two or more (see ``POOL_EXCLUSIVITY``).

    An analyst-declared pool (``declared``) joins an actor's episodes with an event in its
    networks during its validity, whatever their exclusivity and however far apart in time: the
    analyst knows the addresses to be one source. Such a pool's label names it."""
    of_declared = (
        {k: _declared_pool(ep, declared) for k, ep in enumerate(episodes)} if declared else {}
    )
    # Episodes that may pool: from a shared range, or in a declared pool.
    candidates = [
        k
        for k, ep in enumerate(episodes)
        if ep.exclusivity < POOL_EXCLUSIVITY or of_declared.get(k) is not None
    ]
    parent = list(range(len(episodes)))
    by_net: dict[tuple[str, str], int] = {}
    by_access: dict[tuple[str, str], tuple[datetime, int]] = {}
    by_declared: dict[tuple[str, str], int] = {}
    for k in candidates:
        ep = episodes[k]
        mine = of_declared.get(k)
        if mine is not None:
            if (ep.actor, mine.key) in by_declared:
                _union(parent, k, by_declared[(ep.actor, mine.key)])
            by_declared[(ep.actor, mine.key)] = k
        if ep.exclusivity >= POOL_EXCLUSIVITY:
            # In a declared pool only: an exclusive range's episodes join no pool of their own.
            continue
        for net in sorted({network_of(o.address.ip) for o in ep.observations}):
            if (ep.actor, net) in by_net:
                _union(parent, k, by_net[(ep.actor, net)])
            by_net[(ep.actor, net)] = k
        access = _access_network(ep)
        if access is not None:
            seen = by_access.get((ep.actor, access))
            if seen is not None and (ep.first - seen[0]).total_seconds() <= POOL_WINDOW_SECONDS:
                _union(parent, k, seen[1])
            by_access[(ep.actor, access)] = (ep.last, k)
    members: dict[int, list[int]] = {}
    for k in candidates:
        members.setdefault(_find(parent, k), []).append(k)
    out = list(episodes)
    for ks in members.values():
        if len(ks) < 2:
            continue
        first = episodes[min(ks)]
        named = next((pool for pool in (of_declared.get(k) for k in sorted(ks)) if pool), None)
        if named is not None:
            shown = ", ".join(named.networks[:3]) + (" …" if len(named.networks) > 3 else "")
            where = f"the analyst's pool '{named.key}' ({shown})"
        else:
            where = _networks_text(
                [
                    _access_network(episodes[k])
                    or network_of(episodes[k].observations[0].address.ip)
                    for k in sorted(ks)
                ]
            )
        label = f"{where} from {first.first:%Y-%m-%d %H:%M}"
        for k in ks:
            out[k] = replace(
                episodes[k], pool=label, declared=named.key if named is not None else None
            )
    return out
