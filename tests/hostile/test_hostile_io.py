"""I/O faults are errors, not faults: exit 2 with one line naming the path and what was kept."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from slipcatch import report
from slipcatch.case import Case
from slipcatch.cli import main
from slipcatch.evidence import _source

from .corpus import web_lines


def _one_error_line(err: str) -> str:
    assert "Traceback" not in err and "internal error" not in err, err
    [line] = err.splitlines()
    assert line.startswith("slipcatch: error: ")
    return line


@pytest.fixture
def tiny_fs(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 1 MiB tmpfs (root only): a disk that fills up."""
    mnt = tmp_path / f"tiny-{uuid.uuid4().hex[:6]}"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (not root)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_disk_full_during_ingest(
    tiny_fs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    small = tmp_path / "small.log"
    small.write_bytes(web_lines(5))
    big = tmp_path / "big.csv"
    big.write_text("time,ip,user\n" + "".join(
        f"2024-01-01T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z,8.8.{n % 250}.{n % 7},"
        f"user{n}\n" for n in range(60_000)
    ))  # fmt: skip
    case = tiny_fs / "c.duckdb"
    assert main(["ingest", str(case), str(small), str(big)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "big.csv" in line and "No space left on device" in line
    assert "as it was before this file (1 earlier file(s) of this run kept)" in line
    assert main(["case", "info", str(case)]) == 0
    info = capsys.readouterr().out
    assert "evidence_files: 1" in info and "events: 5" in info


def test_second_writer_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = tmp_path / "c.duckdb"
    Case.open(case).close()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); "
         "time.sleep(30)", str(case)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        log = tmp_path / "a.log"
        log.write_bytes(web_lines(2))
        assert main(["ingest", str(case), str(log)]) == 2
        line = _one_error_line(capsys.readouterr().err)
        assert "in use by another slipcatch process" in line and str(case) in line
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    assert main(["ingest", str(case), str(log)]) == 0  # after it ended: fine


@pytest.mark.parametrize("argv", [["ingest", "", "x.log"], ["case", "info", ""],
                                  ["analyze", "x.log", "--out", ""], ["demo", "--out", " "]])
def test_empty_names_are_usage_errors(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.log").write_bytes(web_lines(1))
    assert main(argv) == 2
    _one_error_line(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.log"]  # nothing written


def test_unwritable_out_checked_before_analysis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(web_lines(1))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    calls: list[str] = []
    monkeypatch.setattr(_source.Source, "head", lambda self: calls.append("read") or b"")
    assert main(["analyze", str(log), "--out", str(blocker / "sub")]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert str(blocker / "sub") in line
    assert calls == []  # refused before any evidence was read


def test_failed_write_leaves_previous_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(web_lines(3))
    out = tmp_path / "out"
    assert main(["analyze", str(log), "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    log.write_bytes(web_lines(4))

    def full(*args: object, **kwargs: object) -> str:
        raise OSError(errno.ENOSPC, "No space left on device", str(out / "stix.json"))

    from slipcatch.report import writer

    monkeypatch.setattr(writer, "_render_stix", full)
    assert main(["analyze", str(log), "--out", str(out)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "No space left on device" in line
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # no mix of new and stale files, no staging left behind
    assert report is not None


def test_vanished_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    d = tmp_path / "e"
    d.mkdir()
    (d / "a.log").write_bytes(web_lines(2))
    (d / "b.log").write_bytes(web_lines(2, 10))
    real = _source.Source.__init__

    def vanish(self: _source.Source, path: Path, *a: object, **k: object) -> None:
        if path.name == "b.log" and path.exists():
            os.unlink(path)  # deleted between the walk and the read
        real(self, path, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(_source.Source, "__init__", vanish)
    case = tmp_path / "c.duckdb"
    assert main(["ingest", str(case), str(d)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "b.log" in line and "1 earlier file(s) of this run kept" in line


def test_vanished_file_without_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    d = tmp_path / "e"
    d.mkdir()
    (d / "a.log").write_bytes(web_lines(2))
    (d / "b.log").write_bytes(web_lines(2, 10))
    real = _source.Source.__init__

    def vanish(self: _source.Source, path: Path, *a: object, **k: object) -> None:
        if path.name == "b.log" and path.exists():
            os.unlink(path)
        real(self, path, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(_source.Source, "__init__", vanish)
    out = tmp_path / "out"
    assert main(["analyze", str(d), "--out", str(out)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "b.log" in line and "no report was written" in line
    assert list(out.iterdir()) == []  # no half-written rejections file left
