"""Shared fixtures: one default pack built once per test session in a temporary cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from slipcatch.intel import IntelPack, load_pack

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
TOR = DATA / "tor"


@pytest.fixture(scope="session")
def pack_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("slipcatch-cache")


@pytest.fixture(scope="session")
def pack(pack_cache: Path) -> IntelPack:
    return load_pack(cache_dir=pack_cache)


@pytest.fixture(scope="session")
def tor_dir() -> Path:
    return TOR
