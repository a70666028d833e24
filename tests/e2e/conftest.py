from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def _intel_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One intel-pack cache for the whole session, never the user's own cache."""
    before = os.environ.get("SLIPCATCH_CACHE")
    path = tmp_path_factory.mktemp("intel-cache")
    os.environ["SLIPCATCH_CACHE"] = str(path)
    yield path
    if before is None:
        os.environ.pop("SLIPCATCH_CACHE", None)
    else:
        os.environ["SLIPCATCH_CACHE"] = before
