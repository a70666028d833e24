"""Measure the local engine on a generated log (not a test: run it by hand).

    PYTHONPATH=src python -m tests.engine.measure_engine [EVENTS] [PERSONAS]

Prints events/s of the enrichment (``Enricher.enrich`` over batches of 65,536 rows), of the
findings (``Findings`` over the sorted Parquet table: read view, per-persona stats, slips,
selection), of ``run_local`` end to end, and the peak RSS. Numbers go in
``changes/wt-engine.md``; they depend on the machine's load.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from slipcatch.engine.enrich import Enricher
from slipcatch.engine.findings import Findings
from slipcatch.engine.local import run_local

from .generate import demo_pack, hunt_batches


def main(n: int, personas: int) -> None:
    pack = demo_pack()
    rows = 1 << 16
    enricher = Enricher(pack)
    enricher.enrich(next(hunt_batches(rows, personas, rows)))  # build the fast tables once
    spent = 0.0
    for batch in hunt_batches(n, personas, rows, seed=1):
        t = time.perf_counter()
        enricher.enrich(batch)
        spent += time.perf_counter() - t
    print(f"enrich: {n:,} events in {spent:.2f} s = {n / spent:,.0f} events/s")

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        result = run_local(hunt_batches(n, personas, rows, seed=1), pack, spill_dir=Path(tmp))
        total = time.perf_counter() - t
        print(f"run_local: {total:.2f} s = {n / total:,.0f} events/s; "
              f"{len(result.selected)} personas selected of {result.persona_stats.num_rows}, "
              f"{len(result.observations):,} observations, {result.slips.num_rows} slips")
        with duckdb.connect() as con:
            con.execute("SET memory_limit = '1GB'")
            t = time.perf_counter()
            found = Findings(con, str(result.events_path), pack.actors, unique_ids=True)
            found.persona_stats()
            found.slips()
            found.needs_assessment()
            spent = time.perf_counter() - t
        print(f"findings: {spent:.2f} s = {n / spent:,.0f} events/s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:,.0f} MiB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000,
         int(sys.argv[2]) if len(sys.argv) > 2 else 3000)
