"""``report.html``: one self-contained page (no external loads, no script), rendered with
Jinja2 under autoescape. Evidence text is never marked safe; the Content-Security-Policy meta
tag forbids every external load should a string ever slip through.
"""

from __future__ import annotations

from functools import lru_cache

import jinja2
import markupsafe

from slipcatch.model import Assessment

from ._format import clean_text, decimal, duration, iso, pct, ratio
from ._timeline import build_timeline
from ._view import MAX_REJECTIONS_SHOWN, ReportView, build_view, likelihood_term

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)


def _finalize(value: object) -> object:
    # Runs on every {{ expression }} before autoescape: strings lose controls, lone
    # surrogates and bidi overrides; None shows as a dash rather than "None".
    if value is None:
        return "–"
    if isinstance(value, markupsafe.Markup):
        # Already escaped by a filter (join under autoescape); removing characters from it
        # cannot create markup, and re-escaping would show "&amp;lt;".
        return markupsafe.Markup(clean_text(str(value)))
    if isinstance(value, str):
        return clean_text(value)
    return value


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
        term=likelihood_term,
    )
    return env


def _render(view: ReportView) -> str:
    template = _environment().get_template("report.html.j2")
    timelines = {
        pv.assessment.persona.id: build_timeline(pv.observations, pv.slip_of_event)
        for pv in view.personas
    }
    return template.render(
        view=view,
        a=view.assessment,
        timelines=timelines,
        csp=CSP,
        files=sorted(view.assessment.evidence, key=lambda f: (f.path, f.sha256)),
        max_rejections=MAX_REJECTIONS_SHOWN,
    )


def render_html(assessment: Assessment) -> str:
    """The HTML report: verdict banners, per-persona timeline (inline SVG), slips, evidence
    lines, hypotheses, ACH matrix, e-mail hops, alternatives, accounting and method.

    Raises ``jinja2.TemplateError`` only if the packaged template is broken.
    """
    return _render(build_view(assessment))
