"""engine.local.run_local: the demo case gives the observations (hence the assessment) of
today's per-event path; a log of more than ASSESS_ALL_PERSONAS personas keeps only the ones
with findings and summarises the rest; a million events go through in bounded memory."""

from __future__ import annotations

import ipaddress
import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slipcatch.analysis import assess
from slipcatch.engine import local
from slipcatch.engine.findings import ASSESS_ALL_PERSONAS
from slipcatch.engine.local import EVENTS_FILE, run_local
from slipcatch.engine.observe import coverage, observe
from slipcatch.eventtable import ENRICHED_SCHEMA, events_to_table, table_to_events
from slipcatch.model import ANONYMOUS, Remainder

from .generate import DEMO, T0, demo_pack, event_table, hunt_batches, hunt_log
from .test_enrich import demo_events


def test_the_demo_case_gives_todays_observations_and_assessment(tmp_path: Path) -> None:
    events = demo_events()  # ingest: de-duplicated, in (time, id) order
    pack = demo_pack()
    table = events_to_table(events)
    result = run_local(reversed(table.to_batches(max_chunksize=50)), pack, spill_dir=tmp_path)
    observed = observe(events, pack)
    assert result.event_count == 452
    assert result.observations == observed
    assert result.remainder is None
    assert result.selected == tuple(sorted({e.persona for e in events}))
    assert result.coverage == coverage(observed, pack)
    manifest = json.loads((DEMO / "case.json").read_text(encoding="utf-8"))
    evidence_file = DEMO / manifest["evidence_file"]
    today = assess(observed, pack.actors, evidence_file=evidence_file)
    assert assess(result.observations, pack.actors, evidence_file=evidence_file) == today
    # the slip table holds the assessment's slips
    slips = {s.id: s for p in today for s in p.slips}
    assert len(slips) == 7
    rows = {r["slip_id"]: r for r in result.slips.to_pylist()}
    assert sorted(rows) == sorted(slips)
    for sid, s in slips.items():
        assert (rows[sid]["first_seen"], rows[sid]["last_seen"], rows[sid]["events"],
                rows[sid]["closed_after_seconds"], rows[sid]["attributed_to"]) == (
            s.first_seen, s.last_seen, s.events, s.closed_after_seconds, s.attributed_to)
    stats = {r["persona"]: r for r in result.persona_stats.to_pylist()}
    for p in today:
        assert stats[p.persona.name]["cover_ratio"] == p.persona.cover_ratio
        assert stats[p.persona.name]["slips"] == len(p.slips)
    # the enriched table: every event, sorted by (time, id), readable as a dataset
    assert result.events_path == tmp_path / EVENTS_FILE
    on_disk = ds.dataset(result.events_path, format="parquet").to_table()
    assert on_disk.schema == ENRICHED_SCHEMA
    assert table_to_events(on_disk) == events
    assert sorted(p.name for p in tmp_path.iterdir()) == [EVENTS_FILE]


def _many_personas() -> tuple[pa.Table, dict[str, int]]:
    """1106 personas: 1100 users with two events each from their own residential address
    (126.209.64.1 ...; ten of them once more from 81.2.3.4), 'coverall' only on a VPN,
    the anonymous persona once from the actor's range, and four with something to weigh."""
    t0 = int(T0.timestamp()) * 10**6
    sec = 10**6
    rows: list[tuple[str, str, int, str]] = []  # persona, address, time, channel
    for k in range(1100):
        home = str(ipaddress.IPv4Address("126.209.64.0") + k + 1)
        rows += [(f"user{k:04d}", home, t0 + k * 60 * sec, "web"),
                 (f"user{k:04d}", home, t0 + (k * 60 + 30) * sec, "web")]
        if k < 10:
            rows.append((f"user{k:04d}", "81.2.3.4", t0 + (k * 60 + 45) * sec, "web"))
    rows += [("coverall", "95.211.118.5", t0 + k * sec, "web") for k in (1, 2, 3)]
    rows += [(ANONYMOUS, "175.45.176.10", t0 + 5 * sec, "web")]
    rows += [("hit", "175.45.176.11", t0 + 7 * sec, "web"),
             ("mailer", "126.209.100.1", t0 + 8 * sec, "email"),
             ("slipper", "95.211.118.6", t0 + 100 * sec, "web"),
             ("slipper", "95.211.118.6", t0 + 200 * sec, "web"),
             ("slipper", "126.209.100.2", t0 + 250 * sec, "web"),
             ("slipper", "95.211.118.6", t0 + 290 * sec, "web"),
             ("asked", "126.209.100.3", t0 + 9 * sec, "web")]
    names = sorted({r[0] for r in rows})
    index = {n: i for i, n in enumerate(names)}
    tables = [
        event_table(np.array([index[r[0]] for r in part]), names,
                    pa.array([r[1] for r in part]), np.array([r[2] for r in part]),
                    channel=channel, first_line=1 + 10_000 * j)
        for j, channel in enumerate(("web", "email"))
        if (part := [r for r in rows if r[3] == channel])
    ]
    return pa.concat_tables(tables), index


