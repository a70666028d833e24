"""The DuckDB case store: idempotent ingest, chain of custody, crash safety, analysis."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from slipcatch.case import Case
from slipcatch.cli import main
from slipcatch.evidence import ReadOptions


def _write_log(path: Path, lines: int, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        for n in range(lines):
            ip = f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{n % 250 + 1}"
            minute, second = divmod(n % 3600, 60)
            fh.write(
                f"{ip} - user{n % 5} [01/Dec/2014:10:{minute:02d}:{second:02d} +0000] "
                f'"GET /f/{n} HTTP/1.1" 200 {n} "-" "agent"\n'
            )
        fh.write("not a log line at all\n")


def _snapshot(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Table contents that must not depend on how the ingest went (ingest time excluded)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            "files": con.execute(
                "SELECT sha256, path, size, format, records, events, rejected, duplicates "
                "FROM evidence_files ORDER BY sha256"
            ).fetchall(),
            "events": con.execute("SELECT * FROM events ORDER BY id").fetchall(),
            "rejections": con.execute(
                "SELECT * FROM rejections ORDER BY sha256, locator"
            ).fetchall(),
        }
    finally:
        con.close()


def test_ingest_is_idempotent_and_accounts_exactly(tmp_path: Path):
    ev = tmp_path / "ev"
    ev.mkdir()
    _write_log(ev / "a.log", 200, 1)
    # The same lines under another name: every event is a duplicate of one already held.
    (ev / "b.log").write_bytes((ev / "a.log").read_bytes() + b"# extra\n")
    db = tmp_path / "case.duckdb"
    with Case.open(db) as case:
        first = case.ingest([ev], ReadOptions())
        again = case.ingest([ev], ReadOptions())
        counts = case.counts()
    assert [(i.file.path.endswith("a.log"), i.already_present) for i in first] == [
        (True, False),
        (False, False),
    ]
    a, b = (i.file for i in first)
    assert (a.records, a.events, a.rejected, a.duplicates) == (201, 200, 1, 0)
    assert (b.records, b.events, b.rejected, b.duplicates) == (202, 0, 2, 200)
    assert all(i.already_present for i in again)
    assert counts["evidence_files"] == 2
    assert counts["events"] == 200
    assert counts["rejections"] == 3


def test_analysis_of_a_case_matches_analysis_of_its_files(tmp_path: Path):
    table = tmp_path / "events.csv"
    table.write_text(
        "time,src_ip,persona\n"
        "2014-12-01T10:00:00Z,175.45.176.9,gop\n"
        "2014-12-01T10:03:00Z,185.220.101.7,gop\n"
        "oops,1.1.1.1,gop\n",
        encoding="utf-8",
    )
    assert main(["case", "create", str(tmp_path / "c")]) == 0
    assert main(["case", "create", str(tmp_path / "c")]) == 2  # exists already
    assert main(["ingest", str(tmp_path / "c"), str(table)]) == 0
    assert main(["analyze", "--case", str(tmp_path / "c"), "--out", str(tmp_path / "o1")]) == 0
    assert main(["analyze", str(table), "--out", str(tmp_path / "o2")]) == 0
    docs = []
    for out in ("o1", "o2"):
        doc = json.loads((tmp_path / out / "assessment.json").read_text(encoding="utf-8"))
        doc.pop("generated_at")
        docs.append(doc)
    assert docs[0] == docs[1]
    assert docs[0]["events"] == 2
    assert docs[0]["rejections"][0]["reason"] == "bad-time"


def test_analyze_needs_evidence_or_a_case(capsys: pytest.CaptureFixture[str]):
    assert main(["analyze"]) == 2
    assert "--case" in capsys.readouterr().err


def test_case_info_of_a_missing_case_is_a_usage_error(tmp_path: Path):
    assert main(["case", "info", str(tmp_path / "nope")]) == 2


@pytest.mark.slow
def test_ingest_killed_mid_file_then_rerun_equals_a_clean_ingest(tmp_path: Path):
    ev = tmp_path / "ev"
    ev.mkdir()
    for n in range(4):
        _write_log(ev / f"part{n}.log", 40_000, n)
    clean = tmp_path / "clean.duckdb"
    with Case.open(clean) as case:
        case.ingest([ev], ReadOptions())
    expected = _snapshot(clean)

    crashed = tmp_path / "crashed.duckdb"
    cmd = [sys.executable, "-m", "slipcatch.cli", "ingest", str(crashed), str(ev)]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    # Kill as soon as the first file is committed: the next one is being read then.
    deadline = time.monotonic() + 120
    killed_mid_run = False
    while time.monotonic() < deadline and proc.poll() is None:
        out = proc.stdout.readline() if proc.stdout else b""
        if out.startswith(b"ingested:"):
            os.kill(proc.pid, signal.SIGKILL)
            killed_mid_run = True
            break
    proc.wait(timeout=60)
    if proc.stdout:
        proc.stdout.close()
    if proc.stderr:
        proc.stderr.close()
    assert killed_mid_run, "the ingest finished before it could be killed"
    assert proc.returncode == -signal.SIGKILL
    partial = _snapshot(crashed)
    assert 1 <= len(partial["files"]) < 4  # committed files only, no half file
    committed = {row[0] for row in partial["files"]}
    assert {row[6] for row in partial["events"]} <= committed

    assert main(["ingest", str(crashed), str(ev)]) == 0
    assert _snapshot(crashed) == expected


def test_export_renders_a_recorded_run_like_analyze_did(tmp_path: Path):
    table = tmp_path / "events.csv"
    table.write_text(
        "time,src_ip,persona\n"
        "2014-12-01T10:00:00Z,175.45.176.9,gop\n"
        "2014-12-01T10:03:00Z,185.220.101.7,gop\n",
        encoding="utf-8",
    )
    case = str(tmp_path / "c")
    assert main(["analyze", str(table), "--case", case, "--out", str(tmp_path / "a")]) == 0
    out = tmp_path / "x"
    assert main(["export", case, "--format", "md", "--format", "json", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "assessment.json", "events.jsonl", "events.parquet", "report.md"
    ]
    for name in ("assessment.json", "events.jsonl", "report.md"):
        assert (out / name).read_bytes() == (tmp_path / "a" / name).read_bytes()
    exported = pq.read_table(out / "events.parquet")
    assert exported.num_rows == 2
    assert exported.equals(pq.read_table(tmp_path / "a" / "events.parquet"))
    assert main(["export", case, "--format", "stix", "--run", "run--nope"]) == 2
    assert main(["export", str(tmp_path / "missing"), "--format", "html"]) == 2


def test_batched_ingest_accounts_like_one_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Files are streamed into the case in batches; duplicates across batches still count."""
    import slipcatch.case as case_module

    ev = tmp_path / "ev"
    ev.mkdir()
    _write_log(ev / "a.log", 500, 3)
    # Repeat the first 100 lines at the end: duplicates that fall into a later batch.
    lines = (ev / "a.log").read_text(encoding="utf-8").splitlines(keepends=True)
    (ev / "a.log").write_text("".join(lines + lines[:100]), encoding="utf-8")
    accounts = []
    for batch in (7, 100_000):
        monkeypatch.setattr(case_module, "BATCH", batch)
        with Case.open(tmp_path / f"c{batch}.duckdb") as case:
            [item] = case.ingest([ev], ReadOptions())
            accounts.append(item.file)
            assert case.counts()["events"] == 500
    small, large = accounts
    assert (small.records, small.events, small.rejected, small.duplicates) == (601, 500, 1, 100)
    assert small == large
    assert _snapshot(tmp_path / "c7.duckdb") == _snapshot(tmp_path / "c100000.duckdb")


