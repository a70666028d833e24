"""Zeek TSV logs in bulk: rows of plain text read column-wise, the rest by the per-line reader.

The chunk is cut at its directive lines (``#...``) into segments read under one reader state
(separator, fields, path, unset and empty markers), tracked exactly as ``zeek._read_tsv`` does.
In a segment whose separator is a tab, whose fields are distinct and name ``ts`` and
``id.orig_h``, a row takes the vectorised path when it is printable ASCII (tabs apart), has one
value per field, an epoch ``ts`` (digits, optional fraction, before 2100) and an address that
parses. Every other row (and every row of any other segment, or of a chunk read with a persona
map of ``attr:`` rows) goes through the per-line reader under the same state.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from hashlib import sha256
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from slipcatch.eventtable import EVENT_SCHEMA
from slipcatch.evidence import zeek
from slipcatch.evidence._common import parse_address, persona_for
from slipcatch.evidence._source import Line
from slipcatch.evidence.bulk._perline import ChunkSource, header_lines, read_items
from slipcatch.model import Rejection

if TYPE_CHECKING:
    from slipcatch.evidence.bulk import ChunkContext

_SKIP = frozenset({"ts", "id.orig_h", "_path", "user", "username"})
_EPOCH_MAX = 4102444800.0  # 2100-01-01, as _common.parse_epoch


@dataclass(frozen=True)
class State:
    """The TSV reader's state (``zeek._read_tsv``'s local variables)."""

    sep: str = "\t"
    fields: tuple[str, ...] | None = None
    path: str = "zeek"
    unset: str = "-"
    empty: str = "(empty)"

    def apply(self, data: bytes) -> State:
        """The state after the directive line ``data`` (which starts with ``#``)."""
        m = zeek._SEPARATOR.match(data)
        if m:
            return replace(self, sep=zeek._separator(m.group(1), self.sep))
        key, _, rest = data.decode("utf-8", "replace")[1:].partition(self.sep)
        if key == "fields":
            return replace(self, fields=tuple(rest.split(self.sep)))
        if key == "path" and rest:
            return replace(self, path=f"zeek:{rest}")
        if key == "unset_field":
            return replace(self, unset=rest)
        if key == "empty_field":
            return replace(self, empty=rest)
        return self

    def header(self) -> bytes:
        """Directive lines that give this state when read from the start.

        Each directive is written under a separator of its own that cannot break it (the
        state's separator may be a line break, or occur in the values it set when another
        separator was in force), and the state's separator is set last."""
        out: list[str] = []
        if self.fields is not None:
            sep = _splitting(self.fields)
            out += [_separator_line(sep), f"#fields{sep}{sep.join(self.fields)}"]
        if self.path != "zeek":
            out += [_separator_line("\t"), f"#path\t{self.path.removeprefix('zeek:')}"]
        out += [_separator_line("\t"), f"#unset_field\t{self.unset}"]
        out += [f"#empty_field\t{self.empty}", _separator_line(self.sep)]
        return "\n".join(out).encode("utf-8")


def _separator_line(sep: str) -> str:
    return "#separator " + "".join(f"\\x{b:02x}" for b in sep.encode("latin-1"))


def _splitting(fields: tuple[str, ...]) -> str:
    """A separator that joins ``fields`` into a text that splits back into them: a control
    character none of them holds, else a run of SOH longer than all of them together, fenced
    by STX (no field can hold the run, and the fences pin where it starts)."""
    for code in (9, *range(1, 9), *range(11, 13), *range(14, 32)):
        sep = chr(code)
        if not any(sep in f for f in fields):
            return sep
    return "\x02" + "\x01" * (sum(map(len, fields)) + 1) + "\x02"


def state_of(header: bytes) -> State:
    state = State()
    for line in header_lines(header):
        if line.data.startswith(b"#"):
            state = state.apply(line.data)
    return state


def parse_zeek_tsv(
    ctx: ChunkContext, data: pa.Array, nums: pa.Array
) -> tuple[list[pa.RecordBatch], list[pa.Array], list[Rejection], ChunkContext]:
    """Event batches (with their line numbers), rejections and the next context of a TSV
    chunk (``data``: large_binary records, no blank lines)."""
    state = state_of(ctx.header)
    directive = pc.starts_with(data.view(pa.large_string()), "#").to_numpy(zero_copy_only=False)
    cuts = np.flatnonzero(directive)
    raw = data.to_pylist() if len(cuts) else None
    batches: list[pa.RecordBatch] = []
    order: list[pa.Array] = []
    rejections: list[Rejection] = []
    start = 0
    for cut in [*cuts.tolist(), len(data)]:
        if cut > start:
            seg = _segment(
                ctx, state, data.slice(start, cut - start), nums.slice(start, cut - start)
            )
            batches.extend(seg[0])
            order.extend(seg[1])
            rejections.extend(seg[2])
        if cut < len(data):
            assert raw is not None
            state = state.apply(raw[cut])
        start = cut + 1
    return batches, order, rejections, replace(ctx, header=state.header())


def _fast_segment(state: State, ctx: ChunkContext) -> bool:
    fields = state.fields
    pmap = ctx.options.persona_map
    return (
        state.sep == "\t"
        and fields is not None
        and len(set(fields)) == len(fields)
        and "ts" in fields
        and "id.orig_h" in fields
        and not (pmap is not None and pmap.has_record_rows)
    )


def _segment(
    ctx: ChunkContext, state: State, data: pa.Array, nums: pa.Array
) -> tuple[list[pa.RecordBatch], list[pa.Array], list[Rejection]]:
    from slipcatch.evidence.bulk import _events_batch

    batches: list[pa.RecordBatch] = []
    order: list[pa.Array] = []
    taken = np.zeros(len(data), dtype=bool)
    if _fast_segment(state, ctx):
        rows = _fast_rows(ctx, state, data, nums)
        if rows is not None:
            batch, taken = rows
            if batch.num_rows:
                batches.append(batch)
                order.append(nums.filter(pa.array(taken)))
    rest = pa.array(~taken)
    items = [
        Line(n, d)
        for n, d in zip(nums.filter(rest).to_pylist(), data.filter(rest).to_pylist(), strict=True)
    ]
    rejections: list[Rejection] = []
    if items:
        body = [*header_lines(state.header()), *items]
        events, numbers, rejections = read_items(zeek, ChunkSource(ctx, body, state.header()))
        if events:
            batches.append(_events_batch(events, numbers))
            order.append(pa.array(numbers, pa.int64()))
    return batches, order, rejections


def _json_value(col: pl.Expr) -> pl.Expr:
    """A JSON string literal of printable ASCII text."""
    escaped = col.str.replace_all("\\", "\\\\", literal=True).str.replace_all(
        '"', '\\"', literal=True
    )
    return pl.concat_str([pl.lit('"'), escaped, pl.lit('"')])


@dataclass(frozen=True)
class _Plan:
    """The polars query of one segment state, built once per state: a chunk of a few lines
    would otherwise spend more time building expressions than running them."""

    split: pl.Expr  # the struct of the split fields, named f0, f1, ...
    values: list[pl.Expr]  # each field, the unset marker as null and the empty one as ""
    outputs: list[pl.Expr]  # ts, its shape, the client, the account and the attributes


_TS_SHAPE = r"^[0-9]+(\.[0-9]+)?$"
# The event's ISO time (``datetime.isoformat``: a fraction only when there is one) and id key.
_ISO = pl.concat_str(
    [
        pl.col("t").dt.strftime("%Y-%m-%dT%H:%M:%S"),
        pl.when(pl.col("us") > 0)
        .then(pl.concat_str([pl.lit("."), pl.col("us").cast(pl.String).str.zfill(6)]))
        .otherwise(pl.lit("")),
        pl.lit("+00:00"),
    ]
)
_KEY = pl.concat_str(
    [pl.col("path"), _ISO, pl.col("a"), pl.col("p"), pl.col("h"), pl.lit("")], separator="\x1f"
)


@lru_cache(maxsize=64)
def _plan(fields: tuple[str, ...], unset: str, empty: str) -> _Plan:
    n = len(fields)
    split = (
        pl.col("line")
        .str.split_exact("\t", n - 1)
        .struct.rename_fields([f"f{k}" for k in range(n)])
    )
    values = [
        pl.when(pl.col(f"f{k}") == unset)
        .then(None)
        .when(pl.col(f"f{k}") == empty)
        .then(pl.lit(""))
        .otherwise(pl.col(f"f{k}"))
        .alias(f)
        for k, f in enumerate(fields)
    ]
    outputs = [
        pl.col("ts"),
        pl.col("ts").str.contains(_TS_SHAPE).fill_null(False).alias("ts_shape"),
        pl.col("id.orig_h").alias("client"),
    ]
    who_cols = [
        pl.when(pl.col(f) != "").then(pl.col(f)) for f in ("user", "username") if f in fields
    ]
    if who_cols:
        outputs.append(pl.coalesce(*who_cols, pl.lit(None, pl.String)).alias("who"))
    else:
        outputs.append(pl.lit(None, pl.String).alias("who"))  # beside ts: one per row
    keys = sorted(f for f in fields if f not in _SKIP)
    pieces = [pl.concat_str([pl.lit(json.dumps(k) + ": "), _json_value(pl.col(k))]) for k in keys]
    if pieces:
        joined = pl.concat_str(pieces, separator=", ", ignore_nulls=True).fill_null("")
        outputs.append(pl.concat_str([pl.lit("{"), joined, pl.lit("}")]).alias("attrs"))
    else:
        outputs.append(pl.lit("{}").alias("attrs"))
    return _Plan(split, values, outputs)


def _mapped(values: pa.Array, mapping: Callable[[str], str | None]) -> pa.Array:
    """``mapping`` applied to each distinct text of ``values`` (nulls stay null)."""
    distinct = pc.unique(values)
    images = pa.array([mapping(v) for v in distinct.to_pylist()], pa.string())
    return images.take(pc.index_in(values, distinct))


def _fast_rows(
    ctx: ChunkContext, state: State, data: pa.Array, nums: pa.Array
) -> tuple[pa.RecordBatch, np.ndarray] | None:
    """The events of the rows that take the vectorised path, and which rows they are."""
    fields = state.fields
    assert fields is not None
    n = len(fields)
    text = data.view(pa.large_string())
    ok = pc.and_(
        pc.match_substring_regex(text, r"^[\t -~]*$"),
        pc.equal(pc.count_substring(text, "\t"), n - 1),
    )
    ok_np = ok.to_numpy(zero_copy_only=False)
    if not ok_np.any():
        return None
    plan = _plan(fields, state.unset, state.empty)
    rows = (
        pl.DataFrame({"line": pl.from_arrow(text.filter(ok))})
        .lazy()
        .select(plan.split)
        .unnest("line")
        .select(plan.values)
        .select(plan.outputs)
        .collect()
        .to_arrow()
    )
    good_ts = rows["ts_shape"].to_numpy()
    seconds = np.array(
        [float(t) if g else -1.0 for t, g in zip(rows["ts"].to_pylist(), good_ts, strict=True)]
    )
    good_ts &= (seconds >= 0) & (seconds < _EPOCH_MAX)
    ip = _mapped(
        rows["client"].combine_chunks().cast(pa.string()),
        lambda c: parse_address(c)[0] if c else None,
    )
    keep = good_ts & ip.is_valid().to_numpy(zero_copy_only=False)
    taken = np.zeros(len(data), dtype=bool)
    taken[np.flatnonzero(ok_np)[keep]] = True
    if not keep.any():
        return pa.RecordBatch.from_pylist([], schema=EVENT_SCHEMA), taken
    kept = pa.array(keep)
    ip = ip.filter(kept)
    who = rows["who"].combine_chunks().cast(pa.string()).filter(kept)
    persona = _mapped(who, lambda w: persona_for(ctx, w))  # type: ignore[arg-type]
    attrs = rows["attrs"].combine_chunks().cast(pa.string()).filter(kept)
    raw_lines = data.filter(pa.array(taken))
    # datetime.fromtimestamp: whole seconds, and the fraction rounded half-even to microseconds.
    whole = np.floor(seconds[keep])
    micros = np.rint((seconds[keep] - whole) * 1e6).astype(np.int64)
    whole = whole.astype(np.int64) + (micros >= 1_000_000)
    micros = np.where(micros >= 1_000_000, micros - 1_000_000, micros)
    stamp = pa.array(whole * 1_000_000 + micros, pa.timestamp("us", tz="UTC"))
    digests = [sha256(raw).hexdigest() for raw in raw_lines.to_pylist()]
    count = len(digests)
    key_text = pl.DataFrame(
        {
            "path": [state.path] * count,
            "t": pl.from_arrow(stamp),
            "us": micros,
            "a": pl.from_arrow(ip),
            "p": pl.from_arrow(persona),
            "h": digests,
        }
    ).select(_KEY.cast(pl.Binary))
    ids = ["ev--" + sha256(k).hexdigest()[:16] for k in key_text.to_series().to_list()]
    numbers = nums.filter(pa.array(taken))
    batch = pa.RecordBatch.from_arrays(
        [
            pa.array(ids, pa.string()),
            stamp,
            ip,
            persona,
            pa.array([state.path] * count, pa.string()),
            pa.array([ctx.path] * count, pa.string()),
            pa.array([ctx.sha256] * count, pa.string()),
            pc.binary_join_element_wise("line ", pc.cast(numbers, pa.string()), ""),
            pa.nulls(count, pa.string()),
            pa.nulls(count, pa.string()),
            attrs,
            pa.array(["[]"] * count, pa.string()),
            pa.nulls(count, pa.string()),
        ],
        schema=EVENT_SCHEMA,
    )
    return batch, taken
