"""Data for the per-persona timeline drawn as inline SVG in the HTML report.

Only numbers and plain strings are produced here; the template writes the SVG and Jinja escapes
every string. Events are binned by pixel column, lane and slip membership, so the SVG stays
small whatever the number of events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from slipcatch.model import COVER, Category, Observation

from ._format import iso

WIDTH = 760
LEFT = 110  # room for lane labels
RIGHT = 12
LANE_HEIGHT = 22
TOP = 8

#: Lanes, top to bottom: (css class, label).
LANES: tuple[tuple[str, str], ...] = (
    ("cover", "cover"),
    ("exposed", "exposed"),
    ("actor", "actor range"),
)


def lane_of(category: Category) -> str:
    """Timeline lane of an address category."""
    if category in COVER:
        return "cover"
    if category == Category.ACTOR:
        return "actor"
    return "exposed"


@dataclass(frozen=True, slots=True)
class Mark:
    x: float
    y: float
    r: float
    lane: str
    slip: bool
    count: int
    title: str


@dataclass(frozen=True, slots=True)
class Timeline:
    width: int
    height: int
    left: int
    right: int
    axis_y: float
    start: str
    end: str
    lanes: tuple[tuple[str, str, float], ...]  # (class, label, y)
    marks: tuple[Mark, ...]


def build_timeline(
    observations: Sequence[Observation], slip_of_event: Mapping[str, str]
) -> Timeline:
    """Lay out one persona's events (in time order) on a time axis, one lane per class."""
    lanes = tuple(
        (cls, label, TOP + LANE_HEIGHT * i + LANE_HEIGHT / 2)
        for i, (cls, label) in enumerate(LANES)
    )
    lane_y = {cls: y for cls, _, y in lanes}
    axis_y = TOP + LANE_HEIGHT * len(LANES) + 4
    height = int(axis_y + 20)
    if not observations:
        return Timeline(WIDTH, height, LEFT, WIDTH - RIGHT, axis_y, "", "", lanes, ())
    t0 = observations[0].event.time
    t1 = observations[-1].event.time
    span = (t1 - t0).total_seconds()
    plot = WIDTH - LEFT - RIGHT
    groups: dict[tuple[int, str, bool], list[Observation]] = defaultdict(list)
    for o in observations:
        offset = (o.event.time - t0).total_seconds()
        x = LEFT + (round(plot * offset / span) if span > 0 else plot // 2)
        groups[(x, lane_of(o.address.category), o.event.id in slip_of_event)].append(o)
    marks = []
    for (x, lane, slip), group in sorted(groups.items()):
        first = group[0]
        if len(group) == 1:
            e, a = first.event, first.address
            title = (
                f"{iso(e.time)} {e.src_ip} {a.category}"
                + (f" {a.country}" if a.country else "")
                + (f" AS{a.asn}" if a.asn is not None else "")
                + f" · {e.channel}"
                + (f" · slip {slip_of_event[e.id]}" if slip else "")
            )
        else:
            cats = sorted({str(o.address.category) for o in group})
            title = (
                f"{len(group)} events {iso(first.event.time)} – {iso(group[-1].event.time)}: "
                + ", ".join(cats)
                + (" · slip" if slip else "")
            )
        r = 6.0 if slip else 4.0
        if len(group) > 1:
            r += 1.0
        marks.append(Mark(float(x), lane_y[lane], r, lane, slip, len(group), title))
    return Timeline(
        WIDTH, height, LEFT, WIDTH - RIGHT, axis_y, iso(t0) or "", iso(t1) or "", lanes,
        tuple(marks),
    )