def test_beyond_the_threshold_only_personas_with_findings_become_objects(
    tmp_path: Path,
) -> None:
    table, index = _many_personas()
    assert len(index) == 1106 > ASSESS_ALL_PERSONAS
    pack = demo_pack()
    result = run_local(table.to_batches(max_chunksize=500), pack, spill_dir=tmp_path,
                       assess=["asked"])
    assert result.event_count == 2221  # 2200 + 10 + 3 + 1 + 7
    assert result.selected == ("asked", "hit", "mailer", "slipper")
    chosen = table.filter(pa.compute.is_in(table.column("persona"),
                                           pa.array(list(result.selected))))
    chosen = chosen.sort_by([("time", "ascending"), ("id", "ascending")])
    assert result.observations == observe(table_to_events(chosen), pack)
    assert len(result.observations) == 7
    # the remainder, by hand: 1100 x 2 residential events in Japan, 10 from 81.2.3.4
    # (residential, Russia), 3 on the VPN (the Netherlands), 1 in the actor's range (KP)
    residential = [str(ipaddress.IPv4Address("126.209.64.0") + k + 1) for k in range(1100)]
    assert result.remainder == Remainder(
        events=2214,
        personas=1102,
        by_category=(("residential", 2210), ("vpn", 3), ("actor", 1)),
        by_country=(("JP", 2200), ("RU", 10), ("NL", 3), ("KP", 1)),
        top_addresses=(("81.2.3.4", "residential", 10), ("95.211.118.5", "vpn", 3),
                       *((ip, "residential", 2) for ip in sorted(residential)[:18])),
    )
    # the one slip: slipper's residential event at 250 s, closed by the VPN at 290 s
    [slip] = result.slips.to_pylist()
    assert (slip["persona"], slip["ip"], slip["category"], slip["closed_after_seconds"],
            slip["first_seen"]) == ("slipper", "126.209.100.2", "residential", 40.0,
                                    T0 + timedelta(seconds=250))
    stats = {r["persona"]: r for r in result.persona_stats.to_pylist()}
    assert len(stats) == 1106
    assert (stats["coverall"]["works_under_cover"], stats["coverall"]["exposed"]) == (True, 0)
    assert stats[ANONYMOUS]["actor_events"] == 1


