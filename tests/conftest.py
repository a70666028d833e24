"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The read-only real sample data (/work/shared/data)."""
    return (Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()
