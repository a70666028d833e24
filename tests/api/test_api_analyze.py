"""slipcatch.analyze on paths and frames, the Result's views, and slipcatch.Case."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import slipcatch
from slipcatch.api import Result, Verdict, demo_case


def test_demo_verdict_and_views(demo_result: Result) -> None:
    a = demo_result
    top = a.verdicts[0]
    assert isinstance(top, Verdict)
    assert (top.persona, top.actor, top.likelihood, top.confidence) == (
        "Guardians of Peace", "dprk-rgb", "almost certain", "moderate")
    assert top.probability == pytest.approx(0.9615, abs=1e-4)
    assert top.statement.startswith("We assess it is almost certain (96%)")
    assert a.assessment.personas  # the model object

    ev = a.events()
    assert len(ev) == 452
    for col in ("id", "time", "src_ip", "persona", "channel", "category", "country", "asn",
                "actor", "slip"):
        assert col in ev.columns
    assert str(ev["time"].dtype) == "datetime64[us, UTC]" or "UTC" in str(ev["time"].dtype)
    assert ev["time"].is_monotonic_increasing
    assert (ev["category"] == "tor").sum() == 70
    assert (ev["category"] == "actor").sum() == 6

    slips = a.slips()
    assert list(slips.columns[:7]) == ["persona", "ip", "first_seen", "last_seen", "events",
                                       "attributed_to", "closed_after_seconds"]
    gop = slips[slips["persona"] == "Guardians of Peace"]
    assert len(gop) == 7
    first = gop.iloc[0]
    assert (first["ip"], first["attributed_to"], first["closed_after_seconds"]) == (
        "175.45.176.71", "dprk-rgb", 270.0)

    personas = a.personas()
    assert list(personas.columns) == ["persona", "events", "cover_ratio", "slips", "actor",
                                      "probability", "likelihood", "confidence"]
    row = personas.iloc[0]
    assert (row["persona"], row["events"], row["actor"]) == ("Guardians of Peace", 113,
                                                             "dprk-rgb")
    assert row["cover_ratio"] == pytest.approx(0.9027, abs=1e-4)

    lines = a.lines()
    assert {"kind", "summary", "reliability", "lr:dprk-rgb", "lr:unknown"} <= set(lines.columns)
    g = lines[lines["persona"] == "Guardians of Peace"]
    assert (g["kind"] == "actor-range-episode").sum() == 4
    assert set(g["reliability"]) >= {"B2", "B3"}


def test_outputs(demo_result: Result, tmp_path: Path) -> None:
    doc = json.loads(demo_result.to_json())
    assert doc["personas"]
    html = demo_result.to_html()
    assert html.lstrip().lower().startswith("<!doctype html")
    card = demo_result._repr_html_()
    assert "Guardians of Peace" in card and "dprk-rgb" in card and "<svg" in card
    assert "http://" not in card.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in card and "<script" not in card
    written = demo_result.write(tmp_path / "out")
    assert sorted(p.name for p in written.values()) == sorted(
        ["assessment.json", "events.jsonl", "events.parquet", "report.md", "report.html",
         "stix.json", "misp-event.json"])
    assert json.loads((tmp_path / "out" / "assessment.json").read_text()) == doc


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "time": ["2014-12-01T10:00:00Z", "2014-12-01T10:03:00Z", None, "2014-12-01T11:00:00Z",
                 "2014-12-01T12:00:00Z"],
        "src_ip": ["175.45.176.9", "185.220.101.7", "175.45.176.9", "not-an-ip",
                   "175.45.176.10"],
        "persona": ["gop", "gop", "gop", "gop", "gop"],
        "channel": ["posting"] * 5,
        "note": ["a", "b", "c", "d", "e"],
    })


def test_analyze_frame_same_as_the_table_reader(tmp_path: Path) -> None:
    df = _frame()
    a = slipcatch.analyze(df)
    (f,) = a.assessment.evidence
    assert (f.path, f.format, f.records, f.events, f.rejected, f.duplicates) == (
        "<dataframe>", "table", 5, 3, 2, 0)
    assert sorted((r.reason, r.locator) for r in a.assessment.rejections) == [
        ("bad-address", "line 4"), ("missing-time", "line 3")]
    ev = a.events()
    assert list(ev["src_ip"]) == ["175.45.176.9", "185.220.101.7", "175.45.176.10"]
    assert set(ev["channel"]) == {"posting"} and set(ev["path"]) == {"<dataframe>"}
    # the same rows as a CSV file give the same events
    csv = tmp_path / "events.csv"
    df.to_csv(csv, index=False)
    b = slipcatch.analyze([csv])
    assert [o.event.src_ip for o in b.assessment.observations] == list(ev["src_ip"])
    cats = [str(o.address.category) for o in b.assessment.observations]
    assert cats == list(ev["category"])
    notes = [o.event.attributes.get("note") for o in b.assessment.observations]
    assert notes == ["a", "b", "e"]
    # polars and Arrow frames, and frames mixed with paths
    assert len(slipcatch.analyze(pl.from_pandas(df)).events()) == 3
    assert len(slipcatch.analyze(pa.Table.from_pandas(df)).events()) == 3
    mixed = slipcatch.analyze([csv, df.iloc[:2]])
    assert {f.path for f in mixed.assessment.evidence} == {str(csv), "<dataframe>"}
    # event ids come from each record's bytes (CSV line vs JSON line): no duplicates here
    assert len(mixed.assessment.observations) == 5
    assert sum(f.records for f in mixed.assessment.evidence) == 7


def test_analyze_errors(tmp_path: Path) -> None:
    with pytest.raises(slipcatch.EvidenceError):
        slipcatch.analyze([tmp_path / "missing"])
    with pytest.raises(slipcatch.UsageError):
        slipcatch.analyze([42])
    bad = tmp_path / "bad.csv"
    bad.write_text("this is not an intel source\n\x00\x01", encoding="utf-8")
    with pytest.raises(slipcatch.IntelError):
        slipcatch.analyze(_frame(), intel=[bad])


def test_what_if_drop_an_evidence_item() -> None:
    inputs = demo_case()
    inputs.pop("title")
    inputs["evidence"] = [p for p in inputs["evidence"] if p.name != "postings.csv"]
    inputs.pop("analyst")
    a = slipcatch.analyze(**inputs)
    top = a.verdicts[0]
    assert top.actor == "dprk-rgb"
    assert top.probability < 0.9615


def test_case_by_name(tmp_path: Path, _cases_dir: Path) -> None:
    case = slipcatch.Case("sony")
    assert case.path == _cases_dir / "sony.duckdb" and case.path.exists()
    csv = tmp_path / "events.csv"
    _frame().to_csv(csv, index=False)
    ingested = case.ingest([csv])
    assert list(ingested[["records", "events", "rejected"]].iloc[0]) == [5, 3, 2]
    assert bool(case.ingest(csv)["already_present"].iloc[0])
    assert case.runs().empty
    assert len(case.events()) == 3 and case.events()["category"].isna().all()
    result = case.analyze()
    assert result.verdicts[0].actor == "dprk-rgb"
    runs = case.runs()
    assert list(runs.columns) == ["run_id", "generated_at", "pack_id", "model_version",
                                  "sources", "verdicts"]
    assert len(runs) == 1 and runs.loc[0, "run_id"].startswith("run--")
    (statement,) = runs.loc[0, "verdicts"]
    assert "persona 'gop' is operated by" in statement and "(dprk-rgb)" in statement
    actor = case.events(where="category = 'actor'")
    assert list(actor["src_ip"]) == ["175.45.176.9", "175.45.176.10"]
    assert set(actor["actor"]) == {"dprk-rgb"}
    with pytest.raises(slipcatch.CaseError):
        case.events(where="no_such_column = 1")
    with pytest.raises(slipcatch.CaseError):
        slipcatch.Case("nope", create=False)
    # a frame analysed into a case is named <dataframe> there too
    slipcatch.analyze(_frame().iloc[:2], case="sony")
    assert "<dataframe>" in set(case.events()["path"])
