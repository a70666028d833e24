"""STIX 2.1 export of an assessment: one bundle, built with the OASIS ``stix2`` library.

What goes in (see docs/sharing.md for the reasoning):

* an ``identity`` for the producer (slipcatch), the same object in every bundle;
* a ``threat-actor`` for every actor a verdict or a slip names;
* per persona an ``intrusion-set``: the adversary cluster the evidence shows;
* per (persona, shared address) one ``observed-data`` over the ``ipv4-addr`` / ``ipv6-addr`` SCO,
  plus an ``email-message`` (and ``email-addr`` for its sender) for each e-mail event from that
  address, with first/last observed and the number of events. The shared addresses are the
  persona's findings (:func:`.options.shared_addresses`: slips, actor-range addresses, the
  addresses the verdict rests on), so the bundle grows with findings, not with events;
* per slip a ``sighting`` of the persona's intrusion-set, pointing at its observed-data;
* per attributed verdict an ``attributed-to`` relationship (persona -> actor) whose ``confidence``
  is the posterior probability in percent, and per verdict a ``note`` holding the ICD 203
  statement verbatim;
* a ``grouping`` (context ``suspicious-activity``) referencing everything else.

Only the personas ``ReportOptions.share`` selects go in (default ``attributed``: actor verdicts
above "roughly even chance"); each address the verdict rests on is also an ``indicator`` that
``indicates`` the intrusion-set. With ``ReportOptions.tlp`` the TLP 2.0
``marking-definition`` is in the bundle and every object but the producer identity (the same
object in every bundle) names it in ``object_marking_refs``. Local paths leave as file names
(with SHA-256 in the external references) unless ``keep_paths``.

Deterministic: SDO/SRO ids are UUIDv5 over canonical content under :data:`NAMESPACE`, SCO ids are
the STIX-defined UUIDv5, ``created``/``modified`` are the assessment's ``generated_at`` and the
bundle is serialized with sorted keys.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import stix2.v21 as stix

from slipcatch.model import Actor, Assessment, Observation, Verdict

from ._format import iso, pct
from ._view import PersonaView, ReportView, build_view
from .options import (
    PathScrubber,
    ReportOptions,
    resting_addresses,
    shared_addresses,
    shared_personas,
)

__all__ = ["NAMESPACE", "PRODUCER_CREATED", "TLP_MARKINGS", "render_stix", "stix_confidence"]

#: Namespace of every slipcatch SDO/SRO id (UUIDv5 of the project's name in the URL namespace).
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://slipcatch.invalid/stix/2.1")
#: The STIX namespace for SCO ids (STIX 2.1 section 2.9), for SCOs whose contributing
#: properties cannot tell two objects apart (see :func:`_email_message`).
SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
#: ``created`` of the producer identity. STIX forbids changing ``created`` between versions of
#: one object, and the identity is the same object in every bundle, so it cannot be a run time.
PRODUCER_CREATED = datetime(2024, 1, 1, tzinfo=UTC)
PRODUCER_NAME = "slipcatch"
# An RFC 5322 addr-spec in the (ASCII, dot-atom) form the OASIS validator accepts; a sender
# that is not one cannot be an email-addr (STIX 2.1 section 6.5) and stays in events.jsonl.
_ADDR_SPEC = re.compile(r"^[A-Za-z0-9_.+-]+@[A-Za-z0-9-]+\.[A-Za-z0-9.-]+$")
#: STIX ``number_observed`` / ``count`` upper bound (STIX 2.1 sections 4.13 and 5.2).
MAX_COUNT = 999_999_999
#: The OASIS TLP 2.0 extension (cti-stix-common-objects, extension-definition-specifications).
TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
#: The published TLP 2.0 marking-definition ids: fixed, never generated.
TLP_MARKINGS: dict[str, str] = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP_CREATED = datetime(2022, 10, 1, tzinfo=UTC)


def tlp_marking(level: str) -> stix.MarkingDefinition:
    """The published TLP 2.0 marking-definition object of a level (``clear`` ... ``red``)."""
    return stix.MarkingDefinition(
        id=TLP_MARKINGS[level],
        created=TLP_CREATED,
        name="TLP:" + level.upper(),
        extensions={TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}},
    )


def stix_confidence(probability: float) -> int:
    """STIX ``confidence`` (0-100) for a posterior probability: the probability in percent.

    The STIX DNI scale bins (0-9, 10-19, 20-39, 40-59, 60-79, 80-89, 90-100) differ from the
    ICD 203 bands, so a consumer translating this number back into words may get another word
    than ours; the ICD 203 word is kept verbatim in the verdict's note. Non-finite input gives 0.
    """
    if not math.isfinite(probability):
        return 0
    return min(100, max(0, round(probability * 100)))


def _canonical(*parts: object) -> str:
    # ASCII with escapes: evidence text may hold lone surrogates (undecodable bytes kept with
    # surrogateescape), which uuid5 could not encode as UTF-8.
    return json.dumps([str(p) for p in parts], ensure_ascii=True, separators=(",", ":"))


@dataclass
class _Ids:
    """Deterministic SDO/SRO ids, scoped to one run of one case."""

    scope: str

    def __call__(self, kind: str, *parts: object) -> str:
        name = _canonical(kind, self.scope, *parts).encode("utf-8", "surrogatepass")
        # uuid5 takes text; hashing first keeps hostile (surrogate-bearing) text usable.
        return f"{kind}--{uuid.uuid5(NAMESPACE, hashlib.sha256(name).hexdigest())}"


def _scope(a: Assessment) -> str:
    """What makes one run of one case: its time, evidence and intel pack."""
    files = sorted(f"{f.sha256}:{f.path}" for f in a.evidence)
    return _canonical(iso(a.generated_at), a.pack_id, *files)


def _producer() -> stix.Identity:
    return stix.Identity(
        id=f"identity--{uuid.uuid5(NAMESPACE, 'producer:' + PRODUCER_NAME)}",
        name=PRODUCER_NAME,
        identity_class="system",
        description="slipcatch: attribution of hostile network activity from evidence slips.",
        created=PRODUCER_CREATED,
        modified=PRODUCER_CREATED,
    )


@dataclass
class _Bundle:
    """Objects collected in creation order, de-duplicated by id (SCOs recur across personas)."""

    objects: dict[str, Any] = field(default_factory=dict)

    def add(self, obj: Any) -> str:
        self.objects.setdefault(obj.id, obj)
        return str(obj.id)


def _supported_actors(view: ReportView, personas: Sequence[PersonaView]) -> list[Actor]:
    """Actors that a shared verdict or slip names; others in the pack are not part of this."""
    named = set()
    for pv in personas:
        if pv.assessment.verdict.actor:
            named.add(pv.assessment.verdict.actor)
        named.update(s.attributed_to for s in pv.slips if s.attributed_to)
    return [a for a in view.actors if a.id in named]


def _threat_actor(actor: Actor, ids: _Ids, common: dict[str, Any]) -> stix.ThreatActor:
    lines = []
    if actor.country:
        lines.append(f"Sponsor country: {actor.country}.")
    lines += [f"Source: {s}" for s in actor.sources]
    lines += [f"Caveat: {c}" for c in actor.caveats]
    aliases = sorted({x for x in actor.aliases if x != actor.name})
    return stix.ThreatActor(
        id=ids("threat-actor", actor.id),
        name=actor.name,
        aliases=aliases or None,
        description="\n".join(lines) or None,
        **common,
    )


def _intrusion_set(pv: PersonaView, ids: _Ids, common: dict[str, Any]) -> stix.IntrusionSet:
    p = pv.assessment.persona
    times = [o.event.time for o in pv.observations]
    aliases = sorted({x for x in p.identities if x != p.name})
    desc = (
        f"Persona observed by slipcatch: {len(set(p.event_ids))} events on channels "
        f"{', '.join(sorted(p.channels))}; cover ratio {pct(p.cover_ratio)}; "
        f"{len(pv.slips)} slips."
    )
    return stix.IntrusionSet(
        id=ids("intrusion-set", p.id),
        name=p.name,
        aliases=aliases or None,
        description=desc,
        first_seen=min(times) if times else None,
        last_seen=max(times) if times else None,
        **common,
    )


def _address_sco(ip: str, marks: dict[str, Any]) -> Any:
    # stix2 derives the id from the value (UUIDv5), so one address is one object everywhere.
    return stix.IPv6Address(value=ip, **marks) if ":" in ip else stix.IPv4Address(value=ip, **marks)


def _email_message(o: Observation, sender: str | None, marks: dict[str, Any]) -> stix.EmailMessage:
    """The e-mail event as an ``email-message`` SCO with its Received lines.

    The STIX contributing properties (from, subject, body) would merge two different messages
    with the same sender and subject, so the id is UUIDv5 over the event id instead, in the STIX
    SCO namespace. ``is_multipart`` is required by STIX; slipcatch keeps no MIME structure and
    states ``false``.
    """
    e = o.event
    received = [h.raw for h in sorted(e.hops, key=lambda h: h.index) if h.raw]
    return stix.EmailMessage(
        id=f"email-message--{uuid.uuid5(SCO_NAMESPACE, _canonical('slipcatch-event', e.id))}",
        is_multipart=False,
        from_ref=sender,
        subject=e.attributes.get("subject"),
        message_id=e.attributes.get("message_id"),
        received_lines=received or None,
        **marks,
    )


def _is_email(o: Observation) -> bool:
    # The same test the other reports use to show a Received chain (see _view).
    return bool(o.event.hops) or o.event.origin_trust is not None


def _emails(pv: PersonaView) -> list[Observation]:
    """All the persona's e-mail events, in time order (the view caps the ones it shows)."""
    return [o for o in pv.observations if _is_email(o)]


