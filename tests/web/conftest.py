"""Fixtures of the workbench tests: the demo case built once, as a case store and an out dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from .harness import analyze_demo


@pytest.fixture(scope="session")
def demo_case(tmp_path_factory: pytest.TempPathFactory, intel_cache: None) -> tuple[Path, Path]:
    """(case store, analyze --out directory) of the bundled demo, analysed once."""
    root = tmp_path_factory.mktemp("web-demo")
    case, out = root / "demo.duckdb", root / "out"
    analyze_demo(case=case, out=out)
    return case, out
