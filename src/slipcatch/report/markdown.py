"""``report.md``: the assessment for tickets and chat, verdicts first.

Every piece of text that came from evidence or intel goes through :func:`._format.md`, so a
persona called ``<script>`` or ``a | b`` renders as text and never breaks a table. No code spans
are used for data: their content cannot be escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from slipcatch.model import Assessment

from ._coverage import coverage_warnings
from ._format import decimal, duration, iso, md, pct, ratio
from ._timeline import slip_labels
from ._view import MAX_REJECTIONS_SHOWN, PersonaView, ReportView, build_view, likelihood_term
from .options import ReportOptions


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A GFM table; cells must already be escaped (header cells are ours)."""
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    for row in rows:
        out.append("| " + " | ".join(cell if cell else " " for cell in row) + " |")
    return out


def _opt(value: object) -> str:
    return "–" if value is None or value == "" else md(value)


def _actor_label(view: ReportView, actor_id: str | None) -> str:
    if actor_id is None:
        return "no known actor"
    name = view.actor_name(actor_id)
    return md(actor_id) if name is None else f"{md(name)} ({md(actor_id)})"


def _hypothesis_names(pv: PersonaView) -> dict[str, str]:
    """Short readable names, most probable first: ``H1 actor dprk-rgb``, ``H2 unknown``."""
    names = {}
    for n, h in enumerate(pv.hypotheses, 1):
        kind = h.kind.replace("_", " ")
        names[h.id] = f"H{n} {md(kind)}" + (f" {md(h.actor)}" if h.actor else "")
    return names


def _item_label(pv: PersonaView, item: str) -> str:
    """``L3`` for an evidence line, ``S2`` for a slip, ``H1`` for a hypothesis, with the id."""
    label = (
        pv.line_labels.get(item) or slip_labels(pv.slips).get(item)
        or pv.hypothesis_labels.get(item)
    )
    return f"{label} ({md(item)})" if label else md(item)


def _labels(pv: PersonaView, items: Sequence[str]) -> str:
    labels = {**pv.line_labels, **slip_labels(pv.slips)}
    return ", ".join(labels.get(x) or md(x) for x in items) or "–"


def _ach_cell(mark: str, likelihood: float | None) -> str:
    sign = {"+": "+ ", "-": "− "}.get(mark, "")
    return sign + decimal(likelihood)


#: What the verdict tables say for a persona no actor was in question for.
NOT_ASSESSABLE = "not assessable (no actor range hit)"


def _verdict_summary(view: ReportView) -> list[str]:
    rows = []
    for pv in view.personas:
        v = pv.assessment.verdict
        rows.append(
            (
                md(pv.assessment.persona.name),
                _actor_label(view, v.actor),
                md(v.likelihood) if pv.attributable else NOT_ASSESSABLE,
                pct(v.probability) if pv.attributable else "–",
                md(v.confidence),
                str(len(pv.slips)),
            )
        )
    return _table(
        ("Persona", "Attributed to", "Likelihood", "Probability", "Confidence", "Slips"), rows
    )


