from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def _intel_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One intel-pack cache for the whole session, never the user's own cache."""
    before = os.environ.get("SLIPCATCH_CACHE")
    path = Path(before) if before else tmp_path_factory.mktemp("intel-cache")
    os.environ["SLIPCATCH_CACHE"] = str(path)
    yield path
    if before is None:
        os.environ.pop("SLIPCATCH_CACHE", None)


@pytest.fixture(autouse=True)
def _cases_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Plain case names resolve in a fresh directory, never the user's own."""
    path = tmp_path / "cases"
    monkeypatch.setenv("SLIPCATCH_CASES", str(path))
    return path


@pytest.fixture(scope="session")
def demo_result():  # type: ignore[no-untyped-def]
    """The demo case analysed once through the API."""
    import slipcatch
    from slipcatch.api import demo_case

    inputs = demo_case()
    inputs.pop("title")
    return slipcatch.analyze(**inputs)
