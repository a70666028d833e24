"""Fuzz target: the Splunk CSV export reader (`slipcatch.evidence.siem.splunk`).

    .venv/bin/python fuzz/fuzz_splunk.py -atheris_runs=100000      # atheris (libFuzzer)
    .venv/bin/python fuzz/fuzz_splunk.py --plain --runs=100000     # no atheris: random loop

See fuzz/_harness.py for the invariants checked on every input.

No real Splunk export is public (shared/data/SOURCES.md): the seed is a results export in
Splunk's column layout.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import JSON_TOKENS, check, main

from slipcatch.evidence.siem import splunk

SPLUNK = [
    b"_serial,_time,clientip,user,sourcetype,_raw,_cd\n"
    b'0,2021-03-04T05:06:07.000+0000,81.2.69.142,alice,access_combined,"a ""b"" c",12:345\n'
    b'1,2021-03-04 05:06:08,81.2.69.143:4444,,access_combined,"a\nmulti-line",12:346\n',
]
SEEDS = SPLUNK
TOKENS = [
    b'"\\ud800"',  # a lone surrogate escape (issue 18)
    b'"',
    b'""',
    b"_time,clientip",
    b",",
    b"\n",
    *JSON_TOKENS,
]


def one_input(data: bytes) -> None:
    """Read one input; raise AssertionError if the evidence contract is broken."""
    check(splunk, data)


if __name__ == "__main__":
    main(one_input, SEEDS, TOKENS)
