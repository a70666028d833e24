"""The hostile corpus of issue 18: one generator per attack, with its expected outcome.

Each ``Attack`` writes its evidence into a scratch directory (large inputs are generated at test
time, small), names the command line to run, and states what must happen: the exit status, that
no traceback and no ``internal error`` is printed, and for the quiet mis-readings the rejection
reasons and counts that must appear. ``test_hostile_corpus.py`` runs them all through the CLI.
E-mail attacks (header padding, mbox splitting, RFC 2047 UTF-7 surrogates, mail years 0000/0001)
wait for the e-mail package and are not here yet.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

WEB = '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /{n} HTTP/1.0" 200 1 "-" "ua"\n'


def auth_long_lines() -> list[str]:
    """Syslog lines built to make the Postfix, Dovecot, sshd and ftpd patterns scan again and
    again (a quadratic scan took over 10 s a line); benchmarks/hostile/long_lines.py times them."""
    head = "Mar  1 10:00:00 h {}[1]: "
    bodies = {
        "postfix/smtpd": ["connect from " * 4000, "client=" * 9000, "pam(" + "a," * 30000],
        "dovecot": ["pam(" + "a," * 30000, "imap-login: " + "x=y " * 15000],
        "sshd": ["Failed x for " + "a from b" * 7000, "authentication failure;" + " rhost=" * 8000],
        "ftpd": ["connection from " + "( " * 30000],
    }
    return [head.format(prog) + body for prog, group in bodies.items() for body in group]


def winsec_long_lines() -> list[str]:
    """Windows XML export lines of repeated opening tags (and one over 64 KiB, one cut short)."""
    event = "<Event><System><EventID>4624</EventID></System><EventData>"
    return [
        event + '<Data Name="' * 5000 + "</Event>",
        event + "<Event " * 2000,  # no end tag: one event with the next line
        event + '<TimeCreated SystemTime="' * 1500 + "</Event>",
        event + '<Data Name="IpAddress">' * 2700 + "</Event>",
        event + "<Event " * 9000 + "<Event " * 9000 + "</Event>",  # over 64 KiB
        "<Event><EventID>4625</EventID>",  # cut short
    ]


def web_lines(count: int, start: int = 0) -> bytes:
    return "".join(WEB.format(n=n) for n in range(start, start + count)).encode()


@dataclass(frozen=True)
class Attack:
    """One hostile input: ``build(dir) -> extra argv`` (evidence and flags, out/case added by
    the runner), the exit status, and rejection reasons -> exact counts expected."""

    build: Callable[[Path], list[str]]
    status: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    stderr: str = ""  # a substring the one error/warning line must hold
    events: int | None = None  # exact number of events, when it matters


def _write(d: Path, name: str, data: bytes | str) -> str:
    p = d / name
    p.write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    return str(p)


def surrogate_jsonl(d: Path) -> list[str]:
    """Lone surrogates in the persona, channel and id of a JSON-lines table."""
    rows = [
        {"id": "\ud800", "time": "2024-01-01T00:00:00Z", "ip": "8.8.8.8", "user": "\udc80x",
         "channel": "\udfff"},
        {"id": "b", "time": "2024-01-01T00:00:01Z", "ip": "8.8.4.4", "user": "ok"},
    ]  # fmt: skip
    return [_write(d, "s.jsonl", "".join(json.dumps(r) + "\n" for r in rows))]


def surrogate_weblog_json(d: Path) -> list[str]:
    row = {"remote_addr": "8.8.8.8", "time_iso8601": "2024-01-01T00:00:00Z",
           "request": "GET / HTTP/1.1", "status": 200, "remote_user": "\ud83d"}  # fmt: skip
    return [_write(d, "web.json", json.dumps(row) + "\n")]


def surrogate_zeek_json(d: Path) -> list[str]:
    row = {"ts": 1700000000.0, "id.orig_h": "8.8.8.8", "user": "\udbff\udbff", "_path": "ssh"}
    return [_write(d, "ssh.json", json.dumps(row) + "\n")]


def undecodable_name(d: Path) -> list[str]:
    """A file whose name is not UTF-8 (bytes kept by surrogateescape)."""
    name = b"evil-\xff\xfe.log".decode("utf-8", "surrogateescape")
    (d / name).write_bytes(web_lines(2))
    return [str(d)]


def terminal_escapes(d: Path) -> list[str]:
    """A persona name that would clear the screen, retitle the window and fake a colour."""
    evil = "\x1b[2J\x1b]0;owned\x07\x1b[31mAPT-FAKE"
    rows = "time,ip,user\n" + "".join(
        f"2014-11-{day:02d}T10:00:00Z,175.45.178.{day},{evil}\n" for day in range(1, 9)
    )
    return [_write(d, "t.csv", rows)]


def zone_9999(d: Path) -> list[str]:
    lines = web_lines(3) + b'1.2.3.4 - - [10/Oct/2000:13:55:36 +9999] "GET / HTTP/1.0" 200 1\n'
    return [_write(d, "zone.log", lines)]


def years_out_of_range(d: Path) -> list[str]:
    rows = ("time,ip,user\n1969-12-31T23:59:59Z,1.1.1.1,a\n2100-01-01T00:00:00Z,1.1.1.1,a\n"
            "0001-01-01T00:00:00Z,1.1.1.1,a\n2014-01-01T00:00:00Z,1.1.1.1,a\n")  # fmt: skip
    log = b'1.2.3.4 - - [10/Oct/0000:13:55:36 +0000] "GET / HTTP/1.0" 200 1\n' + web_lines(1)
    return [_write(d, "y.csv", rows), _write(d, "y.log", log)]


def gzip_zeroed(d: Path) -> list[str]:
    """50 zeroed bytes in the middle of a one-member gzip: nothing of it can be verified."""
    gz = bytearray(gzip.compress(web_lines(4000)))
    mid = len(gz) // 2
    gz[mid : mid + 50] = bytes(50)
    return [_write(d, "zeroed.log.gz", bytes(gz))]


def gzip_second_member_damaged(d: Path) -> list[str]:
    """Two members, the second damaged: the first member's 2000 lines are kept exactly."""
    second = bytearray(gzip.compress(web_lines(4000)[len(web_lines(2000)) :]))
    second[len(second) // 2 : len(second) // 2 + 50] = bytes(50)
    return [_write(d, "two.log.gz", gzip.compress(web_lines(2000)) + bytes(second))]


def gzip_trailing_garbage(d: Path) -> list[str]:
    """Trailing garbage after a valid gzip: every line gzip -dc recovers is kept."""
    return [_write(d, "trail.log.gz", gzip.compress(web_lines(3000)) + b"GARBAGE!" * 9)]


def nat64(d: Path) -> list[str]:
    rows = ("time,ip,user\n2024-01-01T00:00:00Z,64:ff9b::808:808,a\n"
            "2024-01-01T00:00:01Z,2002:808:808::1,b\n2024-01-01T00:00:02Z,::8.8.8.8,c\n")
    return [_write(d, "v6.csv", rows)]


def utf16_csv(d: Path) -> list[str]:
    rows = "time,ip,user\n2024-01-01T00:00:00Z,8.8.8.8,ann\n2024-01-01T00:00:01Z,1.1.1.1,bob\n"
    return [_write(d, "u16.csv", rows.encode("utf-16"))]


def redos_persona_map(d: Path) -> list[str]:
    """The analyst's catastrophic pattern against an adversary's 52-character user agent."""
    pmap = _write(d, "map.csv", "identity,persona\nattr:user_agent=^(a|aa)+$,slow\n")
    line = WEB.format(n=1).replace('"ua"', '"' + "a" * 51 + 'b"')
    return [_write(d, "ua.log", line), "--persona-map", pmap]


ATTACKS: dict[str, Attack] = {
    "surrogate-jsonl": Attack(surrogate_jsonl, events=2),
    "surrogate-weblog-json": Attack(surrogate_weblog_json, events=1),
    "surrogate-zeek-json": Attack(surrogate_zeek_json, events=1),
    "undecodable-file-name": Attack(undecodable_name, events=2),
    "terminal-escapes": Attack(terminal_escapes, events=8),
    "zone-9999": Attack(zone_9999, reasons={"bad-time": 1}, events=3),
    "years-out-of-range": Attack(years_out_of_range, reasons={"bad-time": 4}, events=2),
    "gzip-zeroed": Attack(gzip_zeroed, reasons={"truncated-compression": 1}, events=0),
    "gzip-second-member-damaged": Attack(
        gzip_second_member_damaged, reasons={"truncated-compression": 1}, events=2000
    ),
    "gzip-trailing-garbage": Attack(
        gzip_trailing_garbage, reasons={"truncated-compression": 1}, events=3000
    ),
    "nat64-6to4-compatible": Attack(nat64, events=3),
    "utf16-csv": Attack(utf16_csv, events=2),
    "redos-persona-map": Attack(redos_persona_map, events=1, stderr="exceeded its"),
}
