"""What every report shows, computed once: orderings, ratios, the ACH matrix, linchpins.

The JSON, Markdown and HTML writers all read this view, so the three outputs cannot disagree
about an order or a number.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from slipcatch.model import (
    COVER,
    Actor,
    Assessment,
    EvidenceLine,
    Hypothesis,
    Observation,
    PersonaAssessment,
    Rejection,
    Slip,
    icd203_term,
)

from ._format import natural_key

#: E-mail events whose Received chain is shown per persona in Markdown and HTML (all are in
#: events.jsonl); a persona with thousands of messages would otherwise drown the report.
MAX_EMAILS_SHOWN = 50
#: Rejections listed one by one in Markdown and HTML (all are in assessment.json).
MAX_REJECTIONS_SHOWN = 200


@dataclass(frozen=True, slots=True)
class LeadRatio:
    """P(line | leading hypothesis) / P(line | its strongest rival), for one evidence line."""

    hypothesis: str | None
    against: str | None
    value: float | None  # math.inf when the rival's likelihood is zero

    @property
    def unbounded(self) -> bool:
        return self.value is not None and math.isinf(self.value)


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell of the ACH matrix: the analysis' own judgement and the likelihood behind it."""

    hypothesis: str
    mark: str  # "+" supports, "-" contradicts, "" neither
    likelihood: float | None  # None when the line states none for this hypothesis


@dataclass(frozen=True, slots=True)
class LineView:
    line: EvidenceLine
    ratio: LeadRatio  # against the strongest rival
    cells: tuple[Cell, ...]  # in the order of PersonaView.hypotheses
    label: str = ""  # "L1", "L2", ... in the persona's line order
    unknown: LeadRatio = LeadRatio(None, None, None)  # against the "unknown party" hypothesis


@dataclass(frozen=True, slots=True)
class PersonaView:
    assessment: PersonaAssessment
    hypotheses: tuple[Hypothesis, ...]  # most probable first
    lines: tuple[LineView, ...]
    slips: tuple[Slip, ...]  # by first_seen
    observations: tuple[Observation, ...]  # this persona's, in time order
    emails: tuple[Observation, ...]  # e-mail events with hops, at most MAX_EMAILS_SHOWN
    emails_omitted: int
    linchpins: tuple[tuple[str, str], ...]  # (id, what it is)
    slip_of_event: Mapping[str, str]

    @property
    def hypothesis_labels(self) -> dict[str, str]:
        """``H1``, ``H2``, ... by probability (most probable first), keyed by hypothesis id."""
        return {h.id: f"H{n}" for n, h in enumerate(self.hypotheses, 1)}

    @property
    def line_labels(self) -> dict[str, str]:
        """``L1`` ... ``Ln`` in the order of the evidence lines, keyed by line id."""
        return {lv.line.id: lv.label for lv in self.lines}

    @property
    def lead(self) -> Hypothesis | None:
        return self.hypotheses[0] if self.hypotheses else None

    @property
    def attributable(self) -> bool:
        """Whether any actor was in question (an actor hypothesis exists). Without one, the
        verdict's probability is 0 by definition, and the reports say "not assessable" rather
        than print "almost no chance" as if the persona had been weighed against an actor."""
        return any(h.kind == "actor" for h in self.hypotheses)


@dataclass(frozen=True, slots=True)
class ReportView:
    assessment: Assessment
    personas: tuple[PersonaView, ...]
    observations: tuple[Observation, ...]  # all, in time order
    rejections: tuple[Rejection, ...]
    rejections_by_reason: tuple[tuple[str, int], ...]  # most frequent first
    categories: tuple[tuple[str, int], ...]  # by category name, remainder included
    actors: tuple[Actor, ...]
    persona_of_event: Mapping[str, str]  # event id -> persona id
    slip_of_event: Mapping[str, str]  # event id -> slip id
    rejected_total: int = 0  # all evidence rejections (``rejections`` may be a sample)

    @property
    def total_events(self) -> int:
        """Every event of the run: the observations held plus the unassessed remainder's."""
        r = self.assessment.remainder
        return len(self.observations) + (r.events if r is not None else 0)

    @property
    def rejections_sampled(self) -> bool:
        return self.rejected_total > len(self.rejections)

    def actor_name(self, actor_id: str | None) -> str | None:
        for a in self.actors:
            if a.id == actor_id:
                return a.name
        return None


def likelihood_term(p: float) -> str:
    """ICD 203 word for a probability, tolerant of rounding just outside [0, 1]."""
    return icd203_term(min(1.0, max(0.0, p)))


def lead_ratio(line: EvidenceLine, hypotheses: tuple[Hypothesis, ...]) -> LeadRatio:
    """The evidence line's likelihood ratio for the leading hypothesis against its best rival."""
    if not hypotheses or hypotheses[0].id not in line.likelihoods:
        return LeadRatio(None, None, None)
    lead = hypotheses[0].id
    rivals = [(line.likelihoods[h.id], h.id) for h in hypotheses[1:] if h.id in line.likelihoods]
    if not rivals:
        return LeadRatio(lead, None, None)
    # Strongest rival = highest likelihood; ties go to the more probable hypothesis (list order).
    best = max(rivals, key=lambda r: r[0])
    top, rival = line.likelihoods[lead], best[1]
    if best[0] > 0:
        return LeadRatio(lead, rival, top / best[0])
    # No rival can produce the line: unbounded, or undefined when the lead cannot either.
    return LeadRatio(lead, rival, math.inf if top > 0 else None)