def _observed(
    pv: PersonaView,
    bundle: _Bundle,
    ids: _Ids,
    common: dict[str, Any],
    scrub: PathScrubber,
    addresses: set[str],
) -> dict[str, str]:
    """One observed-data per address of the persona in ``addresses``; returns address ->
    observed-data id."""
    marks = _marks(common)
    by_ip: dict[str, list[Observation]] = defaultdict(list)
    for o in pv.observations:
        if o.event.src_ip in addresses:
            by_ip[o.event.src_ip].append(o)
    out: dict[str, str] = {}
    pid = pv.assessment.persona.id
    for ip in sorted(by_ip):
        obs = by_ip[ip]  # in time order (from the view)
        refs = [bundle.add(_address_sco(ip, marks))]
        for o in obs:
            if not _is_email(o):
                continue
            sender = o.event.mail.from_addr if o.event.mail else None
            if sender and not _ADDR_SPEC.match(sender):
                sender = None
            sender_ref = bundle.add(stix.EmailAddress(value=sender, **marks)) if sender else None
            if sender_ref:
                refs.append(sender_ref)
            refs.append(bundle.add(_email_message(o, sender_ref, marks)))
        categories = sorted({str(o.address.category) for o in obs})
        files = sorted({(o.event.evidence.path, o.event.evidence.sha256) for o in obs})
        od = stix.ObservedData(
            id=ids("observed-data", pid, ip),
            first_observed=obs[0].event.time,
            last_observed=obs[-1].event.time,
            number_observed=min(len(obs), MAX_COUNT),
            object_refs=sorted(set(refs)),
            labels=[f"category:{c}" for c in categories],
            external_references=[
                {
                    "source_name": "slipcatch-evidence",
                    "description": scrub.name(path),
                    "hashes": {"SHA-256": sha},
                }
                for path, sha in files
                if sha
            ]
            or None,
            **common,
        )
        out[ip] = bundle.add(od)
    return out


