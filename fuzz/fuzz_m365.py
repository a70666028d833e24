"""Fuzz target: the Microsoft 365 unified audit log reader (`slipcatch.evidence.cloud.m365`).

    .venv/bin/python fuzz/fuzz_m365.py -atheris_runs=100000      # atheris (libFuzzer)
    .venv/bin/python fuzz/fuzz_m365.py --plain --runs=100000     # no atheris: random loop

See fuzz/_harness.py for the invariants checked on every input.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import JSON_TOKENS, check, corpus, main

from slipcatch.evidence.cloud import m365

SEEDS = corpus("today/m365-audit/*")
TOKENS = [
    b'"\\ud800"',  # a lone surrogate escape (issue 18)
    b'"',
    b'""',
    b",AuditData",
    b'"ClientIP": "[2603::1]:443"',
    b"\r\n",
    *JSON_TOKENS,
]


def one_input(data: bytes) -> None:
    """Read one input; raise AssertionError if the evidence contract is broken."""
    check(m365, data)


if __name__ == "__main__":
    main(one_input, SEEDS, TOKENS)
