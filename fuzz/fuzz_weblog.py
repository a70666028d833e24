"""Fuzz target: the access-log (Apache/Nginx text) reader (`slipcatch.evidence.weblog`).

    .venv/bin/python fuzz/fuzz_weblog.py -atheris_runs=100000      # atheris (libFuzzer)
    .venv/bin/python fuzz/fuzz_weblog.py --plain --runs=100000     # no atheris: random loop

See fuzz/_harness.py for the invariants checked on every input.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import check, corpus, main

from slipcatch.evidence import weblog

SEEDS = corpus("weblogs/beats-*.log", "weblogs/elastic-*.log", "weblogs/torproject-*.log")
TOKENS = [
    b'"',
    b"\\\\",
    b"[",
    b"]",
    b" - - ",
    b"10/Oct/2000:13:55:36 -0700",
    b"999.1.1.1",
    b"010.1.1.1",
    b"::1",
    b", ",
    b"\r",
    b"\xff",
]


def one_input(data: bytes) -> None:
    """Read one input; raise AssertionError if the evidence contract is broken."""
    check(weblog, data, line_records="lines")


if __name__ == "__main__":
    main(one_input, SEEDS, TOKENS)
