"""Fuzz target: the vsftpd log reader (`slipcatch.evidence.vsftpd`).

    .venv/bin/python fuzz/fuzz_vsftpd.py -atheris_runs=100000      # atheris (libFuzzer)
    .venv/bin/python fuzz/fuzz_vsftpd.py --plain --runs=100000     # no atheris: random loop

See fuzz/_harness.py for the invariants checked on every input.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import check, corpus, main

from slipcatch.evidence import vsftpd

SEEDS = corpus("today/ftpd/*.log")
TOKENS = [
    b'Mon Jun  6 18:43:28 2016 [pid 2] CONNECT: Client "192.168.1.9"',
    b'Fri Jun 10 14:28:50 2016 [pid 1] [ftp] OK LOGIN: Client "192.168.1.5", anon password "n"',
    b"FAIL DOWNLOAD",
    b"Feb 30",
    b'Client "999.1.1.1"',
    b"\xff",
]


def one_input(data: bytes) -> None:
    """Read one input; raise AssertionError if the evidence contract is broken."""
    check(vsftpd, data, line_records="lines")


if __name__ == "__main__":
    main(one_input, SEEDS, TOKENS)
