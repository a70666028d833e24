"""Command-line manners: --version, case list/info, analyze --case reusing its inputs, umask,
intel lookup from standard input and for a CIDR, progress only at a terminal."""

from __future__ import annotations

import io
import json
import os
import re
import sys
from pathlib import Path

import pytest

import slipcatch
from slipcatch.cli import main


@pytest.fixture(autouse=True)
def _cases_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cases"
    monkeypatch.setenv("SLIPCATCH_CASES", str(path))
    return path


def _table(tmp_path: Path) -> Path:
    p = tmp_path / "events.csv"
    p.write_text("time,src_ip,persona\n2014-12-01T10:00:00Z,175.45.176.9,gop\n"
                 "2014-12-01T10:03:00Z,185.220.101.7,gop\n", encoding="utf-8")
    return p


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"slipcatch {slipcatch.__version__}"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", slipcatch.__version__)


def test_case_names_resolve_in_the_cases_dir(
    tmp_path: Path, _cases_dir: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from slipcatch.case import case_path

    monkeypatch.chdir(tmp_path)
    assert case_path("sony") == _cases_dir / "sony.duckdb"
    assert case_path("here.duckdb") == Path("here.duckdb")
    assert case_path("./sub/c") == Path("sub/c.duckdb")
    assert main(["case", "list"]) == 0
    assert capsys.readouterr().out.strip() == f"no cases in {_cases_dir}"
    assert main(["case", "create", "sony"]) == 0
    assert main(["ingest", "sony", str(_table(tmp_path))]) == 0
    assert not (tmp_path / "sony.duckdb").exists()  # not in the working directory
    assert main(["case", "create", "./local"]) == 0
    assert (tmp_path / "local.duckdb").exists()
    capsys.readouterr()
    assert main(["case", "list"]) == 0
    out = capsys.readouterr().out
    assert f"cases in {_cases_dir}:" in out
    assert "  sony: 1 files, 2 events, 0 runs (latest never)" in out
    assert "local" not in out


def _tor_events(shared_data: Path, tmp_path: Path, n: int = 12) -> tuple[Path, Path, int]:
    """An event table of exits named in a real TorDNSEL list, each at its listing time.

    The list is of 2016-09-20, when the shipped exit history has no snapshot within weeks
    (2016-08-14, 2016-12-11): only the list given makes these events Tor."""
    tor = shared_data / "tor" / "exit-list-2016-09-20-13-02-00"
    rows = []
    for line in tor.read_text(encoding="utf-8").splitlines():
        if line.startswith("ExitAddress "):
            _, ip, day, clock = line.split()
            rows.append(f"{day}T{clock}Z,{ip},tor-user")
        if len(rows) == n:
            break
    table = tmp_path / "tor-events.csv"
    table.write_text("time,src_ip,persona\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return tor, table, len(rows)


def _categories(out: Path) -> list[str]:
    lines = (out / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x)["category"] for x in lines]


def test_analyze_case_reuses_recorded_intel(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tor, table, n = _tor_events(shared_data, tmp_path)
    assert main(["analyze", str(table), "--intel", str(tor), "--case", "tor-case",
                 "--out", str(tmp_path / "o1")]) == 0
    first = capsys.readouterr().out
    assert f"case inputs: --intel as given: {tor}" in first
    assert _categories(tmp_path / "o1").count("tor") == n
    # rerun without --intel: the earlier run's sources are reused, and said so
    assert main(["analyze", "--case", "tor-case", "--out", str(tmp_path / "o2")]) == 0
    again = capsys.readouterr().out
    assert re.search(r"case inputs: --intel reused from run run--\S+: " + re.escape(str(tor)),
                     again)
    assert _categories(tmp_path / "o2").count("tor") == n
    # --fresh: the default pack only (what the old behaviour silently did)
    assert main(["analyze", "--case", "tor-case", "--fresh", "--out", str(tmp_path / "o3")]) == 0
    assert "case inputs: --intel: none" in capsys.readouterr().out
    assert _categories(tmp_path / "o3").count("tor") == 0
    # case info: runs with ids, times, intel sources and verdicts
    assert main(["case", "info", "tor-case"]) == 0
    info = capsys.readouterr().out
    runs = re.findall(r"^  run (run--\S+) at (\S+) pack ", info, re.M)
    assert len(runs) == 2
    assert f"    intel: {tor}" in info
    assert "    intel: default pack only" in info
    assert "    verdict: " in info
    # the ids shown are the ones export --run takes
    assert main(["export", "tor-case", "--format", "json", "--run", runs[0][0],
                 "--out", str(tmp_path / "x")]) == 0


def test_outputs_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        assert main(["analyze", str(_table(tmp_path)), "--out", str(tmp_path / "o")]) == 0
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "o").iterdir()}
    assert modes and set(modes.values()) == {0o644}, modes
    old = os.umask(0o077)
    try:
        assert main(["analyze", str(_table(tmp_path)), "--out", str(tmp_path / "p")]) == 0
    finally:
        os.umask(old)
    assert {p.stat().st_mode & 0o777 for p in (tmp_path / "p").iterdir()} == {0o600}


