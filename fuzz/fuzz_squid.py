"""Fuzz target: the Squid native access-log reader (`slipcatch.evidence.squid`).

    .venv/bin/python fuzz/fuzz_squid.py -atheris_runs=100000      # atheris (libFuzzer)
    .venv/bin/python fuzz/fuzz_squid.py --plain --runs=100000     # no atheris: random loop

See fuzz/_harness.py for the invariants checked on every input.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import check, corpus, main

from slipcatch.evidence import squid

SEEDS = corpus("today/squid/*.log")
TOKENS = [
    (
        b"1157689312.049   5006 10.105.21.199 TCP_MISS/200 19763 CONNECT login.yahoo.com:443 "
        b"u DIRECT/209.73.177.115 -"
    ),
    b"TCP_HIT/200",
    b"NONE/-",
    b"99999999999.999",
    b"\xff",
]


def one_input(data: bytes) -> None:
    """Read one input; raise AssertionError if the evidence contract is broken."""
    check(squid, data, line_records="lines")


if __name__ == "__main__":
    main(one_input, SEEDS, TOKENS)
