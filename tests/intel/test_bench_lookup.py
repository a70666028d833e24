"""The lookup benchmark's short version: every approach gives the reference answers.

Only correctness is asserted (no timing): the full run and its figures are in
benchmarks/README.md.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[2] / "benchmarks" / "lookup" / "run.py"
PACK_LOAD = RUN.with_name("pack_load.py")


@pytest.fixture(scope="module")
def bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("slipcatch_bench_lookup", RUN)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    yield mod
    del sys.modules[spec.name]


def test_pack_load_benchmark_reloads_the_same_pack(pack_cache: Path) -> None:
    spec = importlib.util.spec_from_file_location("slipcatch_bench_pack_load", PACK_LOAD)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    r = mod.measure(1, cache_dir=pack_cache, cold=False)
    assert r["correct"] is True and r["compile"] is None and len(r["reloads"]) == 1
    assert "reload (warm cache)" in mod.report(r) and "fast tables: built" in mod.report(r)
    assert r["fast_build"] > 0 and r["fast_read"] > 0


def test_every_approach_matches_the_reference(bench) -> None:  # type: ignore[no-untyped-def]
    # Both come with the test extras; a missing one is a broken install, not a skip.
    import mmdb_writer  # noqa: F401
    import pytricia  # noqa: F401

    results = bench.run_all(200_000, 20_000, repeat=1, isolate=False)
    assert [r["name"] for r in results] == list(bench.APPROACHES)
    queries = {r["name"]: r["queries"] for r in results}
    assert queries == {
        **{name: 200_000 for name in bench.APPROACHES},
        "slipcatch-v6": 40_000,
        "text-ipaddress": 20_000,
    }
    for r in results:
        assert r["correct"] is True, r
        assert r["rate"] > 0 and len(r["rates"]) == 1 and r["cpu_wall"] > 0
    text = bench.report(results)
    assert "ratio: lookups vs the fastest existing library" in text
    assert text.count("True") == len(bench.APPROACHES)


def test_queries_are_80_percent_inside(bench) -> None:  # type: ignore[no-untyped-def]
    first, last, value, _ = bench.table(20_000)
    q = bench.queries(first, last, 100_000)
    inside = (bench.reference(first, last, value, q) >= 0).mean()
    assert 0.8 <= inside < 0.81  # 80 % by construction, plus the few random hits
