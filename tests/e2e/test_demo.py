"""`slipcatch demo`: the bundled case end to end, and the README that shows its output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from slipcatch.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads(
    (ROOT / ".." / "shared" / "contracts" / "assessment.schema.json").read_text(encoding="utf-8")
)
DEMO = ROOT / "src" / "slipcatch" / "data" / "demo"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("demo") / "slipcatch-out"
    capture = tmp_path_factory.mktemp("stdout") / "stdout.txt"
    import contextlib

    with capture.open("w", encoding="utf-8") as fh, contextlib.redirect_stdout(fh):
        assert main(["demo", "--out", str(out)]) == 0
    return out, capture.read_text(encoding="utf-8")


def _doc(out: Path) -> dict:
    return json.loads((out / "assessment.json").read_text(encoding="utf-8"))


def _persona(doc: dict, name: str) -> dict:
    [p] = [p for p in doc["personas"] if p["name"] == name]
    return p


def test_demo_assessment_is_valid_against_the_shared_schema(demo_run: tuple[Path, str]):
    jsonschema.validate(_doc(demo_run[0]), SCHEMA)


def test_demo_recovers_the_ground_truth(demo_run: tuple[Path, str]):
    truth = json.loads((DEMO / "ground-truth.json").read_text(encoding="utf-8"))
    gop = _persona(_doc(demo_run[0]), "Guardians of Peace")
    verdict = gop["assessment"]["verdict"]
    assert verdict["actor"] == "dprk-rgb"
    assert verdict["likelihood"] in ("very likely", "almost certain")
    actor_slips = sorted(
        (s for s in gop["slips"] if s["attributed_to"] == "dprk-rgb"),
        key=lambda s: s["first_seen"],
    )
    expected = sorted(truth["actor_slips"], key=lambda s: s["first_seen"])
    assert [(s["ip"], s["closed_after_seconds"]) for s in actor_slips] == [
        (s["ip"], s["closed_after_seconds"]) for s in expected
    ]
    # The hotel hops are slips, but weak ones: attributed to nobody. So is the Japanese client
    # that only the sender's own server names (model 2.6: read at the claimed client, with
    # sender-written trust); the persona's cover ratio is the ground truth's with it.
    weak = [s for s in gop["slips"] if s["attributed_to"] is None]
    assert {(s["ip"], s["closed_after_seconds"]) for s in weak} == {
        (w["ip"], w["closed_after_seconds"]) for w in truth["weak_exposed"]
    }
    assert {s["country"] for s in weak} == {"TH", "TW", "JP"}
    assert round(gop["cover_ratio"], 4) == truth["cover_ratio"]
    [japan] = [s for s in gop["slips"] if s["country"] == "JP"]
    assert japan["origin_trust"] == "sender-written"
    [line] = [
        x
        for x in gop["assessment"]["evidence_lines"]
        if x["kind"] == "country-hit" and "geolocated to JP" in x["summary"]
    ]
    assert "origin sender-written" in line["summary"] and "not attribution to JP" in line["summary"]
    # the reports say why the e-mail is read there
    md = (demo_run[0] / "report.md").read_text(encoding="utf-8")
    assert "claimed client 126.209.87.154 (residential), named only in headers" in md
    html = (demo_run[0] / "report.html").read_text(encoding="utf-8")
    assert 'Claimed client <span class="mono">126.209.87.154</span> (residential)' in html
    for p in _doc(demo_run[0])["personas"]:
        if p["name"] != "Guardians of Peace":
            assert p["assessment"]["verdict"]["actor"] is None


def test_demo_accounts_for_every_record(demo_run: tuple[Path, str]):
    doc = _doc(demo_run[0])
    for f in doc["evidence"]:
        assert f["records"] == f["events"] + f["rejected"] + f["duplicates"]
    assert sum(f["rejected"] for f in doc["evidence"]) == len(doc["rejections"]) == 2
    reasons = sorted(r["reason"] for r in doc["rejections"])
    assert reasons == ["bad-address", "unparsed-line"]


def test_demo_html_escapes_the_hostile_user_agent(demo_run: tuple[Path, str]):
    html = (demo_run[0] / "report.html").read_text(encoding="utf-8")
    events = (demo_run[0] / "events.jsonl").read_text(encoding="utf-8")
    agents = [
        json.loads(line)["attributes"].get("user_agent", "")
        for line in events.splitlines()
        if "<script" in line
    ]
    assert agents, "the demo's hostile line should be kept as data"
    for agent in agents:
        assert agent not in html


def test_readme_shows_the_real_demo_output(demo_run: tuple[Path, str]):
    out, stdout = demo_run
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(
        r"<!-- demo-output:start -->\n```\n(.*?)```\n<!-- demo-output:end -->", readme, re.S
    )
    assert block, "README lost its demo-output block"
    shown = stdout.replace(str(out), "slipcatch-out")
    assert block.group(1) == shown


def test_readme_states_the_demo_verdicts_margin(demo_run: tuple[Path, str]):
    gop = _persona(_doc(demo_run[0]), "Guardians of Peace")
    rows = [
        c
        for c in gop["assessment"]["what_would_change_our_mind"]
        if c["kind"] == "contrary-evidence"
    ]
    by_rival = {
        "unknown party" if "unknown third party" in c["description"] else "false flag": c
        for c in rows
    }
    ratios = {k: c["ratio"] for k, c in by_rival.items()}
    assert ratios == {"unknown party": 21.0, "false flag": 10.8}
    assert all(c["likelihood"] == "very likely" for c in rows)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "an unknown party by 21 : 1, or a false flag by 10.8 : 1" in readme


def test_demo_through_a_case_store_gives_the_same_assessment(
    demo_run: tuple[Path, str], tmp_path: Path
):
    """E-mail hops, attributes and odd bytes survive the case store unchanged."""
    manifest = json.loads((DEMO / "case.json").read_text(encoding="utf-8"))
    args = ["analyze", *(str(DEMO / p) for p in manifest["evidence"])]
    for p in manifest["intel"]:
        args += ["--intel", str(DEMO / p)]
    for relay in manifest["trusted_relays"]:
        args += ["--trusted-relay", relay]
    args += ["--persona-map", str(DEMO / manifest["persona_map"])]
    args += ["--evidence-file", str(DEMO / manifest["evidence_file"])]
    out = tmp_path / "via-case"
    assert main([*args, "--case", str(tmp_path / "demo-case"), "--out", str(out)]) == 0
    direct, via_case = _doc(demo_run[0]), _doc(out)
    direct.pop("generated_at")
    via_case.pop("generated_at")
    assert via_case == direct
    assert (out / "events.jsonl").read_bytes() == (demo_run[0] / "events.jsonl").read_bytes()


def test_readme_names_every_command():
    """The README's command list drifts from the parser only with a failing test."""
    from slipcatch.cli import _build_parser

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    parser = _build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        nested = [
            a for a in p._actions if getattr(a, "choices", None) and a.dest.endswith("_command")
        ]
        if nested:
            for child in nested[0].choices:
                assert f"slipcatch {name} {child}" in readme, f"{name} {child}"
        else:
            assert f"slipcatch {name}" in readme, name
