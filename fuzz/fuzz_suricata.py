"""Fuzz target: the Suricata EVE reader (`slipcatch.evidence.siem.suricata`).

    .venv/bin/python fuzz/fuzz_suricata.py -atheris_runs=100000      # atheris (libFuzzer)
    .venv/bin/python fuzz/fuzz_suricata.py --plain --runs=100000     # no atheris: random loop

See fuzz/_harness.py for the invariants checked on every input.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import JSON_TOKENS, check, corpus, main

from slipcatch.evidence.siem import suricata

SEEDS = corpus("today/suricata-eve/*")
TOKENS = [
    b'"\\ud800"',  # a lone surrogate escape (issue 18)
    b'"event_type": "stats"',
    b'"src_ip": "::"',
    b'"timestamp": "x"',
    *JSON_TOKENS,
]


def one_input(data: bytes) -> None:
    """Read one input; raise AssertionError if the evidence contract is broken."""
    check(suricata, data)


if __name__ == "__main__":
    main(one_input, SEEDS, TOKENS)
