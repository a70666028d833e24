"""Hostile long lines: seconds to read syslog and Windows XML lines built to make the readers'
patterns scan again and again (a quadratic scan took over 10 s a line before it was fixed).

One command, from the repository root::

    .venv/bin/python benchmarks/hostile/long_lines.py [--rounds 3]

The inputs are the hostile corpus's (``tests/hostile/corpus.py``: ``auth_long_lines``,
``winsec_long_lines``), the ones the tests check are each accounted for. Each is written to a
temporary file and read with ``ingest``; the best of ``--rounds`` wall times is printed with the
file's size. No assertion is made; this is a measurement.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))

from hostile.corpus import auth_long_lines, winsec_long_lines
from slipcatch.evidence import ReadOptions, ingest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    cases = (
        ("syslog (postfix, dovecot, sshd, ftpd)", "auth.log", auth_long_lines(),
         ReadOptions(year=2016)),
        ("windows xml export", "events.xml", winsec_long_lines(), ReadOptions()),
    )  # fmt: skip
    print(f"{'input':<38} {'lines':>5} {'KiB':>6} {'records':>7} {'best s':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for label, name, lines, options in cases:
            path = Path(tmp) / name
            path.write_text("\n".join(lines) + "\n")
            best = float("inf")
            for _ in range(args.rounds):
                start = time.perf_counter()
                [account] = ingest(path, options).files
                best = min(best, time.perf_counter() - start)
            size = path.stat().st_size // 1024
            print(f"{label:<38} {len(lines):>5} {size:>6} {account.records:>7} {best:>7.3f}")


if __name__ == "__main__":
    main()
