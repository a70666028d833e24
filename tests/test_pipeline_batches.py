"""``pipeline._table_batches``: the outputs read the engine's table without holding it."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from slipcatch.pipeline import _table_batches


def test_reading_the_table_back_holds_one_row_group(tmp_path: Path) -> None:
    """Arrow memory while the table is read stays near one row group, whatever the file's size
    (a pre-buffering reader kept every range it had read: the whole file by the end)."""
    rows, groups = 8_192, 100
    path = tmp_path / "events.parquet"
    with pq.ParquetWriter(path, pa.schema([("id", pa.string())]), compression="zstd") as writer:
        for _ in range(groups):  # random hex: compression halves it at most
            writer.write_batch(pa.record_batch(
                [pa.array([os.urandom(32).hex() for _ in range(rows)])], names=["id"]))
    size = path.stat().st_size
    assert size > 25 * 2**20
    start = pa.total_allocated_bytes()
    peak = seen = 0
    for batch in _table_batches(path):
        seen += batch.num_rows
        peak = max(peak, pa.total_allocated_bytes() - start)
    assert seen == rows * groups
    assert peak < size / 3  # a row group is 1/100 of the file
