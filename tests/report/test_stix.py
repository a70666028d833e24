"""stix.json: a valid STIX 2.1 bundle, deterministic, with the verdict's confidence mapped."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
import stix2
from stix2validator import ValidationOptions, validate_string

from slipcatch.model import Assessment, MailOrigin
from slipcatch.report import ReportOptions
from slipcatch.report import render_stix as _render_stix
from slipcatch.report.stix import PRODUCER_CREATED, stix_confidence

from .fixtures import GENERATED_AT, HOSTILE_NAME, SLIP_IP, TOR_IP, build_assessment

#: These tests look at everything the export can carry: every persona, paths kept. What
#: ``--share`` and ``--keep-paths`` leave out is tested in test_sharing.py.
ALL = ReportOptions(share="all", keep_paths=True)


def render_stix(a: Assessment, options: ReportOptions = ALL) -> str:
    return _render_stix(a, options)

FROM_ADDR = "gop.2014+sony@example.net"
BAD_FROM = "gop <b>@example.net"


def _objects(text: str) -> list[dict[str, Any]]:
    doc = json.loads(text)
    assert doc["type"] == "bundle"
    return list(doc["objects"])


def _by_type(objs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objs if o["type"] == kind]


def _index(objs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["id"]: o for o in objs}


def _with_sender(a: Assessment, sender: str = FROM_ADDR) -> Assessment:
    """The fixture with a From address on the slip e-mail (message 2)."""
    obs = []
    for o in a.observations:
        if o.event.evidence.locator == "message 2":
            attrs = {**o.event.attributes, "from_addr": sender}
            mail = replace(o.event.mail or MailOrigin(), from_addr=sender)
            o = replace(o, event=replace(o.event, attributes=attrs, mail=mail))
        obs.append(o)
    return replace(a, observations=tuple(obs))


def _validate(text: str) -> list[str]:
    result = validate_string(text, ValidationOptions())
    assert result.errors == []
    assert result.is_valid
    return list(result.warnings)


def test_bundle_passes_the_oasis_validator_with_only_uuid_version_warnings() -> None:
    warnings = _validate(render_stix(build_assessment()))
    # Deterministic ids are UUIDv5; the validator recommends (does not require) UUIDv4 for
    # SDOs, SROs and bundles. No other warning.
    assert len(warnings) == 19  # bundle + 18 SDOs/SROs
    assert all("is not a valid UUIDv4 ID" in w for w in warnings), warnings


def test_bundle_with_email_sender_is_valid_too() -> None:
    warnings = _validate(render_stix(_with_sender(build_assessment())))
    assert all("is not a valid UUIDv4 ID" in w for w in warnings), warnings


def test_sender_that_is_not_an_addr_spec_is_left_out() -> None:
    text = render_stix(_with_sender(build_assessment(), BAD_FROM))
    _validate(text)
    objs = _objects(text)
    assert _by_type(objs, "email-addr") == []
    assert all("from_ref" not in m for m in _by_type(objs, "email-message"))
    assert text == render_stix(build_assessment())


def test_bundle_reparses_with_stix2_without_custom_content() -> None:
    bundle = stix2.parse(render_stix(build_assessment()), allow_custom=False)
    assert bundle.type == "bundle"
    assert len(bundle.objects) == 26
    assert all(o.spec_version == "2.1" for o in bundle.objects)


def test_object_counts_for_the_fixture() -> None:
    counts = Counter(o["type"] for o in _objects(render_stix(build_assessment())))
    assert counts == {
        "identity": 1,
        "threat-actor": 1,  # lazarus; apt28 is in the pack but nothing names it
        "intrusion-set": 2,  # one per persona
        "observed-data": 7,  # (persona, address): 4 for GOP, 3 for noise
        "ipv4-addr": 5,  # 104.16.0.1 is used by both personas and is one SCO
        "ipv6-addr": 1,
        "email-message": 2,
        "sighting": 1,
        "relationship": 2,  # GOP's attributed-to, and its indicator's indicates
        "indicator": 1,  # the slip address GOP's verdict rests on
        "note": 2,  # one per verdict
        "grouping": 1,
    }


def test_sender_address_becomes_an_email_addr_referenced_by_the_message() -> None:
    objs = _objects(render_stix(_with_sender(build_assessment())))
    (addr,) = _by_type(objs, "email-addr")
    assert addr["value"] == FROM_ADDR
    msgs = {m["subject"]: m for m in _by_type(objs, "email-message")}
    assert msgs['Pay the damage & "behave wisely"']["from_ref"] == addr["id"]
    assert "from_ref" not in msgs["Notice to Sony Pictures Entertainment"]
    slip_od = [o for o in _by_type(objs, "observed-data") if addr["id"] in o["object_refs"]]
    assert len(slip_od) == 1


def test_attribution_relationship_confidence_and_note() -> None:
    objs = _objects(render_stix(build_assessment()))
    index = _index(objs)
    (rel,) = [r for r in _by_type(objs, "relationship") if r["relationship_type"] != "indicates"]
    assert rel["relationship_type"] == "attributed-to"
    assert rel["confidence"] == 93
    source, target = index[rel["source_ref"]], index[rel["target_ref"]]
    assert source["type"] == "intrusion-set" and source["name"] == HOSTILE_NAME
    assert target["type"] == "threat-actor"
    assert target["name"] == "Lazarus Group"
    assert target["aliases"] == ["Guardians of Peace", "HIDDEN COBRA"]
    notes = {n["object_refs"][-1]: n for n in _by_type(objs, "note")}
    note = notes[source["id"]]
    assert note["object_refs"] == [rel["id"], source["id"]]
    assert note["content"].startswith(f"We assess it is very likely (93%) that {HOSTILE_NAME}")
    assert "ICD 203 likelihood: very likely (93.0%)." in note["content"]
    assert "Analytic confidence: moderate." in note["content"]
    assert note["abstract"] == f"{HOSTILE_NAME}: very likely (93.0%), Lazarus Group"
    noise = next(i for i in _by_type(objs, "intrusion-set") if i["name"] == "noise")
    assert notes[noise["id"]]["object_refs"] == [noise["id"]]
    assert notes[noise["id"]]["abstract"] == "noise: likely (75.0%), no named actor"


def test_sighting_of_the_slip_points_at_its_observed_data() -> None:
    objs = _objects(render_stix(build_assessment()))
    index = _index(objs)
    (sighting,) = _by_type(objs, "sighting")
    assert index[sighting["sighting_of_ref"]]["name"] == HOSTILE_NAME
    assert sighting["count"] == 2
    assert sighting["first_seen"] == "2014-11-21T09:00:00Z"
    assert sighting["last_seen"] == "2014-11-21T09:02:00Z"
    (od_id,) = sighting["observed_data_refs"]
    od = index[od_id]
    assert od["number_observed"] == 2
    assert od["first_observed"] == "2014-11-21T09:00:00Z"
    assert od["last_observed"] == "2014-11-21T09:02:00Z"
    assert od["labels"] == ["category:actor"]
    refs = [index[r] for r in od["object_refs"]]
    assert sorted(r["type"] for r in refs) == ["email-message", "ipv4-addr"]
    assert [r["value"] for r in refs if r["type"] == "ipv4-addr"] == [SLIP_IP]
    assert {e["description"] for e in od["external_references"]} == {
        "evidence/gop-mail.mbox",
        "evidence/posts & <logins>.csv",
    }


def test_observed_data_groups_events_by_persona_and_address() -> None:
    objs = _objects(render_stix(build_assessment()))
    index = _index(objs)
    tor = []
    for od in _by_type(objs, "observed-data"):
        values = [index[r].get("value") for r in od["object_refs"]]
        if TOR_IP in values:
            tor.append(od)
    (od,) = tor
    assert od["number_observed"] == 2  # an e-mail and a web event from the Tor exit
    assert (od["first_observed"], od["last_observed"]) == (
        "2014-11-21T08:00:00Z",
        "2014-11-21T09:05:30Z",
    )
    (msg,) = [index[r] for r in od["object_refs"] if r.startswith("email-message--")]
    assert msg["subject"] == "Notice to Sony Pictures Entertainment"
    assert msg["is_multipart"] is False
    assert msg["received_lines"][1] == (
        "from [<unknown>] ([171.25.193.20]) by relay.mail.example with ESMTPSA"
    )
    v6 = _by_type(objs, "ipv6-addr")
    assert [x["value"] for x in v6] == ["2a02:8108::1"]


def test_grouping_references_every_other_object() -> None:
    objs = _objects(render_stix(build_assessment()))
    (grouping,) = _by_type(objs, "grouping")
    assert grouping["context"] == "suspicious-activity"
    assert objs[-1] is grouping
    assert set(grouping["object_refs"]) == {o["id"] for o in objs} - {grouping["id"]}
    assert grouping["object_refs"] == sorted(grouping["object_refs"])


def test_created_and_modified_are_generated_at_except_for_the_producer() -> None:
    objs = _objects(render_stix(build_assessment()))
    producer = objs[0]
    assert producer["type"] == "identity" and producer["name"] == "slipcatch"
    assert producer["created"] == PRODUCER_CREATED.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    stamped = [o for o in objs if "created" in o and o is not producer]
    assert len(stamped) == 17
    assert {(o["created"], o["modified"]) for o in stamped} == {
        ("2024-05-01T12:00:00.000Z", "2024-05-01T12:00:00.000Z")
    }
    assert {o["created_by_ref"] for o in stamped} == {producer["id"]}


def test_rerun_gives_identical_bytes_and_a_new_run_new_sdo_ids() -> None:
    one = render_stix(build_assessment())
    assert render_stix(build_assessment()) == one
    assert one.endswith("}\n")
    later = render_stix(replace(build_assessment(), generated_at=GENERATED_AT.replace(hour=13)))
    a, b = _objects(one), _objects(later)
    assert [o["type"] for o in a] == [o["type"] for o in b]
    same = {o["id"] for o in a} & {o["id"] for o in b}
    # The producer and the SCOs (ids from their values) are the same objects in both runs.
    assert {i.split("--")[0] for i in same} == {
        "identity",
        "ipv4-addr",
        "ipv6-addr",
        "email-message",
    }
    assert len(same) == 1 + 5 + 1 + 2


def test_hostile_persona_name_is_kept_as_data() -> None:
    text = render_stix(build_assessment())
    names = {i["name"] for i in _by_type(_objects(text), "intrusion-set")}
    assert names == {HOSTILE_NAME, "noise"}
    assert '"name": "GOP <script>alert(1)</script> \\"God\'sApstls\\" & Co | `wiper`"' in text
    aliases = next(
        i for i in _by_type(_objects(text), "intrusion-set") if i["name"] == HOSTILE_NAME
    )["aliases"]
    assert aliases == ["<script>alert(1)</script>@example.net", "gop@example.net"]


def test_lone_surrogate_in_a_persona_name_does_not_break_the_bundle() -> None:
    a = build_assessment()
    gop = a.personas[1]
    name = "bad\udcffbyte"
    a = replace(a, personas=(a.personas[0], replace(gop, persona=replace(gop.persona, name=name))))
    text = render_stix(a)
    assert name in {i["name"] for i in _by_type(_objects(text), "intrusion-set")}


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0.0, 0),
        (0.004, 0),
        (0.25, 25),
        (0.5, 50),
        (0.93, 93),
        (0.999, 100),
        (1.0, 100),
        (1.0000001, 100),
        (-0.01, 0),
        (math.nan, 0),
    ],
)
def test_stix_confidence_is_the_probability_in_percent(p: float, expected: int) -> None:
    assert stix_confidence(p) == expected
