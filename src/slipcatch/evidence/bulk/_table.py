"""CSV tables in bulk: plain rows read column-wise, the rest by the per-line reader.

A row takes the vectorised path when it is printable ASCII without a quote character, has
exactly one value per header column, a time written as epoch seconds or as
``YYYY-MM-DDTHH:MM:SS[Z]`` (1970-2099), an address that parses, no stated origin trust and a
channel other than ``email``. On such a row ``csv.reader`` can only split at the delimiters,
and the per-line reader's decisions reduce to the column-wise ones below. Headers with
repeated attribute names (or one named ``source_id``) and persona maps with ``attr:`` rows send
every row through the per-line reader.
"""

from __future__ import annotations

import json
from hashlib import sha256
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from slipcatch.eventtable import EVENT_SCHEMA
from slipcatch.evidence import table
from slipcatch.evidence._common import parse_address, persona_for

if TYPE_CHECKING:
    from slipcatch.evidence.bulk import ChunkContext

_EPOCH_MAX = 4102444800.0


def layout(ctx: ChunkContext) -> tuple[str, list[str], dict[str, int]] | None:
    """(delimiter, stripped names, roles) of a CSV chunk the fast path can read, else None."""
    from slipcatch.evidence.bulk import _first_line

    _, first = _first_line(ctx.header)
    if first.lstrip().startswith(b"{") or ctx.options.columns:
        return None
    parsed = table._csv_header(first)
    if parsed is None:
        return None
    delim, header = parsed
    names = [h.strip() for h in header]
    roles = table._roles(names)
    used = set(roles.values())
    attrs = [n for i, n in enumerate(names) if i not in used and n]
    pmap = ctx.options.persona_map
    if (
        len(set(attrs)) != len(attrs)
        or ("id" in roles and "source_id" in attrs)
        or not delim.isascii()
        or (pmap is not None and pmap.has_record_rows)
    ):
        return None
    return delim, names, roles


def fast_rows(
    ctx: ChunkContext, shape: tuple[str, list[str], dict[str, int]], data: pa.Array, nums: pa.Array
) -> tuple[pa.RecordBatch, np.ndarray] | None:
    """The events of the rows that take the vectorised path, and which rows they are."""
    delim, names, roles = shape
    n = len(names)
    text = data.view(pa.large_string())
    chars = r"^[\t !#-~]*$" if delim == "\t" else r"^[ !#-~]*$"
    ok = pc.and_(
        pc.match_substring_regex(text, chars),
        pc.equal(pc.count_substring(text, delim), n - 1),
    )
    ok_np = ok.to_numpy(zero_copy_only=False)
    if not ok_np.any():
        return None
    lines = text.filter(ok)
    rows = len(lines)
    flat = pc.split_pattern(lines, delim).flatten()
    cols = [_series(flat.take(pa.array(np.arange(k, rows * n, n)))) for k in range(n)]
    raw_time = cols[roles["time"]]
    epoch = raw_time.str.contains(r"^[0-9]+(\.[0-9]+)?$").to_numpy()
    iso_shape = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z?$"
    iso = raw_time.str.contains(iso_shape).to_numpy()
    texts = raw_time.to_list()
    seconds = np.array([float(t) if e else -1.0 for t, e in zip(texts, epoch, strict=True)])
    good = epoch & (seconds >= 0) & (seconds < _EPOCH_MAX)
    whole = np.floor(np.where(good, seconds, 0.0))
    micros = np.rint((np.where(good, seconds, 0.0) - whole) * 1e6).astype(np.int64)
    whole = whole.astype(np.int64) + (micros >= 1_000_000)
    micros = np.where(micros >= 1_000_000, micros - 1_000_000, micros)
    valid_iso, iso_seconds = _iso_seconds(raw_time, iso)
    good_time = good | valid_iso
    utc = np.where(good, whole, iso_seconds)
    micros = np.where(good, micros, 0)
    raw_ip = cols[roles["ip"]]
    canon = {c: parse_address(c)[0] for c in raw_ip.unique().to_list() if c.strip()}
    ip = raw_ip.replace_strict(canon, default=None, return_dtype=pl.String)
    keep = good_time & ip.is_not_null().to_numpy()
    if "origin_trust" in roles:
        keep &= (cols[roles["origin_trust"]].str.strip_chars() == "").to_numpy()
    channel = (
        cols[roles["channel"]].str.strip_chars()
        if "channel" in roles
        else pl.Series([""] * rows, dtype=pl.String)
    )
    channel = pl.select(pl.when(channel == "").then(pl.lit("table")).otherwise(channel)).to_series()
    keep &= (channel != "email").to_numpy()
    taken = np.zeros(len(data), dtype=bool)
    taken[np.flatnonzero(ok_np)[keep]] = True
    if not keep.any():
        return pa.RecordBatch.from_pylist([], schema=EVENT_SCHEMA), taken
    mask = pl.Series(keep)
    cols = [c.filter(mask) for c in cols]
    ip, channel = ip.filter(mask), channel.filter(mask)
    utc, micros = utc[keep], micros[keep]
    stamp = pl.Series("t", utc * 1_000_000 + micros).cast(pl.Datetime("us", "UTC"))
    iso_text = (
        pl.DataFrame({"t": stamp, "us": pl.Series(micros)})
        .select(
            pl.concat_str(
                [
                    pl.col("t").dt.strftime("%Y-%m-%dT%H:%M:%S"),
                    pl.when(pl.col("us") > 0)
                    .then(pl.concat_str([pl.lit("."), pl.col("us").cast(pl.String).str.zfill(6)]))
                    .otherwise(pl.lit("")),
                    pl.lit("+00:00"),
                ]
            )
        )
        .to_series()
    )
    if "persona" in roles:
        who = cols[roles["persona"]].str.strip_chars()
        who = pl.select(pl.when(who != "").then(who)).to_series()
    else:
        who = pl.Series([None] * len(ip), dtype=pl.String)
    personas = {w: persona_for(ctx, w) for w in who.unique().to_list()}  # type: ignore[arg-type]
    persona = who.replace_strict(personas, return_dtype=pl.String)
    used = set(roles.values())
    keyed = {names[i]: cols[i] for i in range(len(names)) if i not in used and names[i]}
    rid = cols[roles["id"]].str.strip_chars() if "id" in roles else None
    if rid is not None:
        keyed["source_id"] = pl.select(pl.when(rid != "").then(rid)).to_series()
    pieces = [
        pl.concat_str([pl.lit(json.dumps(k) + ': "'), _escape(pl.col(k)), pl.lit('"')])
        for k in sorted(keyed)
    ]
    frame = pl.DataFrame(keyed) if keyed else pl.DataFrame({"_": [0] * len(ip)})
    attrs = json_objects(frame, pieces, len(ip))
    used_lines = data.filter(pa.array(taken)).to_pylist()
    rid_list = rid.to_list() if rid is not None else [None] * len(used_lines)
    digests = [
        sha256(b"id\x1f" + r.encode()).hexdigest() if r else sha256(raw).hexdigest()
        for r, raw in zip(rid_list, used_lines, strict=True)
    ]
    prefix = pl.DataFrame({"c": channel, "t": iso_text, "a": ip, "p": persona}).select(
        pl.concat_str(
            [pl.col("c"), pl.col("t"), pl.col("a"), pl.col("p"), pl.lit("")], separator="\x1f"
        ).cast(pl.Binary)
    )
    ids = [
        "ev--" + sha256(p + d.encode() + b"\x1f").hexdigest()[:16]
        for p, d in zip(prefix.to_series().to_list(), digests, strict=True)
    ]
    count = len(ids)
    numbers = nums.filter(pa.array(taken))
    batch = pa.RecordBatch.from_arrays(
        [
            pa.array(ids, pa.string()),
            stamp.to_arrow().cast(pa.timestamp("us", tz="UTC")),
            ip.to_arrow().cast(pa.string()),
            persona.to_arrow().cast(pa.string()),
            channel.to_arrow().cast(pa.string()),
            pa.array([ctx.path] * count, pa.string()),
            pa.array([ctx.sha256] * count, pa.string()),
            pc.binary_join_element_wise("line ", pc.cast(numbers, pa.string()), ""),
            pa.nulls(count, pa.string()),
            pa.nulls(count, pa.string()),
            attrs.to_arrow().cast(pa.string()),
            pa.array(["[]"] * count, pa.string()),
            pa.nulls(count, pa.string()),
        ],
        schema=EVENT_SCHEMA,
    )
    return batch, taken