def _marks(common: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in common.items() if k == "object_marking_refs"}


def _verdict_text(v: Verdict, actor_name: str | None) -> str:
    lines = [
        v.statement,
        "",
        f"ICD 203 likelihood: {v.likelihood} ({pct(v.probability)}).",
        f"Analytic confidence: {v.confidence}.",
    ]
    if actor_name:
        lines.append(f"Actor: {actor_name}.")
    lines += [f"Confidence reason: {r}" for r in v.confidence_reasons]
    lines += [f"Linchpin: {x}" for x in v.linchpins]
    lines.append(
        f"STIX confidence {stix_confidence(v.probability)} is the posterior probability in "
        "percent; the ICD 203 word above is the assessment's own."
    )
    return "\n".join(lines)


def _persona_objects(
    pv: PersonaView,
    view: ReportView,
    bundle: _Bundle,
    ids: _Ids,
    common: dict[str, Any],
    actor_refs: dict[str, str],
    options: ReportOptions,
    scrub: PathScrubber,
) -> None:
    pa = pv.assessment
    intrusion = bundle.add(_intrusion_set(pv, ids, common))
    resting = resting_addresses(pv)
    observed = _observed(pv, bundle, ids, common, scrub, shared_addresses(pv, options.share))
    first_seen: dict[str, datetime] = {}
    for o in pv.observations:
        first_seen.setdefault(o.event.src_ip, o.event.time)
    for ip in sorted(resting):
        kind = "ipv6-addr" if ":" in ip else "ipv4-addr"
        indicator = bundle.add(
            stix.Indicator(
                id=ids("indicator", pa.persona.id, ip),
                name=f"{ip}: exposed address of persona {pa.persona.name}",
                description=(
                    f"An address the attribution of persona {pa.persona.name} rests on: "
                    "an exposed (not cover) address cited by a line supporting the verdict."
                ),
                indicator_types=["attribution"],
                pattern=f"[{kind}:value = '{ip}']",
                pattern_type="stix",
                valid_from=first_seen.get(ip, pv.observations[0].event.time),
                **common,
            )
        )
        bundle.add(
            stix.Relationship(
                id=ids("relationship", pa.persona.id, "indicates", ip),
                relationship_type="indicates",
                source_ref=indicator,
                target_ref=intrusion,
                **common,
            )
        )
    for s in pv.slips:
        od = observed.get(s.ip)
        bundle.add(
            stix.Sighting(
                id=ids("sighting", pa.persona.id, s.id),
                sighting_of_ref=intrusion,
                observed_data_refs=[od] if od else None,
                first_seen=s.first_seen,
                last_seen=s.last_seen,
                count=min(s.events, MAX_COUNT),
                description=(
                    f"Slip {s.id}: {s.events} exposed events from {s.ip} "
                    f"(category {s.category}) amid cover."
                ),
                **common,
            )
        )
    v = pa.verdict
    refs = [intrusion]
    if v.actor and v.actor in actor_refs:
        rel = bundle.add(
            stix.Relationship(
                id=ids("relationship", pa.persona.id, "attributed-to", v.actor),
                relationship_type="attributed-to",
                source_ref=intrusion,
                target_ref=actor_refs[v.actor],
                confidence=stix_confidence(v.probability),
                description=f"ICD 203: {v.likelihood} ({pct(v.probability)}), "
                f"{v.confidence} confidence.",
                **common,
            )
        )
        refs.insert(0, rel)
    actor_name = view.actor_name(v.actor)
    abstract = (
        f"{pa.persona.name}: {v.likelihood} ({pct(v.probability)}), "
        f"{actor_name or 'no named actor'}"
    )
    bundle.add(
        stix.Note(
            id=ids("note", pa.persona.id, "verdict"),
            abstract=abstract,
            content=scrub.text(_verdict_text(v, actor_name)),
            authors=[PRODUCER_NAME],
            object_refs=refs,
            **common,
        )
    )


