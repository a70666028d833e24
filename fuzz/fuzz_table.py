"""Fuzz target: the CSV / JSON-lines table reader (`slipcatch.evidence.table`).

    .venv/bin/python fuzz/fuzz_table.py -atheris_runs=100000      # atheris (libFuzzer)
    .venv/bin/python fuzz/fuzz_table.py --plain --runs=100000     # no atheris: random loop

See fuzz/_harness.py for the invariants checked on every input.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import check, corpus, main

from slipcatch.evidence import table

SEEDS = corpus("intel/*.json")
TOKENS = [
    b'"\\ud800"',  # a lone surrogate escape (issue 18)
    b"time,ip,user\n",
    b"2014-01-01T00:00:00Z,1.1.1.1,x\n",
    b'"',
    b",",
    b";",
    b"\t",
    b"1e9",
    b'{"ts": 1, "src_ip": "1.1.1.1"}\n',
    b"010.1.1.1",
    b"\xef\xbb\xbf",
]


def one_input(data: bytes) -> None:
    """Read one input; raise AssertionError if the evidence contract is broken."""
    check(table, data)


if __name__ == "__main__":
    main(one_input, SEEDS, TOKENS)
