"""One analysis run: evidence -> events -> observations -> findings -> assessment -> outputs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from slipcatch.analysis import MODEL_VERSION, assess
from slipcatch.evidence import IngestResult, PersonaMap, ReadOptions, ingest
from slipcatch.intel import IntelPack, load_pack
from slipcatch.model import Assessment, LayerCoverage, Observation, canonical_ip

__all__ = ["RunResult", "analyze", "coverage", "observe", "run_time"]


@dataclass(frozen=True)
class RunResult:
    """An assessment and where its outputs were written (empty when no out_dir was given)."""

    assessment: Assessment
    outputs: dict[str, Path]


def run_time() -> datetime:
    """The run's ``generated_at``: now, or ``SOURCE_DATE_EPOCH`` when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    return datetime.now(tz=UTC).replace(microsecond=0)


def observe(events: Sequence, pack: IntelPack) -> list[Observation]:
    """Pair every event with what its source address was at the event's time (and, for an
    e-mail whose sender-written headers name a client behind the entry relay, what that
    claimed client was then: ``Observation.claimed``)."""
    facts = pack.lookup([e.src_ip for e in events], [e.time for e in events])
    order: list[int] = []
    ips: list[str] = []
    for k, e in enumerate(events):
        text = e.attributes.get("claimed_client_ip")
        if not text:
            continue
        try:
            ip = canonical_ip(text)
        except ValueError:
            continue  # the reader records only addresses; a foreign table may hold anything
        if ip != e.src_ip:
            order.append(k)
            ips.append(ip)
    found = pack.lookup(ips, [events[k].time for k in order])
    claimed = dict(zip(order, found, strict=True))
    return [
        Observation(event=e, address=f, claimed=claimed.get(k))
        for k, (e, f) in enumerate(zip(events, facts, strict=True))
    ]


def coverage(observations: Sequence[Observation], pack: IntelPack) -> tuple[LayerCoverage, ...]:
    """Per dated layer of ``pack`` (Tor, routing, geolocation), its period and the number of
    events whose time no snapshot of the layer covers (docs/intel.md, "Coverage")."""
    import numpy as np

    from slipcatch.intel.addr import to_micros

    us = np.array([to_micros(o.event.time) for o in observations], np.int64)
    is_v4 = np.array([":" not in o.address.ip for o in observations], np.bool_)
    out = []
    for c in pack.coverage():
        inside = pack.covered(c["layer"], is_v4, us)
        out.append(LayerCoverage(layer=c["layer"], valid_from=c["from"], valid_to=c["to"],
                                 events_outside=int((~inside).sum())))
    return tuple(out)


def _ingest_into_case(
    case: str | Path, paths: Sequence[str | Path], options: ReadOptions
) -> IngestResult:
    """Ingest ``paths`` into the case (idempotent), then read back everything the case holds."""
    from slipcatch.case import Case

    with Case.open(case) as store:
        store.ingest(list(paths), options)
        return IngestResult(
            events=store.events(), rejections=store.rejections(), files=store.files()
        )


def analyze(
    paths: Sequence[str | Path],
    *,
    intel: Sequence[str | Path] = (),
    persona_map: str | Path | None = None,
    trusted_relays: Sequence[str] = (),
    out_dir: str | Path | None = None,
    case: str | Path | None = None,
    cache_dir: Path | None = None,
    evidence_file: str | Path | None = None,
) -> RunResult:
    """Run the whole analysis on evidence paths and return the assessment.

    With ``case``, the paths are first ingested into that case store (files it already holds
    are not read again) and the analysis covers everything the case holds; the run is then
    recorded in the case. ``paths`` may be empty to analyse a case as it is.

    Raises:
        EvidenceError: an evidence path does not exist or cannot be read.
        IntelError: an ``intel`` source cannot be recognised or loaded.
        UsageError: the persona map is malformed; the analyst evidence file (``evidence_file``,
            passed to ``analysis.assess``) cannot be read or has a bad entry.
        CaseError: the case store cannot be opened.
    """
    options = ReadOptions(
        trusted_relays=tuple(trusted_relays),
        persona_map=PersonaMap.load(persona_map) if persona_map else None,
    )
    pack = load_pack(list(intel), cache_dir=cache_dir)
    if case is None:
        ingested: IngestResult = ingest(list(paths), options)
    else:
        ingested = _ingest_into_case(case, paths, options)
    observations = observe(ingested.events, pack)
    personas = assess(observations, pack.actors, evidence_file=evidence_file)
    assessment = Assessment(
        generated_at=run_time(),
        evidence=tuple(ingested.files),
        rejections=tuple(ingested.rejections),
        pack_id=pack.pack_id,
        sources=tuple(pack.sources),
        observations=tuple(observations),
        personas=tuple(personas),
        actors=tuple(pack.actors),
        model_version=MODEL_VERSION,
        intel_rejections=tuple(pack.rejections),
        coverage=coverage(observations, pack),
    )
    outputs: dict[str, Path] = {}
    if out_dir is not None:
        from slipcatch.report import write_reports

        outputs = write_reports(assessment, Path(out_dir))
    if case is not None:
        from slipcatch.case import Case

        with Case.open(case) as store:
            store.record_run(assessment)
    return RunResult(assessment=assessment, outputs=outputs)
