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


def test_actor_addresses_listed_as_vpn_then_are_weak_evidence(tmp_path: Path):
    """The same slips, with an intel list saying the addresses were VPN exits at the time (the
    leased-block case of Trend Micro 2017): the episodes lose most of their weight, the
    verdict falls, and the report says why."""
    scenario = slipping_actor(seed=1, slips=4)
    plain = _persona(_run(scenario, tmp_path / "plain"), "Op Shadow")["assessment"]
    vpn = tmp_path / "vpn-exits.csv"
    vpn.write_text(
        "cidr,category,label,valid_from,valid_to\n"
        "175.45.176.0/22,vpn,Example VPN,2013-01-01,2016-12-31\n",
        encoding="utf-8",
    )
    listed = _persona(_run(scenario, tmp_path / "listed", "--intel", str(vpn)), "Op Shadow")
    verdict = listed["assessment"]["verdict"]
    assert plain["verdict"]["likelihood"] in ("very likely", "almost certain")
    assert verdict["probability"] < plain["verdict"]["probability"] - 0.2
    assert verdict["likelihood"] not in ("very likely", "almost certain")
    episodes = [
        line
        for line in listed["assessment"]["evidence_lines"]
        if line["kind"] == "actor-range-episode"
    ]
    assert episodes and all("listed as vpn by" in line["summary"] for line in episodes)
    assert any("listed as vpn" in a["explanation"] for a in listed["assessment"]["alternatives"])
