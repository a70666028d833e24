"""IPv4 lookup: the slipcatch kernel against maxminddb, pytricia and DuckDB.

One command (from the repository root)::

    .venv/bin/python benchmarks/lookup/run.py              # 10 M queries, full table
    .venv/bin/python benchmarks/lookup/run.py --queries 200000 --ranges 20000

The table is geoip2fast's IPv4 AS-organisation networks (real, non-overlapping prefixes, as
in /work/shared/domain/performance-notes.md); the queries are 80 % inside a range (random
range, random offset), 20 % uniform over the IPv4 space; every approach answers "index of
the AS organisation, or -1" for the same queries and is checked against a NumPy
sort-then-search reference. Each approach runs in its own process (peak memory is that
process's maximum RSS, table and queries included); lookups/s counts the lookup only, not
building the table or turning integers into the library's input type.

Approaches:

* ``slipcatch-kernel``: ``intel.lookup`` (/24 table + general kernel) on this table alone;
* ``slipcatch-pack``: the full default pack with time filtering (``IntelPack.lookup_arrays``,
  all facts and categories computed), compared on its ``as_org`` column;
* ``maxminddb``: an .mmdb of the same networks (built with ``mmdb-writer``), C extension
  (``MODE_MMAP_EXT``), ``Reader.get`` per query on address text;
* ``pytricia``: a Patricia trie, ``get`` per query (integer keys);
* ``duckdb-1t`` / ``duckdb-2t``: ``ASOF LEFT JOIN`` (``SET asof_loop_join_threshold = 0``),
  1 and 2 threads, unordered output re-ordered outside the timing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

APPROACHES = ("slipcatch-kernel", "slipcatch-pack", "maxminddb", "pytricia", "duckdb-1t",
              "duckdb-2t")
EXISTING = ("maxminddb", "pytricia", "duckdb-1t", "duckdb-2t")
SEED = 20141124


def table(max_ranges: int | None, exact: bool = True) -> tuple[
    npt.NDArray[np.uint32], npt.NDArray[np.uint32], npt.NDArray[np.int32], npt.NDArray[np.uint8]
]:
    """geoip2fast's IPv4 AS networks: first, last, value (org index), prefix length."""
    from slipcatch.intel.sources import geoip2fast_data

    a4 = geoip2fast_data.load().asn4
    if not exact:  # as the default pack holds them (a clipped network, unnamed ones)
        return a4.first, a4.last, a4.value, a4.netlen
    keep = a4.value >= 0
    first, last, value, netlen = a4.first[keep], a4.last[keep], a4.value[keep], a4.netlen[keep]
    # keep only real prefixes: geoip2fast clips one nested network, which then is no prefix
    size = last.astype(np.int64) - first.astype(np.int64) + 1
    exact = size == (1 << (32 - netlen.astype(np.int64)))
    first, last, value, netlen = first[exact], last[exact], value[exact], netlen[exact]
    if max_ranges is not None and max_ranges < len(first):
        pick = np.sort(np.random.default_rng(SEED).choice(len(first), max_ranges, replace=False))
        first, last, value, netlen = first[pick], last[pick], value[pick], netlen[pick]
    return first, last, value, netlen


def queries(first: npt.NDArray[np.uint32], last: npt.NDArray[np.uint32],
            n: int) -> npt.NDArray[np.uint32]:
    rng = np.random.default_rng(SEED + 1)
    inside = int(n * 0.8)
    r = rng.integers(0, len(first), inside)
    span = last[r].astype(np.int64) - first[r].astype(np.int64) + 1
    q_in = first[r].astype(np.int64) + (rng.random(inside) * span).astype(np.int64)
    q = np.concatenate([q_in, rng.integers(0, 1 << 32, n - inside)]).astype(np.uint32)
    rng.shuffle(q)
    return q


def reference(first: npt.NDArray[np.uint32], last: npt.NDArray[np.uint32],
              value: npt.NDArray[np.int32], q: npt.NDArray[np.uint32]) -> npt.NDArray[np.int32]:
    i = np.searchsorted(first, q, side="right") - 1
    ok = (i >= 0) & (q <= last[np.maximum(i, 0)])
    return np.where(ok, value[np.maximum(i, 0)], -1).astype(np.int32)


def _timed(fn: Callable[[], npt.NDArray[Any]], repeat: int) -> tuple[float, npt.NDArray[Any]]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    assert out is not None
    return best, out


