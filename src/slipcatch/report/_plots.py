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

A choropleth map is not used: Plotly's geo traces fetch their topojson from cdn.plot.ly and the
``plotly`` package does not ship it, so the country breakdown is a bar chart.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from ._format import clean_text
from ._timeline import LANE_LABEL, LANES, CountryRow, Episode, Point, Timeline

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
