"""MISP export of an assessment: one event, built with ``pymisp.MISPEvent``.

What goes in (see docs/sharing.md for the reasoning):

* the event: info line naming the case and the attributed verdicts; distribution "your
  organisation only", threat level "undefined", analysis "ongoing", unpublished — sharing
  wider is the analyst's decision;
* event tags: the MISP ``threat-actor`` galaxy cluster of each attributed actor, the
  ``estimative-language`` word of each attributed verdict and the ``admiralty-scale`` code of
  the strongest evidence line the verdict rests on;
* per (persona, shared address) an ``ip-src`` attribute (comment: persona, category at the
  time, first/last seen), tagged with the Admiralty code of the evidence lines that cite it,
  with a MISP sighting for each slip event from it (at most :data:`MAX_SIGHTINGS`). The shared
  addresses are the persona's findings (:func:`.options.shared_addresses`: slips, actor-range
  addresses, the addresses the verdict rests on), so the event grows with findings, not events;
* per (persona, sender) an ``email-src`` attribute; per e-mail event an ``email`` object with
  its subject, message id and Received hops;
* an event report with every persona's verdict statement (Markdown, evidence text made inert).

Only the personas ``ReportOptions.share`` selects go in (default ``attributed``: actor verdicts
above "roughly even chance"), and of those only the e-mail events from shared addresses.
``to_ids`` is set on the addresses the verdict rests on and on nothing else.
``ReportOptions.tlp`` adds the ``tlp:`` tag and sets the matching distribution; the event's
date is the case's first event.
Local paths leave as file names with SHA-256 unless ``keep_paths``.

Deterministic: uuids are UUIDv5 under :data:`slipcatch.report.stix.NAMESPACE`, timestamps are
``generated_at`` or the events' times, attributes and objects are sorted, keys are sorted.
"""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slipcatch.model import Actor, Assessment, EvidenceLine, Observation

from ._format import iso, md, pct
from ._view import PersonaView, ReportView, build_view
from .options import (
    PathScrubber,
    ReportOptions,
    resting_addresses,
    shared_addresses,
    shared_personas,
)
from .stix import NAMESPACE, _canonical, _emails, _scope

if TYPE_CHECKING:  # pymisp is imported where an event is built: importing it takes ~2 s
    from pymisp import MISPAttribute, MISPEvent, MISPObject

__all__ = [
    "ESTIMATIVE_LANGUAGE",
    "admiralty_tags",
    "galaxy_value",
    "render_misp",
    "to_ids_for",
]

#: ICD 203 word -> value of the MISP ``estimative-language:likelihood-probability`` taxonomy
#: (MISP/misp-taxonomies estimative-language/machinetag.json, version 1: the same seven bands).
ESTIMATIVE_LANGUAGE: dict[str, str] = {
    "almost no chance": "almost-no-chance",
    "very unlikely": "very-unlikely",
    "unlikely": "unlikely",
    "roughly even chance": "roughly-even-chance",
    "likely": "likely",
    "very likely": "very-likely",
    "almost certain": "almost-certain",
}

# MISP enums: distribution 0 = your organisation only; threat level 4 = undefined;
# analysis 1 = ongoing (a machine assessment awaiting an analyst's review).
DISTRIBUTION = 0
#: TLP level -> MISP distribution: 0 your organisation only, 1 this community only,
#: 2 connected communities, 3 all communities.
TLP_DISTRIBUTION: dict[str, int] = {
    "red": 0, "amber+strict": 0, "amber": 1, "green": 2, "clear": 3,
}
THREAT_LEVEL = 4
ANALYSIS = 1
SIGHTING_SOURCE = "slipcatch"
#: Sightings per ``ip-src`` attribute at most (the first slip events in time order): a slip of
#: a million events is one finding, not a million; the comment says how many were left out.
MAX_SIGHTINGS = 100

# RFC 5322 dot-atom addr-spec: a sender that is not one would be refused by a MISP server as
# an email-src; it stays in events.jsonl.
_ADDR_SPEC = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_ADMIRALTY = re.compile(r"^([A-Fa-f])([1-6])$")
# A registry citation naming the MISP galaxy cluster, e.g. "MISP galaxy threat-actor 'Lazarus
# Group' (uuid ...)" in src/slipcatch/data/actors.yaml.
_GALAXY_CITATION = re.compile(r"MISP galaxy threat-actor '([^']+)'")


def galaxy_value(actor: Actor) -> str:
    """The MISP ``threat-actor`` galaxy cluster value for an actor.

    The registry cites the galaxy cluster it maps to (``MISP galaxy threat-actor 'Lazarus
    Group'``); that value wins. Without such a citation the actor's own name is used, which is
    the galaxy value for actors registered under their galaxy name.
    """
    for source in actor.sources:
        m = _GALAXY_CITATION.search(source)
        if m:
            return m.group(1)
    return actor.name


