"""The chaos test's short version (tools/chaos_ingest.py runs 20 kills): `ingest` killed with
SIGKILL at random moments leaves a case that `case info` reads and that reconciles, and a
second ingest ends exactly as an uninterrupted one."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import chaos_ingest


@pytest.mark.slow
def test_kill_ingest_three_times() -> None:
    result = chaos_ingest.run(kills=3, lines=2000, seed=7)
    assert result["all_exact"] is True
