"""Bug found by a stress run: a table row dated 0001-01-01 or 9999-12-31 became an event whose
time later overflowed the time-zone arithmetic of the analysis (an internal error). Times
outside 1970-2099 are now `bad-time` rejections in every reader."""

from __future__ import annotations

from pathlib import Path

from slipcatch.cli import main
from slipcatch.evidence import ReadOptions, ingest


def test_table_times_outside_the_range_are_rejected(tmp_path: Path):
    p = tmp_path / "t.csv"
    p.write_text(
        "time,src_ip,persona\n"
        "0001-01-01T00:00:00Z,1.2.3.4,a\n"
        "9999-12-31T23:59:59Z,1.2.3.4,a\n"
        "2014-12-01T10:00:00+14:00,1.2.3.4,a\n"
        "1969-12-31T23:59:59Z,1.2.3.4,a\n",
        encoding="utf-8",
    )
    r = ingest(p, ReadOptions())
    assert [e.time.isoformat() for e in r.events] == ["2014-11-30T20:00:00+00:00"]
    assert [(x.locator, x.reason) for x in r.rejections] == [
        ("line 2", "bad-time"),
        ("line 3", "bad-time"),
        ("line 5", "bad-time"),
    ]


def test_access_log_times_outside_the_range_are_rejected(tmp_path: Path):
    p = tmp_path / "w.log"
    p.write_text(
        '1.2.3.4 - - [01/Jan/0001:00:00:00 +0100] "GET / HTTP/1.0" 200 1\n'
        '1.2.3.4 - - [31/Dec/9999:23:59:59 -1400] "GET / HTTP/1.0" 200 1\n'
        '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1\n',
        encoding="utf-8",
    )
    r = ingest(p, ReadOptions())
    assert [e.evidence.locator for e in r.events] == ["line 3"]
    assert [(x.locator, x.reason) for x in r.rejections] == [
        ("line 1", "bad-time"),
        ("line 2", "bad-time"),
    ]


def test_analyze_survives_extreme_times_end_to_end(tmp_path: Path):
    p = tmp_path / "t.csv"
    p.write_text(
        "time,src_ip,persona\n"
        "0001-01-01T00:00:00Z,175.45.176.1,gop\n"
        "2014-12-01T10:00:00Z,185.220.101.7,gop\n"
        "9999-12-31T23:59:59Z,175.45.176.2,gop\n",
        encoding="utf-8",
    )
    assert main(["analyze", str(p), "--out", str(tmp_path / "o")]) == 0
