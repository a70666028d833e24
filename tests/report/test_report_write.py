"""write_reports: six files, exact bytes, deterministic reruns, clean failure."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from slipcatch.errors import UsageError
from slipcatch.report import (
    assessment_document,
    events_lines,
    render_html,
    render_markdown,
    render_misp,
    render_stix,
    write_reports,
)
from slipcatch.report.json_doc import dumps_document

from .fixtures import GENERATED_AT, HOSTILE_NAME, build_assessment


def test_writes_the_seven_files_with_the_rendered_bytes(tmp_path: Path) -> None:
    a = build_assessment()
    out = tmp_path / "nested" / "out"
    paths = write_reports(a, out)
    assert {k: p.name for k, p in paths.items()} == {
        "assessment": "assessment.json",
        "events": "events.jsonl",
        "events_parquet": "events.parquet",
        "markdown": "report.md",
        "html": "report.html",
        "stix": "stix.json",
        "misp": "misp-event.json",
    }
    assert sorted(p.name for p in out.iterdir()) == [
        "assessment.json",
        "events.jsonl",
        "events.parquet",
        "misp-event.json",
        "report.html",
        "report.md",
        "stix.json",
    ]
    assert paths["assessment"].read_text("utf-8") == dumps_document(assessment_document(a))
    assert paths["events"].read_text("utf-8") == "".join(x + "\n" for x in events_lines(a))
    assert paths["markdown"].read_text("utf-8") == render_markdown(a)
    assert paths["html"].read_text("utf-8") == render_html(a)
    assert paths["stix"].read_text("utf-8") == render_stix(a)
    assert paths["misp"].read_text("utf-8") == render_misp(a)
    for key, p in paths.items():
        assert p.read_bytes().endswith(b"PAR1" if key == "events_parquet" else b"\n")


def test_rerun_gives_identical_bytes(tmp_path: Path) -> None:
    one = write_reports(build_assessment(), tmp_path / "one")
    two = write_reports(build_assessment(), tmp_path / "two")
    for key in one:
        assert one[key].read_bytes() == two[key].read_bytes(), key


def test_only_generated_at_differs_between_runs_at_different_times(tmp_path: Path) -> None:
    a = build_assessment()
    one = write_reports(a, tmp_path / "one")
    two = write_reports(replace(a, generated_at=GENERATED_AT.replace(hour=13)), tmp_path / "two")
    assert one["events"].read_bytes() == two["events"].read_bytes()
    for key in ("assessment", "markdown", "html"):
        left = one[key].read_text("utf-8").splitlines()
        right = two[key].read_text("utf-8").splitlines()
        diff = [(x, y) for x, y in zip(left, right, strict=True) if x != y]
        assert len(diff) == 1, key
        assert "2024-05-01T12:00:00Z" in diff[0][0] and "2024-05-01T13:00:00Z" in diff[0][1]


def test_lone_surrogate_in_evidence_does_not_break_the_reports(tmp_path: Path) -> None:
    a = build_assessment()
    gop = a.personas[1]
    name = "bad\udcffbyte"
    a = replace(a, personas=(a.personas[0], replace(gop, persona=replace(gop.persona, name=name))))
    paths = write_reports(a, tmp_path)
    raw = paths["assessment"].read_text("utf-8")
    assert "bad\\udcffbyte" in raw
    assert name in [p["name"] for p in json.loads(raw)["personas"]]
    assert "bad\ufffdbyte" in paths["markdown"].read_text("utf-8")
    assert "bad\ufffdbyte" in paths["html"].read_text("utf-8")


def test_replaces_existing_reports_and_leaves_no_temp_files(tmp_path: Path) -> None:
    (tmp_path / "report.md").write_text("stale", encoding="utf-8")
    write_reports(build_assessment(), tmp_path)
    assert (tmp_path / "report.md").read_text("utf-8").startswith("# slipcatch assessment")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert HOSTILE_NAME.split()[0] in (tmp_path / "report.md").read_text("utf-8")


def test_unwritable_output_is_a_usage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(UsageError) as info:
        write_reports(build_assessment(), blocker / "out")
    assert str(blocker) in str(info.value)
