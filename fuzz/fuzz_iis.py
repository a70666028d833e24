"""Fuzz target: the IIS / W3C extended log reader (`slipcatch.evidence.iis`).

    .venv/bin/python fuzz/fuzz_iis.py -atheris_runs=100000      # atheris (libFuzzer)
    .venv/bin/python fuzz/fuzz_iis.py --plain --runs=100000     # no atheris: random loop

See fuzz/_harness.py for the invariants checked on every input.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import check, corpus, main

from slipcatch.evidence import iis

SEEDS = corpus("today/iis-w3c/*.log")
TOKENS = [
    b"#Fields: date time c-ip cs-username cs-method cs-uri-stem sc-status",
    b"2019-09-03 10:13:36 10.0.2.17 - GET /erp/conn.aspx 200",
    b"#Date: 2013-07-30 00:00:00",
    b"#Fields: time c-ip",
    b"99:99:99",
    b"-",
    b"\xff",
]


def one_input(data: bytes) -> None:
    """Read one input; raise AssertionError if the evidence contract is broken."""
    check(iis, data, line_records="directives")


if __name__ == "__main__":
    main(one_input, SEEDS, TOKENS)
