"""Nginx/Apache access logs written as JSON lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from slipcatch.evidence import ANONYMOUS, PersonaMap, ReadOptions, ingest

ROWS: list[object] = [
    {"time_local": "10/Oct/2000:13:55:36 -0700", "remote_addr": "175.45.178.1",
     "remote_user": "gop", "request": "GET /a HTTP/1.1", "status": 200, "body_bytes_sent": "12",
     "http_referer": "-", "http_user_agent": "curl/7", "http_x_forwarded_for": "6.6.6.6",
     "request_time": 0.01},
    {"@timestamp": "2014-11-24T09:00:00.250Z", "client_ip": "2001:DB8::1",
     "request_method": "POST", "request_uri": "/upload", "status": "201"},
    {"time": "2014-11-24T09:00:01+09:00", "clientip": "8.8.8.8", "request": "weird",
     "status": "400"},
    {"time_local": "10/Oct/2000:13:55:36 -0700", "remote_addr": "999.1.1.1", "status": 200},
    {"time_local": "yesterday", "remote_addr": "1.1.1.1", "status": 200},
    {"remote_addr": "1.1.1.1", "status": 200},
    {"time_local": "10/Oct/2000:13:55:36 -0700", "remote_addr": "-", "status": 200},
    [1, 2],
]  # fmt: skip


def test_json_access_log(tmp_path: Path) -> None:
    p = tmp_path / "access.json"
    p.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n{broken\n")
    result = ingest(p)
    [acct] = result.files
    assert (acct.format, acct.records, acct.events, acct.rejected) == ("weblog-json", 9, 3, 6)
    assert acct.confidence == 0.95
    assert [(r.locator, r.reason) for r in result.rejections] == [
        ("line 4", "bad-address"),
        ("line 5", "bad-time"),
        ("line 6", "missing-time"),
        ("line 7", "missing-address"),
        ("line 8", "bad-json"),
        ("line 9", "bad-json"),
    ]
    ev = {e.evidence.locator: e for e in result.events}
    a = ev["line 1"]
    # The connecting address, not the client-writable X-Forwarded-For, is the source.
    assert (a.src_ip, a.persona, a.channel) == ("175.45.178.1", "gop", "web")
    assert a.time == datetime(2000, 10, 10, 20, 55, 36, tzinfo=UTC)
    assert dict(a.attributes) == {
        "bytes": "12",
        "method": "GET",
        "path": "/a",
        "protocol": "HTTP/1.1",
        "request_time": "0.01",
        "status": "200",
        "user_agent": "curl/7",
        "xff": "6.6.6.6",
    }
    b = ev["line 2"]
    assert (b.src_ip, b.persona, b.time) == (
        "2001:db8::1",
        "(anonymous)",
        datetime(2014, 11, 24, 9, 0, 0, 250000, tzinfo=UTC),
    )
    assert dict(b.attributes) == {"method": "POST", "path": "/upload", "status": "201"}
    c = ev["line 3"]
    assert c.time == datetime(2014, 11, 24, 0, 0, 1, tzinfo=UTC)
    assert c.attributes["request"] == "weird"


def test_generic_jsonl_table_is_still_a_table(tmp_path: Path) -> None:
    # No access-log field besides address and time: the table reader keeps it.
    p = tmp_path / "t.jsonl"
    p.write_text(json.dumps({"time": "2014-11-24T09:00:00Z", "remote_addr": "1.1.1.1"}) + "\n")
    [acct] = ingest(p).files
    assert (acct.format, acct.confidence) == ("table", 0.9)


def test_json_access_log_persona_by_request_path(tmp_path: Path) -> None:
    p = tmp_path / "access.jsonl"
    rows = [
        {"time": "2023-01-10T00:05:00Z", "remote_addr": "175.45.176.27",
         "request": "POST /uploads/s.aspx HTTP/1.1", "status": 200},
        {"time": "2023-01-10T00:06:00Z", "remote_addr": "198.18.0.5",
         "request_uri": "/uploads/s.aspx?cmd=whoami", "status": 200},
        {"time": "2023-01-10T00:07:00Z", "remote_addr": "198.18.0.6",
         "request": "GET / HTTP/1.1", "status": 200},
    ]  # fmt: skip
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    pmap = PersonaMap.from_pairs([(r"path:^/uploads/s\.aspx", "webshell")])
    result = ingest(p, ReadOptions(persona_map=pmap))
    assert [e.persona for e in sorted(result.events, key=lambda e: e.time)] == [
        "webshell",
        "webshell",
        ANONYMOUS,
    ]
