"""The Spark engine on ``local[2]``: the demo case gives the local path's observations, slips
and verdicts; accounts reconcile on files with corrupt lines and duplicates. One session for
the module (starting Spark is the slow part); two runs in all.

Select with ``pytest -m spark``.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from slipcatch.analysis import assess
from slipcatch.analysis.personas import build_persona, in_time_order
from slipcatch.analysis.slips import find_slips
from slipcatch.engine.observe import observe
from slipcatch.errors import UsageError
from slipcatch.evidence import PersonaMap, ReadOptions, ingest
from slipcatch.intel import load_pack

pytestmark = pytest.mark.spark

DEMO = Path(__file__).resolve().parents[2] / "src" / "slipcatch" / "data" / "demo"
GOP = "Guardians of Peace"


@pytest.fixture(scope="module")
def demo_pack(intel_cache: None) -> Any:
    case = json.loads((DEMO / "case.json").read_text(encoding="utf-8"))
    return load_pack([DEMO / p for p in case["intel"]])


@pytest.fixture(scope="module")
def demo_paths() -> list[Path]:
    case = json.loads((DEMO / "case.json").read_text(encoding="utf-8"))
    return [DEMO / p for p in case["evidence"]]


@pytest.fixture(scope="module")
def demo_options() -> ReadOptions:
    case = json.loads((DEMO / "case.json").read_text(encoding="utf-8"))
    return ReadOptions(
        trusted_relays=tuple(case["trusted_relays"]),
        persona_map=PersonaMap.load(DEMO / case["persona_map"]),
    )


@pytest.fixture(scope="module")
def spark_demo(
    demo_pack: Any,
    demo_paths: list[Path],
    demo_options: ReadOptions,
    tmp_path_factory: pytest.TempPathFactory,
) -> Any:
    from slipcatch.engine.spark import run_spark

    seen: list[Any] = []
    # 4 KiB ranges: the 70 KB access log and the 6.6 KB postings table are cut in many
    # places, so the run also checks that cutting changes nothing.
    run = run_spark(
        demo_paths,
        demo_options,
        demo_pack,
        spill_dir=tmp_path_factory.mktemp("spill"),
        sink=seen.append,
        range_bytes=4096,
        assess_all=1,  # select by findings, as in a log of many personas
    )
    return run, seen


@pytest.fixture(scope="module")
def local_demo(demo_pack: Any, demo_paths: list[Path], demo_options: ReadOptions) -> Any:
    ingested = ingest(demo_paths, demo_options)
    observations = observe(ingested.events, demo_pack)
    return ingested, observations


def _verdicts(personas: Any) -> dict[str, tuple[Any, ...]]:
    return {
        p.persona.name: (
            p.verdict.actor,
            p.verdict.likelihood,
            p.verdict.confidence,
            round(p.verdict.probability, 9),
        )
        for p in personas
    }


def test_demo_selects_the_persona_with_actor_hits(spark_demo: Any) -> None:
    run, _ = spark_demo
    stats = run.result.persona_stats.to_pylist()
    chosen = [s["persona"] for s in stats if s["selected"]]
    assert chosen == [GOP]
    gop = next(s for s in stats if s["persona"] == GOP)
    # 9 e-mails + postings + web requests of the persona: 103 covered, 10 exposed.
    assert (gop["events"], gop["covered"], gop["exposed"], gop["neutral"]) == (113, 103, 10, 0)
    assert gop["under_cover"] is True
    mirrorbot = next(s for s in stats if s["persona"] == "mirrorbot")
    assert (mirrorbot["events"], mirrorbot["covered"], mirrorbot["slips"]) == (4, 4, 0)
    assert run.result.remainder.events == 452 - 113
    assert run.result.remainder.personas == 9


def test_demo_observations_and_accounts_match_local(spark_demo: Any, local_demo: Any) -> None:
    run, seen = spark_demo
    ingested, observations = local_demo
    assert run.result.event_count == len(ingested.events) == 452
    assert list(run.result.observations) == [o for o in observations if o.event.persona == GOP]
    assert run.files == ingested.files
    assert run.rejections == ingested.rejections
    assert seen == ingested.rejections
    assert run.rejection_counts == ingested.rejection_counts
    for f in run.files:
        assert f.records == f.events + f.rejected + f.duplicates


def test_demo_verdicts_and_slips_match_local(
    spark_demo: Any, local_demo: Any, demo_pack: Any
) -> None:
    run, _ = spark_demo
    _, observations = local_demo
    evidence = DEMO / "analyst-evidence.yaml"
    local = assess(observations, demo_pack.actors, evidence_file=evidence)
    spark = assess(list(run.result.observations), demo_pack.actors, evidence_file=evidence)
    local_verdicts = _verdicts(local)
    assert _verdicts(spark) == {GOP: local_verdicts[GOP]}
    assert local_verdicts[GOP][0] == "dprk-rgb"
    # Nobody left out of the assessment is attributed by the local engine either.
    assert all(v[0] is None for name, v in local_verdicts.items() if name != GOP)
    # The slip table has the semantics of find_slips over the addresses as observed (the
    # assessment may then read a claimed client or an actor's AS on top).
    gop = [o for o in in_time_order(observations) if o.event.persona == GOP]
    local_slips = find_slips(build_persona(GOP, gop), gop)
    assert len(local_slips) == 6
    table = run.result.slips.to_pylist()
    assert [(s["first_event"], s["last_event"], s["closed_after_seconds"]) for s in table] == [
        (s.event_ids[0], s.event_ids[-1], s.closed_after_seconds) for s in local_slips
    ]
    # Worked out from the records: the 2014-11-28 e-mail from 175.45.176.71 at 02:14:13 is
    # followed by the persona's next Tor event 270 s later.
    assert table[0]["ip"] == "175.45.176.71"
    assert float(table[0]["closed_after_seconds"]) == 270.0


def test_demo_coverage_and_events_table(spark_demo: Any, local_demo: Any, demo_pack: Any) -> None:
    import pyarrow.dataset as ds

    from slipcatch.engine.observe import coverage

    run, _ = spark_demo
    ingested, observations = local_demo
    assert run.result.coverage == tuple(coverage(observations, demo_pack))
    table = ds.dataset(str(run.result.events_path), format="parquet").to_table()
    assert table.num_rows == 452
    assert table.column("id").to_pylist() == [e.id for e in ingested.events]


@pytest.fixture(autouse=True, scope="module")
def _one_session() -> Any:
    """The module shares one SparkSession, stopped when it is done."""
    from slipcatch.engine.spark import stop_session

    yield
    stop_session()


WEB = '{ip} - {user} [10/Oct/2014:13:55:{sec:02d} +0000] "GET /f{n} HTTP/1.1" 200 {n} "-" "ua"'


def _corrupt_files(root: Path) -> None:
    lines = [
        WEB.format(
            ip=f"198.51.100.{n % 50 + 1}", user="alice" if n % 3 else "-", sec=n % 60, n=n
        ).encode()
        for n in range(120)
    ]
    body = list(lines)
    body[7] = b"not a log line at all"  # unparsed-line
    body[20] = lines[20].replace(b"198.51.100.21", b"999.1.1.1")  # bad-address
    body[33] = b"\xff\xfe" + lines[33]  # bad-encoding
    body[50] = b"x" * (70 * 1024)  # line-too-long
    body[61] = b"   "  # blank: not a record
    body[70] = lines[70] + b"\r"  # CRLF: same event as LF
    body[90] = lines[10]  # duplicate of line 11
    a = root / "a.log"
    a.write_bytes(b"\n".join(body))  # no final newline
    b = root / "b.log"
    b.write_bytes(b"\n".join([lines[0], lines[1], b"", b"garbage", lines[119]]) + b"\n")


def test_accounts_reconcile_with_corrupt_lines(
    tmp_path: Path, demo_pack: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from slipcatch.engine.spark import run_spark

    _corrupt_files(tmp_path)
    local = ingest([tmp_path], ReadOptions())
    run = run_spark(
        [tmp_path],
        ReadOptions(),
        demo_pack,
        spill_dir=tmp_path_factory.mktemp("spill"),
        range_bytes=1500,
    )
    assert run.files == local.files
    assert run.rejections == local.rejections
    accounts = {Path(f.path).name: f for f in run.files}
    # a.log: 120 lines, one blank (no record); 4 rejected (lines 8, 21, 34, 51); line 91
    # repeats line 11.
    fa = accounts["a.log"]
    assert (fa.records, fa.events, fa.rejected, fa.duplicates) == (119, 114, 4, 1)
    # b.log: lines 1, 2 and 120 of a.log again, one blank line, one garbage line.
    fb = accounts["b.log"]
    assert (fb.records, fb.events, fb.rejected, fb.duplicates) == (4, 0, 1, 3)
    assert Counter(r.reason for r in run.rejections) == Counter(
        {"unparsed-line": 2, "bad-address": 1, "bad-encoding": 1, "line-too-long": 1}
    )
    assert [(Path(r.path).name, r.locator) for r in run.rejections] == [
        ("a.log", "line 8"),
        ("a.log", "line 21"),
        ("a.log", "line 34"),
        ("a.log", "line 51"),
        ("b.log", "line 4"),
    ]
    assert run.result.event_count == 114


def test_missing_java_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from slipcatch.engine import spark

    monkeypatch.setattr(spark.shutil, "which", lambda _name: None)
    monkeypatch.setenv("JAVA_HOME", os.devnull)
    with pytest.raises(UsageError, match="Java runtime"):
        spark.spark_session("local[1]")


def test_missing_pyspark_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from slipcatch.engine import spark

    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(UsageError, match=r"slipcatch\[spark\]"):
        spark.spark_session("local[1]")


def test_no_events_at_all(
    tmp_path: Path, demo_pack: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from slipcatch.engine.spark import run_spark

    (tmp_path / "empty.log").write_bytes(b"")
    (tmp_path / "noise.bin").write_bytes(b"\x00\x01binary\x00" * 10)
    local = ingest([tmp_path], ReadOptions())
    run = run_spark(
        [tmp_path], ReadOptions(), demo_pack, spill_dir=tmp_path_factory.mktemp("spill")
    )
    assert run.files == local.files
    assert [(f.format, f.records, f.rejected) for f in run.files] == [
        ("empty", 0, 0),
        ("unknown", 1, 1),
    ]
    assert [r.reason for r in run.rejections] == ["unrecognised-format"]
    assert run.result.event_count == 0
    assert run.result.observations == []
    assert run.result.slips.num_rows == 0
    assert run.result.remainder is None  # no persona left out: nothing to summarise
    assert [c.events_outside for c in run.result.coverage] == [0, 0, 0]


def test_analyze_with_the_spark_engine_gives_the_local_assessment(
    spark_demo: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the whole run through pipeline.analyze, as `slipcatch analyze --engine spark` does: the
    # demo's ten personas are all assessed (a small case), with the local engine's verdicts,
    # slips and accounts
    from slipcatch.pipeline import analyze
    from slipcatch.report import assessment_document

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    case = json.loads((DEMO / "case.json").read_text(encoding="utf-8"))
    kwargs = {
        "intel": [DEMO / p for p in case["intel"]],
        "persona_map": DEMO / case["persona_map"],
        "trusted_relays": case["trusted_relays"],
        "evidence_file": DEMO / "analyst-evidence.yaml",
    }
    paths = [DEMO / p for p in case["evidence"]]
    local = analyze(paths, **kwargs).assessment
    spark = analyze(paths, engine="spark", **kwargs).assessment
    assert len(spark.personas) == len(local.personas) == 10
    assert spark.remainder is None
    assert assessment_document(spark) == assessment_document(local)
