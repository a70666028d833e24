"""The per-line floor: the work every event needs, against the polars anchor's CPU per line.

    .venv/bin/python benchmarks/hunt/floor.py --log LOG [--lines 1000000] [--repeat 3]

The hunt's speed target compares slipcatch's lines per second with the polars anchor's on the
same two cores; both use the two cores, so the comparison is one of CPU per line. This script
measures, in one process and on the first ``--lines`` lines of a log made by ``generate.py``
(its truth file beside it, as ``run.py`` needs), the CPU time per line (``time.process_time``:
every thread of the process; best of ``--repeat``) of:

* ``anchor``: the polars anchor's work (``anchors.run_polars``: parse, address to integer,
  time with its zone, as-of join on the prefix table, order restored), imports excluded;
* ``event ids, hashlib``: the two SHA-256 of ``model.event_id`` per record, by the bulk
  reader's own ``event_ids`` (the record's digest, then the id over channel, time, address,
  persona and digest), from the parsed events' columns;
* ``event ids, DuckDB``: the same two hashes by DuckDB's vectorised ``sha256()`` in one query;
* ``strict-shape check``: the RE2 match that sends a line down the vectorised path (and every
  other line, escaped quotes included, to the per-line reader, so rejections and odd lines read
  exactly as the per-line reader reads them);
* ``bulk parse``: ``parse_block`` of all the lines in blocks of 32,768 (everything a parsing
  worker does; splitting the lines into blocks is not counted).

Measure a million lines or more: the anchor has fixed costs (reading the prefix table,
planning its query) that weigh on its figure per line for fewer (100,000 lines: about twice
its figure at a million).

Checks: both id computations give exactly the ids of the events ``parse_block`` made, and every
line became an event; the script exits 1 otherwise. No timing is asserted anywhere:
``tests/test_bench_hunt.py`` runs it on a short log for the checks.

The figures and what they mean for the target are in benchmarks/README.md ("Hunt").
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _sibling(name: str) -> ModuleType:
    """A script of this folder (``run``, ``anchors``) as a module."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    return importlib.import_module(name)


def head(log: Path, lines: int) -> bytes:
    """The first ``lines`` lines of ``log``, each with its newline."""
    out = bytearray()
    with log.open("rb") as fh:
        for _, line in zip(range(lines), fh, strict=False):
            out += line
    return bytes(out)


def best_cpu(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The least CPU time (every thread of this process) of ``repeat`` calls, and the result
    of the last."""
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.process_time()
        result = fn()
        best = min(best, time.process_time() - started)
    return best, result


def id_inputs(batch: Any, data: bytes) -> tuple[list[bytes], list[bytes]]:
    """For each event of ``batch`` (from ``parse_block`` of ``data``): the key that precedes
    the record's digest in ``model.event_id`` (the reader's ``id_keys``) and the record's own
    bytes (its line)."""
    import polars as pl

    from slipcatch.evidence.bulk._weblog import id_keys

    lines = data.split(b"\n")
    numbers = [int(loc.split()[1]) for loc in batch.column("locator").to_pylist()]
    raws = [lines[n - 1].rstrip(b"\r") for n in numbers]
    frame = pl.from_arrow(batch.select(["time", "src_ip", "persona"]))
    assert isinstance(frame, pl.DataFrame)
    return id_keys(frame["time"], frame["src_ip"], frame["persona"]), raws


def ids_duckdb(prefixes: list[bytes], raws: list[bytes]) -> list[str]:
    """The same ids by DuckDB's vectorised ``sha256()`` (one query over Arrow columns)."""
    import duckdb
    import pyarrow as pa

    con = duckdb.connect()
    con.register("records", pa.table({"p": pa.array(prefixes, pa.binary()),
                                      "r": pa.array(raws, pa.binary())}))
    rel = con.sql(
        "SELECT 'ev--' || substr(sha256(p || encode(sha256(r)) || '\x1f'::BLOB), 1, 16) AS id "
        "FROM records"
    )
    table = rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()
    con.close()
    return table.column("id").to_pylist()


#: Lines a parsing worker gets at a time (``ColumnarIngest``'s default ``batch_lines``).
BLOCK_LINES = 32_768


def blocks(body: bytes) -> list[tuple[bytes, int]]:
    """``body`` (lines joined by newlines) as the reader hands it to its workers: blocks of
    ``BLOCK_LINES`` lines, each with the number of its first line."""
    lines = body.split(b"\n")
    return [(b"\n".join(lines[i : i + BLOCK_LINES]), i + 1)
            for i in range(0, len(lines), BLOCK_LINES)]


