"""Rejections under a flood of garbage: every one streams to rejections.jsonl (and the case
store), the assessment keeps counts by reason and a capped sample, and stays schema-valid.
(The 2.5 M-line memory figure is a benchmark: benchmarks/hostile/garbage.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from slipcatch.cli import main
from slipcatch.evidence import REJECTION_SAMPLE

from .corpus import web_lines

SCHEMA = Path(__file__).resolve().parents[2] / ".." / "shared" / "contracts"


def _garbage(path: Path, garbage: int, good: int) -> None:
    with path.open("wb") as fh:
        fh.write(web_lines(good // 2))
        fh.write(b"\x01garbage line that is no access log\n" * garbage)
        fh.write(web_lines(good - good // 2, 1000))


@pytest.mark.parametrize("case", [False, True])
def test_garbage_flood_accounted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: bool
) -> None:
    log = tmp_path / "flood.log"
    _garbage(log, 20_000, 20)
    out = tmp_path / "out"
    argv = ["analyze", str(log), "--out", str(out)]
    if case:
        argv += ["--case", str(tmp_path / "c.duckdb")]
    assert main(argv) == 0
    stdout = capsys.readouterr().out
    assert "20020 records, 20 events, 20000 rejected" in stdout
    lines = (out / "rejections.jsonl").read_text().splitlines()
    assert len(lines) == 20_000
    assert {json.loads(x)["reason"] for x in lines} == {"unparsed-line"}
    doc = json.loads((out / "assessment.json").read_text())
    schema = json.loads((SCHEMA / "assessment.schema.json").read_text())
    jsonschema.validate(doc, schema)
    assert len(doc["rejections"]) == REJECTION_SAMPLE
    assert doc["rejections_by_reason"] == {"unparsed-line": 20_000}
    assert doc["rejections_total"] == 20_000
    assert doc["rejections_file"] == "rejections.jsonl"
    md = (out / "report.md").read_text()
    assert "rejected 20000" in md and "more in rejections.jsonl" in md
