"""Fuzz target: the Okta System Log reader (`slipcatch.evidence.cloud.okta`).

    .venv/bin/python fuzz/fuzz_okta.py -atheris_runs=100000      # atheris (libFuzzer)
    .venv/bin/python fuzz/fuzz_okta.py --plain --runs=100000     # no atheris: random loop

See fuzz/_harness.py for the invariants checked on every input.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import JSON_TOKENS, check, corpus, main

from slipcatch.evidence.cloud import okta

SEEDS = corpus("today/okta/*.jsonl")
TOKENS = [
    b'"\\ud800"',  # a lone surrogate escape (issue 18)
    b'"client": {"ipAddress": null}',
    b'"actor": {}',
    b'"ipChain": [{}]',
    *JSON_TOKENS,
]


def one_input(data: bytes) -> None:
    """Read one input; raise AssertionError if the evidence contract is broken."""
    check(okta, data)


if __name__ == "__main__":
    main(one_input, SEEDS, TOKENS)
