"""How far a reading has come (``ColumnarIngest.status``), for the progress line of issue 13:
files, records and bytes on disk, worked out by hand from the files written here."""

from __future__ import annotations

import gzip
import itertools
import os
from pathlib import Path

from slipcatch.evidence import ColumnarIngest, ReadOptions, ReadStatus

LINE = '10.0.{m}.{n} - - [10/Oct/2014:13:55:{s:02d} +0000] "GET / HTTP/1.1" 200 5 "-" "x"\n'


def _log(path: Path, lines: int, start: int = 0) -> bytes:
    # every line distinct (no duplicates): address by i, second by i
    data = "".join(
        LINE.format(m=i // 250, n=1 + i % 250, s=i % 60) for i in range(start, start + lines)
    ).encode()
    path.write_bytes(data)
    return data


def test_status_through_two_files_and_a_skipped_entry(tmp_path: Path) -> None:
    ev = tmp_path / "ev"
    ev.mkdir()
    # 20,000 lines of 71-76 bytes: about 1.5 MB, read in 64 KiB chunks.
    plain = _log(ev / "a.log", 20_000)
    packed = gzip.compress(_log(tmp_path / "b.log", 300, start=20_000), mtime=0)
    (ev / "b.log.gz").write_bytes(packed)
    os.mkfifo(ev / "c.fifo")  # counted as a skipped entry: one record, no bytes
    total = len(plain) + len(packed)
    reading = ColumnarIngest([ev], ReadOptions(), batch_lines=1000)
    assert reading.status() == ReadStatus(0, 0, 0, 0, 0)
    seen: list[ReadStatus] = []
    for _ in reading.batches():
        seen.append(reading.status())
    first = seen[0]
    # a.log comes first (walk order is by name); its first block of 1000 lines is done.
    assert (first.files_done, first.files_total, first.records) == (0, 3, 1000)
    assert first.bytes_total == total
    assert 0 < first.bytes_read < len(plain)
    assert first.fraction is not None and 0 < first.fraction < 1
    # bytes and records only grow
    assert all(a.bytes_read <= b.bytes_read for a, b in itertools.pairwise(seen))
    assert all(a.records <= b.records for a, b in itertools.pairwise(seen))
    # the last batch is b.log.gz's: a.log is done, all of its bytes counted
    assert seen[-1].files_done == 1
    assert seen[-1].bytes_read == total
    end = reading.status()
    assert end == ReadStatus(
        files_done=3, files_total=3, records=20_000 + 300 + 1, bytes_read=total, bytes_total=total
    )
    assert end.fraction == 1.0
    assert sum(f.records for f in reading.files) == end.records


def test_status_of_an_empty_input(tmp_path: Path) -> None:
    (tmp_path / "empty.log").write_bytes(b"")
    reading = ColumnarIngest([tmp_path / "empty.log"], ReadOptions())
    assert list(reading.batches()) == []
    status = reading.status()
    assert (status.files_done, status.files_total, status.bytes_total) == (1, 1, 0)
    assert status.fraction is None