@pytest.mark.slow
def test_a_million_events_in_bounded_memory(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    n, rows = 1_000_000, 1 << 16
    buffered: list[int] = []
    to_objects: list[int] = []
    add, to_events = local._Spill.add, local.table_to_events

    def counting_add(self, batch, tag=0):  # type: ignore[no-untyped-def]
        add(self, batch, tag)
        buffered.append(self.rows + (self.carry.num_rows if self.carry is not None else 0))

    def counting_to_events(batch):  # type: ignore[no-untyped-def]
        to_objects.append(batch.num_rows)
        return to_events(batch)

    monkeypatch.setattr(local._Spill, "add", counting_add)
    monkeypatch.setattr(local, "table_to_events", counting_to_events)
    arrow_peak = [0]

    def batches():  # type: ignore[no-untyped-def]
        for batch in hunt_batches(n, 3000, rows, seed=3):
            arrow_peak[0] = max(arrow_peak[0], pa.total_allocated_bytes())
            yield batch

    result = run_local(batches(), demo_pack(), spill_dir=tmp_path, memory_limit="256MB")
    assert result.event_count == n
    # at most one part's worth of enriched rows, and the rows held back for late ones, wait
    # in memory before they go to disk
    assert max(buffered) < local._PART_ROWS + local._CARRY_ROWS + rows
    meta = pq.ParquetFile(result.events_path).metadata
    assert meta.num_rows == n
    on_disk = meta.num_row_groups
    assert on_disk >= n // local._PART_ROWS
    # the enriched table never sat in Arrow memory as a whole: at most a third of it
    first = pq.ParquetFile(result.events_path).read_row_group(0)
    whole = first.nbytes / first.num_rows * n  # the table's size in Arrow memory
    assert arrow_peak[0] < whole / 3
    # only the selected personas' events became Python objects
    stats = {r["persona"]: r["events"] for r in result.persona_stats.to_pylist()}
    assert len(stats) > ASSESS_ALL_PERSONAS
    selected_events = sum(stats[p] for p in result.selected)
    assert len(result.observations) == selected_events == sum(to_objects)
    assert selected_events < n // 5
    assert result.remainder is not None
    assert result.remainder.events == n - selected_events
    # each cover account with an exposed event was kept; every slip belongs to one of them
    kept = set(result.selected)
    assert set(result.slips.column("persona").to_pylist()) <= kept
    assert result.slips.num_rows > 0


def test_no_events_and_a_bad_address(tmp_path: Path) -> None:
    empty = run_local(iter(()), demo_pack(), spill_dir=tmp_path / "empty")
    assert (empty.event_count, empty.observations, empty.selected, empty.remainder) == (
        0, [], (), None)
    assert (empty.slips.num_rows, empty.persona_stats.num_rows) == (0, 0)
    assert pq.read_table(empty.events_path).num_rows == 0
    assert [c.events_outside for c in empty.coverage] == [0, 0, 0]
    # a row that is not an address stops the run and leaves nothing behind but the directory
    bad = event_table(np.zeros(2, np.int64), ["p"], pa.array(["1.2.3.4", "not-an-ip"]),
                      np.zeros(2, np.int64))
    spill = tmp_path / "bad"
    with pytest.raises(ValueError, match=r"generated\.log line 2: row 1: not an IP address"):
        run_local(iter(bad.to_batches()), demo_pack(), spill_dir=spill)
    assert list(spill.iterdir()) == []


LINE = (
    b'203.0.113.7 - alice [10/Oct/2000:13:55:36 -0700] "GET /a?b=1 HTTP/1.1" 200 2326 '
    b'"http://r/" "UA x"'
)


def test_dedupe_in_the_sort_counts_what_the_reader_would(tmp_path: Path) -> None:
    """``tagged()`` + ``run_local(dedupe=True)`` + ``settle()``: the accounts, the table and the
    coverage the de-duplicating reader gives, with nothing kept per event while reading."""
    from slipcatch.evidence import ColumnarIngest, ReadOptions

    logs = tmp_path / "logs"
    logs.mkdir()
    bob = LINE.replace(b"alice", b"bob")
    # a.log: an event and its repeat; b.log: the same event again, then bob's; c.log: bob's
    # twice more, after one line of its own
    (logs / "a.log").write_bytes(LINE + b"\n" + LINE + b"\n")
    (logs / "b.log").write_bytes(LINE + b"\n" + bob + b"\n")
    (logs / "c.log").write_bytes(LINE.replace(b"alice", b"carol") + b"\n" + bob + b"\n" + bob
                                 + b"\n")
    paths = [logs, DEMO / "evidence"]
    pack = demo_pack()
    want = ColumnarIngest(paths, ReadOptions(), batch_lines=2)
    expected = run_local(want.batches(), pack, spill_dir=tmp_path / "want")
    got_reading = ColumnarIngest(paths, ReadOptions(), batch_lines=2)
    got = run_local(got_reading.tagged(), pack, spill_dir=tmp_path / "got", dedupe=True)
    # before settling, every event read counts as an event
    assert [(f.records, f.events, f.duplicates) for f in got_reading.files[:3]] == [
        (2, 2, 0), (2, 2, 0), (3, 3, 0)]
    # a.log's second line and b.log's first repeat alice's first; c.log repeats bob twice
    assert {k: n for k, n in got.duplicates.items() if n} == {0: 1, 1: 1, 2: 2}
    got_reading.settle(got.duplicates)
    assert [(f.records, f.events, f.duplicates) for f in got_reading.files[:3]] == [
        (2, 1, 1), (2, 1, 1), (3, 1, 2)]
    assert got_reading.files == want.files
    for f in got_reading.files:
        assert f.records == f.events + f.rejected + f.duplicates
    table = pq.read_table(got.events_path)
    assert table.equals(pq.read_table(expected.events_path))
    # the first copy in walk and line order is the one kept
    kept = {(r["persona"], r["path"].rsplit("/", 1)[-1], r["locator"])
            for r in table.to_pylist() if r["path"].endswith(".log") and "logs" in r["path"]}
    assert kept == {("alice", "a.log", "line 1"), ("bob", "b.log", "line 2"),
                    ("carol", "c.log", "line 1")}
    assert got.coverage == expected.coverage
    assert got.observations == expected.observations
    assert got.event_count == expected.event_count + 4
    with pytest.raises(ValueError, match="no file account"):
        got_reading.settle({len(got_reading.files): 1})
    with pytest.raises(ValueError, match=r"a\.log: 2 duplicates of 1 events"):
        got_reading.settle({0: 2})


def test_dedupe_worked_by_hand(tmp_path: Path) -> None:
    """Rows with ids given by hand: a repeat of (id, time) is dropped wherever it comes (in the
    same batch, across batches, in a later source), the first in arrival order kept; the same
    id at another time (a collision of 64-bit ids) is kept, and the findings de-duplicate it."""
    us = np.array([10, 10, 20, 10, 30], np.int64) * 1_000_000
    rows = event_table(np.zeros(5, np.int64), ["p"], pa.array(["1.2.3.4"] * 5), us)
    ids = pa.array(["ev--a", "ev--a", "ev--b", "ev--a", "ev--b"])
    rows = rows.set_column(0, "id", ids)
    # source 0: lines 1-2 (a at 10 s twice); source 1: line 3 (b at 20 s); source 2: lines 4-5
    # (a at 10 s again, b at 30 s: another time)
    tagged = [(0, rows.slice(0, 2).to_batches()[0]), (1, rows.slice(2, 1).to_batches()[0]),
              (2, rows.slice(3, 2).to_batches()[0])]
    got = run_local(iter(tagged), demo_pack(), spill_dir=tmp_path, dedupe=True)
    assert got.duplicates == {0: 1, 2: 1}
    table = pq.read_table(got.events_path)
    assert list(zip(table.column("id").to_pylist(), table.column("locator").to_pylist(),
                    strict=True)) == [("ev--a", "line 1"), ("ev--b", "line 3"),
                                      ("ev--b", "line 5")]
    assert got.event_count == 5
    # the findings count ev--b once (as analysis.personas.in_time_order does)
    assert got.persona_stats.column("events").to_pylist() == [2]


def _disordered(seed: int, n: int, late: int, late_minutes: int, repeats: int,
                same_second: bool) -> list[tuple[int, pa.RecordBatch]]:
    """``hunt_log`` rows (29 days) in the order a server logs them: ``late`` of them up to
    ``late_minutes`` after their time, ``repeats`` repeated (same id and time, another source
    tag) up to 30 minutes after it; with ``same_second`` the times are whole seconds (rows
    tie on time and order by id); cut into tagged batches of random sizes."""
    rng = np.random.default_rng(seed)
    table = hunt_log(n, 40, seed=seed)
    us = local.time_micros(table.column("time"))
    if same_second:
        us = us // 1_000_000 * 1_000_000
        us[rng.choice(n, n // 3, replace=False)] = us[n // 2]  # a third in one second
        us = np.sort(us)
    table = table.set_column(1, "time", pa.array(us, pa.timestamp("us", tz="UTC")))
    minute = 60 * 1_000_000
    logged = us.copy()
    moved = rng.choice(n, size=late, replace=False)
    logged[moved] += rng.integers(1, late_minutes * minute + 2, late)
    rows = np.arange(n)
    if repeats:
        again = rng.choice(n, size=repeats)
        rows = np.concatenate([rows, again])
        logged = np.concatenate([logged, us[again] + rng.integers(0, 30 * minute, repeats)])
    shuffled = table.take(pa.array(rows[np.argsort(logged, kind="stable")]))
    cuts = np.sort(rng.choice(np.arange(1, len(rows)), size=12, replace=False))
    return [(k % 3, shuffled.slice(int(a), int(b - a)).combine_chunks().to_batches()[0])
            for k, (a, b) in enumerate(zip([0, *cuts], [*cuts, len(rows)], strict=True))]


@pytest.mark.parametrize(("seed", "late", "late_minutes", "repeats", "same_second"), [
    (1, 0, 0, 0, False),  # in time order: every chunk sorted in memory
    (2, 0, 0, 40, True),  # a third of the rows in one second, repeats: still in memory
    (3, 200, 100, 25, False),  # late, all within the window (3 h): still in memory
    (4, 30, 900, 60, True),  # some beyond it (those not sorted within their own chunk)
    (5, 10, 20_000, 0, False),  # up to two weeks late: DuckDB takes over
])
def test_sorting_in_memory_gives_the_table_duckdb_gives(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, late: int,
        late_minutes: int, repeats: int, same_second: bool) -> None:
    """While rows come nearly in time order the table is sorted chunk by chunk in memory;
    when one comes older than the rows written, DuckDB sorts the rest with the run written:
    either way the table, the repeats dropped (by tag), the coverage, the findings and the
    observations are those of DuckDB's sort of everything (``_merge`` never used)."""
    monkeypatch.setattr(local, "_PART_ROWS", 700)
    monkeypatch.setattr(local, "_CARRY_ROWS", 300)
    monkeypatch.setattr(local, "_LATE_US", 3 * 3600 * 1_000_000)
    monkeypatch.setattr(local, "_RUN_ROWS", 40)  # rows held back pass on as slices
    tagged = _disordered(seed, 6000, late, late_minutes, repeats, same_second)
    pack = demo_pack()
    merges: list[bool] = []
    merge = local._Spill._merge
    sliced: list[int] = []
    gathered = local._gathered

    def counting(table, positions):  # type: ignore[no-untyped-def]
        # runs of consecutive positions long enough to pass on as slices
        edges = np.flatnonzero(np.diff(positions) != 1) + 1
        runs = np.diff(np.concatenate([[0], edges, [len(positions)]]))
        sliced.extend(int(r) for r in runs if r >= local._RUN_ROWS)
        yield from gathered(table, positions)

    monkeypatch.setattr(local, "_gathered", counting)

    def watched(self, chunk):  # type: ignore[no-untyped-def]
        merges.append(merge(self, chunk))
        return merges[-1]

    monkeypatch.setattr(local._Spill, "_merge", watched)
    got = run_local(iter(tagged), pack, spill_dir=tmp_path / "got", dedupe=True, assess_all=5)
    monkeypatch.setattr(local._Spill, "_merge", lambda self, chunk: False)
    want = run_local(iter(tagged), pack, spill_dir=tmp_path / "want", dedupe=True,
                     assess_all=5)
    table = pq.read_table(got.events_path)
    assert table.num_rows == 6000 and table.equals(pq.read_table(want.events_path))
    assert got.duplicates == want.duplicates
    assert sum(got.duplicates.values()) == repeats
    assert got.coverage == want.coverage
    assert got.slips.equals(want.slips) and got.persona_stats.equals(want.persona_stats)
    assert got.selected == want.selected and got.observations == want.observations
    assert got.remainder == want.remainder
    # within the window: every chunk merged in memory; a row older than the rows written
    # (later than the window and in a later chunk): DuckDB took over from there
    assert len(merges) >= (5 if all(merges) else 2) and False not in merges[:-1]
    if late_minutes < 180:
        assert all(merges)
        assert sliced  # rows already in order passed on without a gather
    if late_minutes > 10_000:
        assert merges[-1] is False


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 59), st.integers(1, 30)), max_size=12),
       st.integers(1, 8), st.integers(1, 5))
