"""The bulk path (``evidence.bulk``) reads exactly what the per-line readers read."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import pickle
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from slipcatch.errors import EvidenceError
from slipcatch.eventtable import EVENT_SCHEMA, events_to_table
from slipcatch.evidence import ColumnarIngest, PersonaMap, ReadOptions, ingest
from slipcatch.evidence._source import MAX_LINE, Source
from slipcatch.evidence.bulk import (
    BULK_FORMATS,
    ChunkContext,
    chunk_context,
    parse_chunk,
    parse_chunk_next,
)
from slipcatch.evidence.bulk._columnar import id_keys
from slipcatch.evidence.bulk._weblog import _fast_rows
from slipcatch.model import event_id

LINE = (
    b'203.0.113.7 - alice [10/Oct/2000:13:55:36 -0700] "GET /a?b=1 HTTP/1.1" 200 2326 '
    b'"http://r/" "UA x"'
)


def _ctx(fmt: str = "weblog", options: ReadOptions | None = None) -> ChunkContext:
    return ChunkContext(fmt, "f.log", "0" * 64, options or ReadOptions())


def _chunk(lines: list[bytes], first: int = 1) -> tuple[pa.Array, pa.Array]:
    return (
        pa.array(lines, pa.binary()),
        pa.array(np.arange(first, first + len(lines), dtype=np.int64)),
    )


def _line(locator: str) -> int:
    tail = locator.removeprefix("line ")
    return int(tail) if tail.isdigit() else 0


def _both(paths: list[Path] | Path, options: ReadOptions, batch_lines: int) -> None:
    """Assert ColumnarIngest and ingest() give the same events, accounts and rejections."""
    want = ingest(paths, options)
    reading = ColumnarIngest(paths, options, batch_lines=batch_lines)
    batches = list(reading.batches())
    for batch in batches:
        assert batch.schema == EVENT_SCHEMA
    got = pa.Table.from_batches(batches, schema=EVENT_SCHEMA).to_pylist()
    order = {f.path: k for k, f in enumerate(want.files)}
    expected = events_to_table(want.events).to_pylist()

    def key(row: dict) -> tuple[int, int, str]:
        return order[row["path"]], _line(row["locator"]), row["id"]

    assert got == sorted(got, key=lambda row: key(row)[:2])  # walk order, then line order
    assert sorted(got, key=key) == sorted(expected, key=key)
    assert reading.files == want.files
    assert reading.rejections == want.rejections
    assert reading.rejection_counts == want.rejection_counts
    for f in reading.files:
        assert f.records == f.events + f.rejected + f.duplicates


# -- parse_chunk ------------------------------------------------------------------------------


def test_common_line_worked_by_hand() -> None:
    batch, rejections = parse_chunk(_ctx(), *_chunk([LINE, b"", b"  \t", LINE + b"\r"]))
    assert rejections == []
    rows = batch.to_pylist()
    assert [r["locator"] for r in rows] == ["line 1", "line 4"]
    when = datetime(2000, 10, 10, 20, 55, 36, tzinfo=UTC)  # 13:55:36 at -07:00
    row = rows[0]
    assert row["time"] == when
    assert row["src_ip"] == "203.0.113.7"
    assert row["persona"] == "alice"
    assert row["channel"] == "web"
    assert row["path"] == "f.log"
    assert json.loads(row["attributes"]) == {
        "bytes": "2326",
        "method": "GET",
        "path": "/a?b=1",
        "protocol": "HTTP/1.1",
        "referer": "http://r/",
        "status": "200",
        "user_agent": "UA x",
    }
    assert row["attributes"].startswith('{"bytes": "2326", "method": "GET"')
    assert row["id"] == event_id(
        "web", when, "203.0.113.7", "alice", hashlib.sha256(LINE).hexdigest()
    )
    assert rows[1]["id"] == row["id"]  # the CR is not part of the record
    assert row["hops"] == "[]" and row["mail"] is None and row["origin_trust"] is None


def test_common_lines_take_the_vectorised_path() -> None:
    data = pa.array([LINE, LINE.replace(b"-0700", b"+1500")], pa.large_binary())
    rows = _fast_rows(_ctx(), data, pa.array([1, 2], pa.int64()))
    assert rows is not None
    assert rows["taken"].to_pylist() == [True, False]  # +15:00 is no zone: per-line decides


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"\xff" + LINE, "bad-encoding"),
        (LINE.replace(b"10/Oct", b"31/Feb"), "bad-time"),
        (LINE.replace(b"2000:", b"2100:"), "bad-time"),
        (LINE.replace(b"-0700", b"+1500"), "bad-time"),
        (LINE.replace(b"203.0.113.7", b"999.1.1.1"), "bad-address"),
        (b"not an access log line", "unparsed-line"),
        (b"x" * (MAX_LINE + 2), "line-too-long"),
    ],
)
def test_rejections_worked_by_hand(line: bytes, reason: str) -> None:
    batch, rejections = parse_chunk(_ctx(), *_chunk([LINE, line], first=41))
    assert batch.num_rows == 1
    assert [(r.locator, r.reason) for r in rejections] == [("line 42", reason)]


ODD = [
    LINE,
    b'www.example.org:443 203.0.113.8 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1',
    b'"198.51.100.1, 10.0.0.1" - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "-"',
    b'203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "GET /q\\"x HTTP/1.1" 200 1 "-" "a \\"b\\""',
    b'[2001:db8::1] - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 -',
    b'fe80::1%eth0 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 -',
    b'2001:DB8:0::1 - - [10/Oct/2000:13:55:36 +0000] "-" - - "x"',
    b'203.0.113.7 - - [10/oct/2000:13:55:36 +0000] "a b c d" 2"0 1" "r" "u" tail',
    b'203.0.113.7 - - [10/Oct/2000:13:55:36 +0000] "GET /  HTTP/1.1" 200 1 "r"',
    b'203.0.113.7  -  - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1',
    b'203.0.113.7\t- - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1',
    b'203.0.113.7 - - [29/Feb/2000:23:59:60 +0000] "GET / HTTP/1.1" 200 1',
    b'203.0.113.7 - j\xc3\xb6rg [29/Feb/2000:23:59:59 +1400] "GET /\xc3\xa9 HTTP/1.1" 200 1',
    b'198.51.100.1, 10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1',
]


def test_which_odd_lines_the_vectorised_path_takes() -> None:
    from slipcatch.evidence.bulk._weblog import _STRICT

    data = pa.array(ODD, pa.large_binary())
    strict = pc.match_substring_regex(data.view(pa.large_string()), _STRICT).to_pylist()
    # The plain line, a virtual host first (vhost_combined), the unusual-but-strict ones (a
    # request of "-", a lowercase month with a quote in the status and text after the pair, a
    # double space inside the request, a bare IPv6 address to canonicalise), the leap second
    # (strict shape, invalid stamp) and a list of clients.
    assert [k for k, hit in enumerate(strict) if hit] == [0, 1, 6, 7, 8, 11, 13]
    rows = _fast_rows(_ctx(), data.filter(pa.array(strict)), pa.array([1, 2, 7, 8, 9, 12, 14]))
    assert rows is not None
    assert rows["taken"].to_pylist() == [True, True, True, True, True, False, True]
    assert rows["src_ip"].to_pylist()[1:3] == ["203.0.113.8", "2001:db8::1"]
    assert rows["src_ip"].to_pylist()[-1] == "198.51.100.1"
    assert json.loads(rows["attributes"].to_pylist()[-1])["xff"] == "198.51.100.1, 10.0.0.1"
    attrs = [json.loads(a) for a in rows["attributes"].to_pylist()]
    assert attrs[0]["user_agent"] == "UA x" and "vhost" not in attrs[0]
    assert rows["attributes"].to_pylist()[1] == (
        '{"bytes": "1", "method": "GET", "path": "/", "protocol": "HTTP/1.1", "status": "200", '
        '"vhost": "www.example.org:443"}'
    )
    del attrs[0]
    assert attrs[1] == {}  # request, status and bytes all "-"; a lone quoted "x" is no pair
    assert attrs[2] == {
        "bytes": '1"',
        "referer": "r",
        "request": "a b c d",
        "status": '2"0',
        "user_agent": "u",
    }
    # Four words when split on single spaces: kept whole; one quoted field is no referer.
    assert attrs[3] == {"bytes": "1", "request": "GET /  HTTP/1.1", "status": "200"}


#: A first field before the client: a virtual host (with or without a port, or "-"), or an
#: address, which makes the field a list of clients (``xff``, the per-line reader's) — and a
#: client that is no address after a virtual host (rejected as the per-line reader does).
VHOSTS = [
    b'www.example.org:443 203.0.113.8 - bob [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1'
    b' "http://r/" "UA"',
    b'www.example.org 2001:DB8::5 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 - "-" "u"',
    b'- 203.0.113.8 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "UA"',
    b'198.51.100.1 203.0.113.8 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "UA"',
    b'2001:db8::1 203.0.113.8 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "UA"',
    b'198.51.100.1:80 203.0.113.8 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1',
    b'host.example cafe - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "UA"',
    b'host.example 203.0.113.999 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1',
    b'a b 203.0.113.8 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "UA"',
    b'h!#+-Z]~ 203.0.113.8 - - [10/Oct/2000:13:55:36 +0000] "a b" 200 1 "-" "UA"',
]


#: A list of clients in place of the client (a proxy's X-Forwarded-For): the first item that
#: parses is the address; taken by the vectorised path when the first item is an address and
#: the items are apart by exactly ", " (the per-line reader joins them so for ``xff``).
CLIENT_LISTS = [
    b'203.0.113.8, 10.0.0.1 - bob [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "UA"',
    b'2001:DB8::5, 10.0.0.1, 127.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET /x HTTP/1.1" 200 -',
    b'cafe, 203.0.113.8 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "UA"',
    b'203.0.113.999, 203.0.113.8 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1',
    b'203.0.113.8,10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "UA"',
    b'203.0.113.8,  10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1',
    b'203.0.113.8, unknown - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1',
    b'"203.0.113.8, 10.0.0.1" 10.2.1.185 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1',
    b'www.example.org 203.0.113.8, 10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET /" 200 1',
]


def _first_fields(tmp_path: Path, lines: list[bytes], batch_lines: int) -> tuple[list, dict]:
    """Both paths read ``lines`` alike; which are of the strict shape, and the vectorised
    path's rows for those."""
    from slipcatch.evidence.bulk._weblog import _STRICT

    path = tmp_path / "access.log"
    path.write_bytes(b"\n".join(lines) + b"\n")
    _both([path], ReadOptions(), batch_lines)
    data = pa.array(lines, pa.large_binary())
    strict = pc.match_substring_regex(data.view(pa.large_string()), _STRICT).to_pylist()
    numbers = [k + 1 for k, hit in enumerate(strict) if hit]
    rows = _fast_rows(_ctx(), data.filter(pa.array(strict)), pa.array(numbers, pa.int64()))
    assert rows is not None
    return strict, rows


