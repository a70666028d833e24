"""Fixtures of the workbench tests: the demo case built once, as a case store and an out dir."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .harness import analyze_demo


@pytest.fixture(scope="session")
def web_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    before = os.environ.get("SLIPCATCH_CACHE")
    os.environ["SLIPCATCH_CACHE"] = str(tmp_path_factory.mktemp("web-intel-cache"))
    yield
    if before is None:
        os.environ.pop("SLIPCATCH_CACHE", None)
    else:
        os.environ["SLIPCATCH_CACHE"] = before


@pytest.fixture(scope="session")
def demo_case(tmp_path_factory: pytest.TempPathFactory, web_cache: None) -> tuple[Path, Path]:
    """(case store, analyze --out directory) of the bundled demo, analysed once."""
    root = tmp_path_factory.mktemp("web-demo")
    case, out = root / "demo.duckdb", root / "out"
    analyze_demo(case=case, out=out)
    return case, out
