"""Fuzz target: the OpenSSH auth-log reader (`slipcatch.evidence.authlog`).

    .venv/bin/python fuzz/fuzz_authlog.py -atheris_runs=100000      # atheris (libFuzzer)
    .venv/bin/python fuzz/fuzz_authlog.py --plain --runs=100000     # no atheris: random loop

See fuzz/_harness.py for the invariants checked on every input.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import check, corpus, main

from slipcatch.evidence import authlog

SEEDS = corpus(
    "weblogs/zeek-btest-ssh-basic-ssh.log",
    "today/syslog-sshd/*.log",
    "today/mail-postfix-dovecot/*.log",
)
TOKENS = [
    b"Nov 24 09:00:01 h sshd[1]: ",
    b"Accepted password for u from 1.2.3.4 port 22 ssh2",
    b"Failed publickey for invalid user x from ::1 port 1 ssh2",
    b"Invalid user x from 1.2.3.4",
    b"<34>1 2014-11-24T09:00:00Z h sshd 1 - - ",
    b"2014-11-24T09:00:00+09:00 h sshd[2]: ",
    b"Feb 29 ",
    b"pam_unix(sshd:auth): authentication failure; logname= uid=0 tty=ssh ruser= rhost=1.2.3.4",
    b"message repeated 3 times: [ Failed password for root from 1.2.3.4 port 22 ssh2]",
    b"ftpd[1]: connection from host.example (1.2.3.4)",
    b"postfix/smtpd[1]: 1A2B: client=unknown[1.2.3.4], sasl_method=LOGIN, sasl_username=u",
    b"dovecot: imap-login: Login: user=<u>, method=PLAIN, rip=1.2.3.4, lip=5.6.7.8",
    b"\xff",
]


def one_input(data: bytes) -> None:
    """Read one input; raise AssertionError if the evidence contract is broken."""
    check(authlog, data, line_records="lines")


if __name__ == "__main__":
    main(one_input, SEEDS, TOKENS)
