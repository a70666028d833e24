"""The hunt benchmark (benchmarks/hunt): its truth, its checks, and its short version.

Only correctness is asserted, never a timing: the full runs and their figures are in
benchmarks/README.md ("Hunt").
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

HUNT = Path(__file__).resolve().parents[1] / "benchmarks" / "hunt"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"slipcatch_bench_hunt_{name}", HUNT / name)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    return _load("generate.py")


@pytest.fixture(scope="module")
def runner() -> ModuleType:
    return _load("run.py")


def _ip(text: str) -> int:
    a, b, c, d = (int(x) for x in text.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


# One persona, worked out by hand: ten covered events, then
#   t=120 actor 175.45.176.10 and, in the same second, a Tor request (covered first: it
#         neither closes nor splits the slip), t=125 a reserved address (neutral: skipped),
#   t=130 actor 175.45.176.11 (same /24: same slip), t=200 VPN -> closed after 70 s;
#   t=300 actor 175.45.177.5, t=305 actor 210.52.109.5 (another /24: another slip), both
#         closed by the Tor request at t=400 (after 100 and 95 s);
#   t=500 residential 1.2.3.4, never closed.
EVENTS = [
    *[(t, "185.220.101.1", "tor", None) for t in (10, 20, 30, 40, 50, 100, 110)],
    (120, "175.45.176.10", "actor", "dprk-rgb"),
    (120, "185.220.101.1", "tor", None),
    (125, "10.0.0.1", "reserved", None),
    (130, "175.45.176.11", "actor", "dprk-rgb"),
    (200, "198.51.100.7", "vpn", None),
    (300, "175.45.177.5", "actor", "dprk-rgb"),
    (305, "210.52.109.5", "actor", "dprk-rgb"),
    (400, "185.220.101.2", "tor", None),
    (500, "1.2.3.4", "residential", None),
]


def _slips(gen: ModuleType, events: list[tuple[int, str, str, str | None]]) -> list[dict]:
    t = np.array([e[0] for e in events], np.int64)
    ips = np.array([_ip(e[1]) for e in events], np.uint64)
    return gen.slips_of("op", t, ips, [e[2] for e in events], [e[3] for e in events])


def test_truth_follows_the_slip_definition(gen: ModuleType) -> None:
    got = [
        (
            s["ip"],
            s["first_seen"][11:19],
            s["last_seen"][11:19],
            s["events"],
            s["closed_after_seconds"],
            s["category"],
            s["attributed_to"],
        )
        for s in _slips(gen, EVENTS)
    ]
    assert got == [
        ("175.45.176.10", "00:02:00", "00:02:10", 2, 70, "actor", "dprk-rgb"),
        ("175.45.177.5", "00:05:00", "00:05:00", 1, 100, "actor", "dprk-rgb"),
        ("210.52.109.5", "00:05:05", "00:05:05", 1, 95, "actor", "dprk-rgb"),
        ("1.2.3.4", "00:08:20", "00:08:20", 1, None, "residential", None),
    ]
    assert _slips(gen, EVENTS)[0]["first_seen"] == "1970-01-01T00:02:00Z"
    # input order does not matter (the tie is decided by the rule, not by the file)
    assert _slips(gen, EVENTS[::-1]) == _slips(gen, EVENTS)


def test_truth_needs_a_persona_under_cover(gen: ModuleType) -> None:
    # without the first five covered events: 5 of 11 covered, under half: no slips at all
    assert _slips(gen, EVENTS[5:]) == []


def test_compare_slips_counts_found_wrong_missing_and_extra(runner: ModuleType) -> None:
    planted = [
        {
            "persona": "a",
            "ip": "175.45.176.1",
            "first_seen": "2024-01-13T01:00:00Z",
            "last_seen": "2024-01-13T01:00:30Z",
            "events": 2,
            "closed_after_seconds": 40,
        },
        {
            "persona": "b",
            "ip": "175.45.177.2",
            "first_seen": "2024-01-14T01:00:00Z",
            "last_seen": "2024-01-14T01:00:00Z",
            "events": 1,
            "closed_after_seconds": None,
        },
    ]
    truth = {"slips": planted}

    def doc(*slips: tuple[str, dict]) -> dict:
        personas: dict[str, list[dict]] = {}
        for name, s in slips:
            personas.setdefault(name, []).append(s)
        return {"personas": [{"name": n, "slips": s} for n, s in personas.items()]}

    def reported(p: dict, **changes: object) -> tuple[str, dict]:
        s = {k: v for k, v in p.items() if k != "persona"} | changes
        return p["persona"], s

    ok = runner.compare_slips(
        doc(reported(planted[0], closed_after_seconds=40.0), reported(planted[1])), truth
    )
    assert (ok["found"], ok["planted"], ok["missing"], ok["wrong"], ok["extra"]) == (
        2,
        2,
        [],
        [],
        [],
    )
    off = runner.compare_slips(
        doc(
            reported(planted[0], closed_after_seconds=41.0),
            reported(planted[1], closed_after_seconds=0.0),
        ),
        truth,
    )
    assert off["found"] == 0 and len(off["wrong"]) == 2
    assert off["wrong"][0]["reported"]["closed_after_seconds"] == 41.0
    miss = runner.compare_slips(
        doc(reported(planted[0]), reported(planted[1], ip="175.45.177.3")), truth
    )
    assert miss["found"] == 1 and miss["missing"] == [planted[1]]
    assert miss["extra"] == [
        {
            "persona": "b",
            "ip": "175.45.177.3",
            "first_seen": "2024-01-14T01:00:00Z",
            "last_seen": "2024-01-14T01:00:00Z",
            "closed_after_seconds": None,
        }
    ]


@pytest.mark.slow
def test_generator_streams_in_chunks(
    gen: ModuleType, tmp_path: Path, intel_cache: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small chunks: the account events are merged into seven background chunks in time order.
    monkeypatch.setattr(gen, "CHUNK", 3000)
    log = tmp_path / "a.log"
    truth = gen.generate(20_000, log, seed=11, quiet=True)
    lines = log.read_bytes().decode().splitlines()
    assert len(lines) == truth["lines"] == 20_000
    users = [ln.split(" ", 3)[2] for ln in lines]
    assert sum(u != "-" for u in users) == truth["account_lines"]
    assert truth["account_lines"] + truth["anonymous_lines"] == 20_000
    stamps = [ln.split("[", 1)[1].split("]", 1)[0] for ln in lines]
    from datetime import datetime

    times = [datetime.strptime(s, "%d/%b/%Y:%H:%M:%S %z").timestamp() for s in stamps]
    assert times == sorted(times)
    assert times[0] >= gen.T0 and times[-1] < gen.T0 + gen.WINDOW
    assert truth["cover_accounts"] == 4 and len(truth["slips"]) >= 4
    assert sum(s["closed_after_seconds"] is None for s in truth["slips"]) == 1
    for s in truth["slips"]:  # every planted slip's first request is in the log, as planted
        first = datetime.fromisoformat(s["first_seen"].replace("Z", "+00:00")).timestamp()
        assert any(
            t == first and ln.startswith(s["ip"] + " - " + s["persona"] + " [")
            for t, ln in zip(times, lines, strict=True)
        ), s
        assert s["category"] == "actor" and s["attributed_to"] == "dprk-rgb"
    actor = sum(
        ln.startswith(
            ("175.45.176.", "175.45.177.", "175.45.178.", "175.45.179.", "210.52.109.", "77.94.35.")
        )
        for ln in lines
    )
    # every actor-space request is a member of a planted slip
    assert actor == truth["actor_lines"] == sum(s["events"] for s in truth["slips"])


@pytest.mark.slow
def test_short_run_is_correct(tmp_path: Path, intel_cache: None) -> None:
    results = tmp_path / "results.json"
    env = dict(os.environ)
    done = subprocess.run(
        [
            sys.executable,
            str(HUNT / "run.py"),
            "--lines",
            "20000",
            "--check",
            "--workdir",
            str(tmp_path),
            "--results",
            str(results),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=1500,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads(results.read_text())
    by_name = {r["name"]: r for r in doc["results"]}
    # polars and duckdb come with the test extras and the package: never skipped
    assert {"polars", "duckdb", "slipcatch"} <= set(by_name)
    for r in doc["results"]:
        assert r["correct"] is True and r["rows"] == 20_000, r
        assert r["wall"] > 0 and r["peak_rss"] > 0
    assert by_name["polars"]["actor_rows"] == doc["truth"]["actor_lines"] > 0
    slips = by_name["slipcatch"]["slips"]
    assert slips["found"] == slips["planted"] == doc["truth"]["planted_slips"] >= 4
    assert slips["extra"] == [] and slips["missing"] == [] and slips["wrong"] == []
    if "slipcatch-spark" not in by_name:
        assert "slipcatch-spark" in doc["skipped"]
        assert "skipped" in done.stdout
    assert f"found {slips['found']}/{slips['planted']}" in done.stdout


@pytest.mark.slow
def test_floor_measures_the_ids_the_reader_makes(
    gen: ModuleType, tmp_path: Path, intel_cache: None
) -> None:
    """benchmarks/hunt/floor.py: its two ways of computing event ids give exactly the ids of
    the bulk reader's events, every line is an event, and every part is measured."""
    log = tmp_path / "a.log"
    gen.generate(20_000, log, seed=5, quiet=True)
    done = subprocess.run(
        [sys.executable, str(HUNT / "floor.py"), "--log", str(log), "--lines", "5000",
         "--repeat", "1", "--json"],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    res = json.loads(done.stdout)
    assert res["correct"] is True and res["problems"] == []
    assert res["lines"] == 5000 and 0 < res["strict_lines"] <= 5000
    assert set(res["us_per_line"]) == {"anchor", "event ids, hashlib", "event ids, DuckDB",
                                       "strict-shape check", "bulk parse"}
    assert all(v > 0 for v in res["us_per_line"].values())


def test_floor_ids_are_model_event_ids() -> None:
    """The ids the floor script measures (the bulk reader's ``id_keys`` and ``event_ids``, and
    its DuckDB way) are ``model.event_id`` of the record's digest, worked out here for one
    record by the model's own function."""
    from datetime import UTC, datetime
    from hashlib import sha256

    import polars as pl

    from slipcatch.evidence.bulk._weblog import event_ids, id_keys
    from slipcatch.model import event_id

    floor = _load("floor.py")
    raw = b'192.0.2.7 - bob [13/Jan/2024:01:00:00 +0100] "GET / HTTP/1.1" 200 12 "-" "ua"'
    key = b"web\x1f2024-01-13T00:00:00+00:00\x1f192.0.2.7\x1fbob\x1f"
    when = pl.Series([datetime(2024, 1, 13, tzinfo=UTC)]).cast(pl.Datetime("us", "UTC"))
    assert id_keys(when, pl.Series(["192.0.2.7"]), pl.Series(["bob"])) == [key]
    want = event_id("web", datetime(2024, 1, 13, tzinfo=UTC), "192.0.2.7", "bob",
                    sha256(raw).hexdigest())
    assert event_ids([key], [raw]) == [want]
    assert floor.ids_duckdb([key], [raw]) == [want]
