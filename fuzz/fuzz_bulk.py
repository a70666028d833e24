"""Fuzz target: the bulk path (`slipcatch.evidence.bulk`) against the per-line readers.

    .venv/bin/python fuzz/fuzz_bulk.py -atheris_runs=100000      # atheris (libFuzzer)
    .venv/bin/python fuzz/fuzz_bulk.py --plain --runs=100000     # no atheris: random loop

Each input is one file read twice, by ``ingest()`` and by ``ColumnarIngest`` (with a small
batch size taken from the input, so chunk boundaries fall anywhere): the events (every column),
the file accounts and the rejections must be identical.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import OPTIONS, corpus, main, scratch_file

from slipcatch.eventtable import EVENT_SCHEMA, events_to_table
from slipcatch.evidence import ColumnarIngest, ingest

SEEDS = [
    *corpus(
        "weblogs/beats-*.log",
        "weblogs/elastic-*.log",
        "weblogs/torproject-*.log",
        "weblogs/zeek-*.log",
        "weblogs/zed-*",
        "today/syslog-sshd/*",
    ),
    b"time,ip,user,id,kind,note\n2014-01-01T00:00:00Z,192.0.2.1,bob,A,,x\n"
    b'1388534400.25,2001:db8::1,,,login,\n2014-01-01T00:00:01,192.0.2.2, eve ,,,"q"\n',
]
TOKENS = [
    b'"',
    b"\\\\",
    b"[",
    b"]",
    b" - - ",
    b"10/Oct/2000:13:55:36 -0700",
    b"31/Feb/2000:13:55:36 +1500",
    b"999.1.1.1",
    b"[::1]",
    b"fe80::1%eth0",
    b"www.example.org:443 ",
    b"198.51.100.1:80 ",
    b"10.0.0.1, ",
    b", ",
    b"\r",
    b"\xff",
    b"\x00",
    b"#fields\t",
    b"Dec 31 23:59:59 ",
    b"Jan  1 00:00:00 ",
]


def compare(data: bytes, batch_lines: int) -> None:
    """Assert that both paths read ``data`` alike (raise AssertionError otherwise)."""
    path = scratch_file()
    path.write_bytes(data)
    want = ingest(path, OPTIONS)
    reading = ColumnarIngest(path, OPTIONS, batch_lines=batch_lines)
    rows = [row for batch in reading.batches() for row in batch.to_pylist()]
    expected = events_to_table(sorted(want.events, key=_order)).to_pylist()
    assert rows == expected
    assert reading.files == want.files
    assert reading.rejections == want.rejections
    assert reading.rejection_counts == want.rejection_counts
    for f in reading.files:
        assert f.records == f.events + f.rejected + f.duplicates, f
    assert EVENT_SCHEMA.names == list(expected[0]) if expected else True


def _line(locator: str) -> int:
    tail = locator.removeprefix("line ")
    return int(tail) if tail.isdigit() else 0


def _order(event: object) -> tuple[str, int]:
    ref = event.evidence  # type: ignore[attr-defined]
    return ref.path, _line(ref.locator)


def one_input(data: bytes) -> None:
    """Read one input both ways; raise AssertionError if they differ."""
    compare(data, batch_lines(data))


def batch_lines(data: bytes) -> int:
    """The block size for ``data``: 1-7 lines for one input in sixteen (many boundaries, each
    block its own vectorised pass, and most of the target's cost), else 8-64 (a few
    boundaries, at any line)."""
    if not data:
        return 1
    if data[-1] % 16 == 0:
        return 1 + data[0] % 7
    return 8 + data[0] % 57


if __name__ == "__main__":
    main(one_input, SEEDS, TOKENS)
