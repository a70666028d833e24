"""Property tests: any input is accounted for, never raised."""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slipcatch.evidence import (
    PersonaMap,
    ReadOptions,
    authlog,
    ingest,
    mail,
    table,
    weblog,
    weblog_json,
    zeek,
)
from slipcatch.evidence._source import Source
from slipcatch.model import Event, Rejection

WEB = '1.2.3.4 - u [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 1 "r" "ua"'
PIECES = {
    weblog: [
        WEB,
        '1.2.3.5 - - [10/Oct/2000:13:55:36 -0700] "POST /x.php?c=id HTTP/1.1" 200 1',
        '"a, b" 1.1.1.1 - - [01/Jan/2001:00:00:00 +0000] "" 404 -',
        "::1",
        "[",
        '"',
        "\\",
    ],
    table: ["time,ip,user", "2014-01-01T00:00:00Z,1.1.1.1,x", '"', ",", "1e9", "010.1.1.1"],
    zeek: ["#separator \\x09", "#fields\tts\tid.orig_h", "1.0\t1.1.1.1", "\t", "-", "{}"],
    weblog_json: [
        '{"time_local": "10/Oct/2000:13:55:36 -0700", "remote_addr": "1.2.3.4", "status": 200}',
        '{"@timestamp": "2014-01-01T00:00:00Z", "client_ip": "::1", "request": "GET / HTTP/1.1"}',
        '"remote_addr": "010.1.1.1"',
        "{",
        "}",
        "null",
        '"msec": 1e308',
    ],
    authlog: [
        "Nov 24 09:00:01 h sshd[1]: Accepted password for u from 1.2.3.4 port 22 ssh2",
        "Jan  1 00:00:00 h sshd[2]: Failed publickey for invalid user x from ::1 port 1 ssh2",
        "Feb 29 00:00:00 h sshd[3]: Invalid user y from 999.1.1.1",
        "<34>1 2014-11-24T09:00:00Z h sshd 1 - - Invalid user z from 5.6.7.8",
        "2014-11-24T09:00:00+09:00 h CRON[1]: x",
        "[",
        ":",
    ],
    mail: [
        "Received: from a (b [1.2.3.4]) by c with ESMTPSA; Mon, 1 Jan 2001 00:00:00 +0000",
        "From: =?utf-8?B?AAA=?= <x@y>",
        "X-Originating-IP: [5.6.7.8]",
        "",
        "(",
        ")",
        ";",
        "Received: by [::1%eth0]",
        "From x",
    ],
}


ALL = [weblog, weblog_json, table, zeek, authlog, mail]


def lines_for(fmt: ModuleType) -> st.SearchStrategy[bytes]:
    piece = st.one_of(st.sampled_from(PIECES[fmt]), st.text(max_size=40))
    line = st.lists(piece, max_size=4).map(lambda parts: "".join(parts))
    return st.lists(line, max_size=12).map(
        lambda ls: "\n".join(ls).encode("utf-8", "surrogatepass")
    )


def _check(fmt: ModuleType, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "f"
        p.write_bytes(data)
        # a persona map with identity and request-path rows, as an analyst would give
        pmap = PersonaMap.from_pairs([("re:^a", "A"), ("path:^/[a-z]*\\.php", "shell"), ("b", "B")])
        opts = ReadOptions(trusted_relays=("c", "10.0.0.0/8"), year=2014, persona_map=pmap)
        items = list(fmt.read(Source(p, opts)))
        assert all(isinstance(i, Event | Rejection) for i in items)
        # (compressed, or UTF-16 by its byte order mark: lines are counted after decoding)
        compressed = data.startswith(
            (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\xff\xfe", b"\xfe\xff")
        )
        if fmt in (weblog, weblog_json, authlog) and not compressed:
            # one item per non-blank line, exactly
            assert len(items) == sum(1 for ln in data.split(b"\n") if ln.strip())
        result = ingest(p, opts)
        for acct in result.files:
            assert acct.records == acct.events + acct.rejected + acct.duplicates
        assert len(result.events) == sum(a.events for a in result.files)
        assert len(result.rejections) == sum(a.rejected for a in result.files)


@pytest.mark.parametrize("fmt", ALL, ids=lambda m: m.NAME)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_reader_accounts_every_record(fmt: ModuleType, data: st.DataObject) -> None:
    _check(fmt, data.draw(lines_for(fmt)))


@pytest.mark.parametrize("fmt", ALL, ids=lambda m: m.NAME)
@settings(max_examples=40, deadline=None)
@given(raw=st.binary(max_size=600))
def test_random_bytes(fmt: ModuleType, raw: bytes) -> None:
    assert 0.0 <= fmt.sniff(raw, "x") <= 1.0
    _check(fmt, raw)