def _persona_section(view: ReportView, pv: PersonaView) -> list[str]:
    pa = pv.assessment
    p, v = pa.persona, pa.verdict
    out = [f"## Persona: {md(p.name)}", ""]
    out.append(
        f"Id {md(p.id)} · {len(set(p.event_ids))} events · channels: "
        f"{', '.join(md(c) for c in sorted(p.channels)) or '–'} · cover ratio {pct(p.cover_ratio)}"
    )
    if p.identities:
        out.append("")
        out.append("Identities: " + ", ".join(md(i) for i in sorted(p.identities)))
    out += ["", "### Verdict", ""]
    out.append(f"> {md(v.statement)}")
    out.append("")
    out.append(f"- Attributed to: {_actor_label(view, v.actor)}")
    out.append(f"- Likelihood (ICD 203): **{md(v.likelihood)}** ({pct(v.probability)})")
    out.append(f"- Analytic confidence: **{md(v.confidence)}**")
    for reason in v.confidence_reasons:
        out.append(f"  - {md(reason)}")

    out += ["", "### Slips", ""]
    if pv.slips:
        slabels = slip_labels(pv.slips)
        out += [
            "Closed after: seconds from the slip's last exposed event to the persona's next "
            "event under cover (how fast the operator went back behind cover); the exposure "
            "an evidence line states runs from the slip's first exposed event to that point.",
            "",
        ]
        out += _table(
            ("#", "Slip", "IP", "Prefix", "ASN", "Country", "Category", "Attributed to",
             "First seen", "Last seen", "Events", "Closed after", "Channels", "Origin trust"),
            (
                (
                    slabels[s.id], md(s.id), md(s.ip), _opt(s.prefix), _opt(s.asn), _opt(s.country),
                    md(s.category), _opt(s.attributed_to), iso(s.first_seen) or "",
                    iso(s.last_seen) or "", str(s.events), duration(s.closed_after_seconds),
                    ", ".join(md(c) for c in sorted(s.channels)) or "–", _opt(s.origin_trust),
                )
                for s in pv.slips
            ),
        )
    else:
        out.append("No slips: no exposed event amid cover.")

    lead = pv.lead
    names = _hypothesis_names(pv)
    out += ["", "### Evidence lines", ""]
    if pv.lines:
        if lead is not None:
            out.append(
                f"LR = P(line | {names[lead.id]}) / P(line | other), {names[lead.id]} being the "
                "most probable hypothesis: against its strongest rival, and against an unknown "
                "party. Diagnosticity: the largest ratio between any two hypotheses' "
                "likelihoods of the line (1 = tells none apart)."
            )
            out.append("")
        out += _table(
            ("Line", "Id", "Kind", "Summary", "Reliability", "Rule", "LR vs rival", "Rival",
             "LR vs unknown", "Diagnosticity", "Slips", "Events"),
            (
                (
                    lv.label, md(lv.line.id), md(lv.line.kind), md(lv.line.summary),
                    md(lv.line.reliability), md(lv.line.rule), ratio(lv.ratio.value),
                    names.get(lv.ratio.against or "", "–"), ratio(lv.unknown.value),
                    decimal(lv.line.diagnosticity), _labels(pv, lv.line.slip_ids),
                    str(len(lv.line.event_ids)),
                )
                for lv in pv.lines
            ),
        )
    else:
        out.append("No evidence lines.")

    out += ["", "### Hypotheses", ""]
    out += _table(
        ("Hypothesis", "Id", "Kind", "Actor", "Statement", "Prior", "Probability",
         "Likelihood", "Supporting", "Contradicting"),
        (
            (
                names[h.id], md(h.id), md(h.kind), _opt(h.actor), md(h.statement),
                decimal(h.prior),
                pct(h.probability), md(likelihood_term(h.probability)),
                _labels(pv, h.supporting),
                _labels(pv, h.contradicting),
            )
            for h in pv.hypotheses
        ),
    )

    out += ["", "### ACH matrix", ""]
    if pv.lines and pv.hypotheses:
        out.append(
            "Cells: + supports, − contradicts (the analysis' judgement), then "
            "P(line | hypothesis); compare across a row."
        )
        out.append("")
        out += _table(
            ("Evidence", *(names[h.id] for h in pv.hypotheses), "Diagnosticity"),
            (
                (
                    lv.label,
                    *(_ach_cell(c.mark, c.likelihood) for c in lv.cells),
                    decimal(lv.line.diagnosticity),
                )
                for lv in pv.lines
            ),
        )
    else:
        out.append("No matrix: no evidence lines or no hypotheses.")

    if pa.priors:
        out += ["", f"Priors: {md(pa.priors)}"]

    out += ["", "### Linchpins", ""]
    if pv.linchpins:
        out += [
            "Items whose removal would change the verdict: its actor, its likelihood word or its "
            "confidence. Only a removal that changes the actor or moves the likelihood by two "
            "ICD 203 bands or more withholds high confidence; the confidence reasons above count "
            "those.",
            "",
        ]
        out += [f"- {_item_label(pv, i)}: {md(what)}" for i, what in pv.linchpins]
    else:
        out.append("None stated.")

    out += ["", "### Alternatives (the skeptic's view)", ""]
    if pa.alternatives:
        out += _table(
            ("Item", "Other explanation", "What would tell them apart"),
            (
                (_item_label(pv, a.item), md(a.explanation), md(a.discriminator))
                for a in pa.alternatives
            ),
        )
    else:
        out.append("None stated.")

    if pa.counterfactuals:
        out += ["", "### What would change our mind", ""]
        out += _table(
            ("Hypothetical evidence", "Probability after", "Likelihood after", "Shift",
             "Confidence after"),
            (
                (
                    md(c.description), pct(c.probability), md(c.likelihood),
                    f"{c.shift * 100:+.1f} pts", md(c.confidence),
                )
                for c in pa.counterfactuals
            ),
        )

    if pv.emails:
        out += ["", "### E-mail origins", ""]
        for o in pv.emails:
            e = o.event
            out.append(
                f"- {md(e.id)} at {iso(e.time)} from {md(e.src_ip)} ({md(o.address.category)}), "
                f"origin trust {_opt(e.origin_trust)}, entry {_opt(e.entry_ip)}, "
                f"{md(e.evidence.path)} {md(e.evidence.locator)}"
            )
            if o.claimed is not None and o.is_cover:
                out.append(
                    f"  - claimed client {md(o.claimed.ip)} ({md(o.claimed.category)}), named "
                    "only in headers the sender wrote: the analysis reads this e-mail there, "
                    "with sender-written trust"
                )
            for h in sorted(e.hops, key=lambda h: h.index):
                out.append(
                    f"  - hop {h.index}: from {_opt(h.from_host)} ({_opt(h.from_ip)}) by "
                    f"{_opt(h.by_host)} via {_opt(h.protocol)} at {iso(h.time) or '–'}, "
                    f"written by {_opt(h.trust)}"
                    + (f", flags: {', '.join(md(f) for f in h.flags)}" if h.flags else "")
                )
        if pv.emails_omitted:
            out.append(f"- … {pv.emails_omitted} more e-mail events in events.jsonl")
    return out


