"""Safe sharing on the demo case: ``--share``, ``--tlp`` and ``--keep-paths`` in STIX, MISP,
Markdown and HTML (docs/sharing.md).

The demo case is copied into a temporary directory first, so that every evidence path (and the
analyst evidence file's path, quoted in its lines' summaries) starts with that directory: the
shared exports must not contain it.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pymisp import MISPEvent
from stix2validator import ValidationOptions, validate_string

from slipcatch import cli
from slipcatch.errors import UsageError
from slipcatch.report import ReportOptions
from slipcatch.report.stix import TLP_EXTENSION, TLP_MARKINGS

GOP = "Guardians of Peace"
#: The demo's exposed addresses in DPRK ranges: what GOP's verdict rests on.
RESTING = {"175.45.176.71", "175.45.177.140", "175.45.179.36", "210.52.109.22"}


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sharing") / "demo-case"
    shutil.copytree(cli.demo_case_dir(), root)
    return root


def _analyze(case: Path, out: Path, *flags: str) -> Path:
    manifest = json.loads((case / "case.json").read_text("utf-8"))
    args = ["analyze", *(str(case / p) for p in manifest["evidence"]), "--out", str(out)]
    for p in manifest["intel"]:
        args += ["--intel", str(case / p)]
    args += ["--persona-map", str(case / manifest["persona_map"])]
    args += ["--evidence-file", str(case / manifest["evidence_file"])]
    for relay in manifest["trusted_relays"]:
        args += ["--trusted-relay", relay]
    assert cli.main([*args, *flags]) == 0
    return out


@pytest.fixture(scope="module")
def shared(case: Path, intel_cache: None) -> Path:
    """Default sharing (attributed), TLP:AMBER, a title."""
    return _analyze(case, case.parent / "out", "--tlp", "amber", "--title", "Case SPE-2014")


@pytest.fixture(scope="module")
def everything(case: Path, intel_cache: None) -> Path:
    return _analyze(case, case.parent / "out-all", "--share", "all", "--keep-paths")


def _stix(out: Path) -> list[dict[str, Any]]:
    return list(json.loads((out / "stix.json").read_text("utf-8"))["objects"])


def _misp(out: Path) -> dict[str, Any]:
    return dict(json.loads((out / "misp-event.json").read_text("utf-8"))["Event"])


def test_stix_holds_only_the_attributed_persona_and_passes_the_validator(shared: Path) -> None:
    text = (shared / "stix.json").read_text("utf-8")
    result = validate_string(text, ValidationOptions())
    assert result.errors == [] and result.is_valid
    assert all("is not a valid UUIDv4 ID" in w for w in result.warnings), result.warnings
    objs = _stix(shared)
    assert [o["name"] for o in objs if o["type"] == "intrusion-set"] == [GOP]
    names = " ".join(json.dumps(o) for o in objs)
    for persona in ("(anonymous)", "Dana Whitfield", "netwatch_de", "mirrorbot"):
        assert persona not in names
    # Observed-data only for GOP's slip addresses and the addresses the verdict rests on.
    addresses = {o["value"] for o in objs if o["type"] in {"ipv4-addr", "ipv6-addr"}}
    assert addresses >= RESTING and len(addresses) <= 7
    indicators = sorted(o["pattern"] for o in objs if o["type"] == "indicator")
    assert indicators == sorted(f"[ipv4-addr:value = '{ip}']" for ip in RESTING)


def test_stix_carries_the_tlp_marking_on_every_object(shared: Path) -> None:
    objs = _stix(shared)
    (marking,) = [o for o in objs if o["type"] == "marking-definition"]
    assert marking["id"] == TLP_MARKINGS["amber"] == (
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
    )
    assert marking["name"] == "TLP:AMBER"
    assert marking["extensions"][TLP_EXTENSION]["tlp_2_0"] == "amber"
    marked = [o for o in objs if o["type"] not in {"marking-definition", "identity"}]
    assert marked and all(o["object_marking_refs"] == [marking["id"]] for o in marked)


def test_misp_has_the_tlp_tag_the_incident_date_and_ids_only_on_resting_addresses(
    shared: Path,
) -> None:
    event = _misp(shared)
    tags = {t["name"] for t in event["Tag"]}
    assert "tlp:amber" in tags
    assert event["distribution"] == "1"  # amber: this community only
    assert event["date"] == "2014-11-21"  # the demo's first event, not the run's date
    assert event["info"].startswith("Case SPE-2014 ")
    ids = {a["value"] for a in event["Attribute"] if a["to_ids"]}
    assert ids == RESTING
    assert GOP in event["info"] and "9 other personas not shared" in event["info"]
    assert MISPEvent().load(json.dumps({"Event": event})) is None  # loads


def test_no_local_path_leaves_in_the_shared_exports(shared: Path, case: Path) -> None:
    for name in ("stix.json", "misp-event.json"):
        text = (shared / name).read_text("utf-8")
        assert str(case) not in text and str(case.parent) not in text, name
        assert str(Path(__file__).resolve().parents[2]) not in text, name
    # File names with their SHA-256 stand in for the paths.
    objs = _stix(shared)
    refs = [r for o in objs for r in o.get("external_references", [])]
    assert refs and all("/" not in r["description"] and r["hashes"]["SHA-256"] for r in refs)
    comments = [o["comment"] for o in _misp(shared)["Object"]]
    assert comments and all("(SHA-256 " in c for c in comments)


def test_keep_paths_and_share_all_keep_everything(everything: Path, case: Path) -> None:
    objs = _stix(everything)
    kinds = Counter(o["type"] for o in objs)
    assert kinds["intrusion-set"] == 10  # every persona of the demo
    assert "marking-definition" not in kinds
    assert str(case) in (everything / "stix.json").read_text("utf-8")
    event = _misp(everything)
    assert not any(t["name"].startswith("tlp:") for t in event.get("Tag", []))
    assert event["distribution"] == "0"
    # Still only the resting addresses are IDS indicators.
    assert {a["value"] for a in event["Attribute"] if a["to_ids"]} == RESTING


def test_markdown_and_html_are_marked_and_titled(shared: Path) -> None:
    md = (shared / "report.md").read_text("utf-8")
    assert md.startswith("# Case SPE-2014\n\n**TLP:AMBER**\n")
    assert md.rstrip().endswith("**TLP:AMBER**")
    page = (shared / "report.html").read_text("utf-8")
    assert "<title>Case SPE-2014</title>" in page
    assert page.count('class="tlp tlp-amber"') == 2


def test_options_refuse_unknown_values() -> None:
    with pytest.raises(UsageError):
        ReportOptions(tlp="white")
    with pytest.raises(UsageError):
        ReportOptions(share="some")
    assert ReportOptions(title="  ").heading == "slipcatch assessment"
    assert ReportOptions(tlp="amber+strict").tlp_label == "TLP:AMBER+STRICT"


def test_cli_refuses_an_unknown_tlp(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "--tlp", "white"]) == 2
    assert "--tlp" in capsys.readouterr().err


def _gop_doc(out: Path) -> dict[str, Any]:
    doc = json.loads((out / "assessment.json").read_text("utf-8"))
    (gop,) = [p for p in doc["personas"] if p["name"] == GOP]
    return dict(gop["assessment"])


def test_html_labels_lines_and_hypotheses_with_ids_in_tooltips_and_anchors(shared: Path) -> None:
    page = (shared / "report.html").read_text("utf-8")
    gop = _gop_doc(shared)
    hyps = {h["kind"]: h["id"] for h in gop["hypotheses"]}
    first = gop["evidence_lines"][0]
    # L1 is the first line: an actor-range episode, LR 1 against the false flag (H3) but 4.8
    # against an unknown party (H2), diagnosticity 4.8.
    assert first["kind"] == "actor-range-episode" and first["diagnosticity"] == 4.8
    lid = first["id"]
    assert (
        f'<tr id="{lid}"><td class="nw"><a href="#{lid}" title="{lid}"><strong>L1</strong></a>'
    ) in page
    row = page.split(f'<tr id="{lid}">', 1)[1].split("</tr>", 1)[0]
    assert (
        f'<td class="num">1</td><td><a href="#{hyps["false_flag"]}" '
        f'title="{hyps["false_flag"]}">H3</a></td>'
    ) in row
    assert f'<td class="num" title="against H2 ({hyps["unknown"]})">4.8</td>' in row
    assert '<td class="num">4.8</td>' in row
    # Hypotheses: H1 is the actor, anchored by its id; the ACH matrix is named by them, with
    # a Diagnosticity column.
    h1 = hyps["actor"]
    assert f'<tr id="{h1}"><td class="nw"><a href="#{h1}" title="{h1}"><strong>H1</strong>' in page
    ach = page.split('<table class="ach">', 1)[1].split("</table>", 1)[0]
    assert f'<a href="#{h1}" title="{h1}: ' in ach and "H1</a> actor dprk-rgb" in ach
    assert 'title="largest ratio between two hypotheses' in ach and ">Diagnosticity</th>" in ach
    assert "line--" not in ach.split("<tbody>")[1].replace('href="#line--', "").replace(
        'title="line--', ""
    )
    # Closed after / exposure are explained; the linchpin is named by its label.
    assert "<dt>Closed after</dt>" in page and "<dt>Exposure</dt>" in page
    (pin,) = gop["verdict"]["linchpins"]
    label = next(
        f"L{n}" for n, x in enumerate(gop["evidence_lines"], 1) if x["id"] == pin
    )
    assert f'<li><a href="#{pin}" title="{pin}">{label}</a>: evidence line' in page


def test_html_minor_personas_share_one_table_and_sources_are_collapsed(shared: Path) -> None:
    page = (shared / "report.html").read_text("utf-8")
    assert page.count('<section class="persona"') == 1  # only GOP has an actor hit or a slip
    minor = page.split('<table class="minor">', 1)[1].split("</table>", 1)[0]
    assert minor.count("<tr id=\"minor-") == 9
    assert "<td title=\"persona--" in minor and ">Dana Whitfield</td>" in minor
    assert '<details>\n<summary>' in page.split("<h3>Intel sources</h3>", 1)[1][:40]
    style = page.split("<style>", 1)[1].split("</style>", 1)[0]
    assert "serif;" not in style.replace("sans-serif;", "") and "monospace" not in style
    assert "@media (prefers-color-scheme: dark)" in style


def test_export_takes_the_same_flags(tmp_path: Path, intel_cache: None) -> None:
    table = tmp_path / "events.csv"
    table.write_text(
        "time,src_ip,persona\n"
        "2014-12-01T10:00:00Z,175.45.176.9,gop\n"
        "2014-12-01T10:03:00Z,185.220.101.7,gop\n",
        encoding="utf-8",
    )
    case = str(tmp_path / "spe-case")
    assert cli.main(["analyze", str(table), "--case", case, "--out", str(tmp_path / "a")]) == 0
    out = tmp_path / "x"
    assert cli.main([
        "export", case, "--format", "stix", "--format", "md", "--format", "misp",
        "--out", str(out), "--tlp", "red", "--share", "all",
    ]) == 0
    objs = _stix(out)
    assert TLP_MARKINGS["red"] in {o["id"] for o in objs}
    assert [o["name"] for o in objs if o["type"] == "intrusion-set"] == ["gop"]
    assert str(tmp_path) not in (out / "stix.json").read_text("utf-8")
    assert (out / "report.md").read_text("utf-8").startswith(
        "# slipcatch assessment: spe-case\n\n**TLP:RED**\n"
    )
    event = _misp(out)
    assert event["distribution"] == "0" and event["date"] == "2014-12-01"
    assert cli.main(["export", case, "--format", "md", "--out", str(out), "--title", "T"]) == 0
    assert (out / "report.md").read_text("utf-8").startswith("# T\n")
