"""Golden files for the fixed case. Regenerate with SLIPCATCH_UPDATE_GOLDEN=1 and review the
diff: any change to these bytes is a change users and outside checks will see."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from slipcatch.model import Assessment
from slipcatch.report import assessment_document, events_lines, render_markdown
from slipcatch.report.json_doc import dumps_document

from .fixtures import build_assessment

GOLDEN = Path(__file__).resolve().parents[1] / "golden"

RENDERERS: dict[str, Callable[[Assessment], str]] = {
    "report.md": render_markdown,
    "assessment.json": lambda a: dumps_document(assessment_document(a)),
    "events.jsonl": lambda a: "".join(line + "\n" for line in events_lines(a)),
}


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_output_matches_golden_file(name: str) -> None:
    produced = RENDERERS[name](build_assessment()).encode("utf-8")
    path = GOLDEN / name
    if os.environ.get("SLIPCATCH_UPDATE_GOLDEN") == "1":
        path.write_bytes(produced)
    assert path.exists(), f"{path} missing: run with SLIPCATCH_UPDATE_GOLDEN=1"
    expected = path.read_bytes()
    if produced != expected:
        got, want = produced.decode().splitlines(), expected.decode().splitlines()
        first = next(
            (i for i, (g, w) in enumerate(zip(got, want, strict=False)) if g != w),
            min(len(got), len(want)),
        )
        pytest.fail(
            f"{name} differs from {path} at line {first + 1}:\n"
            f"  golden:   {want[first] if first < len(want) else '<end of file>'}\n"
            f"  produced: {got[first] if first < len(got) else '<end of file>'}\n"
            "If the change is intended, regenerate with SLIPCATCH_UPDATE_GOLDEN=1."
        )
