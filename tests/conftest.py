"""Shared fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The read-only real sample data (/work/shared/data)."""
    return (Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def intel_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One fresh intel-pack cache (``SLIPCATCH_CACHE``) for the tests that run the CLI end to
    end: the default pack is compiled into it once per session, not once per module."""
    before = os.environ.get("SLIPCATCH_CACHE")
    os.environ["SLIPCATCH_CACHE"] = str(tmp_path_factory.mktemp("intel-cache"))
    yield
    if before is None:
        os.environ.pop("SLIPCATCH_CACHE", None)
    else:
        os.environ["SLIPCATCH_CACHE"] = before
