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

* ``slipcatch-kernel``: ``intel.kernel`` (/24 table + general kernel) on this table alone;
* ``slipcatch-pack``: the full default pack with time filtering (``IntelPack.lookup_arrays``,
  all facts and categories computed), compared on its ``as_org`` column;
* ``maxminddb``: an .mmdb of the same networks (built with ``mmdb-writer``), C extension
  (``MODE_MMAP_EXT``), ``Reader.get`` per query on address text;
* ``pytricia``: a Patricia trie, ``get`` per query (integer keys);
* ``duckdb-1t`` / ``duckdb-2t``: ``ASOF LEFT JOIN`` (``SET asof_loop_join_threshold = 0``),
  1 and 2 threads, unordered output re-ordered outside the timing.

Not lookups of this table (their own reference, no library ratio):

* ``slipcatch-v6``: the full default pack on random IPv6 queries in 2000::/4 (a fifth of the
  count), checked against the pack's general kernel (no fast path) on every column;
* ``text-slipcatch``: ``addresses_from_arrow`` on the queries' dotted-quad texts (an Arrow
  string array), checked against the integers; ``text-ipaddress`` is the plain-Python
  baseline (``ipaddress.IPv4Address`` per text) on a tenth of them.

Method: ``--rounds`` interleaved rounds (every approach once per round, each in a fresh
process); inside a process one untimed warm-up pass (it pays the page faults of fresh
memory), then ``--repeat`` timed passes (per-query libraries: one). The report gives the
median and the range of all timed passes, and ``cpu/wall`` (process CPU time over wall
time during the timed passes: 1.00 means one core did the work). The 1-minute load
average is printed before and after.
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
              "duckdb-2t", "slipcatch-v6", "text-slipcatch", "text-ipaddress")
EXISTING = ("maxminddb", "pytricia", "duckdb-1t", "duckdb-2t")
OWN_REFERENCE = ("slipcatch-v6", "text-slipcatch", "text-ipaddress")
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


def _timed(fn: Callable[[], Any], repeat: int,
           warm: bool = True) -> tuple[list[float], float, Any]:
    """Seconds of each of ``repeat`` passes (after one untimed pass if ``warm``), the
    process CPU time over the wall time of those passes, and the last result."""
    out = fn() if warm else None
    secs: list[float] = []
    cpu = 0.0
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        secs.append(time.perf_counter() - t0)
        cpu += time.process_time() - c0
    return secs, cpu / sum(secs), out


