"""Plotly figures of the HTML report, as plain JSON-ready dicts, and their safe serialisation.

The figures are drawn in the browser by the plotly.js bundled with the ``plotly`` package,
inlined once in the page (no CDN). Two things keep hostile evidence text inert:

* Plotly renders hover text and tick labels as a small HTML subset, so every string taken from
  evidence or intel is passed through :func:`hover_text` (``clean_text``, then ``html.escape``
  of ``<``, ``>``, ``&``; Plotly decodes the entities back to plain characters and inserts them
  as text nodes).
* The figure JSON sits inside a ``<script type="application/json">`` element; :func:`script_json`
  escapes ``<``, ``>``, ``&`` (and, being ASCII-only, U+2028/U+2029) so no string can close the
  element or open a comment.

Plotly's own geo base layers fetch their topojson from cdn.plot.ly (the ``plotly`` package does
not ship it), so the map (:func:`map_figure`) turns every base layer off and draws the bundled
Natural Earth outline (:mod:`._geo`) as ``scattergeo`` lines instead; nothing is fetched.
"""

from __future__ import annotations

import html
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from slipcatch.model import Observation, Slip

from . import _geo
from ._format import clean_text
from ._timeline import LANE_LABEL, LANES, CountryRow, Episode, Point, Timeline, lane_of

#: Lane colours; the page's CSS legend uses the same values.
COLOURS: dict[str, str] = {"cover": "#2f6fb0", "exposed": "#d98a00", "actor": "#c0262d"}
SLIP_OUTLINE = "#111111"
FONT = {"family": 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif',
        "size": 12, "color": "#1d232a"}

#: Plotly config for every figure: no logo, no cloud links, a PNG export that works offline.
CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "showLink": False,
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
}


def hover_text(lines: Iterable[str]) -> str:
    """Plain text lines as Plotly hover text: cleaned, HTML-escaped, joined by ``<br>``."""
    return "<br>".join(html.escape(clean_text(line), quote=False) for line in lines)


def plotly_time(t: datetime) -> str:
    """A UTC time in the form plotly.js parses without a time zone (the axis says UTC)."""
    return t.strftime("%Y-%m-%d %H:%M:%S") + (f".{t.microsecond:06d}" if t.microsecond else "")


def script_json(obj: object) -> str:
    """JSON safe inside an HTML ``<script>`` element (raw text, no entity decoding).

    Raises:
        ValueError: ``obj`` holds NaN or infinity (not JSON).
        TypeError: ``obj`` holds something JSON cannot encode.
    """
    text = json.dumps(obj, sort_keys=True, ensure_ascii=True, allow_nan=False,
                      separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _marker_size(count: int, slip: bool) -> float:
    base = 13.0 if slip else 8.0
    # Binned markers grow with the log of their count so one busy hour does not hide the rest.
    return round(base + 3.0 * math.log2(count), 2) if count > 1 else base


def _lane_trace(key: str, points: Sequence[Point]) -> dict[str, Any]:
    return {
        "type": "scatter",
        "mode": "markers",
        "name": LANE_LABEL[key],
        "legendgroup": key,
        "x": [plotly_time(p.time) for p in points],
        "y": [LANE_LABEL[key]] * len(points),
        "hovertext": [hover_text(p.hover) for p in points],
        "hoverinfo": "text",
        "marker": {
            "color": COLOURS[key],
            "size": [_marker_size(p.count, False) for p in points],
            "opacity": 0.8,
            "line": {"width": 0.5, "color": "#ffffff"},
        },
    }


def _slip_trace(points: Sequence[Point]) -> dict[str, Any]:
    return {
        "type": "scatter",
        "mode": "markers",
        "name": "slip event",
        "legendgroup": "slip",
        "x": [plotly_time(p.time) for p in points],
        "y": [LANE_LABEL[p.lane] for p in points],
        "hovertext": [hover_text(p.hover) for p in points],
        "hoverinfo": "text",
        "marker": {
            "symbol": "diamond",
            "color": [COLOURS[p.lane] for p in points],
            "size": [_marker_size(p.count, True) for p in points],
            "line": {"width": 1.5, "color": SLIP_OUTLINE},
        },
    }


def _close_traces(episodes: Sequence[Episode]) -> list[dict[str, Any]]:
    closed = [e for e in episodes if e.closed_at is not None]
    if not closed:
        return []
    xs: list[str | None] = []
    ys: list[str | None] = []
    texts: list[str | None] = []
    for e in closed:
        assert e.closed_at is not None
        tip = hover_text((f"{e.label} {e.slip_id}", f"exposed from {e.ip}",
                          f"back under cover after {e.closed_after}"))
        xs += [plotly_time(e.last_seen), plotly_time(e.closed_at), None]
        ys += [LANE_LABEL[e.lane], LANE_LABEL[e.lane], None]
        texts += [tip, tip, None]
    return [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "time to close",
            "legendgroup": "close",
            "x": xs,
            "y": ys,
            "hovertext": texts,
            "hoverinfo": "text",
            "line": {"color": SLIP_OUTLINE, "width": 2, "dash": "dot"},
            "marker": {"symbol": "line-ns-open", "size": 12, "color": SLIP_OUTLINE},
        }
    ]


