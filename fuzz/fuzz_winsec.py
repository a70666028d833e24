"""Fuzz target: the Windows logon-event reader, EVTX, JSON, XML and CSV exports
(`slipcatch.evidence.winsec`).

    .venv/bin/python fuzz/fuzz_winsec.py -atheris_runs=100000      # atheris (libFuzzer)
    .venv/bin/python fuzz/fuzz_winsec.py --plain --runs=100000     # no atheris: random loop

See fuzz/_harness.py for the invariants checked on every input.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import check, corpus, main

from slipcatch.evidence import winsec

SEEDS = corpus("today/windows-evtx/*.evtx", "today/windows-security-export/*")
TOKENS = [
    b"ElfFile\x00",
    (
        b'{"EventID": 4624, "IpAddress": "1.2.3.4", "TargetUserName": "u", "@timestamp": "'
        b'2020-09-22T08:38:03Z", "LogonType": "3"}'
    ),
    b'{"winlog": {"event_id": 4625, "event_data": {"IpAddress": "::1"}}, "@timestamp": "x"}',
    (
        b'- <Event><System><EventID>4625</EventID><TimeCreated SystemTime="2022-04-28T16:0'
        b'9:28Z" /></System><EventData><Data Name="IpAddress">-</Data></EventData></Event>'
    ),
    b",EventID,TimeGenerated,TargetUserName,IpAddress",
    b"4776",
    b"127.0.0.1",
    b'"',
]


def one_input(data: bytes) -> None:
    """Read one input; raise AssertionError if the evidence contract is broken."""
    check(winsec, data, line_records=None)


if __name__ == "__main__":
    main(one_input, SEEDS, TOKENS)