@pytest.mark.parametrize("batch_lines", [1, 4, 1000])
def test_client_lists_match_the_per_line_reader(tmp_path: Path, batch_lines: int) -> None:
    strict, rows = _first_fields(tmp_path, CLIENT_LISTS, batch_lines)
    assert strict == [True, True, True, True, False, False, False, False, False]
    assert rows["taken"].to_pylist() == [True, True, False, False]  # first item no address
    assert rows["src_ip"].to_pylist() == ["203.0.113.8", "2001:db8::5"]
    assert [json.loads(a)["xff"] for a in rows["attributes"].to_pylist()] == [
        "203.0.113.8, 10.0.0.1", "2001:DB8::5, 10.0.0.1, 127.0.0.1"]
    assert rows["persona"].to_pylist()[0] == "bob"


@pytest.mark.parametrize("batch_lines", [1, 4, 1000])
def test_virtual_hosts_match_the_per_line_reader(tmp_path: Path, batch_lines: int) -> None:
    strict, rows = _first_fields(tmp_path, VHOSTS, batch_lines)
    assert strict == [True] * 8 + [False, True]  # five fields before the stamp: not strict
    # virtual hosts taken ("198.51.100.1:80" is no address to either reader: a host name);
    # an address first (a client list) and bad clients left to the per-line reader
    assert rows["taken"].to_pylist() == [True, True, True, False, False, True, False, False,
                                         True]
    assert json.loads(rows["attributes"].to_pylist()[1]) == {
        "method": "GET", "path": "/", "protocol": "HTTP/1.1", "status": "200",
        "user_agent": "u", "vhost": "www.example.org"}
    assert rows["src_ip"].to_pylist()[1] == "2001:db8::5"
    assert json.loads(rows["attributes"].to_pylist()[-1])["vhost"] == "h!#+-Z]~"


