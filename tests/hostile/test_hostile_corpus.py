"""Every attack of the hostile corpus through the CLI: the stated exit status, one line at most
on stderr, no traceback, no internal error, no terminal control character on stdout, every
record accounted, and the stated rejection reasons with their exact counts."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from slipcatch.cli import main

from .corpus import ATTACKS

SCHEMA = Path(__file__).resolve().parents[2] / ".." / "shared" / "contracts"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    attack = ATTACKS[name]
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    out = tmp_path / "out"
    argv = ["analyze", *attack.build(evidence), "--out", str(out)]
    status, stdout, stderr = run(argv, capsys)
    assert status == attack.status, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    assert len(stderr.splitlines()) <= 1
    assert attack.stderr in stderr
    for control in ("\x1b", "\x07", "\x9b"):
        assert control not in stdout
    doc = json.loads((out / "assessment.json").read_text(encoding="utf-8"))
    for f in doc["evidence"]:
        assert f["records"] == f["events"] + f["rejected"] + f.get("duplicates", 0)
    rejected = sum(f["rejected"] for f in doc["evidence"])
    lines = (out / "rejections.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == rejected
    reasons = Counter(json.loads(line)["reason"] for line in lines)
    assert reasons == Counter(attack.reasons)
    if attack.events is not None:
        assert doc["events"] == attack.events
    # Every output is valid UTF-8 text (no lone surrogate made it into a writer).
    for p in out.iterdir():
        if p.suffix != ".parquet":  # binary: Arrow checks its text columns when reading
            p.read_bytes().decode("utf-8")
        else:
            pq.read_table(p)
