"""Fuzz target: the e-mail / mbox reader (`slipcatch.evidence.mail`).

    .venv/bin/python fuzz/fuzz_mail.py -atheris_runs=100000      # atheris (libFuzzer)
    .venv/bin/python fuzz/fuzz_mail.py --plain --runs=100000     # no atheris: random loop

See fuzz/_harness.py for the invariants checked on every input.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import check, corpus, main

from slipcatch.evidence import mail

SEEDS = corpus("email/*.eml")
TOKENS = [
    b"Received: ",
    b"From ",
    b">From ",
    b"(",
    b")",
    b";",
    b"[",
    b"]",
    b"by ",
    b"with ESMTPSA",
    b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: message/rfc822\n\n',
    b"--b--",
    b"\n\n",
    b"X-Originating-IP: [1.2.3.4]",
    b"Received: from [1.2.3.4] by web1.mail.yahoo.com via HTTP; ",
    b" by mx.google.com with ESMTPS id 8sm1.2009",
    b"Delivered-To: jm@a.example\n",
    b" for <jm@b.example>;",
    b"List-Post: <mailto:l@a.example>\n",
    b"(AUTH: LOGIN u)",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    b"=?utf-8?B?",
    b"%eth0",
    b"\xff",
]


def one_input(data: bytes) -> None:
    """Read one input; raise AssertionError if the evidence contract is broken."""
    check(mail, data)


if __name__ == "__main__":
    main(one_input, SEEDS, TOKENS)
