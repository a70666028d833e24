"""Files, directories, compression and limits."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
from pathlib import Path

import pytest

from slipcatch.errors import EvidenceError
from slipcatch.evidence import ReadOptions, ingest
from slipcatch.evidence._source import Line, Problem, Source

LINE = b'1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1\n'


def test_missing_path_raises_with_path(tmp_path: Path) -> None:
    with pytest.raises(EvidenceError) as err:
        ingest(tmp_path / "nope.log")
    assert err.value.source == str(tmp_path / "nope.log")


@pytest.mark.parametrize(
    ("compress", "kind"), [(gzip.compress, "gzip"), (bz2.compress, "bz2"), (lzma.compress, "xz")]
)
def test_compression_by_magic_not_name(tmp_path: Path, compress, kind: str) -> None:  # type: ignore[no-untyped-def]
    data = compress(LINE * 3)
    p = tmp_path / "plain-name.txt"
    p.write_bytes(data)
    result = ingest(p)
    [acct] = result.files
    assert (acct.format, acct.records, acct.events, acct.duplicates) == (f"weblog+{kind}", 3, 1, 2)
    assert acct.sha256 == hashlib.sha256(data).hexdigest()
    assert acct.size == len(data)


def test_truncated_gzip_keeps_earlier_records(tmp_path: Path) -> None:
    lines = b"".join(LINE.replace(b"GET /", b"GET /%d" % i) for i in range(5000))
    data = gzip.compress(lines)
    p = tmp_path / "cut.log.gz"
    p.write_bytes(data[: len(data) // 2])
    result = ingest(p)
    [acct] = result.files
    assert acct.events > 100
    assert acct.records == acct.events + 1
    [rej] = result.rejections
    assert rej.reason == "truncated-compression"
    assert rej.locator == f"line {acct.events + 1}"


def test_corrupt_gzip_head_is_unrecognised(tmp_path: Path) -> None:
    p = tmp_path / "bad.gz"
    p.write_bytes(b"\x1f\x8b\x08\x00garbage-garbage-garbage")
    result = ingest(p)
    [rej] = result.rejections
    assert rej.reason == "unrecognised-format"
    assert "truncated-compression" in rej.detail


def test_decompression_bomb_stops(tmp_path: Path) -> None:
    # 24 MiB of one repeated line compresses ~1000:1; past 10 MiB the ratio limit trips.
    p = tmp_path / "bomb.gz"
    with gzip.open(p, "wb") as fh:
        for _ in range(24 * 1024 * 1024 // len(LINE)):
            fh.write(LINE)
    result = ingest(p)
    [acct] = result.files
    [rej] = result.rejections
    assert rej.reason == "decompression-limit"
    assert acct.events == 1
    assert acct.records == acct.duplicates + 2
    assert acct.duplicates < 10 * 1024 * 1024 // len(LINE) + 2000


def test_total_limit(tmp_path: Path) -> None:
    p = tmp_path / "x.gz"
    p.write_bytes(gzip.compress(LINE * 1000))
    src = Source(p, ReadOptions(), max_total=len(LINE) * 10)
    items = list(src.lines())
    assert isinstance(items[-1], Problem) and items[-1].reason == "decompression-limit"
    assert all(isinstance(i, Line) for i in items[:-1])


def test_long_line_not_assembled(tmp_path: Path) -> None:
    p = tmp_path / "long.log"
    p.write_bytes(
        LINE + b"x" * 200_000 + b"\n" + LINE.replace(b"1.2.3.4", b"5.6.7.8") + b"y" * 70_000
    )
    result = ingest(p)
    assert [(r.locator, r.reason) for r in result.rejections] == [
        ("line 2", "line-too-long"),
        ("line 4", "line-too-long"),
    ]
    assert [e.src_ip for e in result.events] == ["1.2.3.4", "5.6.7.8"]


def test_crlf_and_no_final_newline(tmp_path: Path) -> None:
    p = tmp_path / "x"
    p.write_bytes(b"a\r\n\r\n  \nb")
    items = list(Source(p, ReadOptions()).lines())
    assert items == [Line(1, b"a"), Line(4, b"b")]


def test_binary_and_empty_files(tmp_path: Path) -> None:
    (tmp_path / "bin").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "text").write_text("hello world\n")
    result = ingest(tmp_path)
    assert [(Path(f.path).name, f.format, f.records, f.rejected) for f in result.files] == [
        ("bin", "unknown", 1, 1),
        ("empty", "empty", 0, 0),
        ("text", "unknown", 1, 1),
    ]
    assert [(r.reason, r.detail) for r in result.rejections] == [
        ("unrecognised-format", "binary content"),
        (
            "unrecognised-format",
            "no format matched (no reader found its records in the first lines); "
            "first line: 'hello world'",
        ),
    ]


def test_directory_walk_sorted_hidden_skipped(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "b" / "z.log").write_bytes(LINE)
    (tmp_path / "a.log").write_bytes(LINE.replace(b"1.2.3.4", b"4.4.4.4"))
    (tmp_path / ".secret.log").write_bytes(LINE)
    (tmp_path / ".hidden" / "x.log").write_bytes(LINE)
    result = ingest(tmp_path)
    assert [Path(f.path).relative_to(tmp_path).as_posix() for f in result.files] == [
        "a.log",
        "b/z.log",
    ]
    # an explicitly named hidden file is read; naming a file twice reads it once
    again = ingest([tmp_path / ".secret.log", tmp_path / ".secret.log"])
    assert len(again.files) == 1 and len(again.events) == 1


def test_deterministic(shared_data: Path) -> None:
    a = ingest(shared_data / "email")
    b = ingest(shared_data / "email")
    assert a == b
