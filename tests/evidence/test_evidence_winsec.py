"""Windows logon events (4624/4625/4648/4776) from the real samples in shared/data/today:
EVTX (EVTX-ATTACK-SAMPLES), an Event Viewer XML line (CrowdSec), a Sentinel SecurityEvent CSV
(msticpy) and NXLog/Logstash JSON lines (OTRF). Expected values read from the raw fields."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hostile.corpus import winsec_long_lines
from slipcatch.evidence import ReadOptions, ingest, winsec
from slipcatch.evidence._source import Source
from slipcatch.model import Event, Rejection


def _read(path: Path):  # type: ignore[no-untyped-def]
    result = ingest(path, ReadOptions())
    [acct] = result.files
    return acct, result.events, Counter(r.reason for r in result.rejections), result.rejections


def test_evtx_interactive_logons_give_no_invented_address(shared_data: Path) -> None:
    p = shared_data / "today/windows-evtx/evtxattack-CA_4624_4625_LogonType2_LogonProc_chrome.evtx"
    acct, _events, reasons, rejections = _read(p)
    assert (acct.format, acct.confidence) == ("winsec", 1.0)
    assert (acct.records, acct.events, acct.rejected, acct.duplicates) == (4, 0, 4, 0)
    assert reasons == {"local-logon": 4}
    # record 1: 4625 for IEUser, IpAddress "-", logon type 2
    assert (rejections[0].locator, rejections[0].detail) == (
        "record 1",
        "4625 for IEUser: IpAddress '-' (logon type interactive)",
    )


def test_evtx_rdp_tunnelling(shared_data: Path) -> None:
    acct, events, reasons, rejections = _read(
        shared_data / "today/windows-evtx/evtxattack-DE_RDP_Tunneling_4624.evtx"
    )
    # 18 x 4624: 13 with "-", 3 from 127.0.0.1 (the tunnel's local end), 2 from 10.0.2.17
    assert (acct.records, acct.events, acct.rejected) == (18, 2, 16)
    assert reasons == {"local-logon": 16}
    assert [r.locator for r in rejections if "127.0.0.1" in r.detail] == [
        "record 14",
        "record 15",
        "record 16",
    ]
    first = events[0]
    assert first.time == datetime(2019, 2, 13, 15, 31, 19, 529518, tzinfo=UTC)
    assert (first.src_ip, first.persona, first.channel) == (
        "10.0.2.17",
        "ANONYMOUS LOGON",
        "windows:login",
    )
    assert first.evidence.locator == "record 17"
    a = first.attributes
    assert (a["event_id"], a["outcome"], a["logon_type"], a["logon_type_name"]) == (
        "4624",
        "accepted",
        "3",
        "network",
    )
    assert (a["port"], a["workstation"], a["auth_package"]) == ("49168", "PC01", "NTLM")
    assert (a["computer"], a["record_id"]) == ("PC02.example.corp", "5322")


def test_evtx_wmi_lateral_movement(shared_data: Path) -> None:
    acct, events, reasons, _ = _read(
        shared_data / "today/windows-evtx/evtxattack-LM_WMI_4624_4688_TargetHost.evtx"
    )
    # 6 x 4624 (fe80:: and 10.0.2.17 x4 are events, ::1 is local) + 2 x 4688 (not logons)
    assert (acct.records, acct.events, acct.rejected) == (8, 5, 3)
    assert reasons == {"no-client-event": 2, "local-logon": 1}
    assert [(e.src_ip, e.persona) for e in events] == [
        ("fe80::79bf:8ee2:433c:2567", "WIN-77LTAPHIQ1R$"),
        ("10.0.2.17", "Administrator"),
        ("10.0.2.17", "Administrator"),
        ("10.0.2.17", "Administrator"),
        ("10.0.2.17", "user01"),
    ]


def test_evtx_privexchange_4776_is_not_an_address(shared_data: Path) -> None:
    acct, events, reasons, rejections = _read(
        shared_data / "today/windows-evtx/evtxattack-privexchange_dirkjan.evtx"
    )
    assert (acct.records, acct.events, acct.rejected) == (8, 1, 7)
    # 2 x 4776 + 127.0.0.1 + ::1 are local; 4662 and 2 x 5136 are not logon events
    assert reasons == {"local-logon": 4, "no-client-event": 3}
    assert rejections[0].detail == (
        "4776 names workstation evil.internal.corp for helpdesk, not an address"
    )
    [e] = events
    assert (e.src_ip, e.persona, e.attributes["target_domain"]) == (
        "192.168.111.87",
        "EXCHANGE$",
        "ICORP",
    )
    assert e.time == datetime(2019, 2, 2, 9, 17, 22, 563018, tzinfo=UTC)


def test_event_viewer_xml_line(shared_data: Path) -> None:
    acct, events, _reasons, _ = _read(
        shared_data / "today/windows-security-export/crowdsec-windows-logs-4625-xml.log"
    )
    assert (acct.format, acct.records, acct.events, acct.rejected) == ("winsec", 1, 1, 0)
    [e] = events
    assert e.time == datetime(2022, 4, 28, 16, 9, 28, 944354, tzinfo=UTC)  # 2022-...28.9443547Z
    assert (e.src_ip, e.persona) == ("192.168.9.212", "testuser@mydomain.test")
    a = e.attributes
    assert (a["event_id"], a["outcome"], a["logon_type"], a["logon_type_name"]) == (
        "4625",
        "failed",
        "8",
        "network-cleartext",
    )
    assert (a["status"], a["sub_status"], a["port"]) == ("0xc000006d", "0xc0000064", "1628")


def test_sentinel_securityevent_csv(shared_data: Path) -> None:
    acct, events, reasons, _ = _read(
        shared_data / "today/windows-security-export/msticpy-host_logons-SecurityEvent-4624.csv"
    )
    # 14 rows after the header: 13 with IpAddress "-", one from fe80::38dc:e4a9:61bd:b458
    assert (acct.format, acct.records, acct.events, acct.rejected) == ("winsec", 14, 1, 13)
    assert reasons == {"local-logon": 13}
    [e] = events
    assert (e.src_ip, e.persona, e.attributes["logon_type"]) == (
        "fe80::38dc:e4a9:61bd:b458",
        "adm1nistrator",
        "3",
    )
    assert e.time == datetime(2019, 1, 15, 5, 15, 6, 363000, tzinfo=UTC)


def test_otrf_nxlog_json_lines(shared_data: Path) -> None:
    acct, events, reasons, _rejections = _read(
        shared_data
        / "today/windows-security-export/otrf-rdp-interactive-lsass-dump-logon-events.json"
    )
    # 21 lines: 3 x ::1 and 5 x "-" (one a 4648) are local logons, one 4776; 12 name an address
    assert (acct.records, acct.events, acct.rejected) == (21, 12, 9)
    assert reasons == {"local-logon": 9}
    first = events[0]
    # @timestamp (UTC) wins over EventTime (local time, UTC-4, without a zone)
    assert first.time == datetime(2020, 9, 22, 8, 38, 3, 665000, tzinfo=UTC)
    assert (first.src_ip, first.persona, first.evidence.locator) == (
        "1.2.3.4",
        "pgustavo",
        "line 3",
    )
    assert "time_zone" not in first.attributes
    explicit = [e for e in events if e.attributes["event_id"] == "4648"]
    assert [(e.src_ip, e.attributes["subject_user"]) for e in explicit] == [
        ("1.2.3.4", "WORKSTATION5$")
    ]
    assert Counter(e.src_ip for e in events) == {
        "1.2.3.4": 4,
        "172.18.39.5": 4,
        "fe80::9582:39e0:356b:ef4e": 2,
        "172.18.38.5": 1,
        "172.18.38.6": 1,
    }


def test_winlogbeat_and_evtx_dump_shapes(tmp_path: Path) -> None:
    lines = [
        {
            "@timestamp": "2021-03-01T10:00:00.000Z",
            "winlog": {
                "event_id": 4625,
                "computer_name": "dc1",
                "record_id": 7,
                "event_data": {"IpAddress": "203.0.113.9", "TargetUserName": "alice",
                               "LogonType": "10", "IpPort": "5000"},
            },
        },
        {"Event": {"System": {"EventID": 4624, "TimeCreated": {
            "#attributes": {"SystemTime": "2021-03-01T10:00:01Z"}}},
            "EventData": {"IpAddress": "::ffff:198.51.100.7", "TargetUserName": "bob"}}},
        {"EventID": "4624", "TimeGenerated": "2021-03-01T10:00:02Z", "IpAddress": "host.example",
         "TargetUserName": "carol"},
        {"EventID": 4624, "IpAddress": "198.51.100.8", "TargetUserName": "dave"},
        [1, 2],
    ]  # fmt: skip
    p = tmp_path / "beat.ndjson"
    p.write_text("\n".join(json.dumps(x) for x in lines) + "\n{broken\n")
    acct, events, _reasons, rejections = _read(p)
    assert (acct.format, acct.records, acct.events, acct.rejected) == ("winsec", 6, 2, 4)
    assert [(e.src_ip, e.persona, e.attributes.get("logon_type_name")) for e in events] == [
        ("203.0.113.9", "alice", "remote-interactive"),
        ("198.51.100.7", "bob", None),
    ]
    assert [r.reason for r in rejections] == ["bad-address", "missing-time", "bad-json", "bad-json"]


def test_json_after_a_byte_order_mark(tmp_path: Path) -> None:
    p = tmp_path / "bom.json"
    p.write_bytes(
        b'\xef\xbb\xbf{"EventID": 4625, "IpAddress": "198.51.100.9", "TargetUserName": "x", '
        b'"TimeGenerated": "2020-01-01T00:00:00Z"}\n'
    )
    acct, events, _, _ = _read(p)
    assert (acct.format, acct.events, events[0].src_ip) == ("winsec", 1, "198.51.100.9")


def test_damaged_and_compressed_evtx(shared_data: Path, tmp_path: Path) -> None:
    raw = (shared_data / "today/windows-evtx/evtxattack-DE_RDP_Tunneling_4624.evtx").read_bytes()
    gz = tmp_path / "rdp.evtx.gz"
    gz.write_bytes(gzip.compress(raw))
    acct, _, _, _ = _read(gz)
    assert (acct.format, acct.records, acct.events) == ("winsec+gzip", 18, 2)
    bad = bytearray(raw)
    bad[9000:9400] = b"A" * 400  # inside the first chunk's records
    p = tmp_path / "bad.evtx"
    p.write_bytes(bytes(bad))
    acct, _, reasons, _ = _read(p)
    assert acct.records == acct.events + acct.rejected
    assert reasons["bad-record"] >= 1
    head_only = tmp_path / "head.evtx"
    head_only.write_bytes(raw[:100])
    acct, _events, reasons, _rejections = _read(head_only)
    assert (acct.records, acct.rejected, reasons) == (1, 1, {"bad-record": 1})


RECORD = st.fixed_dictionaries(
    {
        "EventID": st.sampled_from([4624, 4625, 4648, 4776, 4688, "4624", "x", None]),
        "IpAddress": st.sampled_from(["1.2.3.4", "-", "::1", "127.0.0.1", "999.1.1.1", "", 7]),
        "TargetUserName": st.one_of(st.text(max_size=10), st.none()),
        "@timestamp": st.sampled_from(["2020-01-01T00:00:00Z", "nope", "", "9999-01-01T00:00:00Z"]),
    }
)


@settings(max_examples=60, deadline=None)
@given(records=st.lists(st.one_of(RECORD.map(json.dumps), st.text(max_size=30)), max_size=10))
def test_every_line_is_an_event_or_a_rejection(records: list[str]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "x.json"
        body = "\n".join(records).encode("utf-8", "surrogatepass")
        p.write_bytes(body)
        items = list(winsec.read(Source(p, ReadOptions())))
        assert all(isinstance(i, Event | Rejection) for i in items)
        if body.lstrip().startswith(b"{"):
            assert len(items) == sum(1 for ln in body.split(b"\n") if ln.strip())
        result = ingest(p, ReadOptions())
        for acct in result.files:
            assert acct.records == acct.events + acct.rejected + acct.duplicates


@pytest.mark.parametrize(
    ("head", "score"),
    [
        (b"ElfFile\x00" + b"\x00" * 100, 1.0),
        (b'{"EventID": 4624, "IpAddress": "1.2.3.4"}\n', 0.96),
        (b'{"time": "2020-01-01", "ip": "1.2.3.4"}\n', 0.0),
        (b"<Event><System><EventID>4624</EventID></System></Event>\n", 0.95),
        (b'<?xml version="1.0"?>\n<Events>\n<Event>\n<EventID>4624</EventID>\n</Event>', 0.95),
        (b"<html><body>Event</body></html>\n", 0.0),
        (b",EventID,TimeGenerated,IpAddress\n", 0.95),
        (b"time,ip\n", 0.0),
        (b'\xef\xbb\xbf{"EventID": 4625, "IpAddress": "1.2.3.4"}\n', 0.96),
    ],
)
def test_sniff(head: bytes, score: float) -> None:
    assert winsec.sniff(head, "x") == score


def test_hostile_xml_lines_are_each_accounted(tmp_path: Path) -> None:
    # how long they take is a benchmark figure (benchmarks/hostile/long_lines.py)
    p = tmp_path / "events.xml"
    p.write_text("\n".join(winsec_long_lines()) + "\n")
    acct, _, _, rejections = _read(p)
    assert acct.format == "winsec"
    assert [(r.locator, r.reason) for r in rejections] == [
        ("event 1", "missing-time"),
        ("event 2", "missing-time"),  # lines 2 and 3
        ("event 3", "missing-time"),
        ("event 4", "line-too-long"),
        ("event 5", "unparsed-line"),
    ]
    assert acct.records == 5


def test_xml_exports_of_many_events_on_one_line_or_pretty_printed(tmp_path: Path) -> None:
    def one(n: int, ip: str) -> str:
        return (
            '<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>'
            f"<EventID>4625</EventID><TimeCreated SystemTime='2022-04-28T16:09:2{n}.5Z'/>"
            f"<EventRecordID>{n}</EventRecordID><Computer>dc1</Computer></System><EventData>"
            f'<Data Name="TargetUserName">u&amp;{n}</Data><Data Name="IpAddress">{ip}</Data>'
            '<Data Name="LogonType">3</Data><Data Name="Empty"/></EventData></Event>'
        )

    flat = tmp_path / "wevtutil.xml"  # wevtutil qe /f:xml: events back to back, one line
    flat.write_text("<Events>" + one(1, "198.51.100.1") + one(2, "-") + one(3, "::1") + "</Events>")
    acct, events, reasons, _ = _read(flat)
    assert (acct.format, acct.records, acct.events, acct.rejected) == ("winsec", 3, 1, 2)
    assert reasons == {"local-logon": 2}
    [e] = events
    assert (e.src_ip, e.persona, e.evidence.locator) == ("198.51.100.1", "u&1", "event 1")
    assert e.time == datetime(2022, 4, 28, 16, 9, 21, 500000, tzinfo=UTC)
    assert (e.attributes["record_id"], e.attributes["computer"]) == ("1", "dc1")
    pretty = tmp_path / "saved.xml"  # pretty-printed, an XML declaration first
    body = one(4, "198.51.100.4").replace("><", ">\n  <")
    pretty.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<Events>\n' + body + "\n</Events>\n")
    acct, events, _, _ = _read(pretty)
    assert (acct.format, acct.records, acct.events) == ("winsec", 1, 1)
    assert events[0].src_ip == "198.51.100.4"
