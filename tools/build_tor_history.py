"""Derive the shipped Tor exit history layer from the merged public archive.

Usage (from the repository root)::

    .venv/bin/python tools/build_tor_history.py [/work/shared/data/tor-history]

Reads ``tor-exit-intervals.csv.gz`` (``ip,first_seen,last_seen,source``; method, sources,
licences and holes in that directory's README.md and COVERAGE.md) and writes
``src/slipcatch/data/tor_history.npz``: NumPy arrays only (no pickles), compressed:

* ``v4_ip`` (uint32) / ``v6_hi``, ``v6_lo`` (uint64): one row per interval, sorted by
  address then ``first``;
* ``v4_first``, ``v4_last``, ``v6_first``, ``v6_last`` (int64 seconds since the epoch): the
  first and last snapshot that listed the address;
* ``v4_src``, ``v6_src`` (uint8): index into ``source_names`` (the ``;``-joined list of the
  sources behind the interval);
* ``days4``, ``days6`` (int32 days since 1970-01-01): days with at least one snapshot of a
  source carrying that family -- the union of the days every interval spans (an interval
  of a dense source is only open across gaps no longer than the source's gap rule, so these
  are the days the sources were observing; a hole longer than that splits every interval);
* ``meta`` (a JSON text as uint8): the sources' names, first/last observation and gap rule
  (from ``sources-detail.json``), the input file's SHA-256 and the interval-join tolerance.

The runtime never reads the shared directory; run this script again when the archive changes.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import ipaddress
import json
import sys
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "slipcatch" / "data" / "tor_history.npz"
DAY = 86400


def _secs(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def main(argv: list[str]) -> int:
    src_dir = Path(argv[0]) if argv else Path("/work/shared/data/tor-history")
    raw = (src_dir / "tor-exit-intervals.csv.gz").read_bytes()
    detail = json.loads((src_dir / "sources-detail.json").read_text())
    combos: dict[str, int] = {}
    v4: list[tuple[int, int, int, int]] = []
    v6: list[tuple[int, int, int, int]] = []
    with gzip.open(io.BytesIO(raw), "rt", newline="") as fh:
        for row in csv.DictReader(fh):
            ip = ipaddress.ip_address(row["ip"])
            src = combos.setdefault(row["source"], len(combos))
            item = (int(ip), _secs(row["first_seen"]), _secs(row["last_seen"]), src)
            (v4 if ip.version == 4 else v6).append(item)
    v4.sort()
    v6.sort()
    if len(combos) > 255:
        raise SystemExit("more than 255 source combinations")

    def days(rows: list[tuple[int, int, int, int]]) -> np.ndarray:
        first = np.array([r[1] for r in rows], np.int64) // DAY
        last = np.array([r[2] for r in rows], np.int64) // DAY
        lo, hi = int(first.min()), int(last.max())
        diff = np.zeros(hi - lo + 2, np.int64)
        np.add.at(diff, first - lo, 1)
        np.add.at(diff, last - lo + 1, -1)
        open_days = np.flatnonzero(np.cumsum(diff)[:-1] > 0) + lo
        return open_days.astype(np.int32)

    arrays: dict[str, np.ndarray] = {
        "v4_ip": np.array([r[0] for r in v4], np.uint32),
        "v4_first": np.array([r[1] for r in v4], np.int64),
        "v4_last": np.array([r[2] for r in v4], np.int64),
        "v4_src": np.array([r[3] for r in v4], np.uint8),
        "v6_hi": np.array([r[0] >> 64 for r in v6], np.uint64),
        "v6_lo": np.array([r[0] & ((1 << 64) - 1) for r in v6], np.uint64),
        "v6_first": np.array([r[1] for r in v6], np.int64),
        "v6_last": np.array([r[2] for r in v6], np.int64),
        "v6_src": np.array([r[3] for r in v6], np.uint8),
        "days4": days(v4 + v6),
        "days6": days(v6),
    }
    sources = []
    for key, d in detail.items():
        if key == "canselcik_heartbleed_2014":
            continue  # not in the main file (README: "Not in the main file")
        sources.append({
            "key": key, "repo": d.get("repo"), "first_obs": d.get("first_obs"),
            "last_obs": d.get("last_obs"), "snapshots": d.get("n_obs"),
            "gap_rule_s": d.get("gap_rule_s", 3 * DAY),
        })
    meta = {
        "name": "tor-exit-history",
        "input": "tor-exit-intervals.csv.gz",
        "input_sha256": hashlib.sha256(raw).hexdigest(),
        "intervals": len(v4) + len(v6),
        "addresses": len({r[0] for r in v4}) + len({r[0] for r in v6}),
        "source_names": sorted(combos, key=combos.__getitem__),
        "sources": sources,
        "join_tolerance_s": DAY,
        "max_gap_rule_s": max(int(s["gap_rule_s"]) for s in sources),
    }
    arrays["meta"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), np.uint8)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
    OUT.write_bytes(buf.getvalue())
    print(f"{OUT.relative_to(ROOT)}: {len(v4)} IPv4 + {len(v6)} IPv6 intervals, "
          f"{len(arrays['days4'])} days, {OUT.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
