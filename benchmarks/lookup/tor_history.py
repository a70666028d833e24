"""Lookup speed of the default pack with and without the shipped Tor exit history (A/B).

One command (from the repository root)::

    .venv/bin/python benchmarks/lookup/tor_history.py [--queries 10000000] [--rounds 5]

Both packs are compiled in this one process (``store.compile_base(tor_history=False)`` for
"before"), then timed alternately on the same queries as ``run.py``'s ``slipcatch-pack`` row
(80 % inside a geo AS network, 20 % uniform, all at 2014-12-01) and on the same queries at
2020-07-15, when the history is dense. The figure is lookups per second of *process CPU
time* (``time.process_time``), so the load of other jobs on the shared machine cancels out
of the ratio; wall-clock figures are printed too. ``tor_status`` (the three-way answer, a
separate vectorised call) is timed on its own.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import queries, table

from slipcatch.intel.pack import IntelPack
from slipcatch.intel.store import base_pack_id, compile_base


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=10_000_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    first, last, _, _ = table(None)
    q = queries(first, last, args.queries)
    hi = np.zeros(len(q), np.uint64)
    lo = q.astype(np.uint64) + np.uint64(0xFFFF << 32)
    pid = base_pack_id()
    packs = {"before (no history)": IntelPack(compile_base(pid, tor_history=False)),
             "after (history)": IntelPack(compile_base(pid, tor_history=True))}
    dates = (("2014-12-01", 1_417_392_000_000_000), ("2020-07-15", 1_594_814_400_000_000))
    for label, when in dates:
        us = np.full(len(q), when, np.int64)
        res: dict[str, list[tuple[float, float]]] = {k: [] for k in packs}
        for p in packs.values():
            p.lookup_arrays(hi, lo, us)  # warm-up: builds the /24 tables, faults memory in
        for _ in range(args.rounds):
            for name, p in packs.items():
                c0, w0 = time.process_time(), time.perf_counter()
                p.lookup_arrays(hi, lo, us)
                res[name].append((time.process_time() - c0, time.perf_counter() - w0))
        for name, runs in res.items():
            cpu = statistics.median(r[0] for r in runs)
            wall = statistics.median(r[1] for r in runs)
            print(f"{label} {name:22s} {len(q) / cpu / 1e6:7.2f} M/s cpu  "
                  f"{len(q) / wall / 1e6:7.2f} M/s wall")
        a, b = (statistics.median(r[0] for r in res[k]) for k in packs)
        print(f"{label} after/before CPU time: {b / a:.3f}")
        p = packs["after (history)"]
        c0 = time.process_time()
        p.tor_status(hi, lo, us)
        cpu = time.process_time() - c0
        print(f"{label} tor_status (three-way answer): {len(q) / cpu / 1e6:.2f} M/s cpu")
    return 0


if __name__ == "__main__":
    sys.exit(main())
