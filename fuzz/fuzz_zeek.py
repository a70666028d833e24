"""Fuzz target: the Zeek TSV / JSON reader (`slipcatch.evidence.zeek`).

    .venv/bin/python fuzz/fuzz_zeek.py -atheris_runs=100000      # atheris (libFuzzer)
    .venv/bin/python fuzz/fuzz_zeek.py --plain --runs=100000     # no atheris: random loop

See fuzz/_harness.py for the invariants checked on every input.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import check, corpus, main

from slipcatch.evidence import zeek

SEEDS = corpus("weblogs/zeek-*.log", "weblogs/zed-*", "today/zeek-json-underscore/*")
TOKENS = [
    b'"\\ud800"',  # a lone surrogate escape (issue 18)
    b"#separator \\\\x09\n",
    b"#fields\tts\tid.orig_h\n",
    b"#path\tconn\n",
    b"\t",
    b"-",
    b"(empty)",
    b"1.0",
    b'{"id.orig_h": "1.1.1.1", "ts": 1}',
    b'{"id_orig_h": "1.1.1.1", "ts": 1, "@stream": "conn"}',
    b"\xff",
]


def one_input(data: bytes) -> None:
    """Read one input; raise AssertionError if the evidence contract is broken."""
    check(zeek, data, line_records="zeek")


if __name__ == "__main__":
    main(one_input, SEEDS, TOKENS)