def timeline_figure(tl: Timeline) -> dict[str, Any]:
    """The timeline of one persona: a lane per category class, slip events as outlined
    diamonds, each slip episode shaded with its time to close drawn as a dotted segment."""
    data: list[dict[str, Any]] = []
    for key, _ in LANES:
        pts = [p for p in tl.points if p.lane == key and p.slip is None]
        if pts:
            data.append(_lane_trace(key, pts))
    slip_points = [p for p in tl.points if p.slip is not None]
    if slip_points:
        data.append(_slip_trace(slip_points))
    data += _close_traces(tl.episodes)
    shapes = []
    annotations = []
    for e in tl.episodes:
        end = e.closed_at or e.last_seen
        shapes.append({
            "type": "rect", "xref": "x", "yref": "paper", "layer": "below",
            "x0": plotly_time(e.first_seen), "x1": plotly_time(end), "y0": 0, "y1": 1,
            "fillcolor": "rgba(192, 38, 45, 0.12)",
            "line": {"color": "rgba(192, 38, 45, 0.45)", "width": 1},
        })
        annotations.append({
            "x": plotly_time(e.first_seen), "xref": "x", "y": 1, "yref": "paper",
            "yanchor": "bottom", "showarrow": False, "text": e.label,
            "font": {"size": 11, "color": COLOURS["actor"]},
            "hovertext": hover_text((f"{e.label} {e.slip_id}", f"from {e.ip}",
                                     f"back under cover after {e.closed_after}")),
        })
    return {
        "data": data,
        "layout": {
            "height": 250,
            "margin": {"l": 84, "r": 16, "t": 30, "b": 44},
            "font": FONT,
            "paper_bgcolor": "#ffffff",
            "plot_bgcolor": "#ffffff",
            "hovermode": "closest",
            "hoverlabel": {"align": "left"},
            "dragmode": "zoom",
            # The page's HTML legend names the colours once for both charts (and for print).
            "showlegend": False,
            "xaxis": {"type": "date", "title": {"text": "time (UTC)"}, "showgrid": True,
                      "gridcolor": "#e6eaee", "zeroline": False, "linecolor": "#5b6670"},
            "yaxis": {"type": "category", "categoryorder": "array",
                      "categoryarray": [label for _, label in reversed(LANES)],
                      "range": [-0.6, len(LANES) - 0.4], "fixedrange": True,
                      "showgrid": True, "gridcolor": "#e6eaee"},
            "shapes": shapes,
            "annotations": annotations,
        },
        "config": CONFIG,
    }


def country_figure(rows: Sequence[CountryRow]) -> dict[str, Any]:
    """Events per source country as horizontal bars stacked by lane, most events on top."""
    # Tick labels are rendered like hover text (an HTML subset), so they are escaped the same way.
    names = [hover_text((r.country,)) for r in rows]
    data = []
    for i, (key, label) in enumerate(LANES):
        if not any(r.counts[i] for r in rows):
            continue
        data.append({
            "type": "bar",
            "orientation": "h",
            "name": label,
            "x": [r.counts[i] for r in rows],
            "y": names,
            "marker": {"color": COLOURS[key]},
            "hovertext": [
                hover_text((f"{r.country} · {label}: {r.counts[i]} events",
                            f"{r.total} events from {r.addresses} addresses in all"))
                for r in rows
            ],
            "hoverinfo": "text",
        })
    return {
        "data": data,
        "layout": {
            "barmode": "stack",
            "height": 90 + 24 * max(1, len(rows)),
            "margin": {"l": 130, "r": 16, "t": 8, "b": 44},
            "font": FONT,
            "paper_bgcolor": "#ffffff",
            "plot_bgcolor": "#ffffff",
            "showlegend": False,
            "xaxis": {"title": {"text": "events"}, "gridcolor": "#e6eaee", "rangemode": "tozero"},
            "yaxis": {"type": "category", "autorange": "reversed", "fixedrange": True},
        },
        # A stacked bar has nothing to zoom into; the mode bar would cover the top bar.
        "config": {**CONFIG, "displayModeBar": False},
    }


