"""``report.html``: one self-contained page that works offline, rendered with Jinja2 under
autoescape.

Evidence text is never marked safe. The page carries exactly three ``<script>`` elements: the
figure data (``type="application/json"``, never executed, serialised by
:func:`._plots.script_json` so no string can leave it), plotly.js from the ``plotly`` package
(inlined once; no CDN) and a small bootstrap that draws the figures. The Content-Security-Policy
allows those two executable scripts by their SHA-256 hash, computed at render time, and
nothing else: no external script, style, image, font, frame or connection. With scripts blocked
the page stays complete as tables (a ``<noscript>`` note says so).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.resources
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import jinja2
import markupsafe
import plotly.offline

from slipcatch.model import Assessment, Fact, Observation, SourceInfo
from slipcatch.reasons import REASONS

from ._coverage import coverage_warnings
from ._format import clean_text, decimal, duration, iso, pct, ratio
from ._plots import (
    country_figure,
    map_figure,
    script_json,
    timeline_figure,
    world_outline_trace,
)
from ._timeline import LANES, build_timeline, country_breakdown, lane_of, slip_labels
from ._view import MAX_REJECTIONS_SHOWN, PersonaView, ReportView, build_view, likelihood_term
from .options import ReportOptions

#: Events listed one by one in a persona's provenance table (all are in events.jsonl).
MAX_PROVENANCE_ROWS = 200


class _Verbatim(str):
    """Script text already made safe for a raw-text element; emitted byte for byte (a changed
    byte would also break its CSP hash)."""

    __slots__ = ()


def _finalize(value: object) -> object:
    # Runs on every {{ expression }} before autoescape: strings lose controls, lone
    # surrogates and bidi overrides; None shows as a dash rather than "None".
    if value is None:
        return "–"
    if isinstance(value, _Verbatim):
        return markupsafe.Markup(value)
    if isinstance(value, markupsafe.Markup):
        # Already escaped by a filter (join under autoescape); removing characters from it
        # cannot create markup, and re-escaping would show "&amp;lt;".
        return markupsafe.Markup(clean_text(str(value)))
    if isinstance(value, str):
        return clean_text(value)
    return value


def _raw_text_safe(text: str, what: str) -> str:
    """Text checked to be inert inside a ``<script>`` element, with line ends normalised as
    the HTML parser would (so its hash matches what the browser hashes).

    Raises:
        ValueError: the text could end the element or enter the parser's escaped state.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    low = text.lower()
    if "</script" in low or "<!--" in low or "<script" in low:
        raise ValueError(f"{what} cannot be inlined in a <script> element")
    return text


@lru_cache(maxsize=1)
def _plotly_js() -> str:
    return _raw_text_safe(plotly.offline.get_plotlyjs(), "plotly.js")


@lru_cache(maxsize=1)
def _bootstrap_js() -> str:
    res = importlib.resources.files("slipcatch.report") / "templates" / "report.js"
    return _raw_text_safe(res.read_text(encoding="utf-8"), "report.js")