def _objects(view: ReportView, options: ReportOptions) -> list[Any]:
    """The STIX objects of the bundle, in a fixed order (identity first, grouping last)."""
    assessment = view.assessment
    ids = _Ids(_scope(assessment))
    scrub = PathScrubber.for_assessment(assessment, options)
    producer = _producer()
    bundle = _Bundle()
    bundle.add(producer)
    common: dict[str, Any] = {
        "created_by_ref": producer.id,
        "created": assessment.generated_at,
        "modified": assessment.generated_at,
    }
    if options.tlp is not None:
        common["object_marking_refs"] = [bundle.add(tlp_marking(options.tlp))]
    personas = shared_personas(view.personas, options.share)
    actor_refs = {
        a.id: bundle.add(_threat_actor(a, ids, common))
        for a in _supported_actors(view, personas)
    }
    for pv in personas:
        _persona_objects(pv, view, bundle, ids, common, actor_refs, options, scrub)
    refs = sorted(i for i in bundle.objects if not i.startswith("marking-definition--"))
    grouping = stix.Grouping(
        id=ids("grouping", "case"),
        name=f"{options.heading} {iso(assessment.generated_at)}",
        description=(
            f"{len(personas)} of {len(view.personas)} personas shared ({options.share}), "
            f"{view.total_events} events, intel pack "
            f"{assessment.pack_id}, model {assessment.model_version or 'unversioned'}."
        ),
        context="suspicious-activity",
        object_refs=refs,
        **common,
    )
    return [*bundle.objects.values(), grouping]


def _serialize(objects: Sequence[Any]) -> str:
    digest = hashlib.sha256("\n".join(sorted(str(o.id) for o in objects)).encode()).hexdigest()
    bundle_id = f"bundle--{uuid.uuid5(NAMESPACE, digest)}"
    bundle = stix.Bundle(objects=list(objects), id=bundle_id, allow_custom=False)
    return bundle.serialize(sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def render_stix(assessment: Assessment, options: ReportOptions | None = None) -> str:
    """The assessment as a STIX 2.1 bundle (JSON text, sorted keys, trailing newline).

    Same assessment (including ``generated_at``), same bytes. Evidence text (persona names,
    subjects, Received lines) is carried as data; JSON escapes what it must.

    Raises:
        stix2.exceptions.STIXError: only if the assessment holds values STIX cannot represent
            (e.g. an e-mail event whose source address is not an address), which a well-formed
            ``Assessment`` does not.
    """
    return _render(build_view(assessment), options or ReportOptions())


def _render(view: ReportView, options: ReportOptions) -> str:
    return _serialize(_objects(view, options))