def json_objects(frame: pl.DataFrame, pieces: list[pl.Expr], n: int) -> pl.Series:
    """One JSON object text per row of ``frame`` from its ``"key": value`` ``pieces`` (a null
    piece is left out), in key order; ``"{}"`` for each of the ``n`` rows when there are none."""
    if not pieces:  # a literal would select one row: one "{}" per event
        return pl.Series("a", ["{}"] * n, dtype=pl.String)
    joined = pl.concat_str(pieces, separator=", ", ignore_nulls=True).fill_null("")
    return frame.select(pl.concat_str([pl.lit("{"), joined, pl.lit("}")]).alias("a"))["a"]


def _series(values: pa.Array) -> pl.Series:
    out = pl.from_arrow(values)
    assert isinstance(out, pl.Series)
    return out


def _escape(col: pl.Expr) -> pl.Expr:
    return col.str.replace_all("\\", "\\\\", literal=True).str.replace_all('"', '\\"', literal=True)


def _iso_seconds(text: pl.Series, shaped: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(valid, UTC seconds) of ``YYYY-MM-DDTHH:MM:SS[Z]`` times (no zone is UTC), 1970-2099."""
    s = (
        pl.DataFrame({"s": text})
        .select(
            pl.col("s").str.slice(0, 4).cast(pl.Int64, strict=False).alias("y"),
            pl.col("s").str.slice(5, 2).cast(pl.Int64, strict=False).alias("m"),
            pl.col("s").str.slice(8, 2).cast(pl.Int64, strict=False).alias("d"),
            pl.col("s").str.slice(11, 2).cast(pl.Int64, strict=False).alias("hh"),
            pl.col("s").str.slice(14, 2).cast(pl.Int64, strict=False).alias("mi"),
            pl.col("s").str.slice(17, 2).cast(pl.Int64, strict=False).alias("ss"),
        )
        .fill_null(0)
    )
    y, m, d, hh, mi, ss = (s[c].to_numpy() for c in ("y", "m", "d", "hh", "mi", "ss"))
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    dim = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(m, 0, 12)]
    dim = dim + ((m == 2) & leap)
    valid = (
        shaped & (m >= 1) & (m <= 12) & (d >= 1) & (d <= dim) & (hh < 24) & (mi < 60)
        & (ss < 60) & (y >= 1970) & (y <= 2099)
    )  # fmt: skip
    yy = y - (m <= 2)
    era = yy // 400
    yoe = yy - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    return valid, days * 86400 + hh * 3600 + mi * 60 + ss
