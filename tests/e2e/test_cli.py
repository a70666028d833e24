"""The command-line contract: exit codes, one-line errors, outputs, hostile input."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from slipcatch.cli import main

SCHEMA_PATH = Path(__file__).resolve().parents[2] / ".." / "shared" / "contracts"
SCHEMA = json.loads((SCHEMA_PATH / "assessment.schema.json").read_text(encoding="utf-8"))


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a subprocess (to see stderr and tracebacks)."""
    return subprocess.run(
        [sys.executable, "-m", "slipcatch.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        timeout=300,
        check=False,
    )


def test_unknown_flag_is_a_one_line_usage_error():
    proc = _cli("analyze", "--no-such-flag", "x")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr
    assert "--no-such-flag" in proc.stderr


def test_missing_evidence_path_exits_2_with_the_path(tmp_path: Path):
    missing = tmp_path / "nope.eml"
    proc = _cli("analyze", str(missing), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr
    assert "nope.eml" in proc.stderr


def test_bad_lookup_time_and_address_are_usage_errors(capsys: pytest.CaptureFixture[str]):
    assert main(["intel", "lookup", "8.8.8.8", "--at", "yesterday-ish"]) == 2
    assert "--at" in capsys.readouterr().err
    assert main(["intel", "lookup", "999.1.1.1", "--at", "2014-12-01"]) == 2
    assert "999.1.1.1" in capsys.readouterr().err


def test_intel_lookup_json_for_a_dprk_address(capsys: pytest.CaptureFixture[str]):
    assert main(["intel", "lookup", "175.45.176.27", "--at", "2014-12-01T10:00:00Z", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["ip"] == "175.45.176.27"
    assert row["category"] == "actor"
    assert row["actor"] == "dprk-rgb"
    assert row["country"] == "KP"
    assert any(f["range"] == "175.45.176.0/22" for f in row["facts"])


def test_intel_info_lists_sources(capsys: pytest.CaptureFixture[str]):
    assert main(["intel", "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    kinds = {s["kind"] for s in info["sources"]}
    assert {"geo-asn", "warninglist", "actor-registry"} <= kinds
    assert len(info["pack_id"]) >= 16


class _Collect(HTMLParser):
    """Collects the text inside <script> elements, the only place markup could run."""

    def __init__(self) -> None:
        super().__init__()
        self.in_script = False
        self.script_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False

    def handle_data(self, data: str) -> None:
        if self.in_script:
            self.script_text.append(data)


def test_hostile_input_is_accounted_and_escaped(tmp_path: Path):
    ev = tmp_path / "evidence"
    ev.mkdir()
    (ev / "binary.bin").write_bytes(bytes(range(256)) * 64)
    (ev / "broken.log.gz").write_bytes(gzip.compress(b"x" * 50_000)[:200])
    evil = "<script>alert('pwned')</script>"
    (ev / "table.csv").write_text(
        "time,src_ip,persona\n"
        f"2014-12-01T10:00:00Z,185.220.101.7,{evil}\n"
        "not-a-time,185.220.101.8,someone\n"
        "2014-12-01T10:05:00Z,999.1.1.1,someone\n"
        "2014-12-01T10:06:00Z,010.1.1.1,someone\n"
        '2014-12-01T10:07:00Z,1.2.3.4,"unterminated\n',
        encoding="utf-8",
    )
    (ev / "long.log").write_text("1.2.3.4 - - " + "A" * 200_000 + "\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = _cli("analyze", str(ev), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    doc = json.loads((out / "assessment.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, SCHEMA)
    for f in doc["evidence"]:
        assert f["records"] == f["events"] + f["rejected"] + f.get("duplicates", 0), f
    assert doc["events"] == sum(f["events"] for f in doc["evidence"])
    assert len(doc["rejections"]) == sum(f["rejected"] for f in doc["evidence"])
    names = {p["name"] for p in doc["personas"]}
    assert evil in names  # kept verbatim as data ...
    html = (out / "report.html").read_text(encoding="utf-8")
    assert evil not in html  # ... but never rendered as markup
    parser = _Collect()
    parser.feed(html)
    assert "alert('pwned')" not in "".join(parser.script_text)
    assert "alert(&#39;pwned&#39;)" in html or "alert(&#x27;pwned&#x27;)" in html


def test_rerun_gives_the_same_assessment_bytes(tmp_path: Path):
    table = tmp_path / "events.csv"
    table.write_text(
        "time,src_ip,persona,channel\n"
        "2014-12-01T10:00:00Z,175.45.176.9,gop,posting\n"
        "2014-12-01T10:03:00Z,185.220.101.7,gop,posting\n"
        "2014-12-02T10:03:00Z,8.8.8.8,someone,posting\n",
        encoding="utf-8",
    )
    outs = []
    for n in range(2):
        out = tmp_path / f"out{n}"
        assert main(["analyze", str(table), "--out", str(out)]) == 0
        doc = json.loads((out / "assessment.json").read_text(encoding="utf-8"))
        doc.pop("generated_at")
        outs.append((json.dumps(doc, sort_keys=True), (out / "events.jsonl").read_bytes()))
    assert outs[0] == outs[1]


def test_case_store_records_a_run_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    table = tmp_path / "events.csv"
    table.write_text(
        "time,src_ip,persona\n2014-12-01T10:00:00Z,175.45.176.9,gop\nbad,1.1.1.1,x\n",
        encoding="utf-8",
    )
    case = tmp_path / "mycase"
    for _ in range(2):
        assert main(["analyze", str(table), "--out", str(tmp_path / "o"), "--case", str(case)]) == 0
    capsys.readouterr()
    assert main(["case", "info", str(case)]) == 0
    out = capsys.readouterr().out
    assert "evidence_files: 1" in out
    assert "events: 1" in out
    assert "rejections: 1" in out
    assert "runs: 1" in out
    assert "rejected (bad-time): 1" in out
