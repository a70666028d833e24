"""The machine-readable outputs: ``assessment.json`` and ``events.jsonl``.

Deterministic by construction: keys sorted, list orders fixed by :mod:`._view`, floats rounded
to :data:`._format.DECIMALS`, times ISO 8601 UTC with ``Z``. ``generated_at`` is the only field
that differs between two runs over the same inputs and intel pack.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from slipcatch.model import (
    Actor,
    Alternative,
    Assessment,
    Counterfactual,
    EvidenceFile,
    Hop,
    Hypothesis,
    Observation,
    Rejection,
    Slip,
    SourceInfo,
)

from ._format import iso, num
from ._view import LineView, PersonaView, ReportView, build_view, is_cover, likelihood_term

SCHEMA_VERSION = "1"


def dumps_document(doc: dict[str, Any]) -> str:
    """The canonical text of an assessment document (indented, sorted, trailing newline)."""
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=2, allow_nan=False) + "\n"


def dumps_line(obj: dict[str, Any]) -> str:
    """One compact, sorted JSON object for a JSON-lines file (no newline)."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False)


def _evidence_file(f: EvidenceFile) -> dict[str, Any]:
    return {
        "path": f.path,
        "sha256": f.sha256,
        "size": f.size,
        "format": f.format,
        "records": f.records,
        "events": f.events,
        "rejected": f.rejected,
        "duplicates": f.duplicates,
        "format_confidence": num(f.confidence),
    }


def _source(s: SourceInfo) -> dict[str, Any]:
    return {
        "name": s.name,
        "kind": s.kind,
        "version": s.version,
        "records": s.records,
        "valid_from": iso(s.valid_from),
        "valid_to": iso(s.valid_to),
        "licence": s.licence,
        "sha256": s.sha256,
    }


def _rejection(r: Rejection) -> dict[str, Any]:
    return {
        "path": r.path,
        "sha256": r.sha256,
        "locator": r.locator,
        "reason": r.reason,
        "detail": r.detail,
    }


def _slip(s: Slip) -> dict[str, Any]:
    return {
        "id": s.id,
        "persona": s.persona,
        "ip": s.ip,
        "prefix": s.prefix,
        "asn": s.asn,
        "country": s.country,
        "category": str(s.category),
        "attributed_to": s.attributed_to,
        "first_seen": iso(s.first_seen),
        "last_seen": iso(s.last_seen),
        "events": s.events,
        "closed_after_seconds": num(s.closed_after_seconds),
        "event_ids": list(s.event_ids),
        "channels": sorted(s.channels),
        "origin_trust": None if s.origin_trust is None else str(s.origin_trust),
    }


def _hypothesis(h: Hypothesis) -> dict[str, Any]:
    p = num(h.probability)
    return {
        "id": h.id,
        "kind": h.kind,
        "actor": h.actor,
        "statement": h.statement,
        "prior": num(h.prior),
        "probability": p,
        "likelihood": likelihood_term(p if p is not None else h.probability),
        "supporting": list(h.supporting),
        "contradicting": list(h.contradicting),
    }


def _line(lv: LineView) -> dict[str, Any]:
    line, r = lv.line, lv.ratio
    return {
        "id": line.id,
        "kind": line.kind,
        "summary": line.summary,
        "reliability": line.reliability,
        "rule": line.rule,
        "likelihoods": {k: num(v) for k, v in line.likelihoods.items()},
        "likelihood_ratio": {
            "hypothesis": r.hypothesis,
            "against": r.against,
            "value": None if r.unbounded else num(r.value),
            "unbounded": r.unbounded,
        },
        "consistency": {k: line.consistency[k] for k in sorted(line.consistency)},
        "diagnosticity": num(line.diagnosticity),
        "event_ids": list(line.event_ids),
        "slip_ids": list(line.slip_ids),
    }


def _counterfactual(c: Counterfactual) -> dict[str, Any]:
    return {
        "id": c.id,
        "kind": c.kind,
        "description": c.description,
        "probability": num(c.probability),
        "likelihood": c.likelihood,
        "shift": num(c.shift),
        "verdict_actor": c.verdict_actor,
        "confidence": c.confidence,
        "ratio": num(c.ratio),
    }


def _alternative(a: Alternative) -> dict[str, Any]:
    return {"item": a.item, "explanation": a.explanation, "discriminator": a.discriminator}


def _persona(pv: PersonaView) -> dict[str, Any]:
    pa = pv.assessment
    p, v = pa.persona, pa.verdict
    return {
        "id": p.id,
        "name": p.name,
        "identities": sorted(p.identities),
        "events": len(set(p.event_ids)),
        "channels": sorted(p.channels),
        "cover_ratio": num(p.cover_ratio),
        "slips": [_slip(s) for s in pv.slips],
        "assessment": {
            "hypotheses": [_hypothesis(h) for h in pv.hypotheses],
            "evidence_lines": [_line(lv) for lv in pv.lines],
            "verdict": {
                "actor": v.actor,
                "probability": num(v.probability),
                "likelihood": v.likelihood,
                "confidence": v.confidence,
                "statement": v.statement,
                "confidence_reasons": list(v.confidence_reasons),
                "linchpins": list(v.linchpins),
            },
            "alternatives": [_alternative(a) for a in pa.alternatives],
            "priors": pa.priors,
            "what_would_change_our_mind": [_counterfactual(c) for c in pa.counterfactuals],
        },
    }


def _actor(a: Actor) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "aliases": list(a.aliases),
        "country": a.country,
        "timezones": list(a.timezones),
        "operating_countries": list(a.operating_countries),
        "operating_periods": [
            {"country": o.country, "valid_from": iso(o.valid_from), "valid_to": iso(o.valid_to)}
            for o in a.operating_periods
        ],
        "asns": list(a.asns),
        "sources": list(a.sources),
        "caveats": list(a.caveats),
    }


