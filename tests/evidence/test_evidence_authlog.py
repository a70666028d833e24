"""OpenSSH auth logs: events, rejections and the stated year source."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from slipcatch.evidence import ReadOptions, ingest

AUTH = (
    "Dec 31 23:59:58 web1 sshd[100]: Accepted publickey for gop from 175.45.178.1 port 50022 "
    "ssh2: RSA SHA256:abc\n"
    "Jan  1 00:00:01 web1 sshd[101]: Failed password for invalid user admin from 5.6.7.8 "
    "port 4444 ssh2\n"
    "Jan  1 00:00:02 web1 sshd[102]: Invalid user oracle from 5.6.7.9 port 4445\n"
    "Jan  1 00:00:03 web1 CRON[103]: pam_unix(cron:session): session opened for user root\n"
    "Jan  1 00:00:04 web1 sshd[104]: Received disconnect from 5.6.7.8 port 4444:11: Bye\n"
    "Jan  1 00:00:05 web1 sshd[105]: Accepted password for bob from 010.1.1.1 port 1 ssh2\n"
    "Jan  1 00:00:06 web1 sshd[106]: Failed password for root from 999.1.1.1 port 1 ssh2\n"
    "Jan  1 00:00:07 web1 sshd[107]: Invalid user x from 1.2.3\n"
    "garbage line\n"
    "Feb 30 00:00:00 web1 sshd[108]: Invalid user y from 1.1.1.1\n"
)


def _write(tmp_path: Path, text: str, mtime: datetime | None = None) -> Path:
    p = tmp_path / "auth.log"
    p.write_text(text)
    if mtime is not None:
        os.utime(p, (mtime.timestamp(), mtime.timestamp()))
    return p


def test_events_rejections_and_option_year(tmp_path: Path) -> None:
    result = ingest(_write(tmp_path, AUTH), ReadOptions(year=2014))
    [acct] = result.files
    assert (acct.format, acct.records, acct.events, acct.rejected) == ("authlog", 10, 3, 7)
    assert acct.confidence == 0.9
    assert [(r.locator, r.reason) for r in result.rejections] == [
        ("line 4", "no-client-event"),
        ("line 5", "no-client-event"),
        ("line 6", "bad-address"),  # zero-padded octets are refused, not guessed
        ("line 7", "bad-address"),
        ("line 8", "bad-address"),
        ("line 9", "unparsed-line"),
        ("line 10", "bad-time"),  # 30 February
    ]
    got = [(e.time, e.src_ip, e.persona, e.channel, e.attributes["outcome"]) for e in result.events]
    assert got == [
        (datetime(2014, 12, 31, 23, 59, 58, tzinfo=UTC), "175.45.178.1", "gop", "ssh", "accepted"),
        # the month went backwards: the log crossed into 2015
        (datetime(2015, 1, 1, 0, 0, 1, tzinfo=UTC), "5.6.7.8", "admin", "ssh", "failed"),
        (datetime(2015, 1, 1, 0, 0, 2, tzinfo=UTC), "5.6.7.9", "oracle", "ssh", "invalid-user"),
    ]
    first = result.events[0].attributes
    assert dict(first) == {
        "host": "web1",
        "key": "RSA SHA256:abc",
        "method": "publickey",
        "outcome": "accepted",
        "pid": "100",
        "port": "50022",
        "protocol": "ssh2",
        "time_zone": "assumed UTC",
        "year_source": "option",
    }
    assert result.events[1].attributes["invalid_user"] == "true"


def test_year_from_mtime_with_new_year_rollback(tmp_path: Path) -> None:
    p = _write(tmp_path, AUTH, mtime=datetime(2016, 1, 2, 12, tzinfo=UTC))
    result = ingest(p)
    assert [(e.time.year, e.attributes["year_source"]) for e in result.events] == [
        (2015, "mtime"),  # 31 Dec is after the mtime: the year before
        (2016, "mtime"),
        (2016, "mtime"),
    ]


def test_year_from_an_earlier_dated_line(tmp_path: Path) -> None:
    text = (
        "<38>1 2013-07-01T10:00:00.5+02:00 web1 sshd 200 - - Failed password for root from "
        "2001:db8::7 port 22 ssh2\n"
        "2013-07-01T08:00:01Z web1 sshd[201]: Accepted password for gop from 175.45.178.2 port 5"
        " ssh2\n"
        "Jul  1 09:00:00 web1 sshd[202]: Invalid user test from 8.8.8.8 port 1\n"
    )
    result = ingest(_write(tmp_path, text, mtime=datetime(2020, 1, 1, tzinfo=UTC)))
    got = [(e.time, e.src_ip, e.attributes.get("year_source")) for e in result.events]
    assert got == [
        (datetime(2013, 7, 1, 8, 0, 0, 500000, tzinfo=UTC), "2001:db8::7", None),
        (datetime(2013, 7, 1, 8, 0, 1, tzinfo=UTC), "175.45.178.2", None),
        (datetime(2013, 7, 1, 9, tzinfo=UTC), "8.8.8.8", "line 2"),
    ]


def test_generic_syslog_is_read_with_low_confidence(tmp_path: Path) -> None:
    p = tmp_path / "messages"
    p.write_text("Jan  1 00:00:03 web1 CRON[103]: session opened\n" * 3)
    [acct] = ingest(p, ReadOptions(year=2014)).files
    assert (acct.format, acct.confidence, acct.records, acct.rejected) == ("authlog", 0.55, 3, 3)