#: Referer and agent after runs of spaces: the per-line reader's ``\s+`` takes the pair (a fuzz
#: find: the vectorised path once read these as lines without one, dropping both fields).
SPACED_PAIR = [
    b'203.0.113.7 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "r"  "u"',
    b'203.0.113.7 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1   "r" "u" x',
]


def test_referer_and_agent_after_runs_of_spaces(tmp_path: Path) -> None:
    data = pa.array(SPACED_PAIR, pa.large_binary())
    rows = _fast_rows(_ctx(), data, pa.array([1, 2], pa.int64()))
    assert rows is not None
    assert rows["taken"].to_pylist() == [True, True]
    pair = {"referer": "r", "user_agent": "u"}
    for text in rows["attributes"].to_pylist():
        attrs = json.loads(text)
        assert {k: attrs[k] for k in pair} == pair
    path = tmp_path / "access.log"
    path.write_bytes(b"\n".join(SPACED_PAIR) + b"\n")
    _both([path], ReadOptions(), 1)


@pytest.mark.parametrize("batch_lines", [1, 3, 1000])
def test_odd_lines_match_the_per_line_reader(tmp_path: Path, batch_lines: int) -> None:
    path = tmp_path / "access.log"
    path.write_bytes(b"\n".join(ODD) + b"\n")
    _both([path], ReadOptions(), batch_lines)


