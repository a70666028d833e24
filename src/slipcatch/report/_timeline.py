"""Data for the per-persona timeline and country breakdown of the HTML report.

Only numbers, times and plain (unescaped) strings are produced here; :mod:`._plots` turns them
into Plotly figures and escapes every string on the way. Events are plotted one by one up to
:data:`MAX_POINTS` per persona; beyond that they are binned by time bucket, lane and slip so the
page stays small whatever the number of events.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from slipcatch.model import COVER, Category, Observation, Slip

from ._format import duration, iso

#: Events plotted individually per persona; more are binned.
MAX_POINTS = 2000
#: Time buckets across a persona's span when binning.
BINS = 600
#: Countries named in the breakdown; the rest are summed as "other".
MAX_COUNTRIES = 20

#: Lanes, top to bottom: (key, label). The key doubles as the CSS class.
LANES: tuple[tuple[str, str], ...] = (
    ("cover", "cover"),
    ("exposed", "exposed"),
    ("actor", "actor range"),
)
LANE_LABEL: dict[str, str] = dict(LANES)


def lane_of(category: Category) -> str:
    """Timeline lane of an address category."""
    if category in COVER:
        return "cover"
    if category == Category.ACTOR:
        return "actor"
    return "exposed"


@dataclass(frozen=True, slots=True)
class Point:
    """One marker: a single event, or ``count`` events binned together."""

    time: datetime  # the first event's time
    lane: str
    slip: str | None  # label of the slip ("S1") the events belong to
    count: int
    hover: tuple[str, ...]  # plain text lines


@dataclass(frozen=True, slots=True)
class Episode:
    """A slip as drawn: exposed from ``first_seen`` to ``last_seen``, back under cover at
    ``closed_at`` (None when the persona never returned to cover)."""

    label: str  # "S1", numbered by first_seen as in the slips table
    slip_id: str
    lane: str
    ip: str
    first_seen: datetime
    last_seen: datetime
    closed_at: datetime | None
    closed_after: str  # "270 s (4 min 30 s)" or "not closed"


@dataclass(frozen=True, slots=True)
class Timeline:
    points: tuple[Point, ...]
    episodes: tuple[Episode, ...]
    binned: bool
    start: datetime | None
    end: datetime | None


def slip_labels(slips: Sequence[Slip]) -> dict[str, str]:
    """Slip id -> ``S1``, ``S2``, ... in the order given (the view sorts by first_seen)."""
    return {s.id: f"S{i}" for i, s in enumerate(slips, 1)}


def _event_hover(o: Observation, slip: str | None) -> tuple[str, ...]:
    e, a = o.event, o.address
    where = " · ".join(
        x for x in (
            str(a.category),
            a.country or "",
            f"AS{a.asn}" if a.asn is not None else "",
            a.as_org or "",
        ) if x
    )
    lines = [f"{iso(e.time)}", f"{e.src_ip} · {where}", f"channel {e.channel}",
             f"{e.evidence.path} {e.evidence.locator}"]
    if slip:
        lines.append(f"slip {slip}")
    return tuple(lines)


def _bin_hover(group: Sequence[Observation], slip: str | None) -> tuple[str, ...]:
    cats = Counter(str(o.address.category) for o in group)
    countries = Counter(o.address.country or "unknown" for o in group)
    top = sorted(countries.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    lines = [
        f"{len(group)} events {iso(group[0].event.time)} – {iso(group[-1].event.time)}",
        ", ".join(f"{c} {n}" for c, n in sorted(cats.items())),
        "countries: " + ", ".join(f"{c} {n}" for c, n in top),
        f"{len({o.event.src_ip for o in group})} addresses",
    ]
    if slip:
        lines.append(f"slip {slip}")
    return tuple(lines)


def build_timeline(
    observations: Sequence[Observation],
    slip_of_event: Mapping[str, str],
    slips: Sequence[Slip] = (),
    max_points: int = MAX_POINTS,
) -> Timeline:
    """Lay out one persona's events (in time order) on lanes, with its slip episodes.

    ``slip_of_event`` maps event id -> slip id; ``slips`` are the persona's slips in display
    order (their labels follow it).
    """
    labels = slip_labels(slips)
    episodes = tuple(
        Episode(
            label=labels[s.id], slip_id=s.id, lane=lane_of(s.category), ip=s.ip,
            first_seen=s.first_seen, last_seen=s.last_seen,
            closed_at=(None if s.closed_after_seconds is None
                       else s.last_seen + timedelta(seconds=s.closed_after_seconds)),
            closed_after=duration(s.closed_after_seconds),
        )
        for s in slips
    )
    if not observations:
        return Timeline((), episodes, False, None, None)
    t0, t1 = observations[0].event.time, observations[-1].event.time

    def slip_label(o: Observation) -> str | None:
        sid = slip_of_event.get(o.event.id)
        return labels.get(sid, sid) if sid is not None else None

    if len(observations) <= max_points:
        points = tuple(
            Point(o.event.time, lane_of(o.address.category), slip_label(o), 1,
                  _event_hover(o, slip_label(o)))
            for o in observations
        )
        return Timeline(points, episodes, False, t0, t1)
    span = (t1 - t0).total_seconds()
    groups: dict[tuple[int, str, str], list[Observation]] = defaultdict(list)
    for o in observations:
        offset = (o.event.time - t0).total_seconds()
        bucket = min(BINS - 1, int(BINS * offset / span)) if span > 0 else 0
        groups[(bucket, lane_of(o.address.category), slip_label(o) or "")].append(o)
    binned = []
    for (_, lane, slip), group in sorted(groups.items()):
        if len(group) == 1:
            hover = _event_hover(group[0], slip or None)
        else:
            hover = _bin_hover(group, slip or None)
        binned.append(Point(group[0].event.time, lane, slip or None, len(group), hover))
    return Timeline(tuple(binned), episodes, True, t0, t1)


@dataclass(frozen=True, slots=True)
class CountryRow:
    country: str  # ISO code, "unknown", or "other (N)"
    counts: tuple[int, ...]  # events per lane, in LANES order
    addresses: int

    @property
    def total(self) -> int:
        return sum(self.counts)


def country_breakdown(
    observations: Sequence[Observation], limit: int = MAX_COUNTRIES
) -> tuple[CountryRow, ...]:
    """Events per source country and lane, most events first (ties by code); countries past
    ``limit`` are summed into one ``other (N countries)`` row at the end."""
    lane_index = {key: i for i, (key, _) in enumerate(LANES)}
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(LANES))
    addresses: dict[str, set[str]] = defaultdict(set)
    for o in observations:
        c = o.address.country or "unknown"
        counts[c][lane_index[lane_of(o.address.category)]] += 1
        addresses[c].add(o.event.src_ip)
    rows = sorted(
        (CountryRow(c, tuple(n), len(addresses[c])) for c, n in counts.items()),
        key=lambda r: (-r.total, r.country),
    )
    if len(rows) <= limit:
        return tuple(rows)
    head, tail = rows[: limit - 1], rows[limit - 1 :]
    other = CountryRow(
        f"other ({len(tail)} countries)",
        tuple(sum(r.counts[i] for r in tail) for i in range(len(LANES))),
        len(set().union(*(addresses[r.country] for r in tail))),
    )
    return (*head, other)
