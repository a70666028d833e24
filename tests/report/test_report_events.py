"""events.jsonl: one object per event, in time order, with the contract's fields."""

from __future__ import annotations

import json

from slipcatch.report import events_lines

from .fixtures import HOSTILE_NAME, SLIP_IP, build_assessment

REQUIRED = {"id", "time", "src_ip", "persona", "channel", "path", "locator", "category"}


def _records() -> list[dict]:
    return [json.loads(line) for line in events_lines(build_assessment())]


def test_one_compact_line_per_event_in_time_order() -> None:
    lines = list(events_lines(build_assessment()))
    assert len(lines) == 9
    assert all("\n" not in line for line in lines)
    times = [json.loads(line)["time"] for line in lines]
    assert times == sorted(times)
    assert times[0] == "2014-11-21T08:00:00Z"
    assert times[-1] == "2014-11-24T10:00:00Z"


def test_required_fields_and_categories() -> None:
    recs = _records()
    for r in recs:
        assert r.keys() >= REQUIRED
    assert [r["category"] for r in recs] == [
        "tor",
        "vpn",
        "actor",
        "actor",
        "tor",
        "residential",
        "unknown",
        "hosting",
        "hosting",
    ]
    assert [r["locator"] for r in recs] == [
        "message 1",
        "row 2",
        "message 2",
        "row 3",
        "row 4",
        "row 5",
        "row 6",
        "row 10",
        "row 12",
    ]


def test_email_events_carry_origin_trust_entry_ip_and_hops() -> None:
    mails = [r for r in _records() if r["channel"] == "email"]
    assert len(mails) == 2
    slip_mail = mails[1]
    assert slip_mail["origin_trust"] == "trusted-relay"
    assert slip_mail["entry_ip"] == SLIP_IP
    assert [h["index"] for h in slip_mail["hops"]] == [0, 1, 2]
    assert [h["trust"] for h in slip_mail["hops"]] == [
        "trusted-relay",
        "sender-provider",
        "sender-written",
    ]
    assert slip_mail["hops"][2]["time"] is None
    assert slip_mail["attributes"] == {"subject": 'Pay the damage & "behave wisely"'}
    web = [r for r in _records() if r["channel"] == "web"]
    assert all("origin_trust" not in r and "hops" not in r for r in web)


def test_address_facts_and_slip_links() -> None:
    recs = _records()
    slip_events = [r for r in recs if r["slip"] is not None]
    assert [r["src_ip"] for r in slip_events] == [SLIP_IP, SLIP_IP]
    first = slip_events[0]
    assert (first["country"], first["asn"], first["prefix"], first["actor"], first["cover"]) == (
        "KP",
        131279,
        "175.45.176.0/22",
        "lazarus",
        False,
    )
    assert [f["source"] for f in first["facts"]] == ["actor-registry", "geoip2fast"]
    assert first["persona"] == HOSTILE_NAME
    assert first["persona_id"].startswith("persona--")
    assert len({r["sha256"] for r in recs}) == 2
