"""Ingest throughput: access-log lines/s, e-mail messages/s, and CloudTrail and Entra sign-in
records/s (JSON lines), against a plain-Python baseline.

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
addresses) the baseline is ``json.loads`` of each line and reading its address field. No assertion
is made; this is a measurement.

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
        rows = []
        for label, n, ours, base in (
            ("access-log lines", args.lines, lambda: ingest(log), lambda: baseline_lines(log)),
            ("e-mail messages", args.messages, lambda: ingest(mail), lambda: baseline_mail(mail)),
            ("cloudtrail records", args.cloud, lambda: ingest(trail),
             lambda: baseline_json(trail, "sourceIPAddress")),
            ("entra sign-ins", args.cloud, lambda: ingest(signins),
             lambda: baseline_json(signins, "callerIpAddress")),
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
