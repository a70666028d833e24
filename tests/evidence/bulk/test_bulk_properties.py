"""Property: files of good and corrupt lines read alike in bulk and line by line, whatever the
chunk size; every file's account reconciles and every rejection has the per-line reason."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slipcatch.evidence import ReadOptions
from slipcatch.evidence._source import MAX_LINE

from .test_bulk import LINE, ODD, _both

BASES: dict[str, tuple[bytes, list[bytes]]] = {
    "weblog": (b"", [LINE, *ODD]),
    "table": (
        b"time,ip,user,note",
        [
            b"2014-01-01T00:00:00Z,1.1.1.1,x,a",
            b'2014-01-01T00:00:01+02:00,2001:db8::1,"y, z",b',
            b"1388534400,10.0.0.1,,c",
            b'2014-01-01T00:00:00Z,1.1.1.1,"x,d',
            b"2014-02-29T00:00:00,1.1.1.1,x,e",
            b"1388534400.0000015,192.0.2.1, y ,\\f",
            b"2014-01-01T24:00:00Z,1.1.1.1,x,g",
            b"2014-01-01 00:00:00,1.1.1.1,x,h",
        ],
    ),
    "zeek": (
        b"#separator \\x09\n#path\thttp\n#fields\tts\tid.orig_h\tuser\tmethod",
        [
            b"1388534400.5\t192.0.2.1\tbob\tGET",
            b"1388534401\t2001:db8::2\t-\t(empty)",
            b'1388534400.123456789\t192.0.2.5\t(empty)\ta\\x09"b"',
            b"1388534400\t-\t-\t-",
            b"#fields\tts\tid.orig_h",
            b"1388534402\t192.0.2.3",
        ],
    ),
    "authlog": (
        b"",
        [
            b"Dec 31 23:59:59 h sshd[1]: Accepted password for u from 1.2.3.4 port 22 ssh2",
            b"Jan  1 00:00:01 h sshd[2]: Failed publickey for invalid user x from ::1 port 1 ssh2",
            b"<34>1 2014-11-24T09:00:00Z h sshd 1 - - Invalid user z from 5.6.7.8",
            b"2014-11-24T09:00:00+09:00 h CRON[1]: x",
            b"Feb 29 00:00:00 h sshd[3]: Invalid user y from 203.0.113.9",
        ],
    ),
}

CORRUPT = st.one_of(
    st.binary(max_size=80).map(lambda b: b.replace(b"\n", b"")),
    st.sampled_from(
        [
            b"",
            b"   ",
            b"\r",
            b"\x00\x00",
            b"\xff\xfe",
            b"x" * (MAX_LINE + 10),
            b'999.1.1.1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1',
            b'203.0.113.1 - - [32/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1',
            b'203.0.113.1 - - [10/Oct/1969:13:55:36 +0000] "GET / HTTP/1.1" 200 1',
            b"2014-13-01T00:00:00Z,1.1.1.1,x,a",
            b"1e99\t192.0.2.1\tbob\tGET",
            b"Foo 31 23:59:59 h sshd[1]: Accepted password for u from 1.2.3.4 port 22 ssh2",
        ]
    ),
)


@st.composite
def files(draw: st.DrawFn) -> tuple[str, bytes, int]:
    fmt = draw(st.sampled_from(sorted(BASES)))
    header, good = BASES[fmt]
    lines: list[bytes] = []
    for _ in range(draw(st.integers(1, 30))):
        kind = draw(st.integers(0, 3))
        line = draw(st.sampled_from(good))
        if kind == 1:
            line = draw(CORRUPT)
        elif kind == 2:
            line = line[: draw(st.integers(0, len(line)))]
        elif kind == 3:
            at = draw(st.integers(0, len(line)))
            line = line[:at] + draw(CORRUPT) + line[at:]
        if draw(st.booleans()) and draw(st.booleans()):
            line += b"\r"
        lines.append(line)
    body = b"\n".join(([header] if header else []) + lines)
    if draw(st.booleans()):
        body += b"\n"
    return fmt, body, draw(st.integers(1, 12))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files())
def test_corrupt_lines_read_alike_at_any_chunk_size(case: tuple[str, bytes, int]) -> None:
    fmt, body, batch_lines = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{fmt}.log"
        path.write_bytes(body)
        other = Path(tmp) / "copy.log"
        other.write_bytes(body[: len(body) // 2])  # duplicates of the first file's records
        _both([path, other], ReadOptions(year=2014), batch_lines)
        _both([path], ReadOptions(), 1 + batch_lines * 3)


def _expand(path: Path, blocks: list) -> list:
    """Blocks as (lines, first), ``Span`` byte ranges read from the file."""
    from slipcatch.evidence.bulk._columnar import Span

    data = path.read_bytes()
    return [(data[b.start:b.stop].split(b"\n"), b.first) if isinstance(b, Span) else b
            for b in blocks]


#: Line lengths around the over-long rule (a line growing past MAX_LINE at a 64 KiB chunk's
#: end is discarded as it streams) and short lines, blank ones included.
LENGTHS = st.one_of(st.integers(0, 40), st.integers(MAX_LINE - 3, MAX_LINE + 3),
                    st.sampled_from([2 * MAX_LINE + 5, 3 * MAX_LINE]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LENGTHS, max_size=30), st.booleans(), st.integers(1, 9), st.binary(max_size=3))
def test_spans_are_the_blocks_of_lines(lengths: list[int], trailing: bool, size: int,
                                       fill: bytes) -> None:
    from slipcatch.evidence._source import Source
    from slipcatch.evidence.bulk._columnar import Span, line_blocks

    pad = (fill.replace(b"\n", b"") or b"x") * (3 * MAX_LINE)
    body = b"\n".join(pad[:n] if n % 7 else pad[:n - 1] + b"\r" if n else b"" for n in lengths)
    body += b"\n" if trailing and lengths else b""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.log"
        path.write_bytes(body)
        want = list(line_blocks(Source(path, ReadOptions()), size))
        got = list(line_blocks(Source(path, ReadOptions()), size, spans=True))
        assert _expand(path, got) == want
        # spans until the first line over-long at a chunk's end, lines after it
        kinds = [isinstance(b, Span) for b in got]
        assert kinds == sorted(kinds, reverse=True)
        if all(n <= MAX_LINE for n in lengths):
            assert all(kinds)


def test_spans_only_for_plain_files(tmp_path: Path) -> None:
    import gzip

    from slipcatch.evidence._source import Source
    from slipcatch.evidence.bulk._columnar import Span, line_blocks

    body = b"a\nbb\n\nccc"
    (tmp_path / "a.log").write_bytes(body)
    (tmp_path / "b.log.gz").write_bytes(gzip.compress(body))
    (tmp_path / "c.log").write_bytes(body.decode().encode("utf-16"))
    spans = list(line_blocks(Source(tmp_path / "a.log", ReadOptions()), 3, spans=True))
    assert spans == [Span(0, 5, 1), Span(6, 9, 4)]  # "a\nbb\n" ends at the third newline
    for name in ("b.log.gz", "c.log"):
        blocks = list(line_blocks(Source(tmp_path / name, ReadOptions()), 3, spans=True))
        assert blocks == [([b"a", b"bb", b""], 1), ([b"ccc"], 4)]