def test_persona_map_by_account_and_by_record(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_bytes(b"\n".join(ODD) + b"\n")
    by_account = PersonaMap.from_pairs([("alice", "Operator A")])
    _both([path], ReadOptions(persona_map=by_account), 2)
    batch, _ = parse_chunk(_ctx(options=ReadOptions(persona_map=by_account)), *_chunk([LINE]))
    assert batch.column("persona").to_pylist() == ["Operator A"]
    by_path = PersonaMap.from_pairs([("path:^/a", "Shell user")])
    _both([path], ReadOptions(persona_map=by_path), 2)
    batch, _ = parse_chunk(_ctx(options=ReadOptions(persona_map=by_path)), *_chunk([LINE]))
    assert batch.column("persona").to_pylist() == ["Shell user"]


def test_context_is_picklable_and_names_bulk_formats(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"\ntime,ip,user\n2014-01-01T00:00:00Z,1.1.1.1,x\n")
    ctx = chunk_context(Source(path, ReadOptions()), "table")
    assert (ctx.header, ctx.header_line) == (b"time,ip,user", 2)
    assert pickle.loads(pickle.dumps(ctx)) == ctx
    pmap = PersonaMap.from_pairs([("re:^a", "A"), ("bob", "B")])  # shipped to Spark workers
    shipped = pickle.loads(pickle.dumps(_ctx(options=ReadOptions(persona_map=pmap))))
    assert shipped.options.persona_map is not None
    assert shipped.options.persona_map.resolve("alice", "x") == "A"
    assert shipped.options.persona_map.resolve("BOB") == "B"
    assert {"weblog", "zeek", "table", "authlog"} == BULK_FORMATS
    with pytest.raises(ValueError, match="not a bulk format"):
        chunk_context(Source(path, ReadOptions()), "mail")


def test_table_chunk_after_the_header() -> None:
    ctx = ChunkContext("table", "t.csv", "0" * 64, ReadOptions(), b"time,ip,user", 1)
    batch, rejections = parse_chunk(ctx, *_chunk([b"2014-01-01T00:00:00Z,1.1.1.1,x", b"a,b"], 9))
    assert batch.column("locator").to_pylist() == ["line 9"]
    assert batch.column("persona").to_pylist() == ["x"]
    assert [(r.locator, r.reason) for r in rejections] == [("line 10", "column-count")]


def test_zeek_directives_carry_into_the_next_chunk() -> None:
    ctx = _ctx("zeek")
    first = [b"#separator \\x09", b"#path\tconn", b"#fields\tts\tid.orig_h\tuser"]
    batch, _, nxt = parse_chunk_next(ctx, *_chunk([*first, b"1.0\t1.1.1.1\tbob"]))
    assert batch.column("channel").to_pylist() == ["zeek:conn"]
    batch, rejections, _ = parse_chunk_next(nxt, *_chunk([b"2.0\t2.2.2.2\t-", b"3.0\tx"], 5))
    assert batch.column("src_ip").to_pylist() == ["2.2.2.2"]
    assert batch.column("persona").to_pylist() == ["(anonymous)"]
    assert batch.column("channel").to_pylist() == ["zeek:conn"]
    assert [(r.locator, r.reason) for r in rejections] == [("line 6", "column-count")]


def test_zeek_state_survives_a_line_break_separator(tmp_path: Path) -> None:
    """A fuzz find (seed 19, input 479,784): after ``#separator \\x0a`` the replayed header
    wrote ``#unset_field``, a newline, then ``-``: two header lines read as data before the
    ``#fields`` header, two rejections the per-line reader never made. Each directive is now
    replayed under a separator of its own, the state's separator set last."""
    from slipcatch.evidence.bulk._zeek import State, state_of

    lines = [b"#separator \\x0a", b"#path\tconn", b"#fields\tts\tid.orig_h",
             b"#unset_field", b"1.0\t1.1.1.1", b"2.0\t2.2.2.2", b"3.0"]
    path = tmp_path / "conn.log"
    path.write_bytes(b"\n".join(lines) + b"\n")
    for batch_lines in (1, 2, 7):
        _both([path], ReadOptions(), batch_lines)
    odd = State(sep="\n", fields=("a\tb", "c\x01"), path="zeek:x\ty", unset="", empty="\t")
    assert state_of(odd.header()) == odd
    every = State(sep="\t", fields=tuple(chr(c) for c in range(1, 32) if c not in (10, 13)))
    assert state_of(every.header()) == every


def test_authlog_year_steps_over_new_year_across_chunks() -> None:
    ctx = _ctx("authlog", ReadOptions(year=2014))
    dec = b"Dec 31 23:59:59 h sshd[1]: Accepted password for u from 1.2.3.4 port 22 ssh2"
    jan = b"Jan  1 00:00:01 h sshd[1]: Accepted password for u from 1.2.3.4 port 22 ssh2"
    batch, _, nxt = parse_chunk_next(ctx, *_chunk([dec]))
    assert nxt.years == (2014, "option", 12)
    batch, _, _ = parse_chunk_next(nxt, *_chunk([jan], 2))
    assert batch.column("time").to_pylist() == [datetime(2015, 1, 1, 0, 0, 1, tzinfo=UTC)]


# -- ColumnarIngest ---------------------------------------------------------------------------


def test_real_samples_read_alike(shared_data: Path) -> None:
    demo = Path(__file__).resolve().parents[3] / "src" / "slipcatch" / "data" / "demo"
    paths = [shared_data, demo / "evidence"]
    _both(paths, ReadOptions(year=2014), 262_144)
    _both(paths, ReadOptions(), 7)


def test_sample_formats_cover_every_bulk_reader(shared_data: Path) -> None:
    demo = Path(__file__).resolve().parents[3] / "src" / "slipcatch" / "data" / "demo"
    reading = ColumnarIngest([shared_data, demo / "evidence"], ReadOptions(year=2014))
    for _ in reading.batches():
        pass
    formats = {f.format for f in reading.files if f.records}  # authlog samples: rejections only
    assert formats >= BULK_FORMATS


def test_duplicates_across_and_within_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_bytes(LINE + b"\n" + LINE + b"\n")
    b.write_bytes(LINE + b"\n" + LINE.replace(b"alice", b"bob") + b"\n")
    _both([a, b], ReadOptions(), 1)
    reading = ColumnarIngest([tmp_path], ReadOptions())
    assert sum(batch.num_rows for batch in reading.batches()) == 2
    assert [(f.records, f.events, f.duplicates) for f in reading.files] == [(2, 1, 1), (2, 1, 1)]


def test_compressed_broken_empty_binary_and_long(tmp_path: Path) -> None:
    body = b"\n".join(ODD) + b"\n"
    (tmp_path / "a.log.gz").write_bytes(gzip.compress(body * 3))
    (tmp_path / "b.log.gz").write_bytes(gzip.compress(body * 50)[:-30])  # cut short
    (tmp_path / "c.log").write_bytes(b"")
    (tmp_path / "d.bin").write_bytes(b"\x00\x01" * 100)
    (tmp_path / "e.log").write_bytes(body + b"y" * (3 * MAX_LINE) + b"\n" + LINE + b"\n")
    (tmp_path / "f.log").write_bytes(body + b"z" * (MAX_LINE + 5))  # over-long, no newline
    (tmp_path / "g.txt").write_bytes(b"hello\nworld\n")
    os.symlink(tmp_path / "missing", tmp_path / "h.log")
    for size in (1, 5, 262_144):
        _both([tmp_path], ReadOptions(), size)


def test_id_keys_worked_by_hand() -> None:
    ids = pa.array(["ev--000000000000000f", "ev--ffffffffffffffff", "ev--0123456789abcdef"])
    keys = id_keys(ids)
    assert keys is not None
    assert keys.tolist() == [15, 2**64 - 1, 0x0123456789ABCDEF]
    assert id_keys(ids.slice(1)).tolist() == [2**64 - 1, 0x0123456789ABCDEF]  # type: ignore[union-attr]
    assert id_keys(pa.array(["ev--00000000000000zz"])) is None
    assert id_keys(pa.array(["em--0000000000000000"])) is None
    assert id_keys(pa.array(["ev--0"])) is None


ZEEK_HEAD = [b"#separator \\x09", b"#path\tssh", b"#fields\tts\tid.orig_h\tuser\tusername\tnote"]
ZEEK_ROWS = [
    b'1388534400.25\t192.0.2.1\t(empty)\tcarol\ta "q" \\x41',
    b"1388534401.0000015\t2001:DB8::2\t-\t-\t(empty)",
]


def test_zeek_rows_worked_by_hand() -> None:
    from slipcatch.evidence.bulk import _zeek

    data = pa.array(ZEEK_ROWS, pa.large_binary())
    state = _zeek.state_of(b"\n".join(ZEEK_HEAD))
    assert state.fields == ("ts", "id.orig_h", "user", "username", "note")
    fast = _zeek._fast_rows(_ctx("zeek"), state, data, pa.array([4, 5], pa.int64()))
    assert fast is not None
    batch, taken = fast
    assert taken.tolist() == [True, True]
    rows = batch.to_pylist()
    first = datetime(2014, 1, 1, 0, 0, 0, 250000, tzinfo=UTC)
    assert rows[0]["time"] == first
    assert rows[0]["persona"] == "carol"  # user is empty: the username names the account
    assert rows[0]["attributes"] == '{"note": "a \\"q\\" \\\\x41"}'
    assert rows[0]["channel"] == "zeek:ssh"
    assert rows[0]["locator"] == "line 4"
    digest = hashlib.sha256(ZEEK_ROWS[0]).hexdigest()
    assert rows[0]["id"] == event_id("zeek:ssh", first, "192.0.2.1", "carol", digest)
    # datetime.fromtimestamp rounds the fraction half-even to microseconds, as the reader does.
    second = datetime.fromtimestamp(float("1388534401.0000015"), UTC)
    assert rows[1]["time"] == second
    assert rows[1]["src_ip"] == "2001:db8::2"
    assert rows[1]["persona"] == "(anonymous)"
    assert json.loads(rows[1]["attributes"]) == {"note": ""}
    digest = hashlib.sha256(ZEEK_ROWS[1]).hexdigest()
    assert rows[1]["id"] == event_id("zeek:ssh", second, "2001:db8::2", "(anonymous)", digest)


@pytest.mark.parametrize("batch_lines", [1, 2, 100])
def test_zeek_segments_match_the_per_line_reader(tmp_path: Path, batch_lines: int) -> None:
    odd = [
        b"1e3\t192.0.2.9\tx\t-\t-",  # not an epoch the fast path takes: per line (bad-time)
        b"-\t192.0.2.9\tx\t-\t-",  # unset ts: missing-time
        b"1388534402\t999.1.1.1\tx\t-\t-",  # bad-address
        b"1388534402\t192.0.2.9\tj\xc3\xb6rg\t-\t\xe2\x82\xac",  # non-ASCII: per line
        b"1388534402\t192.0.2.9\tx",  # column-count
        b"#unset_field\t?",
        b"1388534403\t192.0.2.10\t?\t-\t?",  # "?" now unset, "-" a value
        b"#fields\tts\tid.orig_h",
        b"1388534404.5\t[2001:db8::3]",
        b"#separator ,",
        b"1388534405,192.0.2.11",
        b"9999999999\t192.0.2.9",
    ]
    path = tmp_path / "ssh.log"
    path.write_bytes(b"\n".join([*ZEEK_HEAD, *ZEEK_ROWS, *odd]) + b"\n#close\t2014\n")
    _both([path], ReadOptions(), batch_lines)
    reading = ColumnarIngest(path, ReadOptions())
    got = pa.Table.from_batches(list(reading.batches()), schema=EVENT_SCHEMA)
    assert got.column("locator").to_pylist() == [
        "line 4", "line 5", "line 9", "line 12", "line 14", "line 16",
    ]  # fmt: skip
    assert got.column("persona").to_pylist()[2:4] == ["j\u00f6rg", "-"]  # "-" set, "?" unset
    assert [r.reason for r in reading.rejections] == [
        "bad-time", "missing-time", "bad-address", "column-count", "column-count",
    ]  # fmt: skip


def test_seen_ids_first_copy_wins_across_runs() -> None:
    from slipcatch.evidence.bulk._columnar import _Seen

    seen = _Seen()
    ids = [f"ev--{k:016x}" for k in range(10)]
    assert seen.fresh(pa.array([ids[3], ids[1], ids[3], ids[2]])).tolist() == [1, 1, 0, 1]
    assert seen.fresh(pa.array([ids[2], ids[4]])).tolist() == [0, 1]
    assert seen.fresh(pa.array(ids[:8])).tolist() == [1, 0, 0, 0, 0, 1, 1, 1]
    assert [len(run) for run in seen._runs] == [8]  # merged: the runs stay few
    assert seen.fresh(pa.array(["other", "other", ids[9], ids[0]])).tolist() == [1, 0, 1, 0]
    assert seen.fresh(pa.array([ids[9], ids[8]])).tolist() == [0, 1]  # ids[9] seen just above


def test_slices_inside_a_chunk_change_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import slipcatch.evidence.bulk as bulk

    monkeypatch.setattr(bulk, "_SLICE", 2)
    (tmp_path / "access.log").write_bytes(b"\n".join(ODD * 2) + b"\n")
    zeek_log = [*ZEEK_HEAD, *ZEEK_ROWS, b"#path\tconn", *ZEEK_ROWS, b"x\ty"]
    (tmp_path / "z.log").write_bytes(b"\n".join(zeek_log) + b"\n")
    _both([tmp_path], ReadOptions(), 5)
    _both([tmp_path], ReadOptions(), 1000)


TABLE_HEAD = b"time;ip;user;event_id;kind;origin_trust;note"
TABLE_ROWS = [
    b"1388534400.5;192.0.2.1; bob ;A-1;;;x\\y",
    b"2014-02-03T04:05:06;2001:DB8::9;;;login;;",
    b"2014-02-03T04:05:06Z;192.0.2.1;u;;email;;n",
    b"2014-02-03T04:05:06Z;192.0.2.1;u;;;trusted-relay;n",
]


def test_table_rows_worked_by_hand(tmp_path: Path) -> None:
    from slipcatch.evidence.bulk import _table

    ctx = ChunkContext("table", "t.csv", "0" * 64, ReadOptions(), TABLE_HEAD, 1)
    shape = _table.layout(ctx)
    assert shape is not None and shape[0] == ";"
    data = pa.array(TABLE_ROWS, pa.large_binary())
    found = _table.fast_rows(ctx, shape, data, pa.array([2, 3, 4, 5], pa.int64()))
    assert found is not None
    batch, taken = found
    # An e-mail row (it carries a mail part) and a row stating its trust go per line.
    assert taken.tolist() == [True, True, False, False]
    rows = batch.to_pylist()
    first = datetime(2014, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)
    assert rows[0]["time"] == first
    assert (rows[0]["persona"], rows[0]["channel"]) == ("bob", "table")
    assert rows[0]["attributes"] == '{"note": "x\\\\y", "source_id": "A-1"}'
    digest = hashlib.sha256(b"id\x1fA-1").hexdigest()  # the row's own id names the record
    assert rows[0]["id"] == event_id("table", first, "192.0.2.1", "bob", digest)
    second = datetime(2014, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert (rows[1]["time"], rows[1]["src_ip"]) == (second, "2001:db8::9")
    assert (rows[1]["persona"], rows[1]["channel"]) == ("(anonymous)", "login")
    assert json.loads(rows[1]["attributes"]) == {"note": ""}
    digest = hashlib.sha256(TABLE_ROWS[1]).hexdigest()
    assert rows[1]["id"] == event_id("login", second, "2001:db8::9", "(anonymous)", digest)
    path = tmp_path / "t.csv"
    odd = [b'2014-02-03T04:05:06Z;192.0.2.1;"q;x";;;;n', b"2014-02-30T00:00:00;192.0.2.1;;;;;"]
    path.write_bytes(b"\n".join([b"", TABLE_HEAD, *TABLE_ROWS, *odd, b"1;2"]) + b"\n")
    for size in (1, 3, 100):
        _both([path], ReadOptions(), size)


def test_rows_without_attributes_get_one_empty_object_each() -> None:
    zctx = ChunkContext("zeek", "z.log", "0" * 64, ReadOptions(), b"#fields\tts\tid.orig_h")
    batch, _ = parse_chunk(zctx, *_chunk([b"1.5\t192.0.2.1", b"2\t192.0.2.2", b"3\t192.0.2.3"], 2))
    assert batch.column("attributes").to_pylist() == ["{}", "{}", "{}"]
    tctx = ChunkContext("table", "t.csv", "0" * 64, ReadOptions(), b"time,ip", 1)
    batch, _ = parse_chunk(tctx, *_chunk([b"1,192.0.2.1", b"2,192.0.2.2"], 2))
    assert batch.column("attributes").to_pylist() == ["{}", "{}"]
    assert batch.column("time").to_pylist()[1] == datetime(1970, 1, 1, 0, 0, 2, tzinfo=UTC)


def test_authlog_year_from_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "auth.log-2015"
    path.write_bytes(
        b"Dec 31 23:59:59 h sshd[1]: Accepted password for u from 1.2.3.4 port 22 ssh2\n"
        b"Jan  1 00:00:01 h sshd[1]: Failed password for u from 1.2.3.4 port 22 ssh2\n"
    )
    options = ReadOptions(year_from_name=True)
    _both([path], options, 1)
    reading = ColumnarIngest(path, options, batch_lines=1)
    got = pa.Table.from_batches(list(reading.batches()), schema=EVENT_SCHEMA)
    assert [t.year for t in got.column("time").to_pylist()] == [2015, 2016]
    assert {json.loads(a)["year_source"] for a in got.column("attributes").to_pylist()} == {"name"}


def _read_all(reading: ColumnarIngest, sink: list) -> tuple[list[dict], list]:
    rows = [row for batch in reading.batches() for row in batch.to_pylist()]
    return rows, [*reading.files, *reading.rejections, reading.rejection_counts, *sink]


def test_worker_processes_read_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks parsed by two worker processes give the events, accounts, rejections (in the
    sink's order too) of the same reading in one process; files of a format that carries state
    from block to block (syslog years) and files below ``parallel_bytes`` stay in-process."""
    body = b"\n".join(ODD) + b"\n"
    (tmp_path / "a.log").write_bytes(body * 7 + LINE + b"\n")  # LINE repeats: duplicates
    (tmp_path / "b.log.gz").write_bytes(gzip.compress(body * 50)[:-30])  # the stream breaks
    (tmp_path / "c.log").write_bytes(body + b"y" * (3 * MAX_LINE) + b"\n" + LINE + b"\n")
    odd = [b'2014-02-03T04:05:06Z;192.0.2.1;"q;x";;;;n', b"2014-02-30T00:00:00;192.0.2.1;;;;;"]
    (tmp_path / "t.csv").write_bytes(
        b"\n".join([b"", TABLE_HEAD, *(TABLE_ROWS * 5), *odd, b"1;2"]) + b"\n")
    (tmp_path / "auth.log").write_bytes(
        b"Feb  3 04:05:06 host sshd[1]: Accepted password for bob from 192.0.2.7 port 22 ssh2\n"
        b"Jan  1 00:00:01 host sshd[1]: Failed password for root from 192.0.2.8 port 22 ssh2\n")
    pools: list[int] = []
    original = ColumnarIngest._parallel
    from slipcatch.evidence.bulk import _columnar

    kinds: list[str] = []
    blocks = _columnar.line_blocks

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        for block in blocks(*args, **kwargs):
            kinds.append(type(block).__name__)
            yield block

    monkeypatch.setattr(_columnar, "line_blocks", recording)

    def counting(self, ctx, size):  # type: ignore[no-untyped-def]
        used = original(self, ctx, size)
        pools.append(used)
        return used

    for size in (3, 11):
        one_sink: list = []
        alone = _read_all(ColumnarIngest([tmp_path], ReadOptions(), one_sink.append,
                                         batch_lines=size), one_sink)
        two_sink: list = []
        reading = ColumnarIngest([tmp_path], ReadOptions(), two_sink.append, batch_lines=size,
                                 workers=2, parallel_bytes=0)
        reading._parallel = counting.__get__(reading)  # type: ignore[method-assign]
        two = _read_all(reading, two_sink)
        assert two == alone
        assert reading._pool is None  # shut down with the reading
        assert reading._folder and not Path(reading._folder).exists()  # the batches' folder too
        assert any(f.duplicates for f in reading.files)
        assert any(r.reason == "line-too-long" for r in two_sink)
    # a.log, b.log.gz, c.log and t.csv in workers; auth.log (syslog) in this process
    assert pools.count(True) == 8 and pools.count(False) == 2
    # plain files went to the workers as byte ranges; the gzip file and the lines after
    # c.log's over-long line as lines; the broken stream as a Problem
    assert {"Span", "tuple", "Problem"} <= set(kinds)
    # below parallel_bytes (the default: 64 MiB) a file is read in this process
    assert not ColumnarIngest([], ReadOptions(), workers=2)._parallel(
        _ctx(), (tmp_path / "a.log").stat().st_size)
    with_map = ReadOptions(persona_map=PersonaMap.from_pairs([("bob", "Bob")]))
    assert not ColumnarIngest([], with_map, workers=2, parallel_bytes=0)._parallel(_ctx(), 1)


def test_workers_started_ahead_read_alike_and_stop(tmp_path: Path) -> None:
    """``start()`` launches the workers before the reading (which then uses them) only when a
    file is large enough; ``close()`` stops them when no reading follows."""
    (tmp_path / "a.log").write_bytes((b"\n".join(ODD) + b"\n") * 3)
    alone = _read_all(ColumnarIngest([tmp_path], ReadOptions(), batch_lines=4), [])
    early = ColumnarIngest([tmp_path], ReadOptions(), batch_lines=4, workers=2, parallel_bytes=0)
    early.start()
    pool = early._pool
    assert pool is not None and Path(early._folder).is_dir()
    assert _read_all(early, []) == alone
    assert early._pool is None and not Path(early._folder).exists()
    unused = ColumnarIngest([tmp_path], ReadOptions(), workers=2, parallel_bytes=0)
    unused.start()
    folder = unused._folder
    unused.close()
    assert unused._pool is None and not Path(folder).exists()
    small = ColumnarIngest([tmp_path], ReadOptions(), workers=2)  # below 64 MiB: no workers
    small.start()
    assert small._pool is None
    mapped = ReadOptions(persona_map=PersonaMap.from_pairs([("bob", "Bob")]))
    with_map = ColumnarIngest([tmp_path], mapped, workers=2, parallel_bytes=0)
    with_map.start()  # a persona map keeps the parse in this process: none started
    assert with_map._pool is None
    with pytest.raises(EvidenceError):
        ColumnarIngest([tmp_path / "missing"], ReadOptions(), workers=2).start()


def test_a_range_of_a_file_that_shrank_is_an_evidence_error(tmp_path: Path) -> None:
    """A worker reads its block from the file: when the file holds fewer bytes than when it
    was hashed and counted, the reading fails with a clear error, not short events."""
    from slipcatch.evidence.bulk._columnar import Span, _read_range, parse_span

    path = tmp_path / "a.log"
    path.write_bytes(LINE + b"\n" + LINE + b"\n")
    assert _read_range(path, "a.log", 0, len(LINE)) == LINE
    ctx = _ctx()
    batch, rejections = parse_span(ctx, path, Span(0, len(LINE) * 2 + 1, 1))
    assert batch.num_rows == 2 and rejections == []
    path.write_bytes(LINE[:10])
    with pytest.raises(EvidenceError, match="changed while it was read"):
        parse_span(ctx, path, Span(0, len(LINE), 1))
    path.unlink()
    with pytest.raises(EvidenceError, match="cannot read"):
        _read_range(path, "a.log", 0, 5)
