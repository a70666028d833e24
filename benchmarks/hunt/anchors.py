"""The hunt benchmark's anchors: what a short polars or DuckDB script does with the same log.

    .venv/bin/python benchmarks/hunt/anchors.py polars LOG PREFIXES.parquet
    .venv/bin/python benchmarks/hunt/anchors.py duckdb LOG PREFIXES.parquet

Each reads the combined log, parses the time (with its zone) and the client address (text to a
32-bit integer), finds every address's segment in the prefix table (``prefixes.py``) with an
as-of join, and materialises the enriched table (address, time, authuser, category, country,
AS, AS organisation, actor) in memory. Prints one JSON object: rows, rows whose address is in
actor space, rows whose address or time did not parse, and the seconds the work took inside
the process (imports excluded; ``run.py`` times the whole process from the outside).

* polars: ``scan_csv`` with a space separator and no quote character, reading only the first
  five fields (client, ident, authuser, ``[time``, ``zone]``): they never hold a space or a
  quote in a combined log, so every line parses even when a later quoted field holds a
  backslash-escaped quote (a CSV reader with ``"`` quoting misreads those). Then ``strptime``,
  ``split_exact`` + casts for the address, ``sort`` + ``join_asof`` (backward) on the prefix
  table, and the original line order restored by a row index.
* DuckDB: ``read_csv`` of the same five fields (space delimiter, no quote, extra fields
  ignored), ``strptime``, ``split_part`` + casts, ``ASOF JOIN`` with
  ``SET asof_loop_join_threshold = 0`` (without it DuckDB 2.0 estimates a log file at a few
  dozen rows and plans a nested loop that does not finish: shared/domain/performance-notes.md),
  into a temporary table; row order is not restored (DuckDB's usual unordered output).

Neither is time-aware: the prefix table holds each segment's state at one moment (the log's
middle). They are speed anchors for parsing and lookup, not slip finders.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

FIELDS = ("ip", "ident", "user", "ts", "tz")


def run_polars(log: Path, prefixes: Path) -> dict[str, Any]:
    import polars as pl

    t0 = time.perf_counter()
    pref = pl.scan_parquet(prefixes).with_columns(pl.col("start").cast(pl.Int64))
    lf = pl.scan_csv(
        log,
        separator=" ",
        has_header=False,
        quote_char=None,
        schema=dict.fromkeys(FIELDS, pl.String),
        truncate_ragged_lines=True,
        extra_columns="ignore",
    )
    parts = pl.col("ip").str.split_exact(".", 3)
    octet = [parts.struct.field(f"field_{i}").cast(pl.Int64, strict=False) for i in range(4)]
    ok = pl.all_horizontal([(o >= 0) & (o <= 255) for o in octet])
    ipn = pl.when(ok).then(octet[0] * 16777216 + octet[1] * 65536 + octet[2] * 256 + octet[3])
    when = pl.concat_str(
        [pl.col("ts").str.slice(1), pl.col("tz").str.slice(0, 5)], separator=" "
    ).str.strptime(pl.Datetime("us", "UTC"), "%d/%b/%Y:%H:%M:%S %z", strict=False)
    out = (
        lf.with_row_index("row")
        .select("row", ipn.alias("ipn"), when.alias("time"), "user")
        .sort("ipn")
        .join_asof(pref, left_on="ipn", right_on="start", strategy="backward")
        .sort("row")
        .select("ipn", "time", "user", "category", "country", "asn", "as_org", "actor")
        .collect()
    )
    seconds = time.perf_counter() - t0
    return {
        "rows": out.height,
        "actor_rows": int((out["category"].cast(pl.String) == "actor").sum()),
        "unparsed": int(
            out.select(pl.col("ipn").is_null() | pl.col("time").is_null()).to_series().sum()
        ),
        "seconds": seconds,
    }


def run_duckdb(log: Path, prefixes: Path) -> dict[str, Any]:
    import duckdb

    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET asof_loop_join_threshold = 0")
    con.execute(
        "CREATE TABLE pref AS SELECT start::UBIGINT AS start, category::VARCHAR AS "
        "category, country::VARCHAR AS country, asn, as_org::VARCHAR AS as_org, "
        "actor::VARCHAR AS actor FROM read_parquet(?)",
        [str(prefixes)],
    )
    cols = ", ".join(f"'{f}': 'VARCHAR'" for f in FIELDS)
    ipn = " + ".join(
        f"(TRY_CAST(split_part(ip, '.', {i + 1}) AS UBIGINT) << {24 - 8 * i})" for i in range(4)
    )
    con.execute(
        f"""
        CREATE TEMP TABLE enriched AS
        WITH raw AS (
            SELECT {ipn} AS ipn,
                   try_strptime(substr(ts, 2) || ' ' || substr(tz, 1, 5),
                                '%d/%b/%Y:%H:%M:%S %z') AS time,
                   "user"
            FROM read_csv(?, delim = ' ', quote = '', escape = '', header = false,
                          columns = {{{cols}}}, null_padding = true, strict_mode = false,
                          auto_detect = false)
        )
        SELECT raw.ipn, raw.time, raw."user", p.category, p.country, p.asn, p.as_org, p.actor
        FROM raw ASOF LEFT JOIN pref p ON raw.ipn >= p.start
    """,
        [str(log)],
    )
    rows, actor_rows, unparsed = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE category = 'actor'), "
        "count(*) FILTER (WHERE ipn IS NULL OR ipn > 4294967295 OR time IS NULL) "
        "FROM enriched"
    ).fetchone()  # type: ignore[misc]
    seconds = time.perf_counter() - t0
    return {
        "rows": int(rows),
        "actor_rows": int(actor_rows),
        "unparsed": int(unparsed),
        "seconds": seconds,
    }


RUNS = {"polars": run_polars, "duckdb": run_duckdb}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3 or args[0] not in RUNS:
        print(f"usage: anchors.py {{{','.join(RUNS)}}} LOG PREFIXES.parquet", file=sys.stderr)
        return 2
    result = RUNS[args[0]](Path(args[1]), Path(args[2]))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
