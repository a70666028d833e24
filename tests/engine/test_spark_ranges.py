"""Byte ranges of the Spark engine, without Spark: cutting a file at newlines and reading the
pieces gives exactly the records (and line numbers) of reading it whole, as the local reader
does, and the same events and rejections through the parse seam."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from slipcatch.engine import spark
from slipcatch.evidence import PersonaMap, ReadOptions
from slipcatch.evidence._source import Problem, Source

pytestmark = pytest.mark.spark

DEMO = Path(__file__).resolve().parents[2] / "src" / "slipcatch" / "data" / "demo"


def _ranges(path: Path, range_bytes: int) -> list[Any]:
    return spark.plan_ranges(lambda: path.open("rb"), path.stat().st_size, 0, range_bytes)


def _read_all(path: Path, range_bytes: int) -> tuple[list[tuple[int, bytes]], list[Any]]:
    lines: list[tuple[int, bytes]] = []
    problems: list[Any] = []
    for r in _ranges(path, range_bytes):
        for got, numbers, probs in spark.read_range(str(path), r.start, r.end, r.first_line):
            lines.extend(zip(numbers, got, strict=True))
            problems.extend(probs)
    return lines, problems


def test_ranges_cut_after_newlines_and_number_lines(tmp_path: Path) -> None:
    p = tmp_path / "f.log"
    p.write_bytes(b"aaaa\nbb\n\ncccccc\nd\n")  # newlines at bytes 4, 7, 8, 15, 17
    got = [(r.start, r.end, r.first_line) for r in _ranges(p, 5)]
    # Each range ends at the first newline at or after its 5th byte: "aaaa\n" (line 1), then
    # "bb\n\ncccccc\n" (bytes 5-15, lines 2-4), then the rest, "d\n" (line 5).
    assert got == [(0, 5, 1), (5, 16, 2), (16, 18, 5)]
    assert _read_all(p, 5) == ([(1, b"aaaa"), (2, b"bb"), (4, b"cccccc"), (5, b"d")], [])


line = st.one_of(
    st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")),
    st.sampled_from([b"", b"   ", b"\r", b"x\r", b"y" * 17, b"z" * 16]),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(line, max_size=40), final=st.booleans(), size=st.integers(1, 64))
def test_any_cut_reads_like_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lines: list[bytes], final: bool, size: int
) -> None:
    monkeypatch.setattr(spark, "MAX_LINE", 16)
    p = tmp_path / "f.log"
    p.write_bytes(b"\n".join(lines) + (b"\n" if final and lines else b""))
    # A UTF-16 file (byte order mark first) is re-encoded when read, and a file that starts
    # with a compressor's magic (gzip, bzip2, xz) is decompressed: neither is ever cut into
    # ranges, the plan reads them on the driver (test_utf16_and_compressed_files_stay_whole).
    from slipcatch.evidence._source import _MAGIC

    assume(not p.read_bytes().startswith(
        (b"\xff\xfe", b"\xfe\xff", *(magic for magic, _ in _MAGIC))))
    want_lines: list[tuple[int, bytes]] = []
    want_problems: list[tuple[int, str]] = []
    for item in Source(p, ReadOptions()).lines(max_line=16):
        if isinstance(item, Problem):
            want_problems.append((item.number, item.reason))
        else:
            want_lines.append((item.number, item.data))
    data = p.read_bytes()
    cuts = _ranges(p, size)
    assert [r.start for r in cuts[1:]] == [r.end for r in cuts[:-1]]
    assert (cuts[0].start if cuts else 0, cuts[-1].end if cuts else 0) == (0, len(data))
    for r in cuts[:-1]:
        assert data[r.end - 1 : r.end] == b"\n"
        assert r.end - r.start >= size
        assert r.first_line == data[: r.start].count(b"\n") + 1
    got_lines, got_problems = _read_all(p, size)
    assert got_lines == want_lines
    assert [(n, reason) for n, reason, _ in got_problems] == want_problems


def _demo_options() -> ReadOptions:
    case = json.loads((DEMO / "case.json").read_text(encoding="utf-8"))
    return ReadOptions(persona_map=PersonaMap.load(DEMO / case["persona_map"]))


@pytest.mark.parametrize("name", ["fileshare-access.log", "postings.csv"])
def test_many_ranges_parse_to_the_events_of_one(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = DEMO / "evidence" / name
    src = Source(path, _demo_options())
    from slipcatch.evidence._ingest import recognise

    fmt = recognise(src)
    assert fmt is not None
    ctx = spark.chunk_context(src, fmt[0].NAME)

    def parse(range_bytes: int) -> tuple[list[dict[str, Any]], list[Any]]:
        events: list[dict[str, Any]] = []
        rejections: list[Any] = []
        for r in _ranges(path, range_bytes):
            for lines, numbers, _ in spark.read_range(str(path), r.start, r.end, r.first_line):
                batch, rejected = spark.parse_chunk(
                    ctx, pa.array(lines, pa.binary()), pa.array(numbers, pa.int64())
                )
                events.extend(batch.to_pylist())
                rejections.extend(rejected)
        return events, rejections

    whole = parse(1 << 30)
    assert len(_ranges(path, 512)) > 5
    assert parse(512) == whole
    assert parse(1) == whole  # a range per line
    # Every non-blank line of the file is an event or a rejection, in line order.
    lines = [ln for ln in path.read_bytes().split(b"\n") if ln.strip()]
    header = 1 if name.endswith(".csv") else 0
    assert len(whole[0]) + len(whole[1]) == len(lines) - header
    loc = [int(e["locator"].split()[1]) for e in whole[0]]
    assert loc == sorted(loc)


def test_a_file_uri_is_planned_and_read_like_the_local_path(tmp_path: Path) -> None:
    src_log = DEMO / "evidence" / "fileshare-access.log"
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "access.log").write_bytes(src_log.read_bytes())
    (tmp_path / "logs" / ".hidden.log").write_bytes(b"not evidence\n")
    options = ReadOptions()
    local = spark._plan([tmp_path / "logs"], options, None, (), 8192)  # type: ignore[arg-type]
    uri = (tmp_path / "logs").as_uri()
    remote = spark._plan([uri], options, None, (), 8192)  # type: ignore[arg-type]
    assert len(remote.accounts) == len(local.accounts) == 1  # the hidden file is skipped
    assert [(r.start, r.end, r.first_line) for r in remote.ranges] == [
        (r.start, r.end, r.first_line) for r in local.ranges
    ]
    account = remote.accounts[0]
    assert account.name == uri + "/access.log"
    assert (account.sha256, account.size, account.fmt) == (
        local.accounts[0].source.sha256,
        src_log.stat().st_size,
        "weblog",
    )
    ctx = remote.contexts[0]
    r = remote.ranges[3]
    from_uri = list(spark.read_range(ctx.path, r.start, r.end, r.first_line))
    from_path = list(
        spark.read_range(str(tmp_path / "logs" / "access.log"), r.start, r.end, r.first_line)
    )
    assert from_uri == from_path
    assert from_uri[0][1][0] == r.first_line


def test_a_compressed_file_behind_a_uri_is_a_usage_error(tmp_path: Path) -> None:
    import gzip

    from slipcatch.errors import UsageError

    p = tmp_path / "access.log.gz"
    p.write_bytes(gzip.compress((DEMO / "evidence" / "fileshare-access.log").read_bytes()))
    with pytest.raises(UsageError, match="compressed"):
        spark._plan([p.as_uri()], ReadOptions(), None, (), 8192)  # type: ignore[arg-type]


def test_utf16_and_compressed_files_stay_whole(tmp_path: Path) -> None:
    import gzip

    from slipcatch.intel import load_pack

    text = (DEMO / "evidence" / "fileshare-access.log").read_text(encoding="utf-8")
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a-plain.log").write_text(text, encoding="utf-8")
    (logs / "b-utf16.log").write_bytes(text.encode("utf-16"))  # with its byte order mark
    (logs / "c-packed.log.gz").write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    plan = spark._plan([logs], ReadOptions(), load_pack(), (), 4096)
    assert [a.format_name for a in plan.accounts] == ["weblog", "weblog+utf-16", "weblog+gzip"]
    # only the plain file (walk index 0) is cut into ranges; the others are read on the driver
    assert plan.ranges and {r.file for r in plan.ranges} == {0}
    assert sorted(plan.contexts) == [0]
    assert plan.driver_batches