def test_intel_lookup_stdin_and_cidr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(
        "ip,time\n175.45.176.27,2014-11-28T02:14:13Z\n\n# comment\n8.8.8.8\n"))
    assert main(["intel", "lookup", "-", "--at", "2014-12-01", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert [(g["ip"], g["category"], g["actor"]) for g in got] == [
        ("175.45.176.27", "actor", "dprk-rgb"), ("8.8.8.8", "hosting", None)]
    assert got[0]["time"].startswith("2014-11-28T02:14:13")
    assert got[1]["time"].startswith("2014-12-01T00:00:00")
    monkeypatch.setattr(sys, "stdin", io.StringIO("8.8.8.8,not-a-time\n"))
    assert main(["intel", "lookup", "-"]) == 2
    assert "standard input line 1" in capsys.readouterr().err

    assert main(["intel", "lookup", "175.45.176.0/22", "--at", "2014-12-01"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("175.45.176.0/22 at 2014-12-01T00:00:00+00:00: 1024 addresses; "
                          "actor 1024")
    assert "slipcatch-actors: actor, 175.45.176.0/22, KP, AS131279" in out
    assert "actor=dprk-rgb" in out and "(covers 100%)" in out
    assert main(["intel", "lookup", "10.0.0.0/8", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)[0]
    assert (d["addresses"], d["looked_up"], d["categories"]) == (
        16777216, 65536, {"reserved": 65536})
    assert main(["intel", "lookup", "10.0.0.1/8"]) == 2  # host bits set: not a prefix


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_at_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    table = _table(tmp_path)
    assert main(["ingest", str(tmp_path / "c1"), str(table)]) == 0
    assert capsys.readouterr().err == ""  # not a terminal: silent
    tty = _Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    assert main(["ingest", str(tmp_path / "c2"), str(table)]) == 0
    assert f"ingest 1/1 files: {table}" in tty.getvalue()
    tty2 = _Tty()
    monkeypatch.setattr(sys, "stderr", tty2)
    assert main(["ingest", str(tmp_path / "c3"), str(table), "--quiet"]) == 0
    assert tty2.getvalue() == ""


def test_pack_build_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from slipcatch._progress import Progress, pack_needs_build
    from slipcatch.intel import load_pack

    assert pack_needs_build(tmp_path / "empty-cache")
    load_pack()
    assert not pack_needs_build()  # the session's cache now holds the built pack
    tty = _Tty()
    p = Progress(stream=tty)
    p.step("building the intel pack (first use: about a minute)...")
    p.done()
    assert tty.getvalue().endswith("about a minute)...\n")
    quiet = _Tty()
    Progress(quiet=True, stream=quiet).step("x")
    assert quiet.getvalue() == ""


def test_analyze_progress_line_worked_by_hand() -> None:
    from slipcatch.cli import _progress_text
    from slipcatch.pipeline import ReadStatus

    mib = 2**20
    status = ReadStatus(files_done=1, files_total=3, records=1500, bytes_read=mib,
                        bytes_total=4 * mib)
    # 1000 events in 10 s; 1 MiB of 4 read in 10 s: 3 MiB left at that pace is 30 s.
    assert _progress_text(1000, status, 10.0) == (
        "analysing: file 2/3, 1,500 records, 1.0 of 4.0 MiB, 100 events/s, about 30 s left"
    )
    # 1 MiB of 61 MiB in 2 s: 120 s left.
    later = ReadStatus(3, 3, 9, mib, 61 * mib)
    assert _progress_text(50, later, 2.0).endswith(
        "file 3/3, 9 records, 1.0 of 61.0 MiB, 25 events/s, about 2 min 00 s left")
    # no estimate in the first second, nor when everything is read; a case's held events
    # have no reading status
    assert "left" not in _progress_text(10, status, 0.5)
    assert "left" not in _progress_text(10, ReadStatus(3, 3, 9, mib, mib), 5.0)
    # the unit follows the total: KiB below a MiB, GiB from a GiB
    assert ", 0.5 of 1.0 KiB," in _progress_text(1, ReadStatus(0, 1, 1, 512, 1024), 1.0)
    assert ", 1.5 of 3.0 GiB," in _progress_text(1, ReadStatus(0, 1, 1, 3 * 2**29, 3 * 2**30), 1.0)
    assert _progress_text(2000, None, 4.0) == "analysing: 2,000 events read (500/s)"


def test_analyze_progress_at_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = _table(tmp_path)
    size = table.stat().st_size
    tty = _Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    assert main(["analyze", str(table), "--out", str(tmp_path / "out")]) == 0
    shown = tty.getvalue()
    # the status line after the table's one batch: its 2 rows read, its bytes all consumed
    kib = f"{size / 1024:,.1f}"
    assert f"analysing: file 1/1, 2 records, {kib} of {kib} KiB" in shown
    quiet = _Tty()
    monkeypatch.setattr(sys, "stderr", quiet)
    assert main(["analyze", str(table), "--out", str(tmp_path / "q"), "--quiet"]) == 0
    assert "analysing" not in quiet.getvalue()
