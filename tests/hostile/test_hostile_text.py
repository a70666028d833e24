"""Text safety at the boundary (property tests): arbitrary Unicode, lone surrogates included,
in every text field of the table (CSV and JSON lines), web JSON and Zeek readers leaves them
as valid Unicode with every record accounted; and every writer (JSON, HTML, Markdown, STIX,
MISP, events.jsonl, rejections.jsonl, the DuckDB case store) takes any string the model holds."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from report.fixtures import build_assessment  # tests/report (rootdir on sys.path)
from slipcatch.case import Case
from slipcatch.evidence import ingest
from slipcatch.model import Event, Rejection
from slipcatch.report import assessment_document, write_reports

SURROGATE = st.integers(0xD800, 0xDFFF).map(chr)
TEXT = st.lists(st.one_of(st.characters(), SURROGATE), max_size=12).map("".join)
FIELDS = st.fixed_dictionaries({"user": TEXT, "channel": TEXT, "id": TEXT, "note": TEXT})
SLOW = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _valid(text: str) -> None:
    text.encode("utf-8")  # raises on a lone surrogate


def _check(data: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / name
        p.write_bytes(data)
        result = ingest(p)
    for f in result.files:
        assert f.records == f.events + f.rejected + f.duplicates
        _valid(f.path)
    for e in result.events:
        assert isinstance(e, Event)
        for text in (e.persona, e.channel, e.evidence.path, *e.attributes, *e.attributes.values()):
            _valid(text)
    for r in result.rejections:
        assert isinstance(r, Rejection)
        for text in (r.path, r.locator, r.detail):
            _valid(text)


@SLOW
@given(st.lists(FIELDS, min_size=1, max_size=4))
def test_table_jsonl(rows: list[dict[str, str]]) -> None:
    lines = [json.dumps({"time": "2024-01-01T00:00:00Z", "ip": "8.8.8.8", **r}) for r in rows]
    _check(("\n".join(lines) + "\n").encode(), "t.jsonl")


@SLOW
@given(st.lists(FIELDS, min_size=1, max_size=4))
def test_table_csv(rows: list[dict[str, str]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["time", "ip", "user", "channel", "id", "note"])
    for r in rows:
        w.writerow(["2024-01-01T00:00:00Z", "8.8.8.8", r["user"], r["channel"], r["id"], r["note"]])
    _check(buf.getvalue().encode("utf-8", "surrogatepass"), "t.csv")


@SLOW
@given(st.lists(FIELDS, min_size=1, max_size=4))
def test_weblog_json(rows: list[dict[str, str]]) -> None:
    lines = [
        json.dumps({"remote_addr": "8.8.8.8", "time_iso8601": "2024-01-01T00:00:00Z",
                    "request": r["note"], "status": 200, "remote_user": r["user"],
                    "http_user_agent": r["channel"], r["id"] or "x": r["id"]})
        for r in rows
    ]  # fmt: skip
    _check(("\n".join(lines) + "\n").encode(), "web.json")


@SLOW
@given(st.lists(FIELDS, min_size=1, max_size=4))
def test_zeek(rows: list[dict[str, str]]) -> None:
    tsv = "#separator \\x09\n#path\tssh\n#fields\tts\tid.orig_h\tuser\tnote\n" + "".join(
        f"1700000000.0\t8.8.8.8\t{r['user']}\t{r['note']}\n" for r in rows
    )
    _check(tsv.encode("utf-8", "surrogatepass"), "ssh.log")
    js = "".join(
        json.dumps({"ts": 1700000000.0, "id.orig_h": "8.8.8.8", "user": r["user"],
                    "_path": r["channel"], r["id"] or "x": r["note"]}) + "\n"
        for r in rows
    )  # fmt: skip
    _check(js.encode(), "ssh.json")


@SLOW
@given(TEXT, TEXT, TEXT)
def test_writers_take_any_string(name: str, value: str, detail: str) -> None:
    a = build_assessment()
    obs = []
    for o in a.observations:
        e = dataclasses.replace(o.event, persona=name, attributes={name or "k": value})
        obs.append(dataclasses.replace(o, event=e))
    personas = [
        dataclasses.replace(pa, persona=dataclasses.replace(pa.persona, name=name))
        for pa in a.personas
    ]
    a = dataclasses.replace(
        a,
        observations=tuple(obs),
        personas=tuple(personas),
        rejections=(Rejection(f"{name}.log", "0" * 64, "line 1", "bad-json", detail),),
        warnings=(detail,),
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        written = write_reports(a, out)
        for path in written.values():
            if path.suffix != ".parquet":  # binary; its text columns are checked below
                path.read_bytes().decode("utf-8")
        pq.read_table(written["events_parquet"])  # Arrow validates its UTF-8 strings
        json.loads((out / "assessment.json").read_text(encoding="utf-8"))
        with Case.open(Path(tmp) / "c.duckdb") as store:
            store.record_run(a, assessment_document(a))
            assert store.load_run() is not None
