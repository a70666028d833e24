"""The prefix table of the hunt benchmark's anchors: the default pack's IPv4 space as Parquet.

    .venv/bin/python benchmarks/hunt/prefixes.py --at 2024-01-14T12:00:00Z --out prefixes.parquet

One row per elementary IPv4 segment of the pack (the pack's combined geo + fact partition:
inside a segment every address has the same facts, country and AS organisation), sorted by
``start`` (uint32; the segments tile the whole space from 0.0.0.0, so a backward as-of join on
``start`` finds every address's segment). Columns: ``start``, ``end`` (last address),
``category`` (the pack's primary category for the segment at ``--at``), ``country``, ``asn``,
``as_org``, ``actor``. Each segment is answered by ``IntelPack.lookup_arrays`` at its first
address, so the table says what slipcatch's kernel says at that moment; it is not time-aware
(facts valid for part of the log's window, such as Tor exits, take their state at ``--at``),
which is what a plain prefix table in a polars or DuckDB script holds.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

import numpy as np

V4_MAPPED = np.uint64(0xFFFF << 32)


def export(out: Path, at: datetime) -> int:
    """Write the table to ``out`` (Parquet); return its number of rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from slipcatch.intel import CATEGORY_ORDER, load_pack

    pack = load_pack()
    # The segment starts are the pack's private index (a benchmark may read it; the library
    # offers no export of its partitions).
    starts = np.asarray(pack._parts[0].starts, np.uint32)
    n = len(starts)
    us = np.full(n, int(at.timestamp() * 1_000_000), np.int64)
    r = pack.lookup_arrays(np.zeros(n, np.uint64), V4_MAPPED | starts.astype(np.uint64), us)
    ends = np.append(starts[1:].astype(np.int64) - 1, (1 << 32) - 1).astype(np.uint32)

    def names(codes: np.ndarray, values: tuple[str, ...]) -> pa.Array:
        idx = pa.array(np.maximum(codes, 0).astype(np.int32), mask=codes < 0)
        return pa.DictionaryArray.from_arrays(idx, pa.array(values, pa.string()))

    cats = tuple(str(c) for c in CATEGORY_ORDER)
    asn = np.asarray(r.asn)
    tbl = pa.table(
        {
            "start": pa.array(starts),
            "end": pa.array(ends),
            "category": names(np.asarray(r.category), cats),
            "country": names(np.asarray(r.country), pack.countries),
            "asn": pa.array(asn, mask=asn < 0),
            "as_org": names(np.asarray(r.as_org), pack.as_orgs),
            "actor": names(np.asarray(r.actor), pack.actor_ids),
        }
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    pq.write_table(tbl, tmp)
    tmp.replace(out)
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--at", required=True, help="ISO time the categories are taken at")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    n = export(args.out, datetime.fromisoformat(args.at.replace("Z", "+00:00")))
    print(f"{n:,} IPv4 segments -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
