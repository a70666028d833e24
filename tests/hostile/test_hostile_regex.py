"""A catastrophic persona-map pattern (written by the analyst) against adversary-written text:
the search gives up within its time budget, the record is unmatched, the row is reported once
(assessment and console), and the run goes on."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from slipcatch.cli import main
from slipcatch.evidence import PersonaMap

from .corpus import WEB


def test_redos_pattern_gives_up_quickly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pmap = tmp_path / "map.csv"
    pmap.write_text("identity,persona\nattr:user_agent=^(a|aa)+$,slow\nattr:status=^200$,fine\n")
    adversary = "a" * 51 + "b"  # 52 characters
    lines = [WEB.format(n=n).replace('"ua"', f'"{adversary}"') for n in range(30)]
    log = tmp_path / "ua.log"
    log.write_text("".join(lines))
    out = tmp_path / "out"
    started = time.monotonic()
    status = main(["analyze", str(log), "--persona-map", str(pmap), "--out", str(out)])
    elapsed = time.monotonic() - started
    _, err = capsys.readouterr()
    assert status == 0
    assert elapsed < 60  # unbounded before (did not finish in 300 s for one record)
    [warning] = err.splitlines()
    assert "line 2" in warning and "^(a|aa)+$" in warning and "exceeded" in warning
    doc = json.loads((out / "assessment.json").read_text())
    assert doc["warnings"] == [warning.removeprefix("slipcatch: warning: ")]
    # The record was treated as unmatched by the slow row, so the next row named it.
    assert {p["name"] for p in doc["personas"]} == {"fine"}


def test_timeouts_counted_once_per_row() -> None:
    pmap = PersonaMap.from_pairs([("re:^(a|aa)+$", "slow")])
    for _ in range(3):
        assert pmap.resolve("a" * 40 + "b") is None
    [line] = pmap.warnings()
    assert "3 record(s)" in line
