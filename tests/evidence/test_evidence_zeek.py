"""Zeek TSV and JSON logs from shared/data/weblogs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from slipcatch.evidence import PersonaMap, ReadOptions, ingest

# data lines (non-# lines), counted with `grep -vc '^#'`
COUNTS = {
    "zeek-btest-http-methods-http.log": ("zeek:http", 49),
    "zeek-btest-ssh-basic-conn.log": ("zeek:conn", 25),
    "zeek-btest-ssh-basic-ssh.log": ("zeek:ssh", 22),
    "zeek-btest-teredo-ipv6-conn.log": ("zeek:conn", 21),
    "zeek-btest-teredo-ipv6-http.log": ("zeek:http", 4),
    "zed-sample-data-wrccdc2018-zeek-ssh.log": ("zeek:ssh", 22),
    "zed-sample-data-wrccdc2018-zeek-ssh.ndjson": ("zeek:ssh", 22),
}


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_zeek_counts(shared_data: Path, name: str) -> None:
    channel, n = COUNTS[name]
    result = ingest(shared_data / "weblogs" / name)
    [acct] = result.files
    assert (acct.format, acct.records, acct.events, acct.rejected) == ("zeek", n, n, 0)
    assert {e.channel for e in result.events} == {channel}


def test_zeek_tsv_values(shared_data: Path) -> None:
    result = ingest(shared_data / "weblogs" / "zeek-btest-ssh-basic-ssh.log")
    first = next(e for e in result.events if e.evidence.locator == "line 9")
    assert first.src_ip == "192.168.1.79"
    assert first.time == datetime.fromtimestamp(1324071333.792887, tz=UTC)
    assert first.attributes["id.resp_h"] == "131.159.21.1"
    assert "auth_success" not in first.attributes  # unset "-"
    assert first.persona == "(anonymous)"


def test_zeek_json_and_tsv_agree(shared_data: Path) -> None:
    tsv = ingest(shared_data / "weblogs" / "zed-sample-data-wrccdc2018-zeek-ssh.log").events
    js = ingest(shared_data / "weblogs" / "zed-sample-data-wrccdc2018-zeek-ssh.ndjson").events
    assert [(e.time, e.src_ip) for e in tsv] == [(e.time, e.src_ip) for e in js]
    assert js[0].src_ip == "10.0.0.227"


def test_zeek_user_field(tmp_path: Path) -> None:
    p = tmp_path / "x.log"
    p.write_text(
        "#separator \\x09\n#path\tauth\n#fields\tts\tid.orig_h\tuser\n"
        "1.5\t175.45.178.1\tgop\n2.5\tnot-an-ip\tgop\n3.5\t1.1.1.1\t-\n"
    )
    result = ingest(p)
    assert [(e.src_ip, e.persona, e.channel) for e in result.events] == [
        ("175.45.178.1", "gop", "zeek:auth"),
        ("1.1.1.1", "(anonymous)", "zeek:auth"),
    ]
    assert [(r.locator, r.reason) for r in result.rejections] == [("line 5", "bad-address")]


def test_zeek_records_join_a_persona_by_attribute(tmp_path: Path) -> None:
    # conn.log names nobody: an analyst ties the connections to a backdoor's port to one operator
    p = tmp_path / "conn.log"
    p.write_text(
        "#separator \\x09\n#path\tconn\n#fields\tts\tid.orig_h\tid.resp_h\tid.resp_p\n"
        "1.5\t175.45.178.1\t10.0.0.5\t8443\n2.5\t185.220.101.7\t10.0.0.5\t8443\n"
        "3.5\t1.1.1.1\t10.0.0.5\t443\n"
    )
    pmap = PersonaMap.from_pairs([("attr:ID.RESP_P=^8443$", "backdoor")])
    result = ingest(p, ReadOptions(persona_map=pmap))
    assert [(e.src_ip, e.persona) for e in result.events] == [
        ("175.45.178.1", "backdoor"),
        ("185.220.101.7", "backdoor"),
        ("1.1.1.1", "(anonymous)"),
    ]


def test_zeek_teredo_http_ipv6_spot_values(shared_data: Path) -> None:
    result = ingest(shared_data / "weblogs" / "zeek-btest-teredo-ipv6-http.log")
    ev = {e.evidence.locator: e for e in result.events}
    first = ev["line 9"]
    assert (first.src_ip, first.channel) == ("192.168.2.16", "zeek:http")
    assert first.time == datetime.fromtimestamp(1210953057.917183, tz=UTC)
    assert first.attributes["method"] == "POST"
    assert first.attributes["host"] == "download913.avast.com"
    # Zeek writes the Teredo address uncompressed; it is kept in canonical form.
    assert ev["line 10"].src_ip == "2001:0:4137:9e50:8000:f12a:b9c8:2815"
    assert ev["line 10"].attributes["id.resp_h"] == "2001:4860:0:2001::68"


def test_zeek_http_methods_spot_values(shared_data: Path) -> None:
    result = ingest(shared_data / "weblogs" / "zeek-btest-http-methods-http.log")
    first = min(result.events, key=lambda e: int(e.evidence.locator.split()[1]))
    assert (first.src_ip, first.attributes["method"], first.attributes["status_code"]) == (
        "128.2.6.136",
        "OPTIONS",
        "405",
    )
    assert first.time == datetime.fromtimestamp(1354328870.191989, tz=UTC)


def test_bad_separator_escape_keeps_the_separator_without_a_warning(tmp_path, recwarn):
    """Hypothesis found `#separator \\x09\\8`: decoding it with unicode_escape warned (an error
    under -W error). A malformed directive now changes nothing, silently and safely."""
    from slipcatch.evidence import ReadOptions, ingest

    p = tmp_path / "conn.log"
    p.write_bytes(
        b"#separator \\x09\\8\n#path\tconn\n#fields\tts\tuid\tid.orig_h\n"
        b"1300000000.0\tC1\t1.2.3.4\n"
    )
    result = ingest(p, ReadOptions())
    assert [e.src_ip for e in result.events] == ["1.2.3.4"]
    assert not [w for w in recwarn if issubclass(w.category, DeprecationWarning)]
