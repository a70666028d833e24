"""Rejection flood: N garbage lines around 20 good ones through `slipcatch analyze`.

Reports the analysis process's peak RSS and checks that rejections.jsonl holds every rejected
line (issue 18: 2.5 M garbage lines once peaked at 4.3 GB; the target is under 1 GB).

    .venv/bin/python benchmarks/hostile/garbage.py                 # 2.5 M lines
    .venv/bin/python benchmarks/hostile/garbage.py --lines 100000  # short
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
from pathlib import Path

WEB = '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /{n} HTTP/1.0" 200 1 "-" "ua"\n'


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lines", type=int, default=2_500_000, help="garbage lines")
    ap.add_argument("--case", action="store_true", help="analyse into a case store too")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="slipcatch-garbage-") as tmp:
        log = Path(tmp) / "flood.log"
        with log.open("w") as fh:
            fh.writelines(WEB.format(n=n) for n in range(10))
            junk = "garbage line %d that is no access log at all\n"
            for start in range(0, args.lines, 100_000):
                fh.writelines(junk % n for n in range(start, min(start + 100_000, args.lines)))
            fh.writelines(WEB.format(n=n) for n in range(10, 20))
        out = Path(tmp) / "out"
        argv = [sys.executable, "-m", "slipcatch.cli", "analyze", str(log), "--out", str(out)]
        if args.case:
            argv += ["--case", str(Path(tmp) / "c.duckdb")]
        started = time.monotonic()
        done = subprocess.run(argv, capture_output=True, text=True)
        elapsed = time.monotonic() - started
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
        with (out / "rejections.jsonl").open() as fh:
            written = sum(1 for _ in fh)
        doc = json.loads((out / "assessment.json").read_text())
        rejected = sum(f["rejected"] for f in doc["evidence"])
        result = {
            "garbage_lines": args.lines,
            "events": doc["events"],
            "rejected": rejected,
            "rejections_jsonl_lines": written,
            "all_written": written == rejected == args.lines,
            "peak_rss_mib": round(peak_mib),
            "seconds": round(elapsed, 1),
            "load_avg": [round(x, 2) for x in os.getloadavg()],
            "case": args.case,
        }
        print(json.dumps(result, indent=2))
        return 0 if result["all_written"] and peak_mib < 1024 else 1


if __name__ == "__main__":
    sys.exit(main())