#: Fill of the world outline and of the countries a persona's events came from.
MAP_LAND = "rgba(140, 150, 160, 0.18)"
MAP_BORDER = "rgba(110, 120, 130, 0.6)"
MAP_FILL: dict[str, str] = {
    "cover": "rgba(47, 111, 176, 0.28)",
    "exposed": "rgba(217, 138, 0, 0.55)",
    "actor": "rgba(192, 38, 45, 0.6)",
}


def world_outline_trace() -> dict[str, Any]:
    """Every country's outline as one filled ``scattergeo`` trace (drawn once per page and
    shared by every map; the bootstrap script puts it under each map's own traces)."""
    lon, lat = _geo.outline()
    return {
        "type": "scattergeo", "mode": "lines", "lon": lon, "lat": lat, "fill": "toself",
        "fillcolor": MAP_LAND, "line": {"color": MAP_BORDER, "width": 0.5},
        "hoverinfo": "skip", "showlegend": False, "name": "world",
    }


def map_figure(
    observations: Sequence[Observation], slips: Sequence[Slip], labels: Mapping[str, str]
) -> dict[str, Any] | None:
    """Where a persona's events came from: countries of cover events (blue) apart from those
    of exposed ones (orange; actor ranges red), and each slip as a diamond at its country.

    None when no event's country is on the outline. The outline itself is not in the figure
    (``"outline": true`` asks the bootstrap to add the shared trace).
    """
    counts: dict[str, Counter[str]] = {}
    for o in observations:
        code = o.address.country
        if code and code in _geo.by_code():
            counts.setdefault(lane_of(o.address.category), Counter())[code] += 1
    if not counts:
        return None
    data: list[dict[str, Any]] = []
    for key, label in LANES:
        if key not in counts:
            continue
        codes = sorted(counts[key])
        lon, lat = _geo.outline(codes)
        data.append({
            "type": "scattergeo", "mode": "lines", "lon": lon, "lat": lat, "fill": "toself",
            "fillcolor": MAP_FILL[key], "line": {"color": COLOURS[key], "width": 0.8},
            "hoverinfo": "skip", "legendgroup": key, "showlegend": False, "name": label,
        })
        centres = [_geo.by_code()[c].centre for c in codes]
        data.append({
            "type": "scattergeo", "mode": "markers", "name": f"{label} countries",
            "legendgroup": key,
            "lon": [c[0] for c in centres], "lat": [c[1] for c in centres],
            "marker": {"color": COLOURS[key], "size": 7 if key == "cover" else 9,
                       "symbol": "circle-open" if key == "cover" else "circle",
                       "line": {"width": 2 if key == "cover" else 0}},
            "hovertext": [
                hover_text([f"{_geo.by_code()[c].name} ({c})",
                            f"{counts[key][c]} {label} events"]) for c in codes
            ],
            "hoverinfo": "text",
        })
    placed = [s for s in slips if s.country and s.country in _geo.by_code()]
    if placed:
        # Slips in one country sit on a small ring around its centre, so each label shows.
        spots: list[tuple[float, float]] = []
        per_country = Counter(s.country for s in placed)
        seen: Counter[str] = Counter()
        for s in placed:
            code = s.country or ""
            x, y = _geo.by_code()[code].centre
            n, k = per_country[code], seen[code]
            seen[code] += 1
            if n > 1:
                angle = 2 * math.pi * k / n
                x, y = x + 2.5 * math.cos(angle), y + 2.5 * math.sin(angle)
            spots.append((round(x, 2), round(y, 2)))
        data.append({
            "type": "scattergeo", "mode": "markers+text", "name": "slip",
            "lon": [x for x, _ in spots],
            "lat": [y for _, y in spots],
            "text": [labels.get(s.id, "") for s in placed], "textposition": "top right",
            "textfont": {"size": 10},
            "marker": {"symbol": "diamond", "size": 12, "color": "rgba(255,255,255,0.85)",
                       "line": {"color": SLIP_OUTLINE, "width": 2}},
            "hovertext": [
                hover_text([f"{labels.get(s.id, '')} {s.ip} ({s.category})",
                            f"{s.country}, {s.events} events"]) for s in placed
            ],
            "hoverinfo": "text",
        })
    off = {f"show{layer}": False for layer in
           ("land", "coastlines", "countries", "ocean", "lakes", "rivers", "subunits", "frame")}
    return {
        "data": data,
        "outline": True,
        "layout": {
            "height": 330,
            "margin": {"l": 0, "r": 0, "t": 4, "b": 4},
            "font": FONT,
            "paper_bgcolor": "#ffffff",
            "plot_bgcolor": "#ffffff",
            "showlegend": True,
            "legend": {"orientation": "h", "y": -0.02, "x": 0},
            "geo": {
                **off,
                "projection": {"type": "natural earth"},
                "lataxis": {"range": [-58, 84]},
                "bgcolor": "rgba(0,0,0,0)",
            },
        },
        "config": CONFIG,
    }