def script_hash(text: str) -> str:
    """The CSP source expression (``'sha256-…'``) allowing one inline script's text."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def csp(script_hashes: Sequence[str]) -> str:
    """The page's Content-Security-Policy: only the given inline scripts run; inline styles
    are allowed (Plotly positions its SVG with them); no external load of any kind."""
    return (
        "default-src 'none'; script-src " + " ".join(script_hashes) + "; "
        "style-src 'unsafe-inline'; img-src data:; font-src 'none'; connect-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )


@dataclass(frozen=True, slots=True)
class ProvenanceRow:
    """One cited event with where it came from and which intel said what its address was."""

    observation: Observation
    slip: str | None  # slip label ("S1")
    lane: str  # cover / exposed / actor, for the colour key
    intel: tuple[str, ...]


def _when(dt: datetime | None) -> str | None:
    """ISO 8601 with a space for the ``T``, so a narrow cell wraps between date and time."""
    text = iso(dt)
    return None if text is None else text.replace("T", " ")


def _date(dt: datetime | None) -> str:
    text = iso(dt)
    return text[:10] if text else "…"


def _intel_note(fact: Fact, sources: Mapping[str, SourceInfo]) -> str:
    src = sources.get(fact.source)
    parts = [fact.source]
    if src is not None and src.version:
        parts.append(f"v{src.version}")
    what = [str(fact.category)] if fact.category is not None else []
    if fact.label:
        what.append(fact.label)
    if fact.actor:
        what.append(f"actor {fact.actor}")
    if fact.exclusivity is not None:
        what.append(f"exclusivity {fact.exclusivity:.2f}")
    if what:
        parts.append("(" + ", ".join(what) + ")")
    lo = fact.valid_from or (src.valid_from if src else None)
    hi = fact.valid_to or (src.valid_to if src else None)
    if lo is not None or hi is not None:
        parts.append(f"valid {_date(lo)} – {_date(hi)}")
    return " ".join(parts)


def _provenance(
    pv: PersonaView, labels: Mapping[str, str], sources: Mapping[str, SourceInfo]
) -> tuple[list[ProvenanceRow], int]:
    cited = {e for s in pv.slips for e in s.event_ids}
    cited.update(e for lv in pv.lines for e in lv.line.event_ids)
    obs = [o for o in pv.observations if o.event.id in cited]
    rows = []
    for o in obs[:MAX_PROVENANCE_ROWS]:
        sid = pv.slip_of_event.get(o.event.id)
        notes = sorted({_intel_note(f, sources) for f in o.address.facts})
        rows.append(ProvenanceRow(o, labels.get(sid) if sid else None,
                                  lane_of(o.address.category), tuple(notes)))
    return rows, max(0, len(obs) - MAX_PROVENANCE_ROWS)


def is_minor(pv: PersonaView) -> bool:
    """No actor hit (no actor hypothesis) and no slip: listed in one table, not a section."""
    return not pv.attributable and not pv.slips


def _ordered(view: ReportView) -> list[PersonaView]:
    # The page leads with what was attributed (most probable first); the rest keep the shared
    # order (by name) of the other reports.
    head = _key_judgements(view)
    first = {pv.assessment.persona.id for pv in head}
    return head + [pv for pv in view.personas if pv.assessment.persona.id not in first]


def _key_judgements(view: ReportView) -> list[PersonaView]:
    attributed = [pv for pv in view.personas if pv.assessment.verdict.actor is not None]
    return sorted(
        attributed,
        key=lambda pv: (-pv.assessment.verdict.probability, pv.assessment.persona.name,
                        pv.assessment.persona.id),
    )


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("slipcatch.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        iso=iso, pct=pct, decimal=decimal, ratio=ratio, duration=duration,
        term=likelihood_term, when=_when,
    )
    return env


def _render(view: ReportView, options: ReportOptions) -> str:
    template = _environment().get_template("report.html.j2")
    sources = {s.name: s for s in view.assessment.sources}
    figures: dict[str, Any] = {}
    personas = []
    anchors: dict[str, str] = {}  # persona id -> its section's (or minor row's) anchor
    ordered = _ordered(view)
    major = [pv for pv in ordered if not is_minor(pv)]
    minor = [pv for pv in ordered if is_minor(pv)]
    for i, pv in enumerate(major, 1):
        anchors[pv.assessment.persona.id] = f"persona-{i}"
        labels = slip_labels(pv.slips)
        tl = build_timeline(pv.observations, pv.slip_of_event, pv.slips)
        countries = country_breakdown(pv.observations)
        has_map = False
        if pv.observations:
            figures[f"timeline-{i}"] = timeline_figure(tl)
            figures[f"countries-{i}"] = country_figure(countries)
            world = map_figure(pv.observations, pv.slips, labels)
            if world is not None:
                figures[f"map-{i}"] = world
                has_map = True
        rows, omitted = _provenance(pv, labels, sources)
        personas.append({
            "pv": pv, "index": i, "labels": labels, "timeline": tl, "countries": countries,
            "provenance": rows, "provenance_omitted": omitted, "has_map": has_map,
            "hyp": pv.hypothesis_labels, "lines": pv.line_labels,
            "items": {**pv.line_labels, **labels, **pv.hypothesis_labels},
        })
    for n, pv in enumerate(minor, 1):
        anchors[pv.assessment.persona.id] = f"minor-{n}"
    if any(f.get("outline") for f in figures.values()):
        figures["outline"] = {"data": [world_outline_trace()]}
    plotly_js, bootstrap_js = _plotly_js(), _bootstrap_js()
    return template.render(
        options=options,
        anchors=anchors,
        minor=[(anchors[pv.assessment.persona.id], pv, country_breakdown(pv.observations, 3))
               for pv in minor],
        view=view,
        a=view.assessment,
        personas=personas,
        key_judgements=_key_judgements(view),
        view_order=ordered,
        coverage_warnings=coverage_warnings(view.assessment),
        lanes=LANES,
        csp=csp([script_hash(plotly_js), script_hash(bootstrap_js)]),
        figures_json=_Verbatim(script_json(figures)),
        plotly_js=_Verbatim(plotly_js),
        bootstrap_js=_Verbatim(bootstrap_js),
        files=sorted(view.assessment.evidence, key=lambda f: (f.path, f.sha256)),
        max_rejections=MAX_REJECTIONS_SHOWN,
        reasons=REASONS,
    )


def render_html(assessment: Assessment, options: ReportOptions | None = None) -> str:
    """The HTML report: key judgements first, then per persona the verdict, a timeline and a
    country breakdown (Plotly), slips, cited evidence with provenance, evidence lines,
    hypotheses, ACH matrix, linchpins, the skeptic's view and e-mail hops; then the evidence
    accounting and the method appendix.

    Raises ``jinja2.TemplateError`` only if the packaged template is broken, and ``ValueError``
    if the installed plotly.js could not be inlined safely.
    """
    return _render(build_view(assessment), options or ReportOptions())