def parse_blocks(ctx: Any, parts: list[tuple[bytes, int]]) -> tuple[Any, list[Any]]:
    """``parse_block`` of every block: the events (one table) and the rejections."""
    import pyarrow as pa

    from slipcatch.evidence.bulk._columnar import parse_block

    batches, rejections = [], []
    for data, first in parts:
        batch, rejected = parse_block(ctx, data, first)
        batches.append(batch)
        rejections += rejected
    return pa.Table.from_batches(batches).combine_chunks(), rejections


def run(log: Path, lines: int, repeat: int, workdir: Path) -> dict[str, Any]:
    """Measure every part on the first ``lines`` lines of ``log``; the figures and checks."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from slipcatch.evidence import ReadOptions
    from slipcatch.evidence.bulk import ChunkContext
    from slipcatch.evidence.bulk._columnar import parse_block
    from slipcatch.evidence.bulk._weblog import _STRICT, event_ids

    hunt_run = _sibling("run")
    anchors = _sibling("anchors")
    truth_file = log.with_name(log.name + ".truth.json")
    if not truth_file.is_file():
        raise SystemExit(f"no truth file beside the log: {truth_file}")
    prefixes_table = hunt_run.prefix_table(workdir, json.loads(truth_file.read_text()),
                                           hunt_run._child_env())
    data = head(log, lines)
    n = data.count(b"\n")
    body = data[:-1] if data.endswith(b"\n") else data
    ctx = ChunkContext(fmt="weblog", path=log.name, sha256="0" * 64, options=ReadOptions())
    parse_block(ctx, body[: 1 << 16].rsplit(b"\n", 1)[0], 1)  # imports and first-call costs
    with tempfile.NamedTemporaryFile(suffix=".log", dir=workdir) as part:
        part.write(data)
        part.flush()
        anchors.run_polars(Path(part.name), prefixes_table)  # warm: polars' first query
        anchor, anchor_out = best_cpu(
            lambda: anchors.run_polars(Path(part.name), prefixes_table), repeat)
    parts = blocks(body)
    parsed, (batch, rejections) = best_cpu(lambda: parse_blocks(ctx, parts), repeat)

    arr = pa.array(body.split(b"\n"), pa.large_binary()).view(pa.large_string())
    strict, matched = best_cpu(lambda: pc.match_substring_regex(arr, _STRICT), repeat)
    keys, raws = id_inputs(batch, body)
    hashed, by_hashlib = best_cpu(lambda: event_ids(keys, raws), repeat)
    vectorised, by_duckdb = best_cpu(lambda: ids_duckdb(keys, raws), repeat)
    expected = batch.column("id").to_pylist()
    problems = []
    if batch.num_rows + len(rejections) != n or anchor_out["rows"] != n:
        problems.append(f"{n} lines: {batch.num_rows} events, {len(rejections)} rejected, "
                        f"anchor {anchor_out['rows']} rows")
    if by_hashlib != expected:
        problems.append("hashlib ids differ from the reader's")
    if by_duckdb != expected:
        problems.append("DuckDB ids differ from the reader's")
    per = 1e6 / n
    return {
        "lines": n,
        "strict_lines": int(pc.sum(matched).as_py() or 0),
        "us_per_line": {
            "anchor": anchor * per,
            "event ids, hashlib": hashed * per,
            "event ids, DuckDB": vectorised * per,
            "strict-shape check": strict * per,
            "bulk parse": parsed * per,
        },
        "correct": not problems,
        "problems": problems,
    }


def report(res: dict[str, Any]) -> str:
    us = res["us_per_line"]
    ids = min(us["event ids, hashlib"], us["event ids, DuckDB"])
    rows = [f"{'part':24s} {'CPU us/line':>12s} {'vs anchor':>10s}"]
    rows += [f"{k:24s} {v:12.3f} {v / us['anchor']:9.2f}x" for k, v in us.items()]
    rows.append(
        f"{'ids + strict check':24s} {ids + us['strict-shape check']:12.3f} "
        f"{(ids + us['strict-shape check']) / us['anchor']:9.2f}x   (the cheaper ids)"
    )
    rows.append(f"{res['lines']:,} lines ({res['strict_lines']:,} of the strict shape); "
                f"checks: {'ok' if res['correct'] else '; '.join(res['problems'])}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--log", type=Path, required=True, help="a log made by generate.py")
    ap.add_argument("--lines", type=int, default=1_000_000, help="lines measured (the first)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each part (best kept)")
    ap.add_argument("--workdir", type=Path, default=None,
                    help="where the prefix table goes (default: the log's folder)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    if args.lines < 1 or args.repeat < 1:
        ap.error("--lines and --repeat must be at least 1")
    res = run(args.log, args.lines, args.repeat, args.workdir or args.log.parent)
    print(json.dumps(res, indent=2) if args.json else report(res))
    return 0 if res["correct"] else 1


if __name__ == "__main__":
    sys.exit(main())