def run_one(name: str, n: int, max_ranges: int | None, repeat: int) -> dict[str, Any]:
    """Run one approach; returns its rate, correctness and peak memory."""
    first, last, value, netlen = table(max_ranges)
    q = queries(first, last, n)
    ref = reference(first, last, value, q)
    hi = np.zeros(n, np.uint64)
    lo = q.astype(np.uint64) | np.uint64(0xFFFF << 32)
    note = ""
    if name == "slipcatch-kernel":
        from slipcatch.intel import lookup as lk

        geo = lk.build_geo_partition(first, last, first, last, False)
        empty = lk.FactTable.build([], [])
        p4, p6 = lk.build_fact_partitions(empty)
        c4 = lk.combine(geo, p4, (np.zeros(len(first), np.int32), value))
        g6 = lk.GeoPartition(np.zeros(1, "S16"), np.full(1, -1, np.int32),
                             np.full(1, -1, np.int32))
        c6 = lk.combine(g6, p6, (np.zeros(0, np.int32), np.zeros(0, np.int32)))
        f4, f6 = lk.build_fast4(c4, p4, empty), lk.build_fast6(c6, p6, empty)
        us = np.zeros(n, np.int64)

        def go() -> npt.NDArray[Any]:
            return lk.lookup_arrays(hi, lo, us, parts=(c4, c6), facts=(p4, p6), table=empty,
                                    fast4=f4, fast6=f6).as_org

        secs, got = _timed(go, repeat)
    elif name == "slipcatch-pack":
        from slipcatch.intel import load_pack

        pack = load_pack(cache_dir=Path(tempfile.gettempdir()) / "slipcatch-bench-cache")
        us = np.full(n, 1_417_392_000_000_000, np.int64)  # 2014-12-01
        pack.lookup_arrays(hi[:5000], lo[:5000], us[:5000])  # builds the /24 table
        if max_ranges is not None:
            note = "full pack; table subset only affects the queries"
        secs, got = _timed(lambda: pack.lookup_arrays(hi, lo, us).as_org, repeat)
        # the pack's org index space is the full table's: compare on the full reference
        f, la, v, _ = table(None, exact=False)
        ref = reference(f, la, v, q)
    elif name == "maxminddb":
        try:
            import mmdb_writer
            from netaddr import IPNetwork, IPSet
        except ImportError:
            return {"name": name, "skipped": "mmdb-writer is not installed: no .mmdb to read"}
        import maxminddb

        w = mmdb_writer.MMDBWriter(ip_version=4, database_type="slipcatch-bench", int_type="i32")
        for a, nl, v in zip(first.tolist(), netlen.tolist(), value.tolist(), strict=True):
            w.insert_network(IPSet([IPNetwork((a, nl))]), v)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "bench.mmdb")
            w.to_db_file(path)
            reader = maxminddb.open_database(path, maxminddb.MODE_MMAP_EXT)
            got = np.empty(n, np.int32)
            secs = 0.0
            for s in range(0, n, 1_000_000):
                texts = [f"{x >> 24}.{(x >> 16) & 255}.{(x >> 8) & 255}.{x & 255}"
                         for x in q[s:s + 1_000_000].tolist()]
                get = reader.get
                t0 = time.perf_counter()
                res = [get(t) for t in texts]
                secs += time.perf_counter() - t0
                got[s:s + len(res)] = [-1 if r is None else r for r in res]
            reader.close()
    elif name == "pytricia":
        try:
            import pytricia
        except ImportError:
            return {"name": name, "skipped": "pytricia is not installed"}
        trie = pytricia.PyTricia(32)
        for a, nl, v in zip(first.tolist(), netlen.tolist(), value.tolist(), strict=True):
            trie[f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}/{nl}"] = v
        keys = q.tolist()
        get = trie.get

        def go() -> npt.NDArray[Any]:
            return np.array([get(k, -1) for k in keys], np.int32)

        secs, got = _timed(go, 1)
    elif name.startswith("duckdb"):
        import duckdb
        import pyarrow as pa

        con = duckdb.connect()
        con.execute(f"SET threads = {1 if name.endswith('1t') else 2}")
        con.execute("SET asof_loop_join_threshold = 0")
        ranges = pa.table({"first": first, "last": last, "value": value})
        qs = pa.table({"q": q, "i": np.arange(n, dtype=np.int64)})
        con.register("ranges", ranges)
        con.register("qs", qs)
        sql = ("SELECT i, CASE WHEN q <= last THEN value ELSE -1 END AS v FROM qs "
               "ASOF LEFT JOIN ranges ON q >= first")

        def go() -> npt.NDArray[Any]:
            return con.sql(sql).to_arrow_table()  # type: ignore[no-any-return]

        secs, res = _timed(go, repeat)
        got = np.full(n, -2, np.int32)
        vals = res.column("v").to_numpy(zero_copy_only=False)
        got[res.column("i").to_numpy()] = np.where(np.isnan(vals.astype(float)), -1, vals)
        con.close()
    else:
        raise SystemExit(f"unknown approach {name}")
    return {
        "name": name,
        "queries": n,
        "ranges": len(first),
        "rate": n / secs,
        "correct": bool(np.array_equal(np.asarray(got, np.int64), ref.astype(np.int64))),
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "note": note,
    }


def run_all(n: int, max_ranges: int | None, repeat: int = 3, isolate: bool = True,
            only: tuple[str, ...] = APPROACHES) -> list[dict[str, Any]]:
    """Every approach, each in its own process unless ``isolate`` is False."""
    out = []
    for name in only:
        if not isolate:
            out.append(run_one(name, n, max_ranges, repeat))
            continue
        cmd = [sys.executable, __file__, "--one", name, "--queries", str(n), "--repeat",
               str(repeat)] + (["--ranges", str(max_ranges)] if max_ranges else [])
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        out.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return out


def report(results: list[dict[str, Any]]) -> str:
    done = [r for r in results if "rate" in r]
    best = max((r["rate"] for r in done if r["name"] in EXISTING), default=None)
    lines = [f"{'approach':<18}{'lookups/s':>14}{'vs best lib':>13}{'peak MiB':>10}  correct"]
    for r in results:
        if "rate" not in r:
            lines.append(f"{r['name']:<18}{'skipped: ' + r['skipped']:>14}")
            continue
        ratio = f"{r['rate'] / best:.2f}x" if best else "-"
        lines.append(f"{r['name']:<18}{r['rate'] / 1e6:>12.2f} M{ratio:>13}"
                     f"{r['peak_mib']:>10.0f}  {r['correct']}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--queries", type=int, default=10_000_000)
    ap.add_argument("--ranges", type=int, default=None, help="use a random subset of ranges")
    ap.add_argument("--repeat", type=int, default=3, help="best of N (pytricia/maxminddb: 1)")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.queries, args.ranges, args.repeat)))
        return 0
    results = run_all(args.queries, args.ranges, args.repeat)
    print(report(results))
    return 0 if all(r.get("correct", True) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
