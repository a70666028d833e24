"""End to end through the console script: files that yield no event are listed with their format
and why; a run with 0 events says "nothing to analyse" (exit 0 when some file was in a supported
format, 2 when every input was unusable: docs/formats.md); --year sets the year of a year-less
syslog log and each event keeps its source."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

TODAY = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "today"
#: Lines in the layout of a Windows CBS log: a date, a comma, a level, a component.
CBS = (
    "2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack v6.1.7601.23505\n"
    "2016-09-28 04:30:31, Info                  CBS    Ending TrustedInstaller initialization.\n"
) * 50


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slipcatch.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        timeout=600,
        check=False,
    )


def test_every_input_unusable_exits_2_and_says_why(tmp_path: Path) -> None:
    ev = tmp_path / "ev"
    ev.mkdir()
    (ev / "CBS.log").write_text(CBS)
    (ev / "blob.bin").write_bytes(bytes(range(256)) * 8)
    proc = _cli("analyze", str(ev), "--out", str(tmp_path / "out"), "--quiet")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    out = proc.stdout
    assert "slipcatch: 2 files, 2 records, 0 events, 2 rejected, 0 personas" in out
    assert "Files that yielded no event (2):" in out
    assert f"  {ev / 'CBS.log'} [unknown]: unrecognised-format: no format matched" in out
    assert f"  {ev / 'blob.bin'} [unknown]: unrecognised-format: binary content" in out
    assert "nothing to analyse: 0 events from 2 files (no input file is in a format" in out
    assert "No persona's activity could be attributed" not in out
    assert (tmp_path / "out" / "assessment.json").exists()  # the outputs are still written


def test_supported_files_without_events_exit_0(tmp_path: Path) -> None:
    ev = tmp_path / "ev"
    ev.mkdir()
    evtx = "evtxattack-CA_4624_4625_LogonType2_LogonProc_chrome.evtx"
    shutil.copy(TODAY / "windows-evtx" / evtx, ev / evtx)
    (ev / "CBS.log").write_text(CBS)
    proc = _cli("analyze", str(ev), "--out", str(tmp_path / "out"), "--quiet")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "slipcatch: 2 files, 5 records, 0 events, 5 rejected, 0 personas" in out
    assert f"  {ev / evtx} [winsec]: 4 records rejected, mostly local-logon (4 of 4 shown)" in out
    assert "nothing to analyse: 0 events from 2 files (the files were read but no record" in out
    assert "Verdicts:" not in out


def test_year_option_and_the_files_listed_beside_events(tmp_path: Path) -> None:
    ev = tmp_path / "ev"
    ev.mkdir()
    shutil.copy(TODAY / "syslog-sshd" / "plaso-syslog_ssh.log", ev / "auth.log")
    (ev / "CBS.log").write_text(CBS)
    out_dir = tmp_path / "out"
    proc = _cli("analyze", str(ev), "--out", str(out_dir), "--quiet", "--year", "2015")
    assert proc.returncode == 0, proc.stderr
    assert "slipcatch: 2 files, 10 records, 7 events, 3 rejected" in proc.stdout
    assert "Files that yielded no event (1):" in proc.stdout
    assert "Verdicts:" in proc.stdout
    events = [json.loads(ln) for ln in (out_dir / "events.jsonl").read_text().splitlines()]
    assert len(events) == 7
    assert {e["time"][:4] for e in events} == {"2015"}
    assert {e["attributes"]["year_source"] for e in events} == {"option"}
    bad = _cli("analyze", str(ev), "--out", str(out_dir), "--year", "15")
    assert bad.returncode == 2
    assert "not a year from 1970 to 2099: '15'" in bad.stderr


def test_the_list_of_files_without_events_is_capped(tmp_path: Path) -> None:
    ev = tmp_path / "ev"
    ev.mkdir()
    for i in range(53):
        (ev / f"cbs-{i:02d}.log").write_text(CBS.replace("04:30:30", f"04:30:{i:02d}"))
    proc = _cli("analyze", str(ev), "--out", str(tmp_path / "out"), "--quiet")
    assert proc.returncode == 2, proc.stderr
    assert "Files that yielded no event (53):" in proc.stdout
    assert proc.stdout.count("[unknown]: unrecognised-format") == 50
    assert "  ... and 3 more (every file's account:" in proc.stdout
