"""CSV and JSON-lines event tables, written in tmp_path."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from slipcatch.evidence import PersonaMap, ReadOptions, ingest


def _locs(result):  # type: ignore[no-untyped-def]
    return {e.evidence.locator: e for e in result.events}


def test_csv_columns_times_and_attributes(tmp_path: Path) -> None:
    p = tmp_path / "events.csv"
    p.write_text(
        "Timestamp,Client_IP,Account,Kind,Note,ID\n"
        "2014-11-24T08:00:00Z,175.45.178.1,GOP,posting,hello,\n"
        "2014-11-24 09:00:00,2001:DB8::1,,,naive,\n"
        "1416819600,8.8.8.8,x,,epoch,e-1\n"
        "1416819600.5,8.8.4.4,x,,epoch-float,\n"
        "\n"
        "yesterday,1.1.1.1,x,,bad,\n"
        ",1.1.1.1,x,,empty,\n"
        "2014-11-24T10:00:00+09:00,,x,,noaddr,\n"
        "2014-11-24T10:00:00+09:00,010.1.1.1,x,,padded,\n"
        '2014-11-24T10:00:00+09:00,1.1.1.1,x,,"unterminated,\n'
        "2014-11-24T10:00:00+09:00,1.1.1.1,x\n"
        "2014-11-24T11:00:00+01:00,9.9.9.9,<script>x</script>,,after,\n"
    )
    result = ingest(p)
    [acct] = result.files
    assert (acct.format, acct.records, acct.events, acct.rejected) == ("table", 11, 5, 6)
    assert [(r.locator, r.reason) for r in result.rejections] == [
        ("line 7", "bad-time"),
        ("line 8", "missing-time"),
        ("line 9", "missing-address"),
        ("line 10", "bad-address"),
        ("line 11", "bad-quoting"),
        ("line 12", "column-count"),
    ]
    ev = _locs(result)
    a = ev["line 2"]
    assert (a.time, a.src_ip, a.persona, a.channel) == (
        datetime(2014, 11, 24, 8, tzinfo=UTC),
        "175.45.178.1",
        "GOP",
        "posting",
    )
    assert a.attributes == {"Note": "hello"}
    b = ev["line 3"]
    assert (b.time, b.src_ip, b.persona, b.channel) == (
        datetime(2014, 11, 24, 9, tzinfo=UTC),
        "2001:db8::1",
        "(anonymous)",
        "table",
    )
    assert ev["line 4"].time == datetime(2014, 11, 24, 9, tzinfo=UTC)
    assert ev["line 4"].attributes["source_id"] == "e-1"
    assert ev["line 5"].time == datetime(2014, 11, 24, 9, 0, 0, 500000, tzinfo=UTC)
    # the unterminated quote cost only its own row: the next rows were still read
    assert ev["line 13"].persona == "<script>x</script>"
    assert ev["line 13"].time == datetime(2014, 11, 24, 10, tzinfo=UTC)


def test_column_precedence_follows_the_contract_order(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("date,ip,time,src_ip\n2001-01-01,1.1.1.1,2002-02-02T00:00:00,2.2.2.2\n")
    [ev] = ingest(p).events
    assert (ev.time.year, ev.src_ip) == (2002, "2.2.2.2")
    assert ev.attributes == {"date": "2001-01-01", "ip": "1.1.1.1"}


def test_header_only_is_zero_records(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("time,ip,user\n")
    [acct] = ingest(p).files
    assert (acct.format, acct.records) == ("table", 0)


def test_jsonl(tmp_path: Path) -> None:
    p = tmp_path / "t.jsonl"
    rows = [
        {"ts": 1416819600, "src_ip": "175.45.178.1", "user": "gop", "n": 3, "ok": True},
        {"ts": "2014-11-24T09:00:00", "src_ip": "1.2.3", "user": "gop"},
        {"ts": True, "src_ip": "1.1.1.1"},
        {"ts": 1416819600, "src_ip": 17},
    ]
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n[1,2]\n{not json\n")
    result = ingest(p)
    [acct] = result.files
    assert (acct.records, acct.events, acct.rejected) == (6, 1, 5)
    assert [r.reason for r in result.rejections] == [
        "bad-address",
        "bad-time",
        "bad-address",
        "bad-json",
        "bad-json",
    ]
    [ev] = result.events
    assert (ev.persona, ev.channel) == ("gop", "table")
    assert ev.attributes == {"n": "3", "ok": "true"}


def test_same_id_column_deduplicates(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("time,ip,id\n2014-01-01T00:00:00Z,1.1.1.1,a\n2014-01-01T00:00:00Z,1.1.1.1,a\n")
    [acct] = ingest(p).files
    assert (acct.records, acct.events, acct.duplicates) == (2, 1, 1)


def test_zeek_json_is_not_a_table(shared_data: Path) -> None:
    from slipcatch.evidence import table

    head = (shared_data / "weblogs" / "zed-sample-data-wrccdc2018-zeek-ssh.ndjson").read_bytes()
    assert table.sniff(head[:65536], "x.ndjson") == 0.0


def test_table_rows_join_a_persona_by_a_column(tmp_path: Path) -> None:
    # a column the contract does not name (kept as an attribute) can tie rows to one operator
    p = tmp_path / "t.csv"
    p.write_text(
        "time,src_ip,ja3\n"
        "2014-11-24T00:00:00Z,175.45.176.9,e7d705a3286e19ea42f587b344ee6865\n"
        "2014-11-24T00:05:00Z,185.220.101.7,e7d705a3286e19ea42f587b344ee6865\n"
        "2014-11-24T00:09:00Z,1.1.1.1,0123\n"
    )
    pmap = PersonaMap.from_pairs([("attr:JA3=^e7d705a3", "implant")])
    result = ingest(p, ReadOptions(persona_map=pmap))
    assert [e.persona for e in sorted(result.events, key=lambda e: e.time)] == [
        "implant",
        "implant",
        "(anonymous)",
    ]


def test_origin_trust_column_states_who_wrote_the_address(tmp_path: Path) -> None:
    from slipcatch.model import OriginTrust

    p = tmp_path / "mail-log.csv"
    p.write_text(
        "time,src_ip,sender,channel,origin_trust\n"
        "2014-11-24T08:00:00Z,175.45.178.1,a,email,trusted-relay\n"
        "2014-11-24T08:01:00Z,175.45.178.2,a,email,Sender-Provider\n"
        "2014-11-24T08:02:00Z,175.45.178.3,a,email,\n"
        "2014-11-24T08:03:00Z,175.45.178.4,a,email,believe-me\n"
    )
    result = ingest(p)
    events = _locs(result)
    assert events["line 2"].origin_trust == OriginTrust.TRUSTED_RELAY
    assert events["line 3"].origin_trust == OriginTrust.SENDER_PROVIDER
    assert events["line 4"].origin_trust is None  # not stated: the conservative reading
    assert "origin_trust" not in events["line 2"].attributes
    assert [(r.locator, r.reason) for r in result.rejections] == [("line 5", "bad-origin-trust")]