def test_gathered_pieces_are_the_take(runs: list[tuple[int, int]], run_rows: int,
                                      sort_rows: int) -> None:
    """``_gathered`` gives the rows ``take`` gives, in order, whatever mix of runs of
    consecutive positions and scattered ones (a table of two chunks: the slices may cross)."""
    table = pa.concat_tables([
        pa.table({"x": pa.array(range(a, b)), "s": [str(i) for i in range(a, b)]})
        for a, b in ((0, 40), (40, 90))])
    positions = np.array([p for start, n in runs for p in range(start, min(start + n, 90))],
                         np.int64)
    old = (local._RUN_ROWS, local._SORT_ROWS)
    local._RUN_ROWS, local._SORT_ROWS = run_rows, sort_rows
    try:
        pieces = list(local._gathered(table, positions))
    finally:
        local._RUN_ROWS, local._SORT_ROWS = old
    got = pa.concat_tables(pieces) if pieces else table.slice(0, 0)
    assert got.column("x").to_pylist() == positions.tolist()
    assert got.column("s").to_pylist() == [str(p) for p in positions]


def test_blocks_sorted_by_the_workers_give_the_same_table(tmp_path: Path) -> None:
    """``ColumnarIngest(sorted_blocks=True)`` (what ``analyze`` reads with): worker batches in
    the engine's order, ties (repeated lines) in line order; the engine's table, the repeats
    dropped by file, the findings and the observations are those of the reading in line
    order in one process."""
    from datetime import UTC, datetime

    from slipcatch.evidence import ColumnarIngest, ReadOptions
    from slipcatch.evidence.bulk._columnar import BLOCK_ORDER

    assert [k for k, _ in BLOCK_ORDER] == list(local._ORDER[:3])
    rng = np.random.default_rng(7)
    start = datetime(2014, 11, 24, tzinfo=UTC).timestamp()
    seconds = np.sort(rng.integers(0, 600, 3000))  # about 5 lines a second, many ties
    lines = []
    for k, s in enumerate(seconds):
        stamp = datetime.fromtimestamp(start + int(s), UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
        ip = f"{rng.integers(1, 5)}.{rng.integers(0, 3)}.0.{rng.integers(1, 9)}"
        user = f"u{rng.integers(0, 6)}" if k % 5 else "-"
        lines.append(f'{ip} - {user} [{stamp}] "GET /p{k % 7} HTTP/1.1" 200 {k % 90} "-" "ua"')
        if k % 41 == 0:
            lines.append(lines[-1])  # a repeat: same event
        if k % 97 == 0:
            lines.append(f"{ip} odd line {k}")  # rejected
    (tmp_path / "a.log").write_text("\n".join(lines) + "\n")
    (tmp_path / "b.log").write_text("\n".join(lines[::3]) + "\n")  # repeats across files
    pack = demo_pack()
    runs = {}
    for name, kw in (("alone", {}), ("workers", {"workers": 2, "parallel_bytes": 0,
                                                 "sorted_blocks": True})):
        stream = ColumnarIngest([tmp_path / "a.log", tmp_path / "b.log"], ReadOptions(),
                                batch_lines=97, **kw)
        runs[name] = (run_local(stream.tagged(), pack, spill_dir=tmp_path / name, dedupe=True,
                                assess_all=3), stream)
    (got, got_stream), (want, want_stream) = runs["workers"], runs["alone"]
    assert pq.read_table(got.events_path).equals(pq.read_table(want.events_path))
    assert got.duplicates == want.duplicates and sum(want.duplicates.values()) > 1000
    assert got.slips.equals(want.slips) and got.persona_stats.equals(want.persona_stats)
    assert got.observations == want.observations and got.remainder == want.remainder
    assert got_stream.files == want_stream.files
