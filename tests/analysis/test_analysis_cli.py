"""The analysis through the command line: `slipcatch analyze --evidence-file`."""

from __future__ import annotations

import json
from pathlib import Path

from slipcatch.cli import main


def _table(tmp_path: Path) -> Path:
    path = tmp_path / "events.csv"
    rows = ["time,src_ip,persona,channel"]
    for day in range(3):
        rows.append(f"2014-11-2{day}T01:00:00Z,175.45.176.{day + 5},GoP,web")
        rows.append(f"2014-11-2{day}T01:05:00Z,198.51.100.{day + 1},GoP,web")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_cli_analyze_with_an_evidence_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SLIPCATCH_CACHE", str(tmp_path / "cache"))
    table = _table(tmp_path)
    good = tmp_path / "analyst.yaml"
    good.write_text(
        "hypotheses:\n  - {id: insider, statement: An insider did it.}\n"
        "evidence:\n  - {id: code, summary: code reuse, reliability: B2, "
        "likelihoods: {actor: 3, insider: 0.5}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert main(["analyze", str(table), "--evidence-file", str(good), "--out", str(out)]) == 0
    doc = json.loads((out / "assessment.json").read_text(encoding="utf-8"))
    [persona] = [p for p in doc["personas"] if p["name"] == "GoP"]
    kinds = {h["kind"] for h in persona["assessment"]["hypotheses"]}
    assert "analyst" in kinds
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "evidence:\n  - {id: tip, summary: s, reliability: Z9, likelihoods: {actor: 2}}\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["analyze", str(table), "--evidence-file", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "evidence[0] 'tip'" in err and "Z9" in err
    assert "Traceback" not in err