def _tag_value(text: str) -> str:
    # A machine tag value is quoted; a quote inside would end it early.
    return text.replace('"', "'")


def to_ids_for(categories: Iterable[str]) -> bool:
    """Whether an address is an IDS indicator: only if it was in an actor's exclusive range.

    Every other category is shared with innocent users at some time (Tor exits, VPN and proxy
    nodes, hosting, residential lines, unknown space), so an IDS hit on it says nothing about
    the actor and would flood a consumer with false positives. The export now marks the
    addresses the verdict rests on (:func:`.options.resting_addresses`: exposed addresses cited
    by supporting lines); this older test is kept for callers.
    """
    return "actor" in set(categories)


def _admiralty(code: str) -> tuple[str, str] | None:
    m = _ADMIRALTY.match(code.strip())
    return (m.group(1).lower(), m.group(2)) if m else None


def admiralty_tags(lines: Iterable[EvidenceLine]) -> list[str]:
    """Admiralty-scale tags for the strongest (most reliable, then most credible) line.

    Lines whose reliability is not a valid Admiralty code (``A``-``F`` then ``1``-``6``) are
    ignored; no valid line gives no tags.
    """
    codes = sorted(c for c in (_admiralty(x.reliability) for x in lines) if c)
    if not codes:
        return []
    letter, digit = codes[0]
    return [
        f'admiralty-scale:information-credibility="{digit}"',
        f'admiralty-scale:source-reliability="{letter}"',
    ]


@dataclass
class _Uuids:
    scope: str

    def __call__(self, *parts: object) -> str:
        return str(uuid.uuid5(NAMESPACE, _canonical("misp", self.scope, *parts)))


def _is_public(value: str) -> bool:
    try:
        return ipaddress.ip_address(value).is_global
    except ValueError:
        return True  # not an address: text that may correlate usefully


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _info(view: ReportView, personas: list[PersonaView], options: ReportOptions) -> str:
    parts = []
    unattributed = 0
    for pv in personas:
        v = pv.assessment.verdict
        name = view.actor_name(v.actor)
        if name is None:
            unattributed += 1
            continue
        parts.append(
            f"{pv.assessment.persona.name} is {v.likelihood} {name} "
            f"({pct(v.probability)}, {v.confidence} confidence)"
        )
    if unattributed:
        parts.append(
            f"{unattributed} persona{'s' if unattributed != 1 else ''} without attribution"
        )
    others = len(view.personas) - len(personas)
    if others:
        parts.append(f"{others} other persona{'s' if others != 1 else ''} not shared")
    return _one_line(f"{options.heading} {iso(view.assessment.generated_at)}: " + "; ".join(parts))


def _event_tags(view: ReportView, personas: list[PersonaView], options: ReportOptions) -> list[str]:
    tags: set[str] = set()
    if options.tlp is not None:
        tags.add(f"tlp:{options.tlp}")
    actors = {a.id: a for a in view.actors}
    for pv in personas:
        v = pv.assessment.verdict
        if v.actor is None or v.actor not in actors:
            continue
        tags.add(f'misp-galaxy:threat-actor="{_tag_value(galaxy_value(actors[v.actor]))}"')
        word = ESTIMATIVE_LANGUAGE.get(v.likelihood)
        if word:
            tags.add(f'estimative-language:likelihood-probability="{word}"')
        # The verdict rests on its linchpins; without evidence-line linchpins, on the lines
        # that support the winning hypothesis.
        pins = set(v.linchpins)
        lines = [x for x in pv.assessment.evidence if x.id in pins]
        if not lines:
            support = {
                s for h in pv.assessment.hypotheses if h.actor == v.actor for s in h.supporting
            }
            lines = [x for x in pv.assessment.evidence if x.id in support]
        tags.update(admiralty_tags(lines))
    return sorted(tags)


def _ts(dt: datetime) -> int:
    return int(dt.timestamp())


