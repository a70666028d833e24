"""Ingest throughput: access-log lines/s, e-mail messages/s, CloudTrail and Entra sign-in
records/s (JSON lines), IIS W3C and sshd syslog lines/s and EVTX records/s, against a
plain-Python baseline.

Run from the repository root::

    .venv/bin/python benchmarks/ingest/bench_ingest.py            # 200k lines, 2k messages
    .venv/bin/python benchmarks/ingest/bench_ingest.py --lines 50000 --messages 500 --rounds 1

Inputs are generated (seeded, so every run reads the same bytes) into a temporary directory:
Apache combined lines shaped like the real semicomplete.com log in shared/data (a pool of
client addresses that repeat, long user agents, one line every few hundred milliseconds) and
RFC 5322 messages with a three-hop Received chain. Each measurement is the best of ``--rounds``
runs of CPU time (``time.process_time``), so other load on the machine disturbs it less.

The baseline is the fastest plain-Python loop doing the least work that still reads every
record: for lines, reading the file and matching each decoded line with the reader's own
compiled access-log regex, building nothing; for messages, ``email.parser.BytesHeaderParser``
over each file (the standard library's header parse, no origin analysis). The ratio printed is
baseline time / slipcatch time: how much of the bare loop's speed the full reader keeps while it
builds, hashes and de-duplicates events. For CloudTrail and Entra sign-ins (JSON lines shaped
like the real samples in shared/data/today: one IAM user and one assumed role, a pool of
addresses) the baseline is ``json.loads`` of each line and reading its address field. For IIS
W3C (generated with the real IIS 10 sample's ``#Fields``) it is splitting each data line on
spaces; for sshd syslog lines, a regex search for ``from IP port``; for EVTX (the four real
samples in shared/data/today/windows-evtx, read 20 times) the registry's ``evtx`` parser
decoding every record, the work the Windows reader builds on. No assertion is made; this is a
measurement.

The bulk path (``evidence.bulk``) is measured next to the per-line path on its own generated
log (``--bulk-lines``, 500k by default): ``ingest()`` (per-line reader), ``ColumnarIngest``
(blocks of lines -> ``parse_chunk`` -> de-duplicated record batches) and ``parse_chunk`` alone
on one in-memory chunk of 262,144 lines. CPU time counts every thread (polars runs several),
so the rates are per core. Both paths are first checked to give the same event ids.
"""

from __future__ import annotations

import argparse
import email.parser
import email.policy
import json
import random
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from slipcatch.evidence import ColumnarIngest, ReadOptions, ingest
from slipcatch.evidence.bulk import ChunkContext, parse_chunk
from slipcatch.evidence.weblog import _LINE

AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/32.0.1700.77 Safari/537.36",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:27.0) Gecko/20100101 Firefox/27.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "UniversalFeedParser/4.2-pre-314-svn +http://feedparser.org/",
)
PATHS = (
    "/presentations/logstash-monitorama-2013/images/kibana-search.png",
    "/blog/tags/puppet?flav=rss20",
    "/style2.css",
    "/reset.css",
    "/images/jordan-80.png",
    "/projects/xdotool/",
)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def write_access_log(path: Path, n: int, seed: int = 2015) -> None:
    rng = random.Random(seed)
    pool = [
        f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        for _ in range(max(1, n // 20))
    ]
    t = 1431856800.0  # 2015-05-17 10:00:00 UTC
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            t += rng.random() * 0.5
            tm = time.gmtime(t)
            stamp = (
                f"{tm.tm_mday:02d}/{MONTHS[tm.tm_mon - 1]}/{tm.tm_year}:"
                f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} +0000"
            )
            fh.write(
                f'{rng.choice(pool)} - - [{stamp}] "GET {rng.choice(PATHS)}?i={i} HTTP/1.1" '
                f'200 {rng.randint(100, 300000)} "http://semicomplete.com/" '
                f'"{rng.choice(AGENTS)}"\n'
            )


def write_messages(folder: Path, n: int, seed: int = 2014) -> None:
    rng = random.Random(seed)
    folder.mkdir()
    for i in range(n):
        ip = f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{i % 250 + 1}"
        minute = i % 60
        (folder / f"m{i:05d}.eml").write_text(
            f"Received: from relay.example.net (relay.example.net [198.51.100.{i % 250 + 1}])\n"
            f"\tby mx.victim.example with ESMTPS id {i:08x}\n"
            f"\tfor <staff@victim.example>; Mon, 24 Nov 2014 09:{minute:02d}:02 +0000\n"
            f"Received: from [10.0.{i % 200}.7] (client.isp.example [{ip}])\n"
            f"\tby relay.example.net with ESMTPSA id {i:08x};\n"
            f"\tMon, 24 Nov 2014 09:{minute:02d}:01 +0000\n"
            f"Received: from localhost (localhost [127.0.0.1]) by client.isp.example;\n"
            f"\tMon, 24 Nov 2014 09:{minute:02d}:00 +0000\n"
            f"From: GOP <gop{i % 7}@example.org>\nTo: staff@victim.example\n"
            f"Subject: message {i}\nMessage-ID: <{i}@example.org>\n"
            f"Date: Mon, 24 Nov 2014 09:{minute:02d}:00 +0000\n\n"
            f"body line {i}\n" * 20
        )


def write_cloudtrail(path: Path, n: int, seed: int = 2020) -> None:
    """CloudTrail records as JSON lines, shaped like the OTRF sample (two identities)."""
    rng = random.Random(seed)
    pool = [f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{i % 250 + 1}"
            for i in range(max(1, n // 50))]  # fmt: skip
    names = ("DescribeInstances", "GetObject", "ListBuckets", "AssumeRole", "ConsoleLogin")
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            user = i % 8 != 0
            ident = (
                {"type": "IAMUser", "arn": "arn:aws:iam::123456789123:user/pedro",
                 "userName": "pedro", "accountId": "123456789123",
                 "accessKeyId": "ASIA5FLZVX4OI4ZDQJOL", "principalId": "AIDAICAK2CN5MGHIIDIHA"}
                if user else
                {"type": "AssumedRole", "principalId": "AROA:i-0317f6c6b66ae9c40",
                 "arn": "arn:aws:sts::123456789123:assumed-role/WAFRole/i-0317f6c6b66ae9c40"}
            )  # fmt: skip
            rec = {
                "eventVersion": "1.08", "userIdentity": ident,
                "eventTime": f"2020-09-14T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
                "eventSource": "ec2.amazonaws.com", "eventName": names[i % len(names)],
                "awsRegion": "us-east-1", "sourceIPAddress": rng.choice(pool),
                "userAgent": "console.ec2.amazonaws.com", "requestParameters": {"maxResults": 100},
                "responseElements": None, "requestID": f"{i:08x}-876c-4995-8258-e6f09d9ef934",
                "eventID": f"{i:08x}-c7f6-4107-a6ee-d841d92596e7", "eventType": "AwsApiCall",
                "recipientAccountId": "123456789123",
            }  # fmt: skip
            fh.write(json.dumps(rec) + "\n")


def write_signins(path: Path, n: int, seed: int = 2019) -> None:
    """Entra sign-ins as the diagnostic-settings / Event Hub envelope (the beats sample)."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            ip = f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{i % 250 + 1}"
            when = f"2019-10-18T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}.0729893Z"
            props = {
                "appDisplayName": "Office 365", "clientAppUsed": "Browser",
                "createdDateTime": when.replace("Z", "+00:00"), "id": f"{i:08x}-095c-47d0",
                "ipAddress": ip, "isInteractive": True, "status": {"errorCode": 50140},
                "userPrincipalName": f"user{i % 40}@example.org", "userId": f"{i % 40}",
                "deviceDetail": {"browser": "Chrome 77", "operatingSystem": "MacOs"},
                "location": {"city": "Paris", "countryOrRegion": "FR"},
            }  # fmt: skip
            rec = {"category": "SignInLogs", "time": when, "callerIpAddress": ip,
                   "operationName": "Sign-in activity", "properties": props}  # fmt: skip
            fh.write(json.dumps(rec) + "\n")


def _address(rng: random.Random) -> str:
    octets = (rng.randint(1, 223), rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254))
    return ".".join(map(str, octets))


def write_iis(path: Path, n: int, seed: int = 2021) -> None:
    """IIS W3C lines with the field list of the real IIS 10 sample in shared/data/today."""
    rng = random.Random(seed)
    pool = [_address(rng) for _ in range(5000)]
    with path.open("w", encoding="ascii") as fh:
        fh.write("#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n"
                 "#Date: 2021-04-01 00:00:00\n#Fields: date time s-ip cs-method cs-uri-stem "
                 "cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status "
                 "sc-substatus sc-win32-status time-taken\n")
        for i in range(n):
            sec = i // 20
            user = rng.choice(("-", "-", "-", "CORP\\alice", "bob"))
            fh.write(f"2021-04-{1 + sec // 86400:02d} {sec // 3600 % 24:02d}:{sec // 60 % 60:02d}:"
                     f"{sec % 60:02d} 10.0.0.5 GET {rng.choice(PATHS)} - 443 {user} "
                     f"{rng.choice(pool)} {rng.choice(AGENTS).replace(' ', '+')} - "
                     f"{rng.choice((200, 200, 304, 404))} 0 0 {rng.randint(1, 900)}\n")


def write_sshd(path: Path, n: int, seed: int = 2015) -> None:
    """OpenSSH syslog lines (Accepted / Failed password) as the real 2015 sample writes them."""
    rng = random.Random(seed)
    pool = [_address(rng) for _ in range(3000)]
    with path.open("w", encoding="ascii") as fh:
        for i in range(n):
            sec = i // 5
            what = rng.choice(("Accepted password", "Failed password", "Failed password"))
            fh.write(f"Mar {11 + sec // 86400:2d} {sec // 3600 % 24:02d}:{sec // 60 % 60:02d}:"
                     f"{sec % 60:02d} host1 sshd[{1000 + i % 500}]: {what} for "
                     f"{rng.choice(('root', 'admin', 'plaso', 'deploy'))} from "
                     f"{rng.choice(pool)} port {rng.randint(1024, 65535)} ssh2\n")


_SSHD_FROM = re.compile(r" from (\S+) port ")


def baseline_sshd(path: Path) -> int:
    n = 0
    search = _SSHD_FROM.search
    with path.open("rb") as fh:
        for raw in fh:
            if search(raw.decode("utf-8")):
                n += 1
    return n


def baseline_iis(path: Path) -> int:
    n = 0
    with path.open("rb") as fh:
        for raw in fh:
            if not raw.startswith(b"#") and len(raw.split(b" ")) > 8:
                n += 1
    return n


#: The real EVTX samples (Windows logons) in shared/data/today, beside the repository.
EVTX_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "today" / "windows-evtx"


def baseline_evtx(files: list[Path]) -> int:
    """The registry's EVTX parser alone: every record decoded to JSON, nothing else."""
    import evtx

    n = 0
    for f in files:
        for _ in evtx.PyEvtxParser(str(f)).records_json():
            n += 1
    return n


def baseline_json(path: Path, field: str) -> int:
    n = 0
    with path.open("rb") as fh:
        for raw in fh:
            if json.loads(raw).get(field):
                n += 1
    return n


def best_cpu(fn: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def baseline_lines(path: Path) -> int:
    n = 0
    match = _LINE.match
    with path.open("rb") as fh:
        for raw in fh:
            if match(raw.rstrip(b"\r\n").decode("utf-8")):
                n += 1
    return n


def baseline_mail(folder: Path) -> int:
    parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)
    n = 0
    for p in sorted(folder.iterdir()):
        with p.open("rb") as fh:
            msg = parser.parse(fh)
        n += len(msg.get_all("Received", []))
    return n


def columnar(path: Path) -> int:
    reading = ColumnarIngest(path, ReadOptions())
    return sum(batch.num_rows for batch in reading.batches())


def bulk_rows(path: Path, rounds: int) -> list[tuple[str, int, float]]:
    """(label, lines, lines per CPU second) of the per-line and the bulk paths on ``path``."""
    per_line = ingest(path)
    reading = ColumnarIngest(path, ReadOptions())
    ids = [i for batch in reading.batches() for i in batch.column("id").to_pylist()]
    assert sorted(ids) == sorted(e.id for e in per_line.events), "bulk and per-line differ"
    n = per_line.files[0].records
    raw = path.read_bytes().rstrip(b"\n").split(b"\n")[:262_144]
    lines = pa.array(raw, pa.large_binary())
    numbers = pa.array(np.arange(1, len(raw) + 1, dtype=np.int64))
    ctx = ChunkContext("weblog", str(path), per_line.files[0].sha256, ReadOptions())
    return [
        ("ingest() per-line", n, n / best_cpu(lambda: ingest(path), rounds)),
        ("ColumnarIngest", n, n / best_cpu(lambda: columnar(path), rounds)),
        (
            "parse_chunk alone",
            len(raw),
            len(raw) / best_cpu(lambda: parse_chunk(ctx, lines, numbers), rounds),
        ),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--messages", type=int, default=2_000)
    ap.add_argument("--cloud", type=int, default=50_000, help="CloudTrail and sign-in records")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bulk-lines", type=int, default=500_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "access.log"
        mail = Path(tmp) / "mail"
        write_access_log(log, args.lines)
        write_messages(mail, args.messages)
        trail = Path(tmp) / "cloudtrail.jsonl"
        signins = Path(tmp) / "signins.jsonl"
        write_cloudtrail(trail, args.cloud)
        write_signins(signins, args.cloud)
        for path, fmt in ((trail, "cloudtrail"), (signins, "entra")):
            got = ingest(path).files[0]
            assert (got.format, got.events) == (fmt, args.cloud), got
        result = ingest(log)
        assert result.files[0].records == args.lines, result.files[0]
        mresult = ingest(mail)
        assert sum(f.events for f in mresult.files) == args.messages
        iis = Path(tmp) / "u_ex210401.log"
        write_iis(iis, args.lines)
        sshd = Path(tmp) / "auth.log"
        write_sshd(sshd, args.lines)
        for path, fmt in ((iis, "iis"), (sshd, "authlog")):
            got = ingest(path).files[0]
            assert (got.format, got.events + got.duplicates) == (fmt, args.lines), got
        evtx_files = sorted(EVTX_DIR.glob("*.evtx"))
        evtx_records = sum(f.records for f in ingest(evtx_files).files)
        rows = []
        for label, n, ours, base in (
            ("access-log lines", args.lines, lambda: ingest(log), lambda: baseline_lines(log)),
            ("e-mail messages", args.messages, lambda: ingest(mail), lambda: baseline_mail(mail)),
            ("cloudtrail records", args.cloud, lambda: ingest(trail),
             lambda: baseline_json(trail, "sourceIPAddress")),
            ("entra sign-ins", args.cloud, lambda: ingest(signins),
             lambda: baseline_json(signins, "callerIpAddress")),
            ("iis w3c lines", args.lines, lambda: ingest(iis), lambda: baseline_iis(iis)),
            ("sshd syslog lines", args.lines, lambda: ingest(sshd), lambda: baseline_sshd(sshd)),
            ("evtx records", evtx_records * 20, lambda: [ingest(evtx_files) for _ in range(20)],
             lambda: [baseline_evtx(evtx_files) for _ in range(20)]),
        ):  # fmt: skip
            t_ours = best_cpu(ours, args.rounds)
            t_base = best_cpu(base, args.rounds)
            rows.append((label, n, n / t_ours, n / t_base, t_base / t_ours))
        bulk_log = Path(tmp) / "bulk.log"
        write_access_log(bulk_log, args.bulk_lines, seed=2016)
        bulk = bulk_rows(bulk_log, args.rounds)
    print(f"{'input':<18} {'records':>8} {'slipcatch/s':>12} {'baseline/s':>12} {'ratio':>6}")
    for label, n, ours_rate, base_rate, ratio in rows:
        print(f"{label:<18} {n:>8} {ours_rate:>12,.0f} {base_rate:>12,.0f} {ratio:>6.2f}")
    print()
    print(f"{'access log, bulk vs per-line':<30} {'lines':>8} {'lines/s':>12} {'x per-line':>10}")
    for label, n, rate in bulk:
        print(f"{label:<30} {n:>8} {rate:>12,.0f} {rate / bulk[0][2]:>10.2f}")


if __name__ == "__main__":
    main()
