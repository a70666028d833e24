"""misp-event.json: loads in pymisp, round-trips, carries the verdict as MISP tags."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from pymisp import MISPEvent

from slipcatch.model import ICD203_BANDS, Actor, Assessment, EvidenceLine, MailOrigin
from slipcatch.report import ReportOptions
from slipcatch.report import render_misp as _render_misp
from slipcatch.report.misp import (
    ESTIMATIVE_LANGUAGE,
    admiralty_tags,
    galaxy_value,
    to_ids_for,
)

from .fixtures import GENERATED_AT, HOSTILE_NAME, SLIP_IP, TOR_IP, build_assessment

#: These tests look at everything the export can carry: every persona, paths kept. What
#: ``--share`` and ``--keep-paths`` leave out is tested in test_sharing.py.
ALL = ReportOptions(share="all", keep_paths=True)


def render_misp(a: Assessment, options: ReportOptions = ALL) -> str:
    return _render_misp(a, options)

GENERATED_TS = int(GENERATED_AT.timestamp())
GOP = f"persona {HOSTILE_NAME}"


def _load(text: str) -> MISPEvent:
    event = MISPEvent()
    event.load(text)
    return event


def _doc(text: str) -> dict[str, Any]:
    return dict(json.loads(text)["Event"])


def _with_sender(a: Assessment, sender: str) -> Assessment:
    obs = []
    for o in a.observations:
        if o.event.evidence.locator == "message 2":
            attrs = {**o.event.attributes, "from_addr": sender, "message_id": "<1@gop>"}
            mail = replace(o.event.mail or MailOrigin(), from_addr=sender)
            o = replace(o, event=replace(o.event, attributes=attrs, mail=mail))
        obs.append(o)
    return replace(a, observations=tuple(obs))


def _summary(event: MISPEvent) -> dict[str, Any]:
    """What a consumer reads from an event: attributes, tags, objects, sightings."""
    return {
        "info": event.info,
        "tags": sorted(t.name for t in event.tags),
        "attributes": sorted(
            (
                a.uuid,
                a.type,
                a.value,
                a.to_ids,
                a.comment,
                tuple(t.name for t in a.tags),
                tuple((s.uuid, str(s.timestamp)) for s in a.sightings),
            )
            for a in event.attributes
        ),
        "objects": sorted(
            (
                o.uuid,
                o.name,
                o.comment,
                tuple((x.uuid, x.object_relation, x.value) for x in o.attributes),
            )
            for o in event.objects
        ),
        "reports": [(r.uuid, r.name, r.content) for r in event.event_reports],
    }


def test_event_loads_and_round_trips_through_pymisp() -> None:
    text = render_misp(build_assessment())
    first = _load(text)
    second = _load(first.to_json())
    assert _summary(second) == _summary(first)
    assert json.loads(first.to_json()) == _doc(text)
    assert len(first.attributes) == 7 and len(first.objects) == 2


def test_event_header() -> None:
    doc = _doc(render_misp(build_assessment()))
    assert doc["info"] == (
        f"slipcatch assessment 2024-05-01T12:00:00Z: {HOSTILE_NAME} is very likely Lazarus "
        "Group (93.0%, moderate confidence); 1 persona without attribution"
    )
    # The incident's date (the case's first event), not the day the export was made.
    assert (doc["date"], doc["timestamp"]) == ("2014-11-21", str(GENERATED_TS))
    assert (doc["distribution"], doc["threat_level_id"], doc["analysis"]) == ("0", "4", "1")
    assert doc["published"] is False


def test_event_tags_name_actor_likelihood_and_admiralty_code() -> None:
    event = _load(render_misp(build_assessment()))
    assert sorted(t.name for t in event.tags) == [
        'admiralty-scale:information-credibility="2"',  # L1-actor-range, B2, a linchpin
        'admiralty-scale:source-reliability="b"',
        'estimative-language:likelihood-probability="very-likely"',
        'misp-galaxy:threat-actor="Lazarus Group"',
    ]


def test_ip_src_attributes_per_persona_and_address() -> None:
    event = _load(render_misp(build_assessment()))
    rows = sorted((a.value, a.to_ids, a.comment.split(";")[0]) for a in event.attributes)
    assert rows == [
        ("104.16.0.1", False, GOP),
        ("104.16.0.1", False, "persona noise"),
        ("171.25.193.20", False, GOP),
        ("175.45.176.10", True, GOP),  # the only actor-range address is an IDS indicator
        ("185.100.87.1", False, GOP),
        ("2a02:8108::1", False, "persona noise"),
        ("98.0.0.1", False, "persona noise"),
    ]
    assert {a.type for a in event.attributes} == {"ip-src"}
    assert {a.category for a in event.attributes} == {"Network activity"}
    tor = next(a for a in event.attributes if a.value == TOR_IP)
    assert tor.comment == (
        f"{GOP}; category at the time: tor; 2 events; first seen 2014-11-21T08:00:00Z; "
        "last seen 2014-11-21T09:05:30Z"
    )
    assert tor.first_seen == datetime(2014, 11, 21, 8, 0, tzinfo=UTC)
    assert tor.last_seen == datetime(2014, 11, 21, 9, 5, 30, tzinfo=UTC)
    assert tor.tags == [] and tor.sightings == []


def test_slip_address_has_a_sighting_per_slip_event_and_the_line_admiralty_tags() -> None:
    event = _load(render_misp(build_assessment()))
    slip = next(a for a in event.attributes if a.value == SLIP_IP)
    assert slip.comment.endswith(
        "; slips slip--0268cc4cb7892eea; the attribution rests on this address"
    )
    assert sorted(int(s.timestamp) for s in slip.sightings) == [
        int(datetime(2014, 11, 21, 9, 0, tzinfo=UTC).timestamp()),
        int(datetime(2014, 11, 21, 9, 2, tzinfo=UTC).timestamp()),
    ]
    assert {(s.source, s.type) for s in slip.sightings} == {("slipcatch", "0")}
    # Cited by L1 (B2), L2 (C3) and L3 (D4): the strongest code wins.
    assert sorted(t.name for t in slip.tags) == [
        'admiralty-scale:information-credibility="2"',
        'admiralty-scale:source-reliability="b"',
    ]
    noise = [a for a in event.attributes if a.comment.startswith("persona noise")]
    assert {t.name for a in noise for t in a.tags} == {
        'admiralty-scale:information-credibility="3"',  # L4-no-slip, C3
        'admiralty-scale:source-reliability="c"',
    }


def test_email_objects_carry_subject_and_received_hops() -> None:
    event = _load(render_misp(build_assessment()))
    assert [o.name for o in event.objects] == ["email", "email"]
    first, second = event.objects
    assert first.comment.startswith(f"{GOP}; evidence/gop-mail.mbox message 1;")
    rel = [(x.object_relation, x.value) for x in second.attributes]
    assert rel == [
        ("subject", 'Pay the damage & "behave wisely"'),
        (
            "header",
            "Received: from relay.mail.example ([192.0.2.25]) by mx1.spe.example with ESMTPS",
        ),
        (
            "header",
            "Received: from [<unknown>] ([175.45.176.10]) by relay.mail.example with ESMTPSA",
        ),
        ("header", "Received: from localhost by gop | `box`"),
        ("received-header-ip", "192.0.2.25"),
        ("received-header-ip", SLIP_IP),
        ("received-header-ip", "127.0.0.1"),
        ("ip-src", SLIP_IP),
    ]
    no_correlation = {x.value for x in second.attributes if x.disable_correlation}
    assert "192.0.2.25" in no_correlation and "127.0.0.1" in no_correlation
    assert SLIP_IP not in no_correlation
    assert not any(x.to_ids for x in second.attributes)


def test_sender_becomes_email_src_and_object_from() -> None:
    event = _load(render_misp(_with_sender(build_assessment(), "gop.2014@example.net")))
    (src,) = [a for a in event.attributes if a.type == "email-src"]
    assert src.value == "gop.2014@example.net"
    assert src.to_ids is False
    assert src.comment.startswith(f"{GOP}; 1 messages;")
    second = event.objects[1]
    rel = {x.object_relation: x.value for x in second.attributes}
    assert rel["from"] == "gop.2014@example.net"
    assert rel["message-id"] == "<1@gop>"


def test_sender_that_is_not_an_address_is_left_out() -> None:
    event = _load(render_misp(_with_sender(build_assessment(), "gop <b>@example.net")))
    assert [a for a in event.attributes if a.type == "email-src"] == []
    assert "from" not in {x.object_relation for x in event.objects[1].attributes}


def test_event_report_states_every_verdict_with_markup_made_inert() -> None:
    (report,) = _load(render_misp(build_assessment())).event_reports
    assert report.name == "slipcatch verdicts"
    assert "## GOP &lt;script&gt;alert(1)&lt;/script&gt;" in report.content
    assert "<script>" not in report.content
    assert "It is likely (75%) that noise is not a known actor." in report.content


def test_rerun_gives_identical_bytes_and_timestamps_are_fixed() -> None:
    one = render_misp(build_assessment())
    assert render_misp(build_assessment()) == one
    assert one.endswith("}\n")
    doc = _doc(one)
    stamps = {a["timestamp"] for a in doc["Attribute"]}
    stamps |= {x["timestamp"] for o in doc["Object"] for x in o["Attribute"]}
    assert stamps == {str(GENERATED_TS)}
    later = _doc(
        render_misp(replace(build_assessment(), generated_at=GENERATED_AT.replace(hour=13)))
    )
    assert later["uuid"] != doc["uuid"]
    assert [a["value"] for a in later["Attribute"]] == [a["value"] for a in doc["Attribute"]]


def test_hostile_persona_name_is_kept_as_data() -> None:
    text = render_misp(build_assessment())
    event = _load(text)
    assert HOSTILE_NAME in event.info
    assert sum(a.comment.startswith(GOP) for a in event.attributes) == 4
    lone = "bad\udcffbyte"
    a = build_assessment()
    gop = a.personas[1]
    a = replace(a, personas=(a.personas[0], replace(gop, persona=replace(gop.persona, name=lone))))
    comments = [x.comment for x in _load(render_misp(a)).attributes]
    assert sum(c.startswith(f"persona {lone};") for c in comments) == 4


def test_galaxy_value_prefers_the_registry_citation() -> None:
    real = Actor(
        id="dprk-rgb",
        name="DPRK Reconnaissance General Bureau (Lazarus Group)",
        aliases=("Lazarus Group", "Guardians of Peace"),
        sources=(
            "Novetta, Operation Blockbuster",
            "MISP galaxy threat-actor 'Lazarus Group' (uuid 68391641-859f-4a9a-9a1e-"
            "3e5cf71ec376), country KP",
        ),
    )
    assert galaxy_value(real) == "Lazarus Group"
    assert galaxy_value(Actor(id="apt28", name="APT28", aliases=("Sofacy",))) == "APT28"


def test_estimative_language_covers_every_icd203_term() -> None:
    assert set(ESTIMATIVE_LANGUAGE) == {term for term, _, _ in ICD203_BANDS}
    assert ESTIMATIVE_LANGUAGE["roughly even chance"] == "roughly-even-chance"


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (("C3", "B2", "D4"), ("b", "2")),
        (("b6", "B1"), ("b", "1")),
        (("A6", "B1"), ("a", "6")),
        (("G1", "B7", "", "B22"), None),
    ],
)
def test_admiralty_tags_take_the_strongest_valid_code(
    codes: tuple[str, ...], expected: tuple[str, str] | None
) -> None:
    lines = [
        EvidenceLine(id=f"L{i}", kind="k", summary="s", likelihoods={}, reliability=c, rule="r")
        for i, c in enumerate(codes)
    ]
    tags = admiralty_tags(lines)
    if expected is None:
        assert tags == []
    else:
        assert tags == [
            f'admiralty-scale:information-credibility="{expected[1]}"',
            f'admiralty-scale:source-reliability="{expected[0]}"',
        ]


def test_only_actor_range_addresses_are_ids_indicators() -> None:
    assert to_ids_for(["actor"]) is True
    assert to_ids_for(["tor", "actor"]) is True
    for c in ("tor", "vpn", "proxy", "hosting", "residential", "reserved", "unknown"):
        assert to_ids_for([c]) is False
