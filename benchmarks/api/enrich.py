"""``slipcatch.enrich`` against the kernel's own array lookup, on the same rows, in one run.

One command (from the repository root)::

    .venv/bin/python benchmarks/api/enrich.py                 # 10 M rows, 3 timed passes
    .venv/bin/python benchmarks/api/enrich.py --rows 1000000  # shorter

Rows: IPv4 addresses (80 % inside a range of the default pack's fact table, 20 % uniform)
with times spread over 2014-2024, as a pandas DataFrame with the addresses twice: ``src_ip``
Arrow-backed strings (the pandas 3 default) and ``src_int`` uint32; ``time``
datetime64[us, UTC]. Measured round-robin (each pass times every variant once, so that load
changes fall on all alike) after one untimed warm-up of each; every pass from scratch (the
only thing kept between passes is what the pack builds once: the kernel's /24 table with its
per-segment source sets, and the column dictionaries, built by the warm-up):

* ``kernel``: ``IntelPack.lookup_arrays(hi, lo, times_us)`` on the already parsed integers
  (the lookup benchmark's ``slipcatch-pack`` row);
* ``kernel+text``: ``addresses_from_arrow`` on the texts, then ``lookup_arrays``: what any
  text column costs before the kernel can run;
* ``enrich-text``: ``slipcatch.enrich(df, ip="src_ip")`` end to end: texts and times in, a
  new pandas frame with every lookup column (category, country, asn, as_org, prefix, actor,
  tor, projected, sources) out; compare with ``kernel+text``;
* ``enrich-int``: the same with ``ip="src_int"`` (no text to parse); compare with ``kernel``;
* ``polars-text``, ``polars-int``: the same on a polars DataFrame;
* ``columns`` (information, not a variant of enrich): enrich's threaded phase alone on the
  parsed integers (every part looked up, its codes written and its ``sources`` list chunk
  built), without making a frame.

Prints the median of the timed passes, rows/s and the ratio of each to ``kernel`` and to
``kernel+text``, the 1-minute load average before and after, and checks that every enrich
variant's category, country, asn, actor and projected equal the kernel's row by row.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")


def _rows(n: int, seed: int = 7):  # type: ignore[no-untyped-def]
    import pandas as pd

    from slipcatch.intel import load_pack

    rng = np.random.default_rng(seed)
    pack = load_pack()
    # addresses inside ranges: around the IPv4 networks the pack's facts know
    sample = pack.lookup_arrays(
        np.zeros(200_000, np.uint64),
        (np.uint64(0xFFFF << 32) | rng.integers(1 << 24, 0xDF000000, 200_000, dtype=np.uint64)),
        np.zeros(200_000, np.int64),
    )
    known = np.flatnonzero(np.asarray(sample.category) != 7)  # not "unknown"
    base = rng.integers(1 << 24, 0xDF000000, 200_000, dtype=np.uint64)[known]
    inside = rng.random(n) < 0.8
    v4 = np.where(inside, base[rng.integers(0, len(base), n)] ^ rng.integers(0, 256, n,
                                                                          dtype=np.uint64),
                  rng.integers(1 << 24, 0xDF000000, n, dtype=np.uint64)).astype(np.uint32)
    octets = [(v4 >> s) & 0xFF for s in (24, 16, 8, 0)]
    texts = (pd.Series(octets[0]).astype(str) + "." + pd.Series(octets[1]).astype(str) + "."
             + pd.Series(octets[2]).astype(str) + "." + pd.Series(octets[3]).astype(str))
    lo_us, hi_us = 1_388_534_400_000_000, 1_735_689_600_000_000  # 2014-01-01 .. 2025-01-01
    us = rng.integers(lo_us, hi_us, n, dtype=np.int64)
    df = pd.DataFrame({
        "time": pd.to_datetime(us, unit="us", utc=True),
        "src_ip": texts.astype("str"),
        "src_int": v4,
        "persona": "p",
    })
    hi = np.zeros(n, np.uint64)
    lo = np.uint64(0xFFFF << 32) | v4.astype(np.uint64)
    return pack, df, hi, lo, us


def _timed(runs: dict[str, Callable[[], object]], repeat: int) -> dict[str, list[float]]:
    """Seconds of each run, ``repeat`` times, round-robin (every pass times each run once,
    so that a change of the machine's load falls on every run alike), after one untimed
    warm-up of each (page faults of fresh memory, the pack's lazy tables)."""
    for fn in runs.values():
        fn()
    out: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            out[name].append(time.perf_counter() - t0)
    return out


def _same(out, check, pack) -> bool:  # type: ignore[no-untyped-def]
    """Whether enrich's columns equal the kernel's answers row by row (codes compared)."""
    import pandas as pd

    def codes(col: pd.Series, names: tuple[str, ...] | list[str]) -> np.ndarray:
        # the frame's categories -> the kernel's code space (-1 for null)
        where = {x: i for i, x in enumerate(names)}
        remap = np.asarray([where[str(c)] for c in col.cat.categories] or [0], np.int64)
        c = col.cat.codes.to_numpy().astype(np.int64)
        return np.where(c < 0, -1, remap[np.maximum(c, 0)])

    from slipcatch.intel import CATEGORY_ORDER

    asn = np.asarray(check.asn)
    return bool(
        (codes(out["category"], [str(c) for c in CATEGORY_ORDER]) == check.category).all()
        and (codes(out["country"], pack.countries) == check.country).all()
        and (codes(out["actor"], pack.actor_ids) == check.actor).all()
        and (out["asn"].fillna(-1).to_numpy(np.int64) == np.where(asn < 0, -1, asn)).all()
        and (out["projected"].to_numpy(bool) == np.asarray(check.projected)).all()
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    import polars as pl
    import pyarrow as pa

    import slipcatch
    from slipcatch._lookupframe import columns
    from slipcatch.intel import addresses_from_arrow

    load0 = os.getloadavg()[0]
    pack, df, hi, lo, us = _rows(args.rows)
    texts = pa.array(df["src_ip"])
    pdf = pl.from_pandas(df)
    ok = np.ones(len(us), np.bool_)
    runs: dict[str, Callable[[], object]] = {
        "kernel": lambda: pack.lookup_arrays(hi, lo, us),
        "kernel+text": lambda: pack.lookup_arrays(*addresses_from_arrow(texts)[:2], us),
        "enrich-text": lambda: slipcatch.enrich(df, ip="src_ip", pack=pack),
        "enrich-int": lambda: slipcatch.enrich(df, ip="src_int", pack=pack),
        "polars-text": lambda: slipcatch.enrich(pdf, ip="src_ip", pack=pack),
        "polars-int": lambda: slipcatch.enrich(pdf, ip="src_int", pack=pack),
        "columns": lambda: columns(pack, hi, lo, ok, us, ok),
    }
    medians = {name: statistics.median(t) for name, t in _timed(runs, args.repeat).items()}
    load1 = os.getloadavg()[0]
    check = pack.lookup_arrays(hi, lo, us)
    same = {
        "enrich-text": _same(slipcatch.enrich(df, ip="src_ip", pack=pack), check, pack),
        "enrich-int": _same(slipcatch.enrich(df, ip="src_int", pack=pack), check, pack),
        "polars-text": _same(
            slipcatch.enrich(pdf, ip="src_ip", pack=pack).to_pandas(), check, pack),
        "polars-int": _same(
            slipcatch.enrich(pdf, ip="src_int", pack=pack).to_pandas(), check, pack),
    }
    print(f"rows {args.rows:,}, {args.repeat} timed passes each (median), "
          f"load average {load0:.2f} before, {load1:.2f} after")
    print("values equal the kernel's (category, country, asn, actor, projected): "
          + ", ".join(f"{k} {v}" for k, v in same.items()))
    print(f"{'approach':<15}{'seconds':>9}{'rows/s':>12}{'vs kernel':>11}{'vs k+text':>11}")
    for name, sec in medians.items():
        print(f"{name:<15}{sec:9.3f}{args.rows / sec / 1e6:10.2f} M"
              f"{sec / medians['kernel']:10.2f}x{sec / medians['kernel+text']:10.2f}x")


if __name__ == "__main__":
    main()