def _ip_attributes(
    pv: PersonaView,
    uuids: _Uuids,
    generated: datetime,
    wanted: set[str],
    resting: set[str],
) -> list[MISPAttribute]:
    from pymisp import MISPAttribute, MISPSighting
    pa = pv.assessment
    by_ip: dict[str, list[Observation]] = defaultdict(list)
    for o in pv.observations:
        if o.event.src_ip in wanted:
            by_ip[o.event.src_ip].append(o)
    slip_events = {e: s for s in pv.slips for e in s.event_ids}
    out = []
    for ip in sorted(by_ip):
        obs = by_ip[ip]
        categories = sorted({str(o.address.category) for o in obs})
        ids = {o.event.id for o in obs}
        slips = sorted({slip_events[e].id for e in ids if e in slip_events})
        first, last = obs[0].event.time, obs[-1].event.time
        comment = (
            f"persona {pa.persona.name}; category at the time: {', '.join(categories)}; "
            f"{len(obs)} events; first seen {iso(first)}; last seen {iso(last)}"
        )
        if slips:
            comment += f"; slips {', '.join(slips)}"
        if ip in resting:
            comment += "; the attribution rests on this address"
        sighted = [o for o in obs if o.event.id in slip_events]
        if len(sighted) > MAX_SIGHTINGS:
            comment += (f"; sightings for the first {MAX_SIGHTINGS} of its {len(sighted)} "
                        "slip events (all are in events.jsonl)")
        attr = MISPAttribute()
        attr.from_dict(
            type="ip-src",
            value=ip,
            category="Network activity",
            to_ids=ip in resting,
            comment=_one_line(comment),
            uuid=uuids("ip-src", pa.persona.id, ip),
            timestamp=generated,
            first_seen=first,
            last_seen=last,
            disable_correlation=False,
        )
        slip_ids = set(slips)
        cited = [
            x for x in pa.evidence if ids.intersection(x.event_ids) or slip_ids & set(x.slip_ids)
        ]
        for tag in admiralty_tags(cited):
            attr.add_tag(tag)
        for o in sighted[:MAX_SIGHTINGS]:
            sighting = MISPSighting()
            sighting.from_dict(
                uuid=uuids("sighting", o.event.id),
                source=SIGHTING_SOURCE,
                type="0",
                timestamp=_ts(o.event.time),
            )
            attr.add_sighting(sighting)
        out.append(attr)
    return out


def _sender_attributes(
    pv: PersonaView, uuids: _Uuids, generated: datetime
) -> list[MISPAttribute]:
    from pymisp import MISPAttribute
    pa = pv.assessment
    senders: dict[str, list[Observation]] = defaultdict(list)
    for o in _emails(pv):
        addr = o.event.mail.from_addr if o.event.mail else None
        if addr and _ADDR_SPEC.match(addr):
            senders[addr].append(o)
    out = []
    for addr in sorted(senders):
        obs = senders[addr]
        attr = MISPAttribute()
        attr.from_dict(
            type="email-src",
            value=addr,
            category="Payload delivery",
            to_ids=False,
            comment=_one_line(
                f"persona {pa.persona.name}; {len(obs)} messages; first seen "
                f"{iso(obs[0].event.time)}; last seen {iso(obs[-1].event.time)}"
            ),
            uuid=uuids("email-src", pa.persona.id, addr),
            timestamp=generated,
            first_seen=obs[0].event.time,
            last_seen=obs[-1].event.time,
            disable_correlation=False,
        )
        out.append(attr)
    return out


def _email_object(
    o: Observation, persona: str, uuids: _Uuids, generated: datetime, scrub: PathScrubber
) -> MISPObject | None:
    """An ``email`` object for one e-mail event, or None if it has neither subject nor hops."""
    from pymisp import MISPObject
    e = o.event
    hops = sorted(e.hops, key=lambda h: h.index)
    rows: list[tuple[str, str]] = []
    for key, relation in (("subject", "subject"), ("message_id", "message-id")):
        value = e.attributes.get(key)
        if value:
            rows.append((relation, value))
    sender = e.mail.from_addr if e.mail else None
    if sender and _ADDR_SPEC.match(sender):
        rows.append(("from", sender))
    rows += [("header", f"Received: {h.raw}") for h in hops if h.raw]
    if not rows:
        return None
    seen_ips = dict.fromkeys(h.from_ip for h in hops if h.from_ip)
    rows += [("received-header-ip", ip) for ip in seen_ips]
    rows.append(("ip-src", e.src_ip))
    obj = MISPObject("email", strict=True, standalone=False)
    obj.uuid = uuids("email", e.id)
    obj.timestamp = generated
    obj.first_seen = e.time
    obj.last_seen = e.time
    obj.distribution = 5  # inherit the event's
    obj.comment = _one_line(
        f"persona {persona}; {scrub.record(e.evidence.path, e.evidence.sha256)} "
        f"{e.evidence.locator}; origin trust "
        f"{e.origin_trust or 'unknown'}; event {e.id}"
    )
    for n, (relation, value) in enumerate(rows):
        obj.add_attribute(
            relation,
            value=value,
            uuid=uuids("email", e.id, n, relation, value),
            timestamp=generated,
            to_ids=False,
            # Headers are unique text, and relays' or loopback addresses in them would
            # correlate with every other e-mail in a MISP instance.
            disable_correlation=relation == "header" or not _is_public(value),
        )
    return obj


