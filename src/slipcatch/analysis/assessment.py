"""``assess``: from observations to one PersonaAssessment per persona."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from slipcatch.model import (
    ANONYMOUS,
    ICD203_BANDS,
    Actor,
    Counterfactual,
    EvidenceLine,
    Hypothesis,
    Observation,
    Persona,
    PersonaAssessment,
    Slip,
    Verdict,
    icd203_term,
)

from .ach import annotate
from .analyst import AnalystEvidence, load_evidence_file
from .confidence import (
    Judgement,
    alternatives,
    contradicting,
    judge,
    statement,
    supporting,
)
from .episodes import Episode
from .hypotheses import (
    LINE_CAP,
    HypothesisSpec,
    Priors,
    combine,
    hypothesis_id,
    hypothesis_specs,
    posterior,
)
from .persona_case import PersonaCase, persona_case
from .personas import build_persona, group_by_persona
from .reading import asn_owners, read_claim, read_observation
from .rules import RULE_ACTOR_RANGE, RULE_COUNTRY, evidence_lines
from .slips import EXPOSED
from .tor_coverage import cap_for_tor_coverage
from .whatif import ratio_line, tipping_ratio, what_ifs

__all__ = ["LOO_LINE_LIMIT", "LOO_SLIP_LIMIT", "MODEL_VERSION", "assess", "read_claim"]

#: Version of the analytic model (rules, numbers, caps); bump when any of them changes.
MODEL_VERSION = "slipcatch-analysis/2.7"
#: A removal that moves the likelihood by more than this many ICD 203 bands is a linchpin.
LINCHPIN_BANDS = 1
_TERMS = tuple(term for term, _, _ in ICD203_BANDS)

#: Leave-one-out re-runs the persona's analysis once per attributing slip; beyond this many
#: attributing slips only evidence lines are tested, and the verdict says so.
LOO_SLIP_LIMIT = 16
#: Leave-one-out over evidence lines costs lines^2; beyond this many lines it is skipped and
#: the verdict says so.
LOO_LINE_LIMIT = 400


@dataclass(frozen=True)
class _Core:
    case: PersonaCase
    lines: tuple[EvidenceLine, ...]
    judgement: Judgement

    @property
    def persona(self) -> Persona:
        return self.case.persona

    @property
    def slips(self) -> tuple[Slip, ...]:
        return self.case.slips

    @property
    def specs(self) -> tuple[HypothesisSpec, ...]:
        return self.case.specs

    @property
    def episodes(self) -> tuple[tuple[EvidenceLine, Episode], ...]:
        """The actor-range lines with their episodes, in order: one line per episode, or per
        dependent pool (paired with the pool's strongest episode)."""
        line_of = {
            eid: line
            for line in self.lines
            if line.rule == RULE_ACTOR_RANGE
            for eid in line.event_ids
        }
        best: dict[str, Episode] = {}
        for ep in self.case.episodes:
            line = line_of[ep.event_ids[0]]
            if line.id not in best or ep.weight > best[line.id].weight:
                best[line.id] = ep
        ranged = [line for line in self.lines if line.rule == RULE_ACTOR_RANGE]
        return tuple((line, best[line.id]) for line in ranged)

    @property
    def country(self) -> tuple[EvidenceLine, ...]:
        return tuple(line for line in self.lines if line.rule == RULE_COUNTRY)


def _judge_lines(lines: Sequence[EvidenceLine], specs: Sequence[HypothesisSpec]) -> Judgement:
    return judge(lines, specs, posterior(specs, combine(lines, [s.id for s in specs])))


def _core(
    name: str,
    observations: Sequence[Observation],
    actors: Mapping[str, Actor],
    priors: Priors,
    analyst: AnalystEvidence | None = None,
    extra: Sequence[EvidenceLine] = (),
) -> _Core:
    case = persona_case(name, observations, actors, priors, analyst, extra)
    lines = evidence_lines(case)
    return _Core(case, lines, _judge_lines(lines, case.specs))


def _linchpins(
    core: _Core,
    observations: Sequence[Observation],
    actors: Mapping[str, Actor],
    priors: Priors,
    analyst: AnalystEvidence | None,
) -> tuple[list[str], list[str]]:
    """(linchpins, sensitive items).

    A linchpin's removal changes the key judgement: the verdict's actor, or its likelihood by
    more than one ICD 203 band ("very likely" to "roughly even chance"). A sensitive
    item's removal moves the likelihood by one band or changes the confidence.
    """
    base = core.judgement
    decisive: list[str] = []
    confidence_only: list[str] = []

    def note(item: str, other: Judgement) -> None:
        bands = abs(_TERMS.index(other.likelihood) - _TERMS.index(base.likelihood))
        if other.actor != base.actor or bands > LINCHPIN_BANDS:
            decisive.append(item)
        elif bands or other.confidence != base.confidence:
            confidence_only.append(item)

    lines = core.lines
    if len(lines) <= LOO_LINE_LIMIT:
        for k, line in enumerate(lines):
            rest = lines[:k] + lines[k + 1 :]
            note(line.id, _judge_lines(rest, core.specs))
    attributing = [s for s in core.slips if s.attributed_to is not None]
    if len(attributing) <= LOO_SLIP_LIMIT:
        for slip in attributing:
            drop = set(slip.event_ids)
            kept = [obs for obs in observations if obs.event.id not in drop]
            if kept:
                note(slip.id, _core(core.persona.name, kept, actors, priors, analyst).judgement)
    return decisive, confidence_only


def _counterfactuals(
    core: _Core,
    observations: Sequence[Observation],
    actors: Mapping[str, Actor],
    priors: Priors,
    analyst: AnalystEvidence | None,
) -> tuple[Counterfactual, ...]:
    """Re-run the model with each hypothetical change; largest shift of probability first."""
    j = core.judgement
    codes = sorted(
        {
            (obs.address.country or "").strip().upper()
            for obs in observations
            if obs.address.category in EXPOSED and not obs.address.actor
        }
        - {""}
    )
    out = []
    for w in what_ifs(core.persona, observations, core.specs, j.subject, actors, codes):
        if w.lines_only:
            # Same observations: the same persona, slips, hypotheses and lines, plus the new ones.
            judged = _judge_lines((*core.lines, *w.extra_lines), core.specs)
        else:
            judged = _core(
                core.persona.name, w.observations, actors, priors, analyst, w.extra_lines
            ).judgement
        target = hypothesis_id(core.persona.id, "actor", w.actor)
        after = round(judged.posteriors.get(target, 0.0), 6)
        before = j.posteriors.get(target, 0.0) if j.subject == w.actor else 0.0
        out.append(
            Counterfactual(
                id=f"{core.persona.id}:{w.kind}:{w.actor}",
                kind=w.kind,
                description=w.description,
                probability=after,
                likelihood=icd203_term(after),
                shift=round(after - before, 6),
                verdict_actor=judged.actor,
                confidence=judged.confidence,
            )
        )
    out.extend(_tipping_points(core, actors))
    return tuple(sorted(out, key=lambda c: (-abs(c.shift), c.id)))


def _spec_actor_name(spec: HypothesisSpec, actors: Mapping[str, Actor]) -> str | None:
    """The registry name of the hypothesis' actor (its id when unknown; None without one)."""
    known = actors.get(spec.actor) if spec.actor is not None else None
    return known.name if known is not None else spec.actor


def _spec_text(spec: HypothesisSpec, actors: Mapping[str, Actor]) -> str:
    name = _spec_actor_name(spec, actors)
    if spec.kind == "actor":
        return str(name)
    if spec.kind == "false_flag":
        return f"a false flag against {name}"
    if spec.kind == "analyst":
        return f"the analyst's hypothesis '{spec.key}'"
    return "an unknown third party"


def _tipping_points(core: _Core, actors: Mapping[str, Actor]) -> list[Counterfactual]:
    """The least independent evidence that would change the verdict's likelihood word.

    With the verdict's actor favoured (probability >= 0.5): for every rival hypothesis, the
    smallest ratio of one more line favouring that rival over every other hypothesis that moves
    the wording down. Otherwise: the smallest ratio favouring the actor that moves it up. The
    ratio is effective (after any reliability discount) and may exceed what one line can carry
    (``LINE_CAP``): the margin of the verdict, which the floor on the combined odds can hide
    from the concrete what-ifs (docs/model.md, "What would change our mind").
    """
    j = core.judgement
    if j.subject is None:
        return []
    target = hypothesis_id(core.persona.id, "actor", j.subject)
    if target not in j.posteriors:
        return []
    before = round(j.posteriors[target], 6)
    word = icd203_term(before)
    contrary = before >= 0.5
    favoured = (
        [s for s in core.specs if s.id != target]
        if contrary
        else [s for s in core.specs if s.id == target]
    )
    kind = "contrary-evidence" if contrary else "supporting-evidence"
    out = []
    for spec in favoured:
        text = (
            f"independent evidence favouring {_spec_text(spec, actors)} over every other hypothesis"
        )

        def after(k: float, spec: HypothesisSpec = spec, text: str = text) -> Judgement:
            line = ratio_line(core.persona, kind, f"hypothetical: {text}", spec.id, k)
            return _judge_lines((*core.lines, line), core.specs)

        def changes(k: float) -> bool:
            return icd203_term(round(after(k).posteriors.get(target, 0.0), 6)) != word

        ratio = tipping_ratio(changes)
        if ratio is None:
            continue
        other = after(ratio)
        p = round(other.posteriors.get(target, 0.0), 6)
        cap = f"; beyond the {LINE_CAP:g} : 1 any one line may carry" if ratio > LINE_CAP else ""
        out.append(
            Counterfactual(
                id=f"{core.persona.id}:{kind}:{spec.id}",
                kind=kind,
                description=(
                    f"the least evidence that would change the wording: {text} by {ratio:g} : 1 "
                    f"(effective, after any reliability discount{cap})"
                ),
                probability=p,
                likelihood=icd203_term(p),
                shift=round(p - before, 6),
                verdict_actor=other.actor,
                confidence=other.confidence,
                ratio=ratio,
            )
        )
    return out


def _assess_one(
    name: str,
    observations: Sequence[Observation],
    actors: Mapping[str, Actor],
    priors: Priors,
    analyst: AnalystEvidence | None = None,
) -> PersonaAssessment:
    core = _core(name, observations, actors, priors, analyst)
    j = core.judgement
    decisive, confidence_only = _linchpins(core, observations, actors, priors, analyst)
    confidence = j.confidence
    reasons = list(j.reasons)
    if len(core.lines) > LOO_LINE_LIMIT:
        reasons.append(f"linchpins not tested over more than {LOO_LINE_LIMIT} evidence lines")
    if sum(1 for s in core.slips if s.attributed_to is not None) > LOO_SLIP_LIMIT:
        reasons.append(f"linchpins not tested over more than {LOO_SLIP_LIMIT} attributing slips")
    if decisive:
        reasons.append(f"{len(decisive)} linchpin(s): removing any one of them changes the verdict")
        if confidence == "high":
            confidence = "moderate"
            reasons.append(
                "a verdict that rests on a single item cannot be held with high confidence"
            )
    confidence, tor_reasons = cap_for_tor_coverage(confidence, core.slips, observations)
    reasons.extend(tor_reasons)
    lines = core.lines
    hypotheses = []
    for spec in core.specs:
        actor_name = _spec_actor_name(spec, actors)
        if spec.kind == "analyst":
            text = spec.statement
        elif spec.kind == "actor":
            text = f"Persona '{name}' is operated by {actor_name}."
        elif spec.kind == "false_flag":
            text = (
                f"Someone other than {actor_name} staged traffic through its address space to "
                f"make persona '{name}' look like {actor_name}."
            )
        else:
            text = f"Persona '{name}' is operated by a party that is not a known actor."
        hypotheses.append(
            Hypothesis(
                id=spec.id,
                kind=spec.kind,
                actor=spec.actor,
                statement=text,
                prior=round(spec.prior, 6),
                probability=round(j.posteriors[spec.id], 6),
                supporting=tuple(line.id for line in supporting(lines, spec.id, core.specs)),
                contradicting=tuple(line.id for line in contradicting(lines, spec.id, core.specs)),
            )
        )
    verdict = Verdict(
        actor=j.actor,
        probability=j.probability,
        likelihood=j.likelihood,
        confidence=confidence,
        statement=statement(name, j, actors),
        confidence_reasons=tuple(reasons),
        linchpins=tuple(sorted(set(decisive) | set(confidence_only))),
    )
    return PersonaAssessment(
        persona=core.persona,
        slips=core.slips,
        evidence=annotate(lines, core.specs),
        hypotheses=tuple(hypotheses),
        verdict=verdict,
        alternatives=alternatives(core.episodes, core.country, core.slips, core.specs, actors),
        counterfactuals=_counterfactuals(core, observations, actors, priors, analyst),
        priors=priors.describe([s.key for s in core.specs if s.key is not None]),
    )


def _assess_anonymous(
    observations: Sequence[Observation], analyst: AnalystEvidence | None
) -> PersonaAssessment:
    """The events the readers gave no persona (``ANONYMOUS``), reported but not assessed.

    They share no identity, only the absence of one: pooling them would let unrelated users
    (a Tor user and a visitor from an actor's range) form one fake persona with a fake slip.
    So no slips, no evidence lines, no actor hypothesis: the unknown hypothesis holds alone.
    """
    persona = build_persona(ANONYMOUS, observations)
    [spec] = hypothesis_specs(persona.id, [], Priors())
    reasons = [
        "these events carry no identity linking them to one operator (the readers found no "
        "persona for them), so no slip, evidence line or actor hypothesis was formed for them"
    ]
    named = sorted(
        item.key for item in (analyst.items if analyst else ()) if ANONYMOUS in item.personas
    )
    if named:
        reasons.append(f"analyst item(s) not applied to these events: {', '.join(named)}")
    verdict = Verdict(
        actor=None,
        probability=0.0,
        likelihood=icd203_term(0.0),
        confidence="low",
        statement=(
            f"The {len(observations)} event(s) without a persona ('{ANONYMOUS}') carry no "
            "identity linking them to one operator and were not assessed as one; no "
            "attribution is made."
        ),
        confidence_reasons=tuple(reasons),
    )
    hypothesis = Hypothesis(
        id=spec.id,
        kind="unknown",
        actor=None,
        statement=(
            f"The events without a persona ('{ANONYMOUS}') are not attributed to any known "
            "actor; they were not assessed as one operator."
        ),
        prior=round(spec.prior, 6),
        probability=1.0,
    )
    return PersonaAssessment(
        persona=persona,
        slips=(),
        evidence=(),
        hypotheses=(hypothesis,),
        verdict=verdict,
        priors="priors: none applied; the events were not assessed as one persona",
    )


def _merge_priors(given: Priors | None, analyst: AnalystEvidence | None) -> Priors:
    stated = analyst.priors if analyst is not None else None
    if given is None:
        return stated if stated is not None else Priors()
    if stated is None or given.analyst:
        return given
    # The caller's shares win; the file's priors of its own hypotheses still apply.
    return Priors(given.unknown, given.false_flag_share, stated.analyst)


def assess(
    observations: Sequence[Observation],
    actors: Sequence[Actor],
    priors: Priors | None = None,
    evidence_file: str | Path | AnalystEvidence | None = None,
) -> list[PersonaAssessment]:
    """Assess every persona in ``observations``: slips, evidence lines, hypotheses, verdict.

    Observations may come in any order; duplicates of one event id count once. Events without a
    persona (``slipcatch.evidence.ANONYMOUS``) are reported as one persona but not assessed as
    one operator: no slips, no actor hypothesis, a verdict that attributes nothing (docs/model.md,
    "Personas without identity"). ``actors`` names
    the actors (an actor id met in an address but absent here is used as its own name). The
    result is sorted by persona name and is identical for identical input.

    ``evidence_file`` adds analyst-supplied evidence, analyst hypotheses and priors (a YAML path
    or an already parsed ``AnalystEvidence``; docs/model.md, "analyst evidence"). ``priors``
    given here take precedence over the file's ``unknown``/``false_flag_share``; when neither
    states priors, the defaults apply (stated on every ``PersonaAssessment.priors``).

    An e-mail that entered through cover (a VPN, proxy, hosting or Tor address) and whose
    sender-written headers name a client behind it (``Observation.claimed``) is read at that
    client, with sender-written trust (``reading.read_claim``; docs/model.md, "Claimed origins"). An
    exposed address announced by an AS one actor's side operates (``Actor.asns``), outside its
    registered ranges, is read as an ASN-level hit (``reading.read_asn``).

    Raises:
        UsageError: ``priors`` holds a share outside (0, 1) (raised when ``Priors`` is built);
            the evidence file cannot be read or has a bad entry (naming the file and entry).
    """
    by_id = {a.id: a for a in sorted(actors, key=lambda a: (a.id, a.name), reverse=True)}
    owners = asn_owners(by_id.values())
    groups = group_by_persona([read_observation(o, owners) for o in observations])
    analyst: AnalystEvidence | None
    if evidence_file is None or isinstance(evidence_file, AnalystEvidence):
        analyst = evidence_file
    else:
        analyst = load_evidence_file(
            evidence_file, sorted(by_id), [persona.name for persona, _ in groups]
        )
    merged = _merge_priors(priors, analyst)
    return [
        _assess_anonymous(obs, analyst)
        if persona.name == ANONYMOUS
        else _assess_one(persona.name, obs, by_id, merged, analyst)
        for persona, obs in groups
    ]