def test_event_batches_stream_the_events_the_objects_hold(tmp_path: Path):
    """``Case.event_batches``: every event of the case as ``EVENT_SCHEMA`` batches of the
    size asked, equal (as a set) to the ``Event`` objects ``events()`` builds; what
    ``analyze --case`` hands the engine instead of those objects."""
    from slipcatch.eventtable import EVENT_SCHEMA, events_to_table

    ev = tmp_path / "ev"
    ev.mkdir()
    _write_log(ev / "a.log", 250, 3)
    with Case.open(tmp_path / "case.duckdb") as case:
        case.ingest([ev], ReadOptions())
        batches = list(case.event_batches(rows=100))
        objects = case.events()
    assert [b.num_rows for b in batches] == [100, 100, 50]
    assert all(b.schema == EVENT_SCHEMA for b in batches)
    got = sorted((r for b in batches for r in b.to_pylist()), key=lambda r: r["id"])
    want = sorted(events_to_table(objects).to_pylist(), key=lambda r: r["id"])
    assert got == want and len(got) == 250
    # a row of the log, worked out from its text: user3 at 10:00:03 asks for /f/3
    row = next(r for r in got if r["locator"] == "line 4")
    assert (row["persona"], row["time"].isoformat(), json.loads(row["attributes"])["path"]) == (
        "user3", "2014-12-01T10:00:03+00:00", "/f/3")