def _report_markdown(
    view: ReportView, personas: list[PersonaView], options: ReportOptions, scrub: PathScrubber
) -> str:
    out = [f"# {md(options.heading)} {iso(view.assessment.generated_at)}", ""]
    if options.tlp_label:
        out += [f"**{options.tlp_label}**", ""]
    for pv in personas:
        v = pv.assessment.verdict
        out += [
            f"## {md(pv.assessment.persona.name)}",
            "",
            md(v.statement),
            "",
            f"- ICD 203 likelihood: {md(v.likelihood)} ({pct(v.probability)})",
            f"- analytic confidence: {md(v.confidence)}",
            f"- actor: {md(view.actor_name(v.actor) or 'none')}",
            f"- slips: {len(pv.slips)}",
        ]
        out += [f"- confidence reason: {md(r)}" for r in v.confidence_reasons]
        out += [f"- linchpin: {md(x)}" for x in v.linchpins]
        out.append("")
    return scrub.text("\n".join(out))


def _event(view: ReportView, options: ReportOptions) -> MISPEvent:
    from pymisp import MISPEvent
    a = view.assessment
    uuids = _Uuids(_scope(a))
    scrub = PathScrubber.for_assessment(a, options)
    personas = shared_personas(view.personas, options.share)
    generated = a.generated_at
    event = MISPEvent()
    event.uuid = uuids("event")
    event.info = scrub.text(_info(view, personas, options))
    # The incident's date: the case's first event (the run's date only for an empty case).
    event.date = (view.observations[0].event.time if view.observations else generated).date()
    event.timestamp = generated
    event.distribution = (
        DISTRIBUTION if options.tlp is None else TLP_DISTRIBUTION[options.tlp]
    )
    event.threat_level_id = THREAT_LEVEL
    event.analysis = ANALYSIS
    event.published = False
    for tag in _event_tags(view, personas, options):
        event.add_tag(tag)
    attrs: list[MISPAttribute] = []
    objects: list[tuple[datetime, str, MISPObject]] = []
    for pv in personas:
        resting = resting_addresses(pv)
        wanted = shared_addresses(pv, options.share)
        attrs += _ip_attributes(pv, uuids, generated, wanted, resting)
        attrs += _sender_attributes(pv, uuids, generated)
        for o in _emails(pv):
            if o.event.src_ip not in wanted:
                continue
            obj = _email_object(o, pv.assessment.persona.name, uuids, generated, scrub)
            if obj is not None:
                objects.append((o.event.time, o.event.id, obj))
    for attr in sorted(attrs, key=lambda x: (x.type, x.value, x.uuid)):
        event.attributes.append(attr)
    for _, _, obj in sorted(objects, key=lambda x: (x[0], x[1])):
        event.add_object(obj)
    event.add_event_report(
        name="slipcatch verdicts",
        content=_report_markdown(view, personas, options, scrub),
        uuid=uuids("report"),
        timestamp=generated,
        distribution=5,
    )
    _keep_timestamps(event)
    return event


def _keep_timestamps(event: MISPEvent) -> None:
    # pymisp drops the timestamp of anything "edited" (so a MISP server stamps it on upload);
    # this export states its own times, so every timestamped part keeps them.
    parts: list[Any] = [event, *event.event_reports]
    for attr in event.attributes:
        parts += [attr, *attr.sightings]
    for obj in event.objects:
        parts += [obj, *obj.attributes]
    for part in parts:
        part.force_timestamp = True


def _dumps(event: MISPEvent) -> str:
    from pymisp.abstract import pymisp_json_default
    # pymisp's own default hook makes its objects JSON-able; stdlib json keeps lone surrogates
    # from non-UTF-8 evidence (escaped) where orjson would refuse them.
    return (
        json.dumps(
            {"Event": event},
            default=pymisp_json_default,
            sort_keys=True,
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )


def render_misp(assessment: Assessment, options: ReportOptions | None = None) -> str:
    """The assessment as one MISP event (JSON text ``{"Event": {...}}``, sorted keys).

    Loads with ``pymisp.MISPEvent().load(text)``. Same assessment (including
    ``generated_at``), same bytes. Evidence text is carried as data.

    Raises:
        pymisp.exceptions.PyMISPError: only for values MISP cannot hold, which a well-formed
            ``Assessment`` does not contain.
    """
    return _render(build_view(assessment), options or ReportOptions())


def _render(view: ReportView, options: ReportOptions) -> str:
    return _dumps(_event(view, options))