def _document(view: ReportView) -> dict[str, Any]:
    a = view.assessment
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": iso(a.generated_at),
        "model_version": a.model_version,
        "evidence": [
            _evidence_file(f) for f in sorted(a.evidence, key=lambda f: (f.path, f.sha256))
        ],
        # Source order is kept: later sources are layered on top of earlier ones.
        "intel": {
            "pack_id": a.pack_id,
            "sources": [_source(s) for s in a.sources],
            "rejections": [
                _rejection(r)
                for r in sorted(a.intel_rejections, key=lambda r: (r.path, r.locator, r.reason))
            ],
            "coverage": [
                {"layer": c.layer,
                 "from": None if c.valid_from is None else iso(c.valid_from),
                 "to": None if c.valid_to is None else iso(c.valid_to),
                 "events_outside": c.events_outside}
                for c in a.coverage
            ],
        },
        "events": view.total_events,
        "event_categories": dict(view.categories),
        "rejections": [_rejection(r) for r in view.rejections],
        "rejections_by_reason": dict(view.rejections_by_reason),
        "personas": [_persona(pv) for pv in view.personas],
        "actors": [_actor(x) for x in view.actors],
        **_sampling(view),
    }


def _sampling(view: ReportView) -> dict[str, Any]:
    """Fields present only when needed: the rejection total when ``rejections`` is a sample
    (every rejection is in rejections.jsonl), the run's warnings, and the unassessed
    ``remainder`` (events, personas, counts by category and country, top addresses) when
    only some personas were assessed one by one; top-level ``events`` then counts every
    event, the remainder's included."""
    extra: dict[str, Any] = {}
    if view.rejections_sampled:
        extra["rejections_total"] = view.rejected_total
        extra["rejections_file"] = "rejections.jsonl"
    if view.assessment.warnings:
        extra["warnings"] = list(view.assessment.warnings)
    r = view.assessment.remainder
    if r is not None:
        extra["remainder"] = {
            "events": r.events,
            "personas": r.personas,
            "by_category": [{"category": c, "events": n} for c, n in r.by_category],
            "by_country": [{"country": c, "events": n} for c, n in r.by_country],
            "top_addresses": [
                {"ip": ip, "category": c, "events": n} for ip, c, n in r.top_addresses
            ],
        }
    return extra


def assessment_document(assessment: Assessment) -> dict[str, Any]:
    """The assessment as a JSON-ready dict, valid against ``assessment.schema.json`` (v1).

    Extra fields beyond the schema: model_version, event_categories, rejections_by_reason, each
    hypothesis' prior and statement, evidence lines with likelihoods and the lead likelihood
    ratio, verdict confidence_reasons, slip category/channels/origin_trust, actor details.
    Non-finite floats become ``null``. Raises nothing for a well-formed ``Assessment``.
    """
    return _document(build_view(assessment))


def _hop(h: Hop) -> dict[str, Any]:
    return {
        "index": h.index,
        "from_host": h.from_host,
        "from_ip": h.from_ip,
        "by_host": h.by_host,
        "protocol": h.protocol,
        "time": iso(h.time),
        "trust": None if h.trust is None else str(h.trust),
        "flags": list(h.flags),
        "raw": h.raw,
    }


def event_record(o: Observation, view: ReportView) -> dict[str, Any]:
    """One line of events.jsonl: the event, where it came from, and what its address was."""
    e, addr = o.event, o.address
    rec: dict[str, Any] = {
        "id": e.id,
        "time": iso(e.time),
        "src_ip": e.src_ip,
        "persona": e.persona,
        "persona_id": view.persona_of_event.get(e.id),
        "channel": e.channel,
        "path": e.evidence.path,
        "sha256": e.evidence.sha256,
        "locator": e.evidence.locator,
        "category": str(addr.category),
        "cover": is_cover(o),
        "country": addr.country,
        "asn": addr.asn,
        "as_org": addr.as_org,
        "prefix": addr.prefix,
        "actor": addr.actor,
        "projected": addr.projected,
        "tor": addr.tor,
        "tor_nearest_listing_days": addr.tor_nearest_listing_days,
        "slip": view.slip_of_event.get(e.id),
        "facts": [
            {
                "range": f.range,
                "category": None if f.category is None else str(f.category),
                "source": f.source,
                "label": f.label,
                "actor": f.actor,
                "country": f.country,
                "asn": f.asn,
                "projected": f.projected,
            }
            for f in sorted(
                addr.facts, key=lambda f: (f.source, f.range, str(f.category), f.label or "")
            )
        ],
        "attributes": dict(e.attributes),
    }
    if e.channel == "email" or e.origin_trust is not None or e.hops:
        rec["origin_trust"] = None if e.origin_trust is None else str(e.origin_trust)
        rec["entry_ip"] = e.entry_ip
        rec["hops"] = [_hop(h) for h in sorted(e.hops, key=lambda h: h.index)]
    return rec


def _event_lines(view: ReportView) -> Iterator[str]:
    for o in view.observations:
        yield dumps_line(event_record(o, view))


def events_lines(assessment: Assessment) -> Iterator[str]:
    """The lines of ``events.jsonl``: one JSON object per event, in (time, id) order.

    Each string is one line without its newline. Keys: id, time, src_ip, persona, persona_id,
    channel, path, sha256, locator, category (at the event's time), cover, country, asn, as_org,
    prefix, actor, projected, tor, tor_nearest_listing_days, slip, facts (each with projected),
    attributes; for e-mail also origin_trust, entry_ip and hops.
    """
    return _event_lines(build_view(assessment))
