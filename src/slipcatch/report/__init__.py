"""Reports of an assessment: ``assessment.json``, ``events.jsonl``, ``report.md``, ``report.html``,
and for sharing ``stix.json`` (STIX 2.1) and ``misp-event.json`` (MISP).

All are deterministic functions of the :class:`~slipcatch.model.Assessment`; only
``generated_at`` (taken from the assessment) differs between reruns.
"""

from __future__ import annotations

from .html import render_html
from .json_doc import assessment_document, events_lines
from .markdown import render_markdown
from .misp import render_misp
from .options import ReportOptions
from .stix import render_stix
from .writer import write_reports

__all__ = [
    "ReportOptions",
    "assessment_document",
    "events_lines",
    "render_html",
    "render_markdown",
    "render_misp",
    "render_stix",
    "write_reports",
]
