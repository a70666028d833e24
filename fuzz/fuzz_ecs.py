"""Fuzz target: the ECS ndjson reader (`slipcatch.evidence.siem.ecs`).

    .venv/bin/python fuzz/fuzz_ecs.py -atheris_runs=100000      # atheris (libFuzzer)
    .venv/bin/python fuzz/fuzz_ecs.py --plain --runs=100000     # no atheris: random loop

See fuzz/_harness.py for the invariants checked on every input.

No real ECS export is public (shared/data/SOURCES.md): the seeds are documents in ECS's
documented field layout.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import JSON_TOKENS, check, main

from slipcatch.evidence.siem import ecs

ECS = [
    b'{"@timestamp": "2023-05-02T08:01:02.345Z", "ecs": {"version": "8.0.0"}, "event": '
    b'{"dataset": "nginx.access", "id": "a1"}, "source": {"ip": "81.2.69.142"}, "user": '
    b'{"name": "alice"}}\n{"@timestamp": "2023-05-02T08:01:03Z", "event.dataset": "x", '
    b'"source.ip": "2001:db8::7", "user.name": "bob"}\n',
]
SEEDS = ECS
TOKENS = [
    b'"\\ud800"',  # a lone surrogate escape (issue 18)
    b'"source.ip": "1.1.1.1"',
    b'"_source": {',
    b'"ecs": {"version": "8"}',
    *JSON_TOKENS,
]


def one_input(data: bytes) -> None:
    """Read one input; raise AssertionError if the evidence contract is broken."""
    check(ecs, data)


if __name__ == "__main__":
    main(one_input, SEEDS, TOKENS)
