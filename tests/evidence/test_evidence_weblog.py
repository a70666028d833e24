"""Access logs: real sample files and hostile lines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from slipcatch.evidence import ANONYMOUS, PersonaMap, ReadOptions, ingest


def _by_line(result):  # type: ignore[no-untyped-def]
    return {e.evidence.locator: e for e in result.events}


def test_beats_apache_edge_cases(shared_data: Path) -> None:
    result = ingest(shared_data / "weblogs" / "beats-apache-access-test-edgecases.log")
    [acct] = result.files
    assert (acct.format, acct.records, acct.events, acct.rejected, acct.duplicates) == (
        "weblog",
        7,
        6,
        1,
        0,
    )
    [rej] = result.rejections
    assert (rej.locator, rej.reason) == ("line 5", "bad-address")  # `monitoring-server`
    ev = _by_line(result)
    assert ev["line 1"].src_ip == "::1"
    assert ev["line 1"].time == datetime(2016, 12, 26, 14, 16, 29, tzinfo=UTC)  # +0200
    assert ev["line 3"].attributes == {"status": "408"}  # "-" request, "-" bytes
    assert ev["line 7"].src_ip == "123.123.123.123"
    assert ev["line 7"].attributes["vhost"] == "vhost1.domaine.fr"
    assert ev["line 7"].time == datetime(2019, 7, 4, 7, 20, 46, tzinfo=UTC)
    assert all(e.persona == "(anonymous)" and e.channel == "web" for e in result.events)


def test_beats_nginx_forwarded_lists(shared_data: Path) -> None:
    result = ingest(shared_data / "weblogs" / "beats-nginx-access-test-edgecases.log")
    [acct] = result.files
    assert (acct.records, acct.events, acct.rejected, acct.duplicates) == (7, 7, 0, 0)
    ev = _by_line(result)
    assert ev["line 1"].src_ip == "10.0.0.2"
    assert ev["line 1"].attributes["xff"] == "10.0.0.2, 10.0.0.1, 127.0.0.1"
    assert ev["line 5"].src_ip == "10.5.102.222"  # quoted list, then the proxy's address
    assert ev["line 5"].attributes["xff"] == "10.5.102.222, 199.96.1.1, 204.246.1.1, 10.2.1.185"
    assert ev["line 6"].src_ip == "2a03:0:10ff:f00f::8000"  # canonical IPv6
    assert ev["line 7"].attributes == {"bytes": "0", "status": "400"}  # empty request ""


def test_same_line_in_two_files_is_a_duplicate(shared_data: Path) -> None:
    # The 172.17.0.1 /stringpatch line occurs in both beats files; the later file counts it.
    result = ingest(
        shared_data / "weblogs" / "beats-apache-access-test-edgecases.log",
    )
    result = ingest(
        [
            shared_data / "weblogs" / "beats-apache-access-test-edgecases.log",
            shared_data / "weblogs" / "beats-nginx-access-test-edgecases.log",
        ]
    )
    nginx = result.files[1]
    assert (nginx.records, nginx.events, nginx.duplicates) == (7, 6, 1)
    assert len(result.events) == 12


def test_elastic_head1000(shared_data: Path) -> None:
    # `sort | uniq -d` on the file finds 3 lines that occur twice.
    result = ingest(shared_data / "weblogs" / "elastic-examples-apache_logs-head1000.log")
    [acct] = result.files
    assert (acct.records, acct.events, acct.rejected, acct.duplicates) == (1000, 997, 0, 3)
    first = _by_line(result)["line 1"]
    assert first.src_ip == "83.149.9.216"
    assert first.time == datetime(2015, 5, 17, 10, 5, 3, tzinfo=UTC)
    assert first.attributes["referer"] == (
        "http://semicomplete.com/presentations/logstash-monitorama-2013/"
    )
    assert first.attributes["path"] == (
        "/presentations/logstash-monitorama-2013/images/kibana-search.png"
    )
    times = [(e.time, e.id) for e in result.events]
    assert times == sorted(times)


def test_torproject_invalid_client_everywhere(shared_data: Path) -> None:
    result = ingest(
        shared_data / "weblogs" / "torproject-metricslib-sanitized-access-invalid-ip.log"
    )
    [acct] = result.files
    assert (acct.records, acct.events, acct.rejected) == (25, 0, 25)
    assert {r.reason for r in result.rejections} == {"bad-address"}
    assert "123.456.789.0" in result.rejections[0].detail


LOG = (
    '1.2.3.4 - alice [10/Oct/2000:13:55:36 -0700] "GET /a\\"b HTTP/1.0" 200 2326 '
    '"http://x/\\"q\\"" "Mozilla \\"quoted\\" agent"\n'
    '999.1.1.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1\n'
    '1.2.3 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1\n'
    '010.1.1.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1\n'
    '5.6.7.8 - - [10/Foo/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1\n'
    "\n"
    "this is not a log line\n"
    '9.9.9.9 - <script>alert(1)</script> [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.0" 200 1\n'
)


def test_hostile_lines(tmp_path: Path) -> None:
    p = tmp_path / "access.log"
    p.write_text(LOG)
    result = ingest(p)
    [acct] = result.files
    assert (acct.records, acct.events, acct.rejected) == (7, 2, 5)  # the blank line is no record
    assert [(r.locator, r.reason) for r in result.rejections] == [
        ("line 2", "bad-address"),
        ("line 3", "bad-address"),
        ("line 4", "bad-address"),
        ("line 5", "bad-time"),
        ("line 7", "unparsed-line"),
    ]
    ev = _by_line(result)
    a = ev["line 1"]
    assert a.persona == "alice"
    assert a.time == datetime(2000, 10, 10, 20, 55, 36, tzinfo=UTC)
    assert a.attributes["path"] == '/a"b'
    assert a.attributes["referer"] == 'http://x/"q"'
    assert a.attributes["user_agent"] == 'Mozilla "quoted" agent'
    assert ev["line 8"].persona == "<script>alert(1)</script>"  # data, verbatim


def test_persona_map_on_authuser(tmp_path: Path) -> None:
    p = tmp_path / "access.log"
    p.write_text(LOG)
    pmap = PersonaMap.from_pairs([("ALICE", "GOP")])
    result = ingest(p, ReadOptions(persona_map=pmap))
    assert _by_line(result)["line 1"].persona == "GOP"


def test_persona_map_on_request_path(tmp_path: Path) -> None:
    # A web shell is reached without an account: a path: row ties its requests to one persona;
    # other anonymous requests stay anonymous, an account keeps its own persona.
    p = tmp_path / "access.log"
    p.write_text(
        '203.0.113.7 - - [10/Oct/2000:13:55:36 -0700] "POST /img/x.php?c=id HTTP/1.1" 200 1\n'
        '203.0.113.8 - - [10/Oct/2000:13:56:36 -0700] "GET /index.html HTTP/1.1" 200 1\n'
        '203.0.113.9 - bob [10/Oct/2000:13:57:36 -0700] "GET /img/x.php HTTP/1.1" 200 1\n'
        '203.0.113.9 - bob [10/Oct/2000:13:58:36 -0700] "GET /home HTTP/1.1" 200 1\n'
        '203.0.113.7 - - [10/Oct/2000:13:59:36 -0700] "/img/x.php" 400 1\n'
    )
    pmap = PersonaMap.from_pairs([("bob", "Bob"), (r"path:^/img/x\.php", "webshell")])
    ev = _by_line(ingest(p, ReadOptions(persona_map=pmap)))
    assert [ev[f"line {n}"].persona for n in range(1, 6)] == [
        "webshell",
        ANONYMOUS,
        "Bob",
        "Bob",
        "webshell",  # a request line that is not METHOD PATH PROTOCOL is matched as it stands
    ]


def test_invalid_utf8_line(tmp_path: Path) -> None:
    p = tmp_path / "access.log"
    good = b'1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1\n'
    p.write_bytes(
        good + b'1.2.3.5 - - [10/Oct/2000:13:55:36 -0700] "GET /\xff\xfe HTTP/1.0" 200 1\n'
    )
    result = ingest(p)
    assert [(r.locator, r.reason) for r in result.rejections] == [("line 2", "bad-encoding")]
    assert len(result.events) == 1
