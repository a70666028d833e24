"""Chaos test: kill `slipcatch ingest` (SIGKILL) at random moments and check the case each time.

Runs go on until ``--kills`` of them were really killed (an ingest may end before its delay).

For each kill: a fresh case; `slipcatch ingest CASE EVIDENCE` is started and killed after a
random delay; then `slipcatch case info` must succeed and the case must reconcile (every file's
records = events + rejected + duplicates; the events and rejections tables hold exactly what
the files' accounts say); then a second ingest must end exact: the same files, events and
rejections as an ingest that was never interrupted.

    .venv/bin/python tools/chaos_ingest.py               # 20 kills
    .venv/bin/python tools/chaos_ingest.py --kills 3     # short (CI: tests/hostile)
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from slipcatch.case import Case

WEB = '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /{n} HTTP/1.0" 200 1 "-" "ua"\n'
CLI = [sys.executable, "-m", "slipcatch.cli"]


def make_evidence(root: Path, lines: int) -> Path:
    """A directory of several files (plain, gzip, a table, garbage) for a multi-second ingest."""
    d = root / "evidence"
    d.mkdir()
    for k in range(4):
        body = "".join(WEB.format(n=k * lines + n) for n in range(lines))
        (d / f"access-{k}.log").write_text(body + "junk line\n" * 50)
    (d / "gz.log.gz").write_bytes(
        gzip.compress("".join(WEB.format(n=10**7 + n) for n in range(lines)).encode())
    )
    (d / "t.csv").write_text("time,ip,user\n" + "".join(
        f"2024-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z,8.8.{n % 250}.1,u{n}\n"
        for n in range(lines)
    ))  # fmt: skip
    return d


def snapshot(case: Path) -> dict[str, object]:
    """What the case holds, and whether it reconciles."""
    with Case.open(case, create=False) as store:
        files = store.files()
        counts = store.counts()
    for f in files:
        assert f.records == f.events + f.rejected + f.duplicates, f
    assert counts["events"] == sum(f.events for f in files), (counts, files)
    assert counts["rejections"] == sum(f.rejected for f in files), (counts, files)
    return {
        "files": sorted((f.sha256, f.records, f.events, f.rejected, f.duplicates) for f in files),
        "events": counts["events"],
        "rejections": counts["rejections"],
    }


def run(kills: int, lines: int, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="slipcatch-chaos-") as tmp:
        root = Path(tmp)
        evidence = make_evidence(root, lines)
        ref_case = root / "reference.duckdb"
        started = time.monotonic()
        subprocess.run([*CLI, "ingest", str(ref_case), str(evidence)], check=True,
                       capture_output=True)  # fmt: skip
        full = time.monotonic() - started
        reference = snapshot(ref_case)
        outcomes: list[dict[str, object]] = []
        k = 0
        # Until ``kills`` runs were really killed (an ingest may finish before its delay).
        while sum(1 for o in outcomes if o["killed"]) < kills and k < 3 * kills:
            k += 1
            case = root / f"chaos-{k}.duckdb"
            delay = rng.uniform(0.0, full)
            proc = subprocess.Popen([*CLI, "ingest", str(case), str(evidence)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            killed = proc.poll() is None
            if killed:
                proc.send_signal(signal.SIGKILL)
            proc.wait()
            info = subprocess.run([*CLI, "case", "info", str(case)], capture_output=True,
                                  text=True)  # fmt: skip
            if case.exists():
                assert info.returncode == 0, info.stderr
                held = snapshot(case)
            else:  # killed before the case file was created: nothing to reconcile
                held = {"files": []}
            done = subprocess.run([*CLI, "ingest", str(case), str(evidence)],
                                  capture_output=True, text=True)  # fmt: skip
            assert done.returncode == 0, done.stderr
            after = snapshot(case)
            exact = after == reference
            assert exact, (after, reference)
            outcomes.append({"delay_s": round(delay, 2), "killed": killed,
                             "files_held_after_kill": len(held["files"]),  # type: ignore[arg-type]
                             "exact_after_reingest": exact})  # fmt: skip
        return {
            "kills": sum(1 for o in outcomes if o["killed"]),
            "runs": len(outcomes),
            "full_ingest_s": round(full, 2),
            "all_exact": all(o["exact_after_reingest"] for o in outcomes),
            "outcomes": outcomes,
        }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--lines", type=int, default=20_000, help="lines per evidence file")
    ap.add_argument("--seed", type=int, default=18)
    args = ap.parse_args()
    result = run(args.kills, args.lines, args.seed)
    print(json.dumps(result, indent=2))
    return 0 if result["all_exact"] else 1


if __name__ == "__main__":
    sys.exit(main())
