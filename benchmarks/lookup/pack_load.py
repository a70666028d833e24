"""Loading the default intel pack: compile on a cold cache, then reload from the cache.

One command (from the repository root)::

    .venv/bin/python benchmarks/lookup/pack_load.py            # 1 cold compile, 10 reloads
    .venv/bin/python benchmarks/lookup/pack_load.py --rounds 3 --no-cold

Figures (wall seconds, ``time.perf_counter``):

* ``compile``: ``load_pack`` on an empty cache directory: every default source read and
  compiled, the pack written (one run; skipped with ``--no-cold``);
* ``reload``: ``load_pack`` on the warm cache (manifest and every array read and verified
  against its SHA-256, partitions combined): median and range of ``--rounds`` runs;
* ``open``: ``open_pack`` of the same pack saved as a directory (``slipcatch intel build``).
* ``fast tables``: the lookup's fast-path tables (``IntelPack.prepare_fast_index``) built in
  memory, and read from the cache beside the default pack (verified; equal to those built).

Each reload also checks that the pack answers like the first one (``correct``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROBES = ("175.45.176.27", "8.8.8.8", "10.1.2.3", "2001:4860:4860::8888")
AT = datetime(2014, 12, 1, tzinfo=UTC)


def measure(rounds: int, cache_dir: Path | None = None, cold: bool = True) -> dict[str, Any]:
    """Time a cold compile (if ``cold``), ``rounds`` warm reloads and one ``open_pack``.

    ``cache_dir`` None: a fresh temporary directory (so the first load compiles).
    """
    import numpy as np

    from slipcatch.intel import IntelPack, load_pack, open_pack, save_pack

    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(cache_dir) if cache_dir is not None else Path(tmp) / "cache"
        t0 = time.perf_counter()
        first = load_pack(cache_dir=cache)
        compile_s = time.perf_counter() - t0
        want = [first.lookup_one(ip, AT) for ip in PROBES]
        reloads: list[float] = []
        correct = True
        for _ in range(rounds):
            t0 = time.perf_counter()
            again = load_pack(cache_dir=cache)
            reloads.append(time.perf_counter() - t0)
            correct &= again.pack_id == first.pack_id
            correct &= [again.lookup_one(ip, AT) for ip in PROBES] == want
        # the fast-path tables: built (a pack without the cache), then read from the cache
        # (the first pack with the cache writes them: not timed)
        from slipcatch.intel.fastindex import fast_arrays

        built = IntelPack(first._d)
        t0 = time.perf_counter()
        built.prepare_fast_index()
        fast_build_s = time.perf_counter() - t0
        load_pack(cache_dir=cache).prepare_fast_index()
        cached = load_pack(cache_dir=cache)
        t0 = time.perf_counter()
        cached.prepare_fast_index()
        fast_read_s = time.perf_counter() - t0
        assert built._fast6 is not None and cached._fast6 is not None
        a, meta_a = fast_arrays(built._fast4, built._fast6)
        b, meta_b = fast_arrays(cached._fast4, cached._fast6)
        correct &= meta_a == meta_b and sorted(a) == sorted(b) and all(
            np.array_equal(a[k], b[k]) for k in a)
        saved = save_pack(first, Path(tmp) / "pack")
        t0 = time.perf_counter()
        opened = open_pack(saved)
        open_s = time.perf_counter() - t0
        correct &= [opened.lookup_one(ip, AT) for ip in PROBES] == want
    return {
        "compile": compile_s if cold else None,
        "reloads": reloads,
        "reload": statistics.median(reloads) if reloads else None,
        "open": open_s,
        "fast_build": fast_build_s,
        "fast_read": fast_read_s,
        "facts": first.describe()["facts"],
        "correct": bool(correct),
    }


def report(r: dict[str, Any]) -> str:
    lines = [f"facts in the default pack: {r['facts']:,}"]
    if r["compile"] is not None:
        lines.append(f"compile (cold cache)   {r['compile']:7.2f} s")
    if r["reloads"]:
        lines.append(f"reload (warm cache)    {r['reload']:7.3f} s median, "
                     f"{min(r['reloads']):.3f}-{max(r['reloads']):.3f} s over "
                     f"{len(r['reloads'])} runs")
    lines.append(f"open_pack (directory)  {r['open']:7.3f} s")
    lines.append(f"fast tables: built     {r['fast_build']:7.3f} s, "
                 f"read from the cache {r['fast_read']:.3f} s")
    lines.append(f"correct: {r['correct']}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--rounds", type=int, default=10, help="warm reloads to time")
    ap.add_argument("--no-cold", action="store_true",
                    help="reuse the cache in $TMPDIR/slipcatch-bench-cache (no compile figure)")
    args = ap.parse_args()
    cache = Path(tempfile.gettempdir()) / "slipcatch-bench-cache" if args.no_cold else None
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
          f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    r = measure(args.rounds, cache, cold=not args.no_cold)
    print(report(r))
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0 if r["correct"] else 1


if __name__ == "__main__":
    sys.exit(main())
