"""How a ``slipcatch.Result`` shows itself in Jupyter: a verdict card and a timeline.

Plain HTML and an inline SVG, no script and nothing fetched from the network (no CDN): the
card reads the same offline, in a saved notebook, and on a page that forbids scripts. The full
interactive report is ``Result.to_html()``.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import TYPE_CHECKING

from slipcatch.model import COVER, Category

if TYPE_CHECKING:
    from slipcatch.api import Result
    from slipcatch.model import PersonaAssessment

__all__ = ["result_html"]

#: Lane colours: cover, exposed, actor range (the HTML report's palette).
COLOURS = {"cover": "#8a8f98", "exposed": "#d9822b", "actor": "#c23030"}
WIDTH, LANE_H, PAD = 640, 22, 70
MAX_PERSONAS = 3


def _lane(category: Category) -> str:
    if category in COVER:
        return "cover"
    return "actor" if category == Category.ACTOR else "exposed"


def _timeline(p: PersonaAssessment, times: dict[str, tuple[datetime, Category]]) -> str:
    points = [times[e] for e in p.persona.event_ids if e in times]
    if not points:
        return ""
    lo = min(t for t, _ in points)
    hi = max(t for t, _ in points)
    span = max((hi - lo).total_seconds(), 1.0)
    lanes = ("cover", "exposed", "actor")
    height = LANE_H * len(lanes) + 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH + PAD + 10}" '
        f'height="{height}" role="img" aria-label="timeline of {escape(p.persona.name)}">'
    ]
    for k, lane in enumerate(lanes):
        y = 12 + k * LANE_H
        parts.append(f'<text x="0" y="{y + 4}" font-size="11" fill="#444">{lane}</text>')
        parts.append(f'<line x1="{PAD}" y1="{y}" x2="{PAD + WIDTH}" y2="{y}" '
                     'stroke="#ddd"/>')
    slipped = {e for s in p.slips for e in s.event_ids}
    for eid in p.persona.event_ids:
        if eid not in times:
            continue
        t, cat = times[eid]
        lane = _lane(cat)
        x = PAD + WIDTH * (t - lo).total_seconds() / span
        y = 12 + lanes.index(lane) * LANE_H
        r = 4.5 if eid in slipped else 2.5
        parts.append(f'<circle cx="{x:.1f}" cy="{y}" r="{r}" fill="{COLOURS[lane]}" '
                     f'fill-opacity="0.75"><title>{escape(t.isoformat())} {escape(str(cat))}'
                     '</title></circle>')
    y = height - 4
    parts.append(f'<text x="{PAD}" y="{y}" font-size="10" fill="#666">'
                 f'{escape(lo.strftime("%Y-%m-%d %H:%M"))}</text>')
    parts.append(f'<text x="{PAD + WIDTH}" y="{y}" font-size="10" fill="#666" '
                 f'text-anchor="end">{escape(hi.strftime("%Y-%m-%d %H:%M"))} UTC</text>')
    parts.append("</svg>")
    return "".join(parts)


def result_html(result: Result) -> str:
    """The verdict card (every attributed persona, or the top one) and their timelines."""
    a = result.assessment
    ranked = sorted(a.personas, key=lambda p: (p.verdict.actor is None,
                                                -p.verdict.probability, p.persona.name))
    shown = [p for p in ranked if p.verdict.actor is not None or p.slips][:MAX_PERSONAS]
    times = {o.event.id: (o.event.time, o.address.category) for o in a.observations}
    rows = []
    for p in shown:
        v = p.verdict
        rows.append(
            "<tr>"
            f"<td>{escape(p.persona.name)}</td><td>{escape(v.actor or '—')}</td>"
            f"<td>{v.probability:.0%}</td><td>{escape(v.likelihood)}</td>"
            f"<td>{escape(v.confidence)}</td><td>{len(p.slips)}</td></tr>"
        )
    total = sum(f.records for f in a.evidence)
    head = (f"{len(a.evidence)} files, {total} records, {len(a.observations)} events, "
            f"{len(a.rejections)} rejected, {len(a.personas)} personas")
    out = [
        '<div class="slipcatch-result" style="font-family:sans-serif;max-width:760px">',
        f'<div style="color:#555;font-size:12px">slipcatch: {escape(head)}</div>',
    ]
    if not shown:
        out.append("<p>No persona's activity could be attributed to a known actor.</p>")
    else:
        out.append('<table style="border-collapse:collapse;font-size:13px">'
                   "<thead><tr><th>persona</th><th>actor</th><th>probability</th>"
                   "<th>likelihood</th><th>confidence</th><th>slips</th></tr></thead>"
                   f"<tbody>{''.join(rows)}</tbody></table>")
        for p in shown:
            out.append(f"<p><b>{escape(p.verdict.statement)}</b> Confidence: "
                       f"{escape(p.verdict.confidence)}.</p>")
            out.append(_timeline(p, times))
    out.append("</div>")
    return "\n".join(out)