def _remainder(view: ReportView) -> list[str]:
    """The personas not assessed one by one (large logs): what their events were, as tables
    rather than a section per persona. Empty when every persona was assessed."""
    r = view.assessment.remainder
    if r is None:
        return []
    out = ["## Unassessed remainder", ""]
    out.append(
        f"{r.events} events of {r.personas} personas with nothing to weigh (no address in an "
        "actor's range, no exposed event amid cover) were not assessed one by one; every one "
        "of them is in events.jsonl and events.parquet."
    )
    out += ["", "### By category", ""]
    out += _table(("Category", "Events"), ((_opt(c), str(n)) for c, n in r.by_category))
    out += ["", "### By country", ""]
    out += _table(("Country", "Events"), ((_opt(c), str(n)) for c, n in r.by_country))
    out += ["", "### Top addresses", ""]
    out += _table(
        ("Address", "Category", "Events"),
        ((_opt(ip), _opt(c), str(n)) for ip, c, n in r.top_addresses),
    )
    return out


def _accounting(view: ReportView) -> list[str]:
    a = view.assessment
    files = sorted(a.evidence, key=lambda f: (f.path, f.sha256))
    out = ["## Evidence accounting", ""]
    out += _table(
        ("File", "SHA-256", "Format", "Records", "Events", "Rejected", "Duplicates"),
        (
            (md(f.path), md(f.sha256), md(f.format), str(f.records), str(f.events),
             str(f.rejected), str(f.duplicates))
            for f in files
        ),
    )
    out.append("")
    out.append(
        f"Totals: records {sum(f.records for f in files)}, events analysed "
        f"{view.total_events}, rejected {view.rejected_total}, duplicates "
        f"{sum(f.duplicates for f in files)}."
    )
    if view.categories:
        out.append("")
        out.append(
            "Events by category: " + ", ".join(f"{md(c)} {n}" for c, n in view.categories)
        )
    out += ["", "### Rejections", ""]
    if view.rejections:
        out += _table(("Reason", "Count"), ((md(r), str(n)) for r, n in view.rejections_by_reason))
        out.append("")
        shown = view.rejections[:MAX_REJECTIONS_SHOWN]
        out += _table(
            ("File", "Locator", "Reason", "Detail"),
            ((md(r.path), md(r.locator), md(r.reason), _opt(r.detail)) for r in shown),
        )
        if view.rejected_total > len(shown):
            where = "rejections.jsonl" if view.rejections_sampled else "assessment.json"
            out.append("")
            out.append(f"… {view.rejected_total - len(shown)} more in {where}")
    else:
        out.append("None.")
    if view.assessment.warnings:
        out += ["", "### Warnings", ""]
        out += [f"- {md(w)}" for w in view.assessment.warnings]
    return out


