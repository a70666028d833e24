"""Property tests of the cloud, identity and SIEM readers: whatever the records hold (random
field values, broken JSON, cut documents, random bytes), every record ends as exactly one event
or rejection and each file's account reconciles (records = events + rejected + duplicates)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slipcatch.evidence import PersonaMap, ReadOptions, ingest, zeek
from slipcatch.evidence._source import Source
from slipcatch.evidence.cloud import cloudtrail, entra, github, gworkspace, m365, okta
from slipcatch.evidence.siem import ecs, splunk, suricata
from slipcatch.model import Event, Rejection

#: A valid record per reader; the strategies replace its fields with hostile values.
TEMPLATES: dict[ModuleType, dict[str, Any]] = {
    cloudtrail: {"eventTime": "2020-01-01T00:00:00Z", "eventSource": "s3.amazonaws.com",
                 "eventName": "GetObject", "sourceIPAddress": "81.2.69.142",
                 "userIdentity": {"arn": "arn:aws:iam::1:user/a"}, "eventID": "e1"},
    entra: {"createdDateTime": "2020-01-01T00:00:00Z", "userPrincipalName": "a@b",
            "ipAddress": "81.2.69.142", "appDisplayName": "x", "id": "i1"},
    m365: {"CreationTime": "2020-01-01T00:00:00", "Operation": "UserLoggedIn", "RecordType": 15,
           "UserId": "a@b", "ClientIP": "81.2.69.142:443", "Id": "i1"},
    okta: {"published": "2020-01-01T00:00:00Z", "eventType": "user.session.start",
           "actor": {"alternateId": "a@b"}, "client": {"ipAddress": "81.2.69.142"}, "uuid": "u"},
    gworkspace: {"kind": "admin#reports#activity", "id": {"time": "2020-01-01T00:00:00Z",
                 "applicationName": "login", "uniqueQualifier": 1}, "actor": {"email": "a@b"},
                 "ipAddress": "81.2.69.142", "events": [{"name": "login_success"}]},
    github: {"@timestamp": 1606929874512, "action": "org.create", "actor": "a", "org": "o",
             "actor_ip": "81.2.69.142", "_document_id": "d"},
    ecs: {"@timestamp": "2020-01-01T00:00:00Z", "ecs": {"version": "8"}, "event": {"id": "e"},
          "source": {"ip": "81.2.69.142"}, "user": {"name": "a"}},
    suricata: {"timestamp": "2020-01-01T00:00:00+0000", "event_type": "alert", "flow_id": 1,
               "src_ip": "81.2.69.142", "dest_ip": "10.0.0.1"},
    zeek: {"@stream": "conn", "ts": 1588205198.89971, "uid": "C1", "id_orig_h": "10.0.1.4",
           "id_orig_p": 64842, "id_resp_h": "10.0.0.4", "id_resp_p": 53},
}  # fmt: skip
JSON_READERS = list(TEMPLATES)

HOSTILE = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
    st.text(max_size=30), st.sampled_from(
        ["", "0.0.0.0", "::", "ec2.amazonaws.com", "1.2.3.4:99999", "[::1]:80", "010.1.1.1",
         "9999-99-99", "1e308", "2020-01-01T00:00:00+9999", "\ud800"]),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=5), st.integers(),
                                                         max_size=2),
)  # fmt: skip


def _record(template: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    keys = sorted(template)
    return st.fixed_dictionaries({k: st.one_of(st.just(template[k]), HOSTILE) for k in keys}).map(
        lambda d: {k: v for k, v in d.items()}
    )


def _file(fmt: ModuleType) -> st.SearchStrategy[bytes]:
    record = _record(TEMPLATES[fmt])
    junk = st.sampled_from(["{", "[1]", "null", '{"a":', "]", "\u00ff"])
    lines = st.lists(st.one_of(record.map(lambda r: json.dumps(r)), junk), min_size=1, max_size=8)
    as_lines = lines.map(lambda ls: "\n".join(ls))
    as_array = st.lists(record, min_size=1, max_size=6).map(lambda rs: json.dumps(rs, indent=1))
    wrapped = st.lists(record, max_size=6).map(lambda rs: json.dumps({"Records": rs}))
    cut = st.tuples(as_array, st.integers(0, 400)).map(lambda t: t[0][: t[1]])
    return st.one_of(as_lines, as_array, wrapped, cut).map(
        lambda s: s.encode("utf-8", "surrogatepass")
    )


def _check(fmt: ModuleType, data: bytes) -> list[Event | Rejection]:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "f"
        p.write_bytes(data)
        pmap = PersonaMap.from_pairs([("re:^a", "A")])
        opts = ReadOptions(persona_map=pmap)
        items = list(fmt.read(Source(p, opts)))
        assert all(isinstance(i, Event | Rejection) for i in items)
        for i in items:
            if isinstance(i, Event):
                assert i.time.tzinfo is not None
                i.persona.encode("utf-8")
                for k, v in i.attributes.items():
                    (k + v).encode("utf-8")
        result = ingest(p, opts)
        for acct in result.files:
            assert acct.records == acct.events + acct.rejected + acct.duplicates
        assert len(result.events) == sum(a.events for a in result.files)
        return items


@pytest.mark.parametrize("fmt", JSON_READERS, ids=lambda m: m.NAME)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_json_reader_accounts_every_record(fmt: ModuleType, data: st.DataObject) -> None:
    _check(fmt, data.draw(_file(fmt)))


@pytest.mark.parametrize("fmt", JSON_READERS, ids=lambda m: m.NAME)
@settings(max_examples=25, deadline=None)
@given(records=st.data())
def test_json_lines_give_one_item_per_record(fmt: ModuleType, records: st.DataObject) -> None:
    # Plain JSON lines of objects: exactly one event or rejection per line.
    rows = records.draw(st.lists(_record(TEMPLATES[fmt]), min_size=1, max_size=8))
    text = "\n".join(json.dumps(r) for r in rows).encode("utf-8", "surrogatepass")
    assert len(_check(fmt, text)) == len(rows)


CSV_CELL = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.sampled_from(['"', '""', ",", "\n", "81.2.69.142:1", "2020-01-01T00:00:00Z", "{}"]),
)


@pytest.mark.parametrize(
    ("fmt", "header"),
    [(splunk, ["_time", "clientip", "user", "_raw"]),
     (m365, ["TimeGenerated", "UserId", "ClientIP", "Operation"]),
     (m365, ["CreationDate", "UserIds", "Operations", "AuditData"])],
    ids=["splunk", "m365-sentinel", "m365-purview"],
)  # fmt: skip
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_csv_readers_account_every_row(fmt: ModuleType, header: list[str],
                                       data: st.DataObject) -> None:  # fmt: skip
    rows = data.draw(st.lists(st.lists(CSV_CELL, min_size=1, max_size=5), max_size=6))
    body = [",".join(header)]
    for row in rows:
        body.append(",".join(row))
    items = _check(fmt, "\n".join(body).encode())
    assert len(items) <= sum(1 for line in "\n".join(body[1:]).split("\n") if line.strip()) + 1


@pytest.mark.parametrize("fmt", [*JSON_READERS, splunk], ids=lambda m: m.NAME)
@settings(max_examples=25, deadline=None)
@given(raw=st.binary(max_size=400))
def test_random_bytes(fmt: ModuleType, raw: bytes) -> None:
    assert 0.0 <= fmt.sniff(raw, "x") <= 1.0
    _check(fmt, raw)
