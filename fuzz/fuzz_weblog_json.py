"""Fuzz target: the JSON access-log reader (`slipcatch.evidence.weblog_json`).

    .venv/bin/python fuzz/fuzz_weblog_json.py -atheris_runs=100000      # atheris (libFuzzer)
    .venv/bin/python fuzz/fuzz_weblog_json.py --plain --runs=100000     # no atheris: random loop

See fuzz/_harness.py for the invariants checked on every input.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import check, corpus, main

from slipcatch.evidence import weblog_json

SEEDS = corpus("weblogs/zed-*.ndjson")
TOKENS = [
    b'"\\ud800"',  # a lone surrogate escape (issue 18)
    b'{"time_local": "10/Oct/2000:13:55:36 -0700", "remote_addr": "1.2.3.4", "status": 200}',
    b'"remote_addr"',
    b'"@timestamp"',
    b'"msec": 1e300',
    b"null",
    b"[",
    b"{",
    b"}",
    b"\xff",
]


def one_input(data: bytes) -> None:
    """Read one input; raise AssertionError if the evidence contract is broken."""
    check(weblog_json, data, line_records="lines")


if __name__ == "__main__":
    main(one_input, SEEDS, TOKENS)