def unknown_ratio(line: EvidenceLine, hypotheses: tuple[Hypothesis, ...]) -> LeadRatio:
    """The line's likelihood ratio for the leading hypothesis against "an unknown party" (the
    ``unknown`` hypothesis): how much the line moves the lead away from "nobody we know".

    An actor-range slip is as likely under the actor as under a false flag by that actor
    (ratio 1 against that rival) yet several times likelier than under an unknown party.
    """
    if not hypotheses or hypotheses[0].id not in line.likelihoods:
        return LeadRatio(None, None, None)
    lead = hypotheses[0]
    unknown = next((h for h in hypotheses[1:] if h.kind == "unknown"), None)
    if unknown is None or unknown.id not in line.likelihoods:
        return LeadRatio(lead.id, None, None)
    top, other = line.likelihoods[lead.id], line.likelihoods[unknown.id]
    if other > 0:
        return LeadRatio(lead.id, unknown.id, top / other)
    return LeadRatio(lead.id, unknown.id, math.inf if top > 0 else None)


def _persona_view(
    pa: PersonaAssessment, by_event: Mapping[str, Observation], slip_of_event: Mapping[str, str]
) -> PersonaView:
    hyps = tuple(sorted(pa.hypotheses, key=lambda h: (-h.probability, h.id)))
    lines = []
    for n, line in enumerate(pa.evidence, 1):
        cells = []
        for h in hyps:
            judged = line.consistency.get(h.id)
            if judged is not None:  # the analysis' own ACH judgement of this cell
                mark = {"consistent": "+", "inconsistent": "-"}.get(judged, "")
            else:
                mark = "+" if line.id in h.supporting else "-" if line.id in h.contradicting else ""
            cells.append(Cell(h.id, mark, line.likelihoods.get(h.id)))
        lines.append(
            LineView(line, lead_ratio(line, hyps), tuple(cells), f"L{n}", unknown_ratio(line, hyps))
        )
    obs = tuple(
        sorted(
            (by_event[e] for e in set(pa.persona.event_ids) if e in by_event),
            key=lambda o: (o.event.time, o.event.id),
        )
    )
    mails = [o for o in obs if o.event.hops or o.event.origin_trust is not None]
    slips = tuple(sorted(pa.slips, key=lambda s: (s.first_seen, s.id)))
    what: dict[str, str] = {}
    for s in slips:
        what[s.id] = f"slip from {s.ip}"
    for line in pa.evidence:
        what[line.id] = f"evidence line ({line.kind}): {line.summary}"
    linchpins = tuple(
        (i, what.get(i, "not found in this assessment")) for i in pa.verdict.linchpins
    )
    return PersonaView(
        assessment=pa,
        hypotheses=hyps,
        lines=tuple(lines),
        slips=slips,
        observations=obs,
        emails=tuple(mails[:MAX_EMAILS_SHOWN]),
        emails_omitted=max(0, len(mails) - MAX_EMAILS_SHOWN),
        linchpins=linchpins,
        slip_of_event=slip_of_event,
    )


def build_view(assessment: Assessment) -> ReportView:
    """Order and derive everything the reports show. Pure; raises nothing for valid models."""
    observations = tuple(
        sorted(assessment.observations, key=lambda o: (o.event.time, o.event.id))
    )
    by_event = {o.event.id: o for o in observations}
    persona_of_event: dict[str, str] = {}
    slip_of_event: dict[str, str] = {}
    # Personas by name, then id: a reader looks a persona up by name.
    pas = sorted(assessment.personas, key=lambda p: (p.persona.name, p.persona.id))
    for pa in pas:
        for e in pa.persona.event_ids:
            persona_of_event.setdefault(e, pa.persona.id)
        for s in sorted(pa.slips, key=lambda s: (s.first_seen, s.id)):
            for e in s.event_ids:
                slip_of_event.setdefault(e, s.id)
    rejections = tuple(
        sorted(
            assessment.rejections,
            key=lambda r: (r.path, natural_key(r.locator), r.reason, r.detail, r.sha256),
        )
    )
    reasons = (
        Counter(dict(assessment.rejection_counts))
        if assessment.rejection_counts
        else Counter(r.reason for r in rejections)
    )
    categories = Counter(str(o.address.category) for o in observations)
    if assessment.remainder is not None:
        categories.update(dict(assessment.remainder.by_category))
    return ReportView(
        assessment=assessment,
        personas=tuple(_persona_view(pa, by_event, slip_of_event) for pa in pas),
        observations=observations,
        rejections=rejections,
        rejections_by_reason=tuple(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        categories=tuple(sorted(categories.items())),
        actors=tuple(sorted(assessment.actors, key=lambda a: a.id)),
        persona_of_event=persona_of_event,
        slip_of_event=slip_of_event,
        rejected_total=max(len(rejections), sum(reasons.values())),
    )


def is_cover(o: Observation) -> bool:
    return o.address.category in COVER
