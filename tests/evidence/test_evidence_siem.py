"""SIEM and sensor readers: Suricata EVE and Zeek JSON with ``_`` names on the real samples of
shared/data/today (values worked out from the raw fields), ECS ndjson and Splunk CSV exports in
their documented shapes (no real public export exists: shared/data/SOURCES.md, "Not found")."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from slipcatch.evidence import ReadOptions, ingest
from slipcatch.evidence._ingest import recognise
from slipcatch.evidence._source import Source
from slipcatch.model import Event, EvidenceFile

TODAY = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "today").resolve()


def _read(path: Path) -> tuple[EvidenceFile, list[Event], Counter[str]]:
    result = ingest(path, ReadOptions())
    (account,) = result.files
    assert account.records == account.events + account.rejected + account.duplicates
    events = sorted(result.events, key=lambda e: int(e.evidence.locator.split()[1]))
    return account, events, Counter(r.reason for r in result.rejections)


def test_suricata_eve_alerts() -> None:
    account, events, reasons = _read(TODAY / "suricata-eve" / "crowdsec-suricata-eve-detect.json")
    assert (account.format, account.records, account.events) == ("suricata", 4, 4)
    assert not reasons
    first = events[0]
    # "timestamp": "2022-07-12T06:22:33.415742+0000", "src_ip": "1.2.3.4"
    assert first.time == datetime(2022, 7, 12, 6, 22, 33, 415742, tzinfo=UTC)
    assert (first.src_ip, first.channel, first.persona) == (
        "1.2.3.4", "suricata:alert", "(anonymous)")  # fmt: skip
    assert first.attributes["alert_signature_id"] == "2034125"
    assert first.attributes["dest_ip"] == "1.2.3.5"
    assert Counter(e.src_ip for e in events) == {"1.2.3.4": 1, "2.2.3.4": 3}


def test_suricata_stats_record_has_no_address(tmp_path: Path) -> None:
    p = tmp_path / "eve.json"
    lines = (TODAY / "suricata-eve" / "crowdsec-suricata-eve-detect.json").read_bytes()
    stats = {"timestamp": "2022-07-12T06:30:00.000000+0000", "event_type": "stats",
             "stats": {"uptime": 10}}  # fmt: skip
    p.write_bytes(lines + json.dumps(stats).encode() + b"\n")
    account, _, reasons = _read(p)
    assert (account.records, account.events) == (5, 4)
    assert reasons == {"missing-address": 1}


def test_zeek_json_with_underscores() -> None:
    folder = TODAY / "zeek-json-underscore"
    counts = {"conn": 134, "dns": 32, "http": 62, "kerberos": 22, "smb_mapping": 6}
    for stream, n in counts.items():
        account, events, reasons = _read(folder / f"otrf-apt29-day1-SCRANTON_{stream}.log")
        assert (account.format, account.records, account.events) == ("zeek", n, n)
        assert not reasons
        assert {e.channel for e in events} == {f"zeek:{stream}"}  # from "@stream"
        assert {e.src_ip for e in events} == {"10.0.1.4"}  # every id_orig_h
    _, events, _ = _read(folder / "otrf-apt29-day1-SCRANTON_conn.log")
    first = events[0]  # ts 1588205198.89971, uid Cw1Hz43UWS4qXFei8f, to 10.0.0.4:53
    assert first.time == datetime(2020, 4, 30, 0, 6, 38, 899710, tzinfo=UTC)
    assert first.attributes["uid"] == "Cw1Hz43UWS4qXFei8f"
    assert first.attributes["id.resp_h"] == "10.0.0.4"
    assert first.attributes["id.resp_p"] == "53"


ECS = [
    {"@timestamp": "2023-05-02T08:01:02.345Z", "ecs": {"version": "8.0.0"},
     "event": {"dataset": "nginx.access", "id": "a1", "outcome": "success"},
     "source": {"ip": "81.2.69.142", "port": 51234}, "user": {"name": "alice"},
     "url": {"original": "/login"}, "user_agent": {"original": "curl/8.0"}},
    {"@timestamp": "2023-05-02T08:01:03Z", "ecs.version": "8.0.0", "event.dataset": "x",
     "source.ip": "2001:db8::7", "user.name": "bob"},
    {"@timestamp": "2023-05-02T08:01:04Z", "event": {"dataset": "x"}, "source": {"ip": "host"}},
    {"@timestamp": "2023-05-02T08:01:05Z", "event": {"dataset": "x"}},
]  # fmt: skip


def test_ecs_ndjson_nested_and_dotted(tmp_path: Path) -> None:
    p = tmp_path / "export.ndjson"
    p.write_text("".join(json.dumps(d) + "\n" for d in ECS))
    account, events, reasons = _read(p)
    assert (account.format, account.records, account.events) == ("ecs", 4, 2)
    assert reasons == {"bad-address": 1, "missing-address": 1}
    a, b = events
    assert a.time == datetime(2023, 5, 2, 8, 1, 2, 345000, tzinfo=UTC)
    assert (a.src_ip, a.persona, a.channel) == ("81.2.69.142", "alice", "ecs")
    assert (a.attributes["dataset"], a.attributes["record_id"]) == ("nginx.access", "a1")
    assert a.attributes["url"] == "/login"
    assert (b.src_ip, b.persona) == ("2001:db8::7", "bob")  # flat dotted keys


def test_ecs_search_hits_source(tmp_path: Path) -> None:
    p = tmp_path / "hits.json"
    p.write_text(json.dumps([{"_id": "h1", "_index": "logs", "_source": ECS[0]}], indent=2))
    account, (e,), _ = _read(p)
    assert account.format == "ecs"
    assert (e.src_ip, e.persona, e.attributes["record_id"]) == ("81.2.69.142", "alice", "a1")


SPLUNK = (
    "_serial,_time,clientip,user,sourcetype,_raw,_cd\n"
    '0,2021-03-04T05:06:07.000+0000,81.2.69.142,alice,access_combined,"81.2.69.142 - alice '
    '[04/Mar/2021:05:06:07 +0000] ""GET / HTTP/1.1"" 200 1",12:345\n'
    '1,2021-03-04 05:06:08,81.2.69.143:4444,,access_combined,"a\nmulti-line raw event",12:346\n'
    "2,not a time,81.2.69.144,carol,access_combined,x,12:347\n"
)


def test_splunk_csv_export(tmp_path: Path) -> None:
    p = tmp_path / "results.csv"
    p.write_text(SPLUNK)
    account, events, reasons = _read(p)
    assert (account.format, account.records, account.events) == ("splunk", 3, 2)
    assert reasons == {"bad-time": 1}
    a, b = events
    assert a.time == datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert (a.src_ip, a.persona, a.channel) == ("81.2.69.142", "alice", "splunk")
    assert (a.attributes["sourcetype"], a.attributes["record_id"]) == ("access_combined", "12:345")
    assert "time_zone" not in a.attributes and "_serial" not in a.attributes
    assert (b.src_ip, b.attributes["src_port"], b.persona) == ("81.2.69.143", "4444", "(anonymous)")
    assert b.attributes["time_zone"] == "assumed UTC"
    assert b.attributes["_raw"] == "a\nmulti-line raw event"  # a quoted field over two lines
    assert b.evidence.locator == "line 3"


def test_sniffing_does_not_steal_existing_formats(tmp_path: Path) -> None:
    # The generic table keeps its files; ECS needs an ECS marker, Splunk needs _time.
    cases = {
        "t.csv": (b"time,ip,user\n2014-01-01T00:00:00Z,1.1.1.1,x\n", "table"),
        "t.jsonl": (b'{"timestamp": "2014-01-01T00:00:00Z", "src_ip": "1.1.1.1"}\n', "table"),
        "w.jsonl": (b'{"@timestamp": "2014-01-01T00:00:00Z", "client_ip": "1.1.1.1", '
                    b'"request": "GET / HTTP/1.1"}\n', "weblog-json"),
        "z.jsonl": (b'{"_path": "ssh", "ts": 1.0, "id.orig_h": "1.1.1.1"}\n', "zeek"),
    }  # fmt: skip
    for name, (data, fmt) in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        found = recognise(Source(p, ReadOptions()))
        assert found is not None and fmt == found[0].NAME, name


SAMPLES = {
    "aws-cloudtrail/crowdsec-aws-console-bf.jsonl": "cloudtrail",
    "aws-cloudtrail/otrf-ec2-proxy-s3-exfiltration-2020-09-14.logstash.jsonl": "cloudtrail",
    "entra-signin/beats-azure-signinlogs-eventhub.jsonl": "entra",
    "entra-signin/beats-azure-signinlogs-eventhub-ipv6.jsonl": "entra",
    "entra-audit/beats-azure-auditlogs-pretty.json": "entra",
    "entra-audit/otrf-goldensaml-AADAuditEvents.json": "entra",
    "m365-audit/msticpy-demo-exchange-OfficeActivity-rows1001-1100.csv": "m365",
    "m365-audit/otrf-goldensaml-OfficeActivity.json": "m365",
    "m365-audit/plaso-microsoft-audit-log.jsonl": "m365",
    "okta/beats-okta-system-lines1-4.jsonl": "okta",
    "google-workspace/integrations-gws-login-lines1-9.jsonl": "gworkspace",
    "suricata-eve/crowdsec-suricata-eve-detect.json": "suricata",
    "zeek-json-underscore/otrf-apt29-day1-SCRANTON_dns.log": "zeek",
}


def test_each_real_sample_is_recognised_clearly() -> None:
    from slipcatch.evidence._ingest import scores

    for name, fmt in SAMPLES.items():
        got = scores(Source(TODAY / name, ReadOptions()))
        best = max(got.values())
        assert got[fmt] == best >= 0.9, name
        assert sorted(got.values())[-2] < best, name  # no tie left to registration order


def test_other_helpers_samples_are_not_claimed() -> None:
    # Formats other readers own (Windows exports, Squid, IIS, EVTX) score 0 with every new reader.
    new = ("cloudtrail", "entra", "m365", "okta", "gworkspace", "github", "ecs", "splunk",
           "suricata")  # fmt: skip
    folders = ("windows-security-export", "windows-evtx", "squid", "iis-w3c", "ftpd",
               "mail-postfix-dovecot", "syslog-sshd")  # fmt: skip
    for folder in folders:
        for path in sorted((TODAY / folder).iterdir()):
            got = scores_of(path)
            assert all(got[n] == 0.0 for n in new), (path.name, got)


def scores_of(path: Path) -> dict[str, float]:
    from slipcatch.evidence._ingest import scores

    return scores(Source(path, ReadOptions()))


def test_splunk_unterminated_quote_costs_the_rows_it_swallows(tmp_path: Path) -> None:
    head = "_time,clientip,user,_raw\n2021-03-04T05:06:07Z,81.2.69.142,alice,ok\n"
    p = tmp_path / "open.csv"
    p.write_text(head + '2021-03-04T05:06:08Z,81.2.69.143,bob,"never closed\nmore\nlines\n')
    account, events, reasons = _read(p)
    assert (account.records, account.events) == (2, 1)
    assert reasons == {"bad-quoting": 1}
    assert events[0].persona == "alice"
    # Past 64 KiB the open quote is given up: the lines it took are one rejection, and reading
    # goes on after them.
    filler = "".join(f"filler {i}\n" for i in range(9000))  # ~90 KiB
    p.write_text(head + '2021-03-04T05:06:08Z,81.2.69.143,bob,"open\n' + filler)
    result = ingest(p, ReadOptions())
    (f,) = result.files
    assert f.records == f.events + f.rejected
    assert f.events == 1
    first = result.rejections[0]
    assert (first.reason, first.locator) == ("bad-quoting", "line 3")
    assert "past 65536 bytes" in first.detail
