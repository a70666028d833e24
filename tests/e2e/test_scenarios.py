"""End-to-end calibration and time-awareness checks on generated cases, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slipcatch.cli import main

from .scenarios import Scenario, lone_actor_event, noise_only, slipping_actor

ACTOR = "dprk-rgb"


def _run(scenario: Scenario, tmp_path: Path, *extra: str) -> dict:
    evidence, intel = scenario.write(tmp_path / "case")
    out = tmp_path / "out"
    args = ["analyze", *map(str, evidence), "--out", str(out), *extra]
    for p in intel:
        args += ["--intel", str(p)]
    assert main(args) == 0
    return json.loads((out / "assessment.json").read_text(encoding="utf-8"))


def _persona(doc: dict, name: str) -> dict:
    matches = [p for p in doc["personas"] if p["name"] == name]
    assert len(matches) == 1, [p["name"] for p in doc["personas"]]
    return matches[0]


@pytest.mark.parametrize("seed", [1, 7, 11])
def test_quickly_closed_slips_from_actor_space_attribute_the_actor(tmp_path: Path, seed: int):
    doc = _run(slipping_actor(seed=seed, slips=4), tmp_path)
    p = _persona(doc, "Op Shadow")
    verdict = p["assessment"]["verdict"]
    assert verdict["actor"] == ACTOR
    assert verdict["likelihood"] in ("very likely", "almost certain")
    actor_slips = [s for s in p["slips"] if s["attributed_to"] == ACTOR]
    assert len(actor_slips) == 4
    for s in actor_slips:
        assert s["closed_after_seconds"] is not None
        assert 60 <= s["closed_after_seconds"] <= 360
    assert p["cover_ratio"] > 0.9


def test_noise_only_gives_no_confident_attribution(tmp_path: Path):
    doc = _run(noise_only(), tmp_path)
    for p in doc["personas"]:
        v = p["assessment"]["verdict"]
        assert v["actor"] is None or v["probability"] < 0.5
        assert v["confidence"] == "low"


def test_lone_actor_event_without_cover_is_not_certain(tmp_path: Path):
    doc = _run(lone_actor_event(), tmp_path)
    v = _persona(doc, "Op Lone")["assessment"]["verdict"]
    assert v["likelihood"] != "almost certain"
    assert v["confidence"] != "high"


def test_tor_cover_depends_on_the_snapshot_dates(tmp_path: Path):
    """The same exit address is cover on the day it was listed and not three weeks earlier."""
    snap = tmp_path / "exit-list-2014-12-10"
    snap.write_text(
        "@type tordnsel 1.0\nDownloaded 2014-12-10 12:05:00\n"
        "ExitNode 0000000000000000000000000000000000000001\n"
        "Published 2014-12-10 10:00:00\nLastStatus 2014-12-10 11:00:00\n"
        "ExitAddress 185.220.101.7 2014-12-10 11:00:00\n",
        encoding="utf-8",
    )
    table = tmp_path / "events.csv"
    table.write_text(
        "time,src_ip,persona\n"
        "2014-11-19T11:30:00Z,185.220.101.7,early\n"
        "2014-12-10T11:30:00Z,185.220.101.7,onday\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert main(["analyze", str(table), "--intel", str(snap), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    by_persona = {r["persona"]: r["category"] for r in rows}
    assert by_persona["onday"] == "tor"
    assert by_persona["early"] != "tor"
