"""Quiet mis-readings: terminal escapes in evidence, case-mode options that could not apply."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from report.fixtures import build_assessment  # tests/report (rootdir on sys.path)
from slipcatch.cli import _print_run, main

from .corpus import web_lines

EVIL = "\x1b[2J\x1b]0;owned\x07\x1b[31mAPT-FAKE\x9b1m\u202e"


def test_verdict_lines_escape_control_characters(capsys: pytest.CaptureFixture[str]) -> None:
    a = build_assessment()
    pas = []
    for pa in a.personas:
        verdict = dataclasses.replace(pa.verdict, statement=f"{EVIL} is likely behind it.")
        pas.append(dataclasses.replace(pa, verdict=verdict))
    _print_run(dataclasses.replace(a, personas=tuple(pas)), {"x": Path(EVIL)})
    out = capsys.readouterr().out
    for control in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert control not in out
    assert "\\x1b[2J\\x1b]0;owned\\x07\\x1b[31mAPT-FAKE" in out  # shown, harmlessly


def test_case_options_that_cannot_apply_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(web_lines(2))
    pmap = tmp_path / "map.csv"
    pmap.write_text("identity,persona\n1.2.3.4,someone\n")
    case = str(tmp_path / "c.duckdb")
    assert main(["ingest", case, str(log)]) == 0
    for extra in (["--persona-map", str(pmap)], ["--trusted-relay", "mx.example.org"]):
        assert main(["ingest", case, str(log), *extra]) == 2
        err = capsys.readouterr().err
        assert "could not apply to them" in err and len(err.splitlines()) == 1
        status = main(["analyze", "--case", case, "--out", str(tmp_path / "o"), *extra])
        assert status == 2
        assert "could not apply to them" in capsys.readouterr().err
    # The same options as before are fine; so is a new case with the map, and analysing that
    # case as it is (nothing to read) without repeating them.
    assert main(["ingest", case, str(log)]) == 0
    new = str(tmp_path / "d.duckdb")
    assert main(["ingest", new, str(log), "--persona-map", str(pmap)]) == 0
    assert main(["ingest", new, str(log), "--persona-map", str(pmap)]) == 0
    assert main(["analyze", "--case", new, "--out", str(tmp_path / "o2")]) == 0
    assert main(["ingest", new, str(log)]) == 2  # would read new files without the map
