"""Every rejection reason code is documented (test_evidence_docs) and produced here by a
hostile input that ends as exactly that stated rejection, never a traceback."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from msgforge import Message as OutlookMessage

from slipcatch.evidence import REASONS, ReadOptions, _records, ingest, mail, weblog
from slipcatch.evidence._source import Source
from slipcatch.model import Rejection

WEB = b'1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1\n'
MSG = (
    b"Received: from x (y [175.45.178.1]) by mx.example.org with ESMTP; "
    b"Mon, 24 Nov 2014 09:00:00 +0000\nFrom: a@b\nSubject: s\n\n"
)


def _nested(levels: int) -> bytes:
    """A message whose body is a message whose body is a message ... ``levels`` deep."""
    msg = MSG
    for _ in range(levels):
        msg = MSG.replace(b"Subject: s\n", b"Subject: s\nContent-Type: message/rfc822\n") + msg
    return msg


# An Outlook draft (no transport headers), and the same file with its allocation table wiped.
_MSG = OutlookMessage(subject="s", text_body="b", to=["a@b.example"]).as_bytes()
_BROKEN_MSG = _MSG[:600] + b"\xff" * 800 + _MSG[1400:]

_CUT = gzip.compress(b"".join(WEB.replace(b"/ ", b"/%d " % i) for i in range(3000)))

# reason -> (file name, bytes, ReadOptions); the file must produce that reason.
CASES: dict[str, tuple[str, bytes]] = {
    "unrecognised-format": ("bin", bytes(range(256)) * 4),
    "truncated-compression": ("cut.log.gz", _CUT[: len(_CUT) // 2]),
    "line-too-long": ("long.log", WEB + b"x" * 200_000 + b"\n" + WEB),
    "bad-encoding": ("enc.log", WEB + WEB.replace(b"GET /", b"GET /\xff")),
    "bad-quoting": ("q.csv", b'time,ip\n2014-01-01T00:00:00Z,"1.1.1.1\n'),
    "column-count": ("c.csv", b"time,ip\n2014-01-01T00:00:00Z,1.1.1.1,extra\n"),
    "bad-origin-trust": (
        "t.csv",
        b"time,ip,channel,origin_trust\n2014-01-01T00:00:00Z,1.1.1.1,email,trust-me\n",
    ),
    "bad-json": ("j.jsonl", b'{"time": "2014-01-01T00:00:00Z", "ip": "1.1.1.1"}\n{nope\n'),
    "unparsed-line": ("u.log", WEB * 3 + b"not an access log line\n"),
    "no-client-event": ("auth.log", b"Jan  1 00:00:03 h CRON[1]: session opened\n"),
    "missing-time": ("t.csv", b"time,ip\n,1.1.1.1\n"),
    "bad-time": ("bt.log", WEB.replace(b"Oct", b"Foo")),
    "missing-address": ("ma.csv", b"time,ip\n2014-01-01T00:00:00Z,\n"),
    "bad-address": ("ba.log", WEB.replace(b"1.2.3.4", b"999.1.1.1")),
    "no-address": ("na.eml", MSG.replace(b"[175.45.178.1]", b"[hostname]")),
    "message-too-large": ("big.eml", MSG + b"x" * 5000 + b"\n"),
    "mime-limit": ("deep.eml", _nested(12)),
    "oversized-header": ("pad.eml", b"X-Pad: a\n" + b" " + b"a" * 5000 + b"\n" + MSG),
    "local-logon": ("sec.json", b'{"EventID": 4624, "IpAddress": "-", "TargetUserName": "u", '
                    b'"@timestamp": "2020-01-01T00:00:00Z", "LogonType": "2"}\n'),
    "bad-record": ("cut.evtx", b"ElfFile\x00" + b"\x00" * 200),
    "msg-no-headers": ("draft.msg", _MSG),
    "msg-unreadable": ("broken.msg", _BROKEN_MSG),
    "service-address": ("ct.json", b'{"Records": [{"eventTime": "2020-01-01T00:00:00Z", '
                        b'"eventSource": "sts.amazonaws.com", "eventName": "AssumeRole", '
                        b'"sourceIPAddress": "ec2.amazonaws.com", "userIdentity": {}}]}'),
    "unspecified-address": ("o.jsonl", b'{"published": "2020-01-01T00:00:00Z", "eventType": "x", '
                            b'"actor": {}, "client": {"ipAddress": "0.0.0.0"}}\n'),
    "record-too-large": ("big.json", b'[{"eventTime": "2020-01-01T00:00:00Z", "eventSource": "s", '
                         b'"eventName": "n", "sourceIPAddress": "1.2.3.4"}, {"a": "'
                         + b"x" * 5000 + b'"}]'),
}  # fmt: skip


def _reasons(path: Path) -> list[str]:
    return [r.reason for r in ingest(path, ReadOptions(year=2014)).rejections]


#: Produced by directory entries, not file content: tests/hostile/test_hostile_walk.py.
WALK = {"symlink-loop", "dangling-link", "not-regular-file", "unreadable", "outside-tree"}


def test_every_reason_has_a_case() -> None:
    assert set(CASES) | {"decompression-limit"} | WALK == set(REASONS)


@pytest.mark.parametrize("reason", sorted(CASES))
def test_reason_is_produced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reason: str) -> None:
    monkeypatch.setattr(mail.reader, "MAX_MESSAGE", 4096)  # stands in for 64 MiB
    monkeypatch.setattr(_records, "MAX_RECORD", 1000)  # stands in for 16 Mi characters
    if reason == "oversized-header":
        monkeypatch.setattr(mail.reader, "MAX_MESSAGE", 64 * 1024)
        monkeypatch.setattr(mail.reader, "MAX_HEADER", 2048)  # stands in for 1 MiB
    name, data = CASES[reason]
    p = tmp_path / name
    p.write_bytes(data)
    result = ingest(p, ReadOptions(year=2014))
    assert reason in [r.reason for r in result.rejections]
    for f in result.files:
        assert f.records == f.events + f.rejected + f.duplicates


def test_decompression_limit(tmp_path: Path) -> None:
    # The 2 GiB limit, scaled down through the Source's injectable limit.
    p = tmp_path / "x.gz"
    p.write_bytes(gzip.compress(WEB * 3000))
    src = Source(p, ReadOptions(), max_total=100_000)  # past the first 64 KiB chunk
    items = list(weblog.read(src))
    assert isinstance(items[-1], Rejection) and items[-1].reason == "decompression-limit"
    # the whole lines of the first chunk are kept, then the rest is one rejection
    assert len(items) == 64 * 1024 // len(WEB) + 1
    assert all(not isinstance(i, Rejection) for i in items[:-1])


@pytest.mark.parametrize(
    ("text", "why"),
    [("999.1.1.1", "octet out of range"), ("1.2.3", "too few parts"),
     ("010.1.1.1", "zero-padded: refused, not read as octal or decimal"),
     ("hostname", "a name"), ("1.2.3.4.5", "too many parts"), ("::1::2", "bad IPv6")],
)  # fmt: skip
def test_bad_addresses_in_every_reader(tmp_path: Path, text: str, why: str) -> None:
    files = {
        "a.log": WEB.replace(b"1.2.3.4", text.encode()),
        "b.csv": f"time,ip\n2014-01-01T00:00:00Z,{text}\n".encode(),
        "c.json": json.dumps(
            {"time_local": "10/Oct/2000:13:55:36 -0700", "remote_addr": text, "status": 200}
        ).encode(),
        "d.zeek": f"#separator \\x09\n#fields\tts\tid.orig_h\n1.0\t{text}\n".encode(),
        "e.auth": f"Jan  1 00:00:03 h sshd[1]: Invalid user x from {text} port 1\n".encode(),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    result = ingest(tmp_path, ReadOptions(year=2014))
    assert [f.format for f in result.files] == ["weblog", "table", "weblog-json", "zeek", "authlog"]
    assert [(r.reason, r.locator) for r in result.rejections] == [
        ("bad-address", "line 1"),
        ("bad-address", "line 2"),
        ("bad-address", "line 1"),
        ("bad-address", "line 3"),
        ("bad-address", "line 1"),
    ], why
    assert result.events == []


def test_invalid_utf8_in_every_line_reader(tmp_path: Path) -> None:
    bad = b"\xff\xfe\xc3("
    files = {
        "a.log": WEB + WEB.replace(b"GET /", b"GET /" + bad),
        "b.csv": b"time,ip,n\n2014-01-01T00:00:00Z,1.1.1.1,x\n2014-01-01T00:00:00Z,1.1.1.2," + bad,
        "d.zeek": b"#separator \\x09\n#fields\tts\tid.orig_h\tn\n1.0\t1.1.1.1\tx\n"
        b"1.0\t1.1.1.2\t" + bad,
        "e.auth": b"Jan  1 00:00:03 h sshd[1]: Invalid user x from 1.1.1.1\n"
        b"Jan  1 00:00:04 h sshd[1]: Invalid user " + bad + b" from 1.1.1.2\n",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    result = ingest(tmp_path, ReadOptions(year=2014))
    assert [r.reason for r in result.rejections] == ["bad-encoding"] * 4
    assert len(result.events) == 4


def test_nested_messages_are_read_to_the_depth_limit_then_stated(tmp_path: Path) -> None:
    p = tmp_path / "deep.eml"
    p.write_bytes(_nested(12))
    result = ingest(p, ReadOptions())
    [account] = result.files
    # The outer message and 8 embedded levels are events; the rest is one stated rejection.
    assert (account.records, account.events, account.rejected) == (10, 9, 1)
    [rej] = result.rejections
    assert (rej.locator, rej.reason) == ("message 1 parts beyond limits", "mime-limit")
    locators = sorted(e.evidence.locator for e in result.events)
    assert locators[:3] == ["message 1", "message 1 part 1", "message 1 part 1.1"]
