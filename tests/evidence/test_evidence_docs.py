"""docs/formats.md lists exactly the reason codes and hop flags the code uses."""

from __future__ import annotations

import re
from pathlib import Path

from slipcatch.evidence import REASONS
from slipcatch.evidence.mail import FLAGS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "formats.md").read_text()


def _codes(section: str) -> set[str]:
    body = DOC.split(section, 1)[1].split("\n## ", 1)[0]
    rows = [ln for ln in body.splitlines() if ln.startswith("| `")]
    return {c for ln in rows for c in re.findall(r"`([a-z0-9-]+)`", ln.split("|")[1])}


def test_reasons_documented() -> None:
    assert _codes("## Rejection reasons") == set(REASONS)


def test_flags_documented() -> None:
    assert _codes("**Hop flags**") == set(FLAGS)
