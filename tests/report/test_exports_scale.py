"""STIX and MISP grow with findings, not with events: one shared persona with thousands of
cover events from thousands of addresses exports the same objects as with a few, and a slip
of many events gives a bounded number of MISP sightings."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import timedelta

import pytest

from slipcatch.model import (
    AddressFacts,
    Assessment,
    Category,
    Event,
    EvidenceRef,
    Fact,
    Observation,
)
from slipcatch.report import ReportOptions, render_misp, render_stix
from slipcatch.report._view import build_view
from slipcatch.report.misp import MAX_SIGHTINGS
from slipcatch.report.options import MAX_CONTEXT_ADDRESSES, shared_addresses

from .fixtures import HOSTILE_NAME, SLIP_IP, build_assessment


def _grown(n: int, slip_extra: int = 0) -> Assessment:
    """The fixture with ``n`` more Tor events of the hostile persona, each from its own address
    (198.18.x.y), and ``slip_extra`` more events of its slip from the slip address."""
    a = build_assessment()
    pa0 = next(p for p in a.personas if p.persona.name == HOSTILE_NAME)
    start = max(o.event.time for o in a.observations)
    exit_fact = Fact(range="198.18.0.0/15", category=Category.TOR, source="tor-exit",
                     label="exit")
    observations = list(a.observations)
    ids = list(pa0.persona.event_ids)
    slip = pa0.slips[0]
    slip_ids = list(slip.event_ids)
    for k in range(n + slip_extra):
        at = start + timedelta(seconds=k + 1)
        on_slip = k >= n
        ip = SLIP_IP if on_slip else f"198.18.{k >> 8 & 255}.{k & 255}"
        eid = f"ev--grown{k:08d}"
        event = Event(id=eid, time=at, src_ip=ip, persona=HOSTILE_NAME, channel="web",
                      evidence=EvidenceRef(path="evidence/big.log", sha256="1" * 64,
                                           locator=f"line {k + 1}"))
        category = Category.ACTOR if on_slip else Category.TOR
        address = AddressFacts(ip=ip, time=at, category=category,
                               actor="lazarus" if on_slip else None,
                               facts=() if on_slip else (exit_fact,))
        observations.append(Observation(event, address))
        ids.append(eid)
        if on_slip:
            slip_ids.append(eid)
    slip = dataclasses.replace(slip, event_ids=tuple(slip_ids))
    persona = dataclasses.replace(pa0.persona, event_ids=tuple(ids))
    pa1 = dataclasses.replace(pa0, persona=persona, slips=(slip, *pa0.slips[1:]))
    return dataclasses.replace(
        a, observations=tuple(observations),
        personas=tuple(pa1 if p is pa0 else p for p in a.personas),
    )


def _stix_types(a: Assessment, share: str) -> Counter[str]:
    bundle = json.loads(render_stix(a, ReportOptions(share=share)))
    return Counter(o["type"] for o in bundle["objects"])


def _misp_ips(a: Assessment, share: str) -> list[dict]:
    event = json.loads(render_misp(a, ReportOptions(share=share)))["Event"]
    return [x for x in event["Attribute"] if x["type"] == "ip-src"]


@pytest.mark.parametrize("share", ["attributed", "slips"])
def test_exports_do_not_grow_with_cover_events(share: str) -> None:
    small, big = _grown(0), _grown(3000)
    assert _stix_types(big, share) == _stix_types(small, share)
    assert [x["value"] for x in _misp_ips(big, share)] == [
        x["value"] for x in _misp_ips(small, share)
    ]
    assert "198.18.0.1" not in render_stix(big, ReportOptions(share=share))


def test_share_all_adds_at_most_the_busiest_context_addresses() -> None:
    small, big = _grown(0), _grown(3000)
    grown_by = _stix_types(big, "all")["observed-data"] - _stix_types(small, "all")[
        "observed-data"]
    # The persona's own context addresses (cover it used in the fixture, one or two events
    # each) sort before 198.18.*: they stay, and the rest of the MAX_CONTEXT_ADDRESSES places
    # go to the generated addresses, one event each, ties broken by address text.
    pv = next(p for p in build_view(small).personas
              if p.assessment.persona.name == HOSTILE_NAME)
    context = {o.event.src_ip for o in pv.observations} - shared_addresses(pv)
    assert context and all(not ip.startswith("198.18.") for ip in context)
    assert grown_by == MAX_CONTEXT_ADDRESSES - len(context)
    values = {x["value"] for x in _misp_ips(big, "all")}
    grown = sorted(v for v in values if v.startswith("198.18."))
    every = sorted(f"198.18.{k >> 8 & 255}.{k & 255}" for k in range(3000))
    assert grown == every[:grown_by]


def test_misp_sightings_are_capped_per_address() -> None:
    a = _grown(0, slip_extra=MAX_SIGHTINGS + 50)
    slip_attr = next(x for x in _misp_ips(a, "attributed") if x["value"] == SLIP_IP)
    total = len(next(p for p in a.personas if p.persona.name == HOSTILE_NAME).slips[0].event_ids)
    assert total == MAX_SIGHTINGS + 50 + 2  # the fixture's slip has two events
    assert len(slip_attr["Sighting"]) == MAX_SIGHTINGS
    assert (f"sightings for the first {MAX_SIGHTINGS} of its {total} slip events"
            in slip_attr["comment"])


def test_small_slip_has_one_sighting_per_event() -> None:
    a = build_assessment()
    slip_attr = next(x for x in _misp_ips(a, "attributed") if x["value"] == SLIP_IP)
    assert len(slip_attr["Sighting"]) == 2 and "sightings for the first" not in slip_attr[
        "comment"]
