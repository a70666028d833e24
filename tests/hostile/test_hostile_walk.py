"""Directory walks under attack: symlink loops, dangling links, FIFOs, devices, unreadable
entries and links out of the tree are each one skipped file with its reason, never a fault."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from slipcatch.case import Case
from slipcatch.cli import main
from slipcatch.evidence import ReadOptions, ingest

from .corpus import web_lines


def _tree(root: Path, outside: Path) -> Path:
    d = root / "evidence"
    (d / "sub").mkdir(parents=True)
    (d / "a.log").write_bytes(web_lines(3))
    (d / "sub" / "b.log").write_bytes(web_lines(2, 100))
    os.symlink("..", d / "sub" / "up")  # a loop back to the top
    os.symlink(d / "sub", d / "again")  # the same directory a second time
    os.symlink("cycle", d / "cycle")  # a link to itself (ELOOP)
    os.symlink("nowhere", d / "dangling")
    os.mkfifo(d / "fifo")
    os.symlink("/dev/zero", d / "zero")  # a device, and outside the tree
    (outside / "secret.log").write_bytes(web_lines(1, 200))
    os.symlink(outside / "secret.log", d / "escape.log")
    os.symlink(d / "a.log", d / "alias.log")  # the same file twice: read once, silently
    return d


def _reasons(result) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {Path(r.path).name: r.reason for r in result.rejections}


def test_every_entry_read_or_skipped_with_reason(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    d = _tree(tmp_path, outside)
    result = ingest(d)
    assert _reasons(result) == {
        "up": "symlink-loop",
        "sub": "symlink-loop",  # walked first as "again" (sorted order), then a repeat
        "cycle": "symlink-loop",
        "dangling": "dangling-link",
        "fifo": "not-regular-file",
        "zero": "outside-tree",
        "escape.log": "outside-tree",
    }
    assert len(result.events) == 5
    for f in result.files:
        assert f.records == f.events + f.rejected + f.duplicates


def test_follow_outside_reads_links_out_of_the_tree(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    d = _tree(tmp_path, outside)
    os.unlink(d / "zero")
    result = ingest(d, ReadOptions(follow_outside=True))
    assert "escape.log" not in _reasons(result)
    assert len(result.events) == 6


def test_unreadable_entry_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = tmp_path / "e"
    d.mkdir()
    (d / "a.log").write_bytes(web_lines(1))
    (d / "locked.log").write_bytes(web_lines(1))
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, m: "locked" not in str(p) and real(p, m))
    result = ingest(d)
    assert _reasons(result) == {"locked.log": "unreadable"}


def test_cli_and_case_account_skips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    d = _tree(tmp_path, outside)
    case = tmp_path / "c.duckdb"
    assert main(["ingest", str(case), str(d)]) == 0
    assert main(["ingest", str(case), str(d)]) == 0  # again: everything already present
    out = capsys.readouterr().out
    assert out.count("already in case") == 9
    with Case.open(case, create=False) as store:
        assert dict(store.rejections_by_reason())["symlink-loop"] == 3
        for f in store.files():
            assert f.records == f.events + f.rejected + f.duplicates
