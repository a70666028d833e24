"""Fuzz target: the GitHub audit log reader (`slipcatch.evidence.cloud.github`).

    .venv/bin/python fuzz/fuzz_github.py -atheris_runs=100000      # atheris (libFuzzer)
    .venv/bin/python fuzz/fuzz_github.py --plain --runs=100000     # no atheris: random loop

See fuzz/_harness.py for the invariants checked on every input.

No real export with addresses is public (shared/data/SOURCES.md): the seeds are entries in
the shape of GitHub's REST API documentation.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import JSON_TOKENS, check, main

from slipcatch.evidence.cloud import github

GITHUB = [
    b'[{"@timestamp": 1606929874512, "action": "team.add_member", "actor": "octocat", '
    b'"created_at": 1606929874512, "_document_id": "xJJFlFOhQ6b-5vaAFy9Rjw", "org": "octo-corp", '
    b'"actor_ip": "81.2.69.142"}]\n',
    b'{"@timestamp": 1606507117008, "action": "org.create", "actor": "octocat", "org": "o"}\n',
]
SEEDS = GITHUB
TOKENS = [
    b'"\\ud800"',  # a lone surrogate escape (issue 18)
    b'"actor_ip": ""',
    b'"@timestamp": 99999999999999999',
    b'"action": "a.b"',
    *JSON_TOKENS,
]


def one_input(data: bytes) -> None:
    """Read one input; raise AssertionError if the evidence contract is broken."""
    check(github, data)


if __name__ == "__main__":
    main(one_input, SEEDS, TOKENS)