def _method(view: ReportView) -> list[str]:
    a = view.assessment
    out = ["## Method", ""]
    out.append(f"- Model version: {_opt(a.model_version)}")
    out.append(f"- Intel pack: {md(a.pack_id)}")
    out.append(
        "- Likelihood words follow ICD 203 (almost no chance &lt; 5% ≤ very unlikely &lt; 20% ≤ "
        "unlikely &lt; 45% ≤ roughly even chance &lt; 55% ≤ likely &lt; 80% ≤ very likely "
        "&lt; 95% ≤ almost certain); analytic confidence is stated separately."
    )
    out += ["", "### Intel sources", ""]
    out += _table(
        ("Source", "Kind", "Version", "Records", "Valid from", "Valid to", "Licence"),
        (
            (md(s.name), md(s.kind), _opt(s.version), str(s.records),
             iso(s.valid_from) or "–", iso(s.valid_to) or "–", _opt(s.licence))
            for s in a.sources
        ),
    )
    out += ["", "### Actors", ""]
    if view.actors:
        out += _table(
            ("Actor", "Name", "Aliases", "Country"),
            (
                (md(x.id), md(x.name), ", ".join(md(al) for al in x.aliases) or "–",
                 _opt(x.country))
                for x in view.actors
            ),
        )
    else:
        out.append("None in the pack.")
    return out


def _render(view: ReportView, options: ReportOptions) -> str:
    a = view.assessment
    out = [f"# {md(options.heading)}", ""]
    if options.tlp_label:
        out += [f"**{options.tlp_label}**", ""]
    out.append(
        f"Generated {iso(a.generated_at)} · model {_opt(a.model_version)} · "
        f"intel pack {md(a.pack_id)} · {view.total_events} events · "
        f"{len(view.personas)} personas"
    )
    out += ["", "## Verdicts", ""]
    warnings = coverage_warnings(a)
    if warnings:
        out += [f"> **{md(w)}**" for w in warnings] + [""]
    if view.personas:
        out += _verdict_summary(view)
    else:
        out.append("No personas: nothing to attribute.")
    for pv in view.personas:
        out.append("")
        out += _persona_section(view, pv)
    remainder = _remainder(view)
    if remainder:
        out += ["", *remainder]
    out.append("")
    out += _accounting(view)
    out.append("")
    out += _method(view)
    if options.tlp_label:
        out += ["", f"**{options.tlp_label}**"]
    return "\n".join(out) + "\n"


def render_markdown(assessment: Assessment, options: ReportOptions | None = None) -> str:
    """The Markdown report: verdicts first, then per persona slips, evidence lines with ratios,
    hypotheses, ACH matrix, linchpins and alternatives, then evidence accounting and method.

    Raises nothing for a well-formed ``Assessment``.
    """
    return _render(build_view(assessment), options or ReportOptions())