# Long by design (C901, PLR0915): one flat branch per approach, all timed alike.
def run_one(name: str, n: int, max_ranges: int | None, repeat: int) -> dict[str, Any]:  # noqa: C901, PLR0915
    """Run one approach; returns its rate, correctness and peak memory."""
    first, last, value, netlen = table(max_ranges)
    q = queries(first, last, n)
    ref = reference(first, last, value, q)
    hi = np.zeros(n, np.uint64)
    lo = q.astype(np.uint64) | np.uint64(0xFFFF << 32)
    note = ""
    if name == "slipcatch-kernel":
        from slipcatch.intel import fastindex as fx
        from slipcatch.intel import index as ix
        from slipcatch.intel import kernel as kn

        geo = ix.build_geo_partition(first, last, first, last, False)
        empty = ix.FactTable.build([], [])
        p4, p6 = ix.build_fact_partitions(empty)
        c4 = ix.combine(geo, p4, (np.zeros(len(first), np.int32), value))
        g6 = ix.GeoPartition(np.zeros(1, "S16"), np.full(1, -1, np.int32),
                             np.full(1, -1, np.int32))
        c6 = ix.combine(g6, p6, (np.zeros(0, np.int32), np.zeros(0, np.int32)))
        f4, f6 = fx.build_fast4(c4, p4, empty), fx.build_fast6(c6, p6, empty)
        us = np.zeros(n, np.int64)

        def go() -> npt.NDArray[Any]:
            return kn.lookup_arrays(hi, lo, us, parts=(c4, c6), facts=(p4, p6), table=empty,
                                    fast4=f4, fast6=f6).as_org

        secs, cpu, got = _timed(go, repeat)
    elif name == "slipcatch-pack":
        from slipcatch.intel import load_pack

        pack = load_pack(cache_dir=Path(tempfile.gettempdir()) / "slipcatch-bench-cache")
        us = np.full(n, 1_417_392_000_000_000, np.int64)  # 2014-12-01
        pack.lookup_arrays(hi[:5000], lo[:5000], us[:5000])  # builds the /24 table
        if max_ranges is not None:
            note = "full pack; table subset only affects the queries"
        secs, cpu, got = _timed(lambda: pack.lookup_arrays(hi, lo, us).as_org, repeat)
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
            total, c_total = 0.0, 0.0
            for s in range(0, n, 1_000_000):
                texts = [f"{x >> 24}.{(x >> 16) & 255}.{(x >> 8) & 255}.{x & 255}"
                         for x in q[s:s + 1_000_000].tolist()]
                get = reader.get
                c0, t0 = time.process_time(), time.perf_counter()
                res = [get(t) for t in texts]
                total += time.perf_counter() - t0
                c_total += time.process_time() - c0
                got[s:s + len(res)] = [-1 if r is None else r for r in res]
            reader.close()
            secs, cpu = [total], c_total / total
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

        secs, cpu, got = _timed(go, 1, warm=False)
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

        secs, cpu, res = _timed(go, repeat)
        got = np.full(n, -2, np.int32)
        vals = res.column("v").to_numpy(zero_copy_only=False)
        got[res.column("i").to_numpy()] = np.where(np.isnan(vals.astype(float)), -1, vals)
        con.close()
    elif name == "slipcatch-v6":
        from slipcatch.intel import kernel as kn
        from slipcatch.intel import load_pack

        pack = load_pack(cache_dir=Path(tempfile.gettempdir()) / "slipcatch-bench-cache")
        n = max(n // 5, 1 << 13)
        rng = np.random.default_rng(SEED + 2)
        hi = rng.integers(0, 1 << 60, n, dtype=np.uint64) | np.uint64(0x2 << 60)  # 2000::/4
        lo = rng.integers(0, 1 << 63, n, dtype=np.uint64)
        us = np.full(n, 1_417_392_000_000_000, np.int64)
        secs, cpu, r = _timed(lambda: pack.lookup_arrays(hi, lo, us), repeat)
        saved = kn._FAST_MIN
        kn._FAST_MIN = n + 1  # the general kernel alone: the reference
        try:
            slow = pack.lookup_arrays(hi, lo, us)
        finally:
            kn._FAST_MIN = saved
        cols = ("category", "country", "asn", "as_org", "asn_fact", "actor", "decisive",
                "projected")
        got = np.array([np.array_equal(getattr(r, c), getattr(slow, c)) for c in cols])
        ref = np.ones(len(cols), bool)
        note = f"{n:,} IPv6 queries in 2000::/4; reference: the general kernel"
    elif name.startswith("text-"):
        import ipaddress

        import pyarrow as pa

        from slipcatch.intel import addresses_from_arrow

        if name == "text-ipaddress":
            n = max(n // 10, 1)
            q = q[:n]
        texts = [f"{x >> 24}.{(x >> 16) & 255}.{(x >> 8) & 255}.{x & 255}" for x in q.tolist()]
        if name == "text-slipcatch":
            arr = pa.array(texts, pa.string())
            del texts

            def go() -> npt.NDArray[Any]:
                _, lo_, ok = addresses_from_arrow(arr)
                return np.where(ok, lo_ & np.uint64(0xFFFFFFFF), np.uint64(1 << 40))

            secs, cpu, got = _timed(go, repeat)
        else:
            def go() -> npt.NDArray[Any]:
                to_int = ipaddress.IPv4Address
                return np.array([int(to_int(t)) for t in texts], np.uint64)

            secs, cpu, got = _timed(go, 1, warm=False)
        ref = q.astype(np.uint64)
        note = "Arrow strings -> (hi, lo, valid)" if name == "text-slipcatch" else \
            f"{n:,} texts, ipaddress.IPv4Address per text"
    else:
        raise SystemExit(f"unknown approach {name}")
    return {
        "name": name,
        "queries": n,
        "ranges": len(first),
        "rate": n / float(np.median(secs)),
        "rates": [n / x for x in secs],
        "cpu_wall": cpu,
        "correct": bool(np.array_equal(np.asarray(got, np.int64), ref.astype(np.int64))),
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "note": note,
    }


def run_all(n: int, max_ranges: int | None, repeat: int = 3, isolate: bool = True,
            only: tuple[str, ...] = APPROACHES, rounds: int = 1) -> list[dict[str, Any]]:
    """Every approach, each in its own process unless ``isolate`` is False, in ``rounds``
    interleaved rounds; one merged result per approach (``rate``: median of all passes)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in only}
    for _ in range(rounds):
        for name in only:
            if not isolate:
                runs[name].append(run_one(name, n, max_ranges, repeat))
                continue
            cmd = [sys.executable, __file__, "--one", name, "--queries", str(n), "--repeat",
                   str(repeat)] + (["--ranges", str(max_ranges)] if max_ranges else [])
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
            runs[name].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    out = []
    for name in only:
        done = [r for r in runs[name] if "rate" in r]
        if not done:
            out.append(runs[name][0])
            continue
        rates = [x for r in done for x in r["rates"]]
        merged = dict(done[-1])
        merged.update(rate=float(np.median(rates)), rates=rates,
                      cpu_wall=float(np.median([r["cpu_wall"] for r in done])),
                      correct=all(r["correct"] for r in done),
                      peak_mib=max(r["peak_mib"] for r in done))
        out.append(merged)
    return out


def report(results: list[dict[str, Any]]) -> str:
    done = [r for r in results if "rate" in r]
    best = max((r["rate"] for r in done if r["name"] in EXISTING), default=None)
    base = next((r["rate"] for r in done if r["name"] == "text-ipaddress"), None)
    lines = [f"{'approach':<18}{'median/s':>11}{'min-max /s':>17}{'ratio':>9}{'cpu/wall':>10}"
             f"{'peak MiB':>10}  correct"]
    for r in results:
        if "rate" not in r:
            lines.append(f"{r['name']:<18}  skipped: {r['skipped']}")
            continue
        if r["name"].startswith("text-"):
            ratio = f"{r['rate'] / base:.1f}x*" if base else "-"
        elif r["name"] in OWN_REFERENCE:
            ratio = "-"
        else:
            ratio = f"{r['rate'] / best:.2f}x" if best else "-"
        spread = f"{min(r['rates']) / 1e6:.1f}-{max(r['rates']) / 1e6:.1f} M"
        lines.append(f"{r['name']:<18}{r['rate'] / 1e6:>9.2f} M{spread:>17}{ratio:>9}"
                     f"{r['cpu_wall']:>10.2f}{r['peak_mib']:>10.0f}  {r['correct']}")
    lines.append("ratio: lookups vs the fastest existing library (maxminddb, pytricia, DuckDB);"
                 " * texts vs text-ipaddress")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--queries", type=int, default=10_000_000)
    ap.add_argument("--ranges", type=int, default=None, help="use a random subset of ranges")
    ap.add_argument("--repeat", type=int, default=3,
                    help="timed passes per process (pytricia/maxminddb/text-ipaddress: 1)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds of processes")
    ap.add_argument("--only", help="comma-separated approaches (default: all)")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.queries, args.ranges, args.repeat)))
        return 0
    only = tuple(args.only.split(",")) if args.only else APPROACHES
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
          f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    results = run_all(args.queries, args.ranges, args.repeat, only=only, rounds=args.rounds)
    print(report(results))
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0 if all(r.get("correct", True) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
