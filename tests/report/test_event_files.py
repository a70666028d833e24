"""events.jsonl and events.parquet from the event table (report/event_files.py).

The vectorised writer must give, byte for byte, the lines the per-event writer
(``json_doc.event_record``) gives for the same events — on the fixture, on the demo case and on
generated events with hostile text — and events.parquet must hold the same values.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from slipcatch import cli
from slipcatch.errors import UsageError
from slipcatch.eventtable import ENRICHED_SCHEMA
from slipcatch.model import (
    AddressFacts,
    Assessment,
    Category,
    Event,
    EvidenceRef,
    Fact,
    Hop,
    Observation,
    OriginTrust,
    Remainder,
)
from slipcatch.report import ReportOptions, write_reports
from slipcatch.report._view import build_view
from slipcatch.report.event_files import (
    ADDRESS_DETAIL_FIELDS,
    OUTPUT_SCHEMA,
    enriched_table,
    jsonl_bytes,
    output_batches,
)
from slipcatch.report.json_doc import _event_lines

from .fixtures import HOSTILE_NAME, NOISE_NAME, build_assessment

# The table's text columns cannot tell a lone surrogate from the literal text of its escape
# (event_files module docstring): generated text must not hold that literal text.
_ESCAPE_TEXT = re.compile(r"\\ud[89a-f][0-9a-f]{2}")


def _per_event(a: Assessment) -> bytes:
    """What the per-event writer puts in events.jsonl (as write_reports encodes it)."""
    text = "".join(line + "\n" for line in _event_lines(build_view(a)))
    return text.encode("utf-8", "backslashreplace")


def _from_table(a: Assessment, table: pa.Table) -> bytes:
    view = build_view(a)
    return b"".join(jsonl_bytes(b) for b in output_batches(table.to_batches(), view))


def _first_difference(got: bytes, want: bytes) -> str:
    for g, w in zip(got.splitlines(), want.splitlines(), strict=False):
        if g != w:
            return f"\n got: {g!r}\nwant: {w!r}"
    return f"\nlengths {len(got)} != {len(want)}"


@pytest.mark.parametrize("details", [True, False])
def test_fixture_lines_equal_the_per_event_writer(details: bool) -> None:
    a = build_assessment()
    table = enriched_table(build_view(a).observations, details=details)
    want, got = _per_event(a), _from_table(a, table)
    assert got == want, _first_difference(got, want)
    # 9 events; the e-mail one carries its hops, the web one leaves the e-mail keys out.
    lines = got.decode("utf-8").splitlines()
    assert len(lines) == 9
    first = json.loads(lines[0])
    assert first["persona"] == HOSTILE_NAME and first["entry_ip"] == "171.25.193.20"
    assert [h["index"] for h in first["hops"]] == [0, 1, 2]
    assert "hops" not in json.loads(lines[1]) and json.loads(lines[1])["cover"] is True


@pytest.mark.parametrize("threads", [1, 3])
def test_threads_give_the_batches_and_lines_in_order(threads: int,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from slipcatch.report import event_files

    monkeypatch.setattr(event_files, "BATCH_ROWS", 2)  # 9 events: 5 slices over 3 threads
    a = build_assessment()
    table = enriched_table(build_view(a).observations)
    pairs = list(event_files.output_lines(table.to_batches(), build_view(a), threads=threads))
    assert [out.num_rows for out, _ in pairs] == [2, 2, 2, 2, 1]
    assert b"".join(lines for _, lines in pairs) == _per_event(a)
    assert pa.Table.from_batches([out for out, _ in pairs]).equals(
        pa.Table.from_batches(list(output_batches(table.to_batches(), build_view(a)))))
    bare = event_files.output_lines(table.to_batches(), build_view(a), lines=False,
                                    threads=threads)
    assert {lines for _, lines in bare} == {b""}


def test_without_details_or_observations_the_address_details_are_null() -> None:
    a = build_assessment()
    table = enriched_table(build_view(a).observations, details=False)
    bare = dataclasses.replace(a, observations=(), personas=())
    lines = [json.loads(x) for x in _from_table(bare, table).decode().splitlines()]
    assert len(lines) == 9
    assert {x["persona_id"] for x in lines} == {None}
    assert {x["slip"] for x in lines} == {None}
    assert {x["facts"] for x in lines} == {None}
    assert {x["prefix"] for x in lines} == {None} and {x["as_org"] for x in lines} == {None}
    # What the table itself carries is still there.
    assert lines[0]["country"] == "SE" and lines[0]["asn"] == 198093


def test_demo_case_lines_equal_and_parquet_reads_back(intel_cache: None, tmp_path: Path) -> None:
    import slipcatch
    from slipcatch.api import demo_case

    inputs = demo_case()
    inputs.pop("title")
    a = slipcatch.analyze(**inputs).assessment
    view = build_view(a)
    assert len(view.observations) > 100
    table = enriched_table(view.observations)
    want, got = _per_event(a), _from_table(a, table)
    assert got == want, _first_difference(got, want)
    paths = write_reports(a, tmp_path, only=["events", "events_parquet"])
    assert paths["events"].read_bytes() == want
    _assert_parquet_equals_jsonl(paths["events_parquet"], paths["events"])


def _assert_parquet_equals_jsonl(parquet: Path, jsonl: Path) -> None:
    rows = pq.read_table(parquet).to_pylist()
    # Split on newlines only: str.splitlines would also split at U+0085, U+2028, ...
    lines = [json.loads(x) for x in jsonl.read_bytes().split(b"\n")[:-1]]
    assert pq.read_schema(parquet).equals(OUTPUT_SCHEMA, check_metadata=False)
    assert len(rows) == len(lines)
    for row, line in zip(rows, lines, strict=True):
        assert _row_as_line(row) == line


def _row_as_line(row: dict[str, Any]) -> dict[str, Any]:
    """A parquet row in the shape of its events.jsonl line (nested JSON text parsed, e-mail
    keys only where the line has them, surrogate escapes of text columns read back)."""
    out = dict(row)
    t = out["time"].astimezone(UTC)
    spec = "microseconds" if t.microsecond else "seconds"
    out["time"] = t.replace(tzinfo=None).isoformat(timespec=spec) + "Z"
    for key in ("facts", "attributes", "hops"):
        if out[key] is not None:
            out[key] = json.loads(out[key])
    if out["hops"] is None:
        for key in ("hops", "origin_trust", "entry_ip"):
            del out[key]
    for key, value in out.items():
        if isinstance(value, str):
            out[key] = _ESCAPE_TEXT.sub(
                lambda m: chr(int(m.group(0)[2:], 16)), value
            )
    return out


# --- generated events -----------------------------------------------------------------------

_odd = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(['"', "\\", "\n", "\t", "\x00", "\x1f", "\x7f", "\u2028", "é", "𝔘",
                         "\ud800", "\udc80", "\udcff", "\ufeff", "/", "u", "d"]),
    ),
    max_size=12,
)
_category = st.sampled_from(list(Category))


@st.composite
def _observation(draw: st.DrawFn, n: int) -> Observation:
    t = datetime(2014, 11, 1, tzinfo=UTC) + timedelta(
        seconds=draw(st.integers(0, 10**7)), microseconds=draw(st.sampled_from([0, 0, 1, 999999]))
    )
    ip = draw(st.sampled_from(["175.45.176.10", "185.100.87.1", "2a02:8108::1", "10.0.0.1"]))
    email = draw(st.booleans())
    hops: tuple[Hop, ...] = ()
    if email:
        hops = tuple(
            Hop(index=i, from_host=draw(st.none() | _odd), from_ip=draw(st.none() | st.just(ip)),
                by_host=draw(st.none() | _odd), protocol=draw(st.none() | _odd),
                time=draw(st.none() | st.just(t)),
                trust=draw(st.none() | st.sampled_from(list(OriginTrust))),
                flags=tuple(draw(st.lists(_odd, max_size=2))), raw=draw(_odd))
            for i in draw(st.permutations(range(draw(st.integers(0, 3)))))
        )
    event = Event(
        id=f"ev--{n:04d}" + draw(st.sampled_from(["", "é", '"'])),
        time=t,
        src_ip=ip,
        persona=draw(_odd),
        channel="email" if email else draw(_odd),
        evidence=EvidenceRef(path=draw(_odd), sha256=draw(st.sampled_from(["0" * 64, ""])),
                             locator=draw(_odd)),
        attributes=draw(st.dictionaries(_odd, _odd, max_size=3)),
        origin_trust=draw(st.none() | st.sampled_from(list(OriginTrust))) if email else None,
        entry_ip=draw(st.none() | st.just(ip)) if email else None,
        hops=hops,
    )
    facts = tuple(
        Fact(range=draw(_odd), category=draw(st.none() | _category), source=draw(_odd),
             label=draw(st.none() | _odd), actor=draw(st.none() | _odd),
             country=draw(st.none() | _odd), asn=draw(st.none() | st.integers(0, 2**32)),
             projected=draw(st.booleans()))
        for _ in range(draw(st.integers(0, 3)))
    )
    address = AddressFacts(
        ip=ip, time=t, category=draw(_category), country=draw(st.none() | _odd),
        asn=draw(st.none() | st.integers(0, 2**32)), as_org=draw(st.none() | _odd),
        prefix=draw(st.none() | _odd), actor=draw(st.none() | _odd), facts=facts,
        projected=draw(st.booleans()),
        tor=draw(st.none() | st.sampled_from(["listed", "not-listed", "no-data"])),
        tor_nearest_listing_days=draw(st.none() | st.integers(-3000, 3000)),
    )
    return Observation(event, address)


def _no_escape_text(o: Observation) -> bool:
    e, a = o.event, o.address
    texts = [e.persona, e.channel, e.evidence.path, e.evidence.locator, a.country or "",
             a.as_org or "", a.prefix or "", a.actor or ""]
    return not any(_ESCAPE_TEXT.search(x) for x in texts)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_generated_events_equal_the_per_event_writer(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 6))
    observations = [data.draw(_observation(k)) for k in range(n)]
    assume(all(_no_escape_text(o) for o in observations))
    ids = [o.event.id for o in observations]
    assume(len(set(ids)) == len(ids))
    a = dataclasses.replace(build_assessment(), observations=tuple(observations), personas=())
    view = build_view(a)
    want = _per_event(a)
    for details in (True, False):
        got = _from_table(a, enriched_table(view.observations, details=details))
        assert got == want, _first_difference(got, want)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.data())
def test_generated_events_parquet_reads_back_as_the_lines(tmp_path: Path,
                                                          data: st.DataObject) -> None:
    observations = [data.draw(_observation(k)) for k in range(data.draw(st.integers(1, 4)))]
    assume(all(_no_escape_text(o) for o in observations))
    assume(len({o.event.id for o in observations}) == len(observations))
    a = dataclasses.replace(build_assessment(), observations=tuple(observations), personas=())
    paths = write_reports(a, tmp_path / "g", only=["events", "events_parquet"])
    _assert_parquet_equals_jsonl(paths["events_parquet"], paths["events"])


# --- write_reports with a table source --------------------------------------------------------


def _scaled(a: Assessment) -> Assessment:
    """The fixture as the engine hands it over at scale: only the hostile persona assessed
    (its events as observations), the noise persona summarised as the remainder."""
    keep = [p for p in a.personas if p.persona.name == HOSTILE_NAME]
    ids = set(keep[0].persona.event_ids)
    held = tuple(o for o in a.observations if o.event.id in ids)
    rest = [o for o in a.observations if o.event.id not in ids]
    assert rest and all(o.event.persona == NOISE_NAME for o in rest)
    return dataclasses.replace(
        a, observations=held, personas=tuple(keep),
        remainder=Remainder(events=len(rest), personas=1,
                            by_category=(("residential", len(rest)),)),
    )


def test_write_reports_streams_the_full_table(tmp_path: Path) -> None:
    full = build_assessment()
    table = enriched_table(build_view(full).observations)
    scaled = _scaled(full)
    calls = []

    def source() -> pa.RecordBatchReader:
        calls.append(1)
        return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=2))

    paths = write_reports(scaled, tmp_path, events=source)
    assert calls == [1]  # one pass writes both files
    got = [json.loads(x) for x in paths["events"].read_text("utf-8").splitlines()]
    want = [json.loads(x) for x in _per_event(full).decode().splitlines()]
    assert len(got) == 9  # every event, not just the assessed persona's
    hostile = {o.event.id for o in scaled.observations}
    for g, w in zip(got, want, strict=True):
        if g["id"] in hostile:
            assert g == w
        else:  # the remainder: no assessed persona holds it
            assert g["persona_id"] is None and g["persona"] == NOISE_NAME
            assert {**g, "persona_id": w["persona_id"]} == w
    _assert_parquet_equals_jsonl(paths["events_parquet"], paths["events"])
    doc = json.loads(paths["assessment"].read_text("utf-8"))
    assert doc["events"] == 9  # the assessed persona's 6 and the remainder's 3
    assert len(scaled.observations) == 6 and doc["remainder"]["events"] == 3


@pytest.mark.parametrize(
    ("choice", "files"),
    [("jsonl", {"events"}), ("parquet", {"events_parquet"}),
     ("both", {"events", "events_parquet"})],
)
def test_events_option_picks_the_event_files(tmp_path: Path, choice: str,
                                             files: set[str]) -> None:
    paths = write_reports(build_assessment(), tmp_path, options=ReportOptions(events=choice))
    assert {k for k in paths if k.startswith("events")} == files
    names = {p.name for p in tmp_path.iterdir()}
    assert ("events.jsonl" in names) == ("events" in files)
    assert ("events.parquet" in names) == ("events_parquet" in files)


def test_events_option_is_checked() -> None:
    with pytest.raises(UsageError, match="--events must be one of jsonl, parquet, both"):
        ReportOptions(events="csv")


def test_cli_takes_events_flag(tmp_path: Path, intel_cache: None) -> None:
    log = tmp_path / "events.csv"
    log.write_text("time,src_ip,persona\n2014-12-01T10:00:00Z,175.45.176.9,gop\n", "utf-8")
    out = tmp_path / "out"
    assert cli.main(["analyze", str(log), "--out", str(out), "--events", "parquet"]) == 0
    assert (out / "events.parquet").exists() and not (out / "events.jsonl").exists()
    row = pq.read_table(out / "events.parquet").to_pylist()[0]
    assert (row["src_ip"], row["persona"], row["category"]) == ("175.45.176.9", "gop", "actor")
    assert cli.main(["analyze", str(log), "--out", str(out), "--events", "xml"]) == 2


# --- a big table, streamed ---------------------------------------------------------------------

_BIG = 1_000_000
_CHUNK = 50_000


def _big_batch(start: int, n: int) -> pa.RecordBatch:
    k = np.arange(start, start + n)
    text = lambda a: pa.array(a).cast(pa.string())  # noqa: E731 - local shorthand
    ip = pc.binary_join_element_wise(
        "10.", text((k >> 16) & 255), ".", text((k >> 8) & 255), ".", text(k & 255), "")
    cols = {
        "id": pc.binary_join_element_wise("ev--", text(k), ""),
        "time": pa.array(k * 1_000_000 + 1_416_000_000_000_000, pa.int64()).cast(
            pa.timestamp("us", tz="UTC")),
        "src_ip": ip,
        "persona": pa.array(np.where(k % 7 == 0, "alice é", 'bob "q"'), pa.string()),
        "channel": pa.array(["web"] * n, pa.string()),
        "path": pa.array(["evidence/access.log"] * n, pa.string()),
        "sha256": pa.array(["0" * 64] * n, pa.string()),
        "locator": pc.binary_join_element_wise("line ", text(k + 1), ""),
        "origin_trust": pa.nulls(n, pa.string()),
        "entry_ip": pa.nulls(n, pa.string()),
        "attributes": pa.array(np.where(k % 3 == 0, '{"method": "GET"}', '{"ua": "caf\\u00e9"}'),
                               pa.string()),
        "hops": pa.array(["[]"] * n, pa.string()),
        "mail": pa.nulls(n, pa.string()),
        "ip_hi": pa.array(np.zeros(n, np.uint64)),
        "ip_lo": pa.array(k.astype(np.uint64) | np.uint64(0xFFFF0A000000)),
        "category": pa.array(np.where(k % 5 == 0, "tor", "residential"), pa.string()),
        "country": pa.array(np.where(k % 11 == 0, None, "SE"), pa.string()),
        "asn": pa.array(np.where(k % 13 == 0, None, k % 60000), pa.int64()),
        "actor": pa.nulls(n, pa.string()),
        "projected": pa.array(k % 17 == 0),
        "tor": pa.array(np.where(k % 5 == 0, "listed", "not-listed"), pa.string()),
        "tor_nearest_listing_days": pa.array(np.where(k % 5 == 0, None, k % 400 - 200),
                                             pa.int32()),
    }
    return pa.RecordBatch.from_arrays([cols[f.name] for f in ENRICHED_SCHEMA],
                                      schema=ENRICHED_SCHEMA)


def test_a_million_events_stream_with_flat_memory(tmp_path: Path) -> None:
    a = dataclasses.replace(build_assessment(), observations=(), personas=(),
                            remainder=Remainder(events=_BIG, personas=2))
    pool = pa.default_memory_pool()
    seen: list[int] = []

    def batches() -> Iterator[pa.RecordBatch]:
        for start in range(0, _BIG, _CHUNK):
            seen.append(pool.bytes_allocated())
            yield _big_batch(start, min(_CHUNK, _BIG - start))

    def source() -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(ENRICHED_SCHEMA, batches())

    paths = write_reports(a, tmp_path, only=["events", "events_parquet"], events=source)
    # Arrow memory in use when each batch is asked for: what the writer keeps between
    # batches. A writer that gathered the table would hold hundreds of MB by the end.
    assert len(seen) == _BIG // _CHUNK
    # Two threads convert a slice each: 75 MB at most in six runs (one thread: under 64 MB).
    assert max(seen) < 96 * 2**20, [s // 2**20 for s in seen]
    meta = pq.read_metadata(paths["events_parquet"])
    assert meta.num_rows == _BIG
    with paths["events"].open("rb") as fh:
        first = json.loads(fh.readline())
        count = 1 + sum(1 for _ in fh)
    assert count == _BIG
    assert first == {
        "actor": None, "as_org": None, "asn": None, "attributes": {"method": "GET"},
        "category": "tor", "channel": "web", "country": None, "cover": True, "facts": None,
        "id": "ev--0", "locator": "line 1", "path": "evidence/access.log",
        "persona": "alice é", "persona_id": None, "prefix": None, "projected": True,
        "sha256": "0" * 64, "slip": None, "src_ip": "10.0.0.0",
        "time": "2014-11-14T21:20:00Z", "tor": "listed", "tor_nearest_listing_days": None,
    }
    columns = ["id", "src_ip", "tor_nearest_listing_days"]
    last = pq.read_table(paths["events_parquet"], columns=columns).slice(_BIG - 1).to_pylist()[0]
    k = _BIG - 1  # 999999: 10.15.66.63, not a multiple of 5, so a signed day count
    assert last == {"id": f"ev--{k}", "src_ip": "10.15.66.63",
                    "tor_nearest_listing_days": k % 400 - 200}


def test_address_detail_columns_are_optional_strings() -> None:
    assert [f.name for f in ADDRESS_DETAIL_FIELDS] == ["prefix", "as_org", "facts"]
    assert all(f.type == pa.string() for f in ADDRESS_DETAIL_FIELDS)
    assert OUTPUT_SCHEMA.names[:3] == ["id", "time", "src_ip"]


def test_attributes_text_is_made_compact_whatever_its_values() -> None:
    a = build_assessment()
    table = enriched_table(build_view(a).observations)
    texts = ['{"n": 1, "s": "x, y"}', '{"k": "caf\\u00e9", "q": "a\\": \\"b"}', "{}"]
    column = pa.array(texts + table.column("attributes").to_pylist()[3:], pa.string())
    table = table.set_column(table.schema.get_field_index("attributes"), "attributes", column)
    lines = _from_table(a, table).decode("utf-8").split("\n")
    assert '"attributes":{"n":1,"s":"x, y"},' in lines[0]
    assert '"attributes":{"k":"café","q":"a\\": \\"b"},' in lines[1]
    assert '"attributes":{},' in lines[2]


def test_a_parquet_file_of_the_enriched_table_is_a_source(tmp_path: Path) -> None:
    # How the local engine hands its table over: a Parquet file of ENRICHED_SCHEMA, read in
    # batches (here without the address detail columns, which the observations then give).
    a = build_assessment()
    table = enriched_table(build_view(a).observations, details=False)
    pq.write_table(table, tmp_path / "enriched.parquet")
    paths = write_reports(
        a, tmp_path / "out", only=["events"],
        events=lambda: pq.ParquetFile(tmp_path / "enriched.parquet").iter_batches(batch_size=4),
    )
    assert paths["events"].read_bytes() == _per_event(a)
