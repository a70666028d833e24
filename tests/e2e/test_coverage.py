"""Issue 14: events in a period no dated layer covers (2011: before the Tor history, no
routing snapshot, years from the geolocation snapshot) are stated in the console, in every
report's key judgement and in ``intel.coverage``, and cap the verdict's confidence."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from slipcatch.cli import main

from .scenarios import slipping_actor


def test_events_outside_every_layer_are_stated_and_cap_confidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = slipping_actor(seed=1, slips=4)
    shift = datetime(2011, 3, 1, tzinfo=UTC) - min(r[0] for r in scenario.rows)
    shift = timedelta(days=shift.days)
    scenario.rows = [(t + shift, ip, persona, ch) for t, ip, persona, ch in scenario.rows]
    scenario.tor_uses = []  # no exit list for 2011: the Tor exits there are unknown
    evidence, intel = scenario.write(tmp_path / "case")
    intel = [p for p in intel if p.suffix == ".csv"]  # the VPN/ISP ranges, valid 2010-2020
    out = tmp_path / "out"
    args = ["analyze", *map(str, evidence), "--out", str(out)]
    for p in intel:
        args += ["--intel", str(p)]
    assert main(args) == 0
    console = capsys.readouterr().out
    doc = json.loads((out / "assessment.json").read_text(encoding="utf-8"))
    n = doc["events"]
    cov = {c["layer"]: c for c in doc["intel"]["coverage"]}
    assert set(cov) == {"tor", "routing", "geolocation"}
    assert all(c["events_outside"] == n for c in cov.values())
    assert cov["tor"]["from"].startswith("2014-12-30")
    assert cov["routing"]["from"] is None
    for layer in ("Tor exit data", "geolocation snapshot", "routing"):
        assert f"{n} of {n} events fall outside the" in console
        assert layer in console
    md = (out / "report.md").read_text(encoding="utf-8")
    verdicts = md[md.index("## Verdicts"):]
    assert f"{n} of {n} events fall outside the Tor exit data" in verdicts.split("\n## ")[0]
    html = (out / "report.html").read_text(encoding="utf-8")
    key = html[html.index('id="key-judgements"'):]
    key = key[:key.index("</section>")]
    assert "fall outside the Tor exit data" in key
    persona = next(p for p in doc["personas"] if p["name"] == "Op Shadow")
    v = persona["assessment"]["verdict"]
    assert v["actor"] == "dprk-rgb"
    assert v["confidence"] == "low"
    assert any("did not cover the time of" in r for r in v["confidence_reasons"])
    events = [json.loads(line) for line in
              (out / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(e["tor"] == "no-data" for e in events)
    assert all({"projected", "tor_nearest_listing_days"} <= set(e) for e in events)
