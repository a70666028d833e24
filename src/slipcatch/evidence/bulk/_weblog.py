"""Access logs in bulk: a strict vectorised path for lines of the common shape.

A line takes the fast path when it is printable ASCII without backslashes and has exactly the
shape ``[VHOST] ADDRESS IDENT USER [dd/Mon/yyyy:hh:mm:ss +zzzz] "REQUEST" STATUS BYTES``
(optionally followed by ``"REFERER" "AGENT"`` and anything after), single spaces apart, with a
valid stamp (year 1971-2098, so the UTC time is always plausible) and an address that parses;
``VHOST`` (Apache's ``vhost_combined``: ``%v:%p`` first) is a token without a comma or a quote
that is not itself an address; in place of ``ADDRESS`` there may be a list ``A, B, C`` (a
proxy's X-Forwarded-For logged as the client) whose first item is an address. On such a line
the per-line reader's regex and client parser can only split it one way, which is the way the
fast path splits it. Everything else goes through ``weblog.read``: the per-line reader decides
exactly the lines it always did.
"""

from __future__ import annotations

from hashlib import sha256
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from slipcatch.eventtable import EVENT_SCHEMA
from slipcatch.evidence import weblog
from slipcatch.evidence._common import _CANONICAL_V4, parse_address, persona_for
from slipcatch.evidence._source import Line
from slipcatch.evidence.bulk._perline import ChunkSource, read_items
from slipcatch.model import ANONYMOUS, Rejection

if TYPE_CHECKING:
    from slipcatch.evidence.bulk import ChunkContext

# Character classes (ASCII only, so RE2 and Python agree on every one):
_NS = r"[!-\[\]-~]"  # printable, not space, not backslash
_TOK = r"[!-Z\]-~]"  # the same without "["
_QC = r"[ !#-\[\]-~]"  # printable or space, not '"', not backslash
_ANY = r"[ -\[\]-~]"  # printable or space, not backslash
_VH = r"[!#-+\x2D-Z\]-~]"  # printable, not space, '"', ',', '[' or backslash
_STRICT = (
    rf"^(?:{_VH}+ [0-9A-Fa-f:.]+|[0-9A-Fa-f:.]+(?:, [0-9A-Fa-f:.]+)*) {_TOK}+ {_TOK}+ "
    r"\[[0-9]{2}/[A-Za-z]{3}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\] "
    rf'"{_QC}*" {_NS}+ {_NS}+(?: "{_QC}*" "{_QC}*")?{_ANY}*$'
)
_MONTH_NUMBERS = {name: i + 1 for i, name in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
)}  # fmt: skip


def parse_weblog(
    ctx: ChunkContext, data: pa.Array, nums: pa.Array
) -> tuple[pa.RecordBatch, list[Rejection]]:
    """Events and rejections of access-log records ``data`` (large_binary, no blank lines)."""
    pmap = ctx.options.persona_map
    if (pmap is not None and pmap.has_record_rows) or len(data) == 0:
        fast = pa.array(np.zeros(len(data), dtype=bool))
    else:
        fast = pc.match_substring_regex(data.view(pa.large_string()), _STRICT)
    rows = _fast_rows(ctx, data.filter(fast), nums.filter(fast))
    slow = pc.invert(fast)
    if rows is not None:
        more = pc.invert(rows.pop("taken"))
        if pc.any(more).as_py():  # lines of the strict shape whose stamp or address is odd
            back = pc.indices_nonzero(fast).filter(more)
            slow = pc.or_(slow, _mask(len(data), back))
    rest_items = [
        Line(n, d)
        for n, d in zip(nums.filter(slow).to_pylist(), data.filter(slow).to_pylist(), strict=True)
    ]
    batches = []
    rejections: list[Rejection] = []
    order: list[pa.Array] = []
    if rows is not None and rows["id"]:
        batches.append(_batch(ctx, rows))
        order.append(rows["number"])
    if rest_items:
        from slipcatch.evidence.bulk import _events_batch

        events, numbers, rejections = read_items(weblog, ChunkSource(ctx, rest_items, b""))
        if events:
            batches.append(_events_batch(events, numbers))
            order.append(pa.array(numbers, pa.int64()))
    if not batches:
        return pa.RecordBatch.from_pylist([], schema=EVENT_SCHEMA), rejections
    if len(batches) == 1:
        return batches[0], rejections
    joined = pa.Table.from_batches(batches).combine_chunks()
    idx = pc.sort_indices(pa.chunked_array(order).combine_chunks())
    return joined.take(idx).to_batches()[0], rejections


def _mask(n: int, indices: pa.Array) -> pa.Array:
    out = np.zeros(n, dtype=bool)
    out[indices.to_numpy(zero_copy_only=False)] = True
    return pa.array(out)


#: Splits a strict-shape line (already validated by ``_STRICT``): on such a line the fields up to
#: the byte count are delimited by a single space or quote, and the only white space is the
#: space, so this simpler pattern finds the same fields the per-line reader's regex does (both
#: take the leftmost-first match). The optional referer and agent may follow after any run of
#: spaces (the per-line reader's ``\s+``; the strict shape lets its free tail hold them).
_REST = (
    r"(?P<ident>[^ ]+) (?P<user>[^ ]+) \[(?P<stamp>[^\]]{26})\] "
    r'"(?P<request>[^"]*)" (?P<status>[^ ]+) (?P<bytes>[^ ]+)'
    r'(?: +"(?P<referer>[^"]*)" +"(?P<agent>[^"]*)")?'
)
_FIELDS = r"^(?P<client>[^ ]+) " + _REST
#: The same after a virtual host, and with a list of clients (``xff``: "A, B, C") in place of
#: the client. A strict-shape line matches ``_FIELDS`` exactly when it has neither (with one,
#: the fourth field is not the stamp), so these run only on the lines ``_FIELDS`` missed: one
#: pattern with the host optional splits every line three times slower (polars' regex engine,
#: measured: 1.0 -> 3.1 us a line).
_FIELDS_VHOST = r"^(?P<vhost>[^ ]+) (?P<client>[^ ]+) " + _REST
_FIELDS_XFF = r"^(?P<xff>[^ ,]+(?:, [^ ,]+)+) " + _REST
_LIST = r"^[^ ,]+, "


def _split(lines: pl.Series) -> pl.DataFrame:
    """The fields of strict-shape lines, as text columns: ``vhost`` and ``xff`` null without
    one (with a list of clients, ``client`` is its first); referer and agent null when the
    optional pair is absent."""
    df = lines.str.extract_groups(_FIELDS).struct.unnest().with_columns(
        pl.lit(None, pl.String).alias("vhost"), pl.lit(None, pl.String).alias("xff"))
    missed = df["stamp"].is_null()
    if not missed.any():
        return df
    at = missed.arg_true()
    rest = lines.gather(at)
    listed = rest.str.contains(_LIST)
    for rows, pattern in ((~listed, _FIELDS_VHOST), (listed, _FIELDS_XFF)):
        if not rows.any():
            continue
        got = rest.filter(rows).str.extract_groups(pattern).struct.unnest()
        if pattern is _FIELDS_XFF:
            got = got.with_columns(pl.col("xff").str.split(", ").list.first().alias("client"))
        df = df.with_columns(df[name].scatter(at.filter(rows), got[name]) for name in got.columns)
    return df


def _times(stamp: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """(valid, UTC seconds since the epoch) of stamps ``dd/Mon/yyyy:hh:mm:ss +zzzz``."""
    parts = pl.DataFrame({"s": stamp}).select(
        pl.col("s").str.slice(0, 2).cast(pl.Int64).alias("d"),
        pl.col("s")
        .str.slice(3, 3)
        .str.to_lowercase()
        .replace_strict(_MONTH_NUMBERS, default=0, return_dtype=pl.Int64)
        .alias("m"),
        pl.col("s").str.slice(7, 4).cast(pl.Int64).alias("y"),
        pl.col("s").str.slice(12, 2).cast(pl.Int64).alias("hh"),
        pl.col("s").str.slice(15, 2).cast(pl.Int64).alias("mi"),
        pl.col("s").str.slice(18, 2).cast(pl.Int64).alias("ss"),
        (pl.col("s").str.slice(21, 1) == "-").alias("west"),
        pl.col("s").str.slice(22, 2).cast(pl.Int64).alias("zh"),
        pl.col("s").str.slice(24, 2).cast(pl.Int64).alias("zm"),
    )
    d, m, y = (parts[c].to_numpy() for c in ("d", "m", "y"))
    hh, mi, ss, zh, zm = (parts[c].to_numpy() for c in ("hh", "mi", "ss", "zh", "zm"))
    west = parts["west"].to_numpy()
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    dim = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(m, 0, 12)]
    dim = dim + ((m == 2) & leap)
    offset = zh * 60 + zm
    valid = (
        (m >= 1) & (d >= 1) & (d <= dim) & (hh < 24) & (mi < 60) & (ss < 60)
        & (zm < 60) & (offset <= 14 * 60) & (y >= 1971) & (y <= 2098)
    )  # fmt: skip
    # Days from the civil date (H. Hinnant's algorithm), then seconds; the zone moved to UTC.
    yy = y - (m <= 2)
    era = yy // 400
    yoe = yy - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    local = days * 86400 + hh * 3600 + mi * 60 + ss
    utc = np.where(west, local + offset * 60, local - offset * 60)
    return valid, utc


def _fast_rows(ctx: ChunkContext, data: pa.Array, nums: pa.Array) -> dict | None:
    """The columns of the events of strict-shape lines; ``taken`` marks the lines used (a line
    whose stamp is invalid or whose address does not parse goes back to the per-line path)."""
    if len(data) == 0:
        return None
    df = _split(pl.from_arrow(data.view(pa.large_string())))  # type: ignore[arg-type]
    valid, utc = _times(df["stamp"])
    ip = _canonical(df["client"])
    taken = valid & ip.is_not_null().to_numpy() & _hosts(df["vhost"])
    df = df.with_columns(ip.alias("ip"))
    used_lines = data
    if not taken.all():  # nearly always all are: filtering copies every column
        df = df.filter(pl.Series(taken))
        used_lines = data.filter(pa.array(taken))
    users = df["user"]
    if ctx.options.persona_map is None:  # persona_for without a map: the user, if any
        persona = df.select(
            pl.when((pl.col("user") == "-") | (pl.col("user") == ""))
            .then(pl.lit(ANONYMOUS)).otherwise(pl.col("user")).alias("p"))["p"]
    else:
        personas = {
            u: persona_for(ctx, None if u == "-" else u)  # type: ignore[arg-type]
            for u in users.unique().to_list()
        }
        persona = users.replace_strict(personas, return_dtype=pl.String)
    seconds = utc[taken]
    when = pl.Series("t", seconds * 1_000_000).cast(pl.Datetime("us", "UTC"))
    attrs = _attributes(df)
    ids = event_ids(id_keys(when, df["ip"], persona), used_lines.to_pylist())
    return {
        "taken": pa.array(taken),
        "id": ids,
        "time": when.to_arrow(),
        "src_ip": df["ip"].to_arrow(),
        "persona": persona.to_arrow(),
        "number": nums.filter(pa.array(taken)),
        "attributes": attrs.to_arrow(),
    }


def id_keys(when: pl.Series, ip: pl.Series, persona: pl.Series) -> list[bytes]:
    """What precedes the record's digest in ``model.event_id`` of each access-log event: the
    channel, the ISO time (UTC), the address and the persona, each followed by \\x1f; built
    column-wise."""
    frame = pl.DataFrame({"t": when.dt.strftime("%Y-%m-%dT%H:%M:%S+00:00"), "a": ip,
                          "p": persona})
    return frame.select(
        pl.concat_str(
            [pl.lit(weblog.CHANNEL), pl.col("t"), pl.col("a"), pl.col("p"), pl.lit("")],
            separator="\x1f",
        ).cast(pl.Binary)
    ).to_series().to_list()


def event_ids(keys: list[bytes], records: list[bytes]) -> list[str]:
    """``model.event_id`` of each record (its line) given its ``id_keys``: two SHA-256 a
    record in a tight loop (hashlib beats DuckDB's vectorised ``sha256()`` here, measured:
    benchmarks/hunt/floor.py)."""
    return [
        "ev--" + sha256(key + sha256(raw).hexdigest().encode() + b"\x1f").hexdigest()[:16]
        for key, raw in zip(keys, records, strict=True)
    ]


def _hosts(vhost: pl.Series) -> np.ndarray:
    """Whether each line's first field is what the per-line reader takes for a virtual host:
    absent (three fields before the stamp), or a token that is not an address (one that is
    makes the line a list of clients, ``xff``: such lines go back to the per-line path)."""
    if vhost.null_count() == len(vhost):
        return np.ones(len(vhost), dtype=bool)
    named = {v: parse_address(v)[0] is None for v in vhost.drop_nulls().unique().to_list()}
    host = vhost.replace_strict(named, default=None, return_dtype=pl.Boolean)
    return np.asarray(host.fill_null(True).to_numpy(), dtype=bool)


#: ``_common._CANONICAL_V4`` anchored for polars (RE2-like: the same ASCII classes).
_CANONICAL_V4_FULL = f"^{_CANONICAL_V4.pattern}$"


def _canonical(clients: pl.Series) -> pl.Series:
    """``parse_address(c)[0]`` of every client: a dotted quad already canonical is its own
    answer (checked column-wise); the other distinct texts are parsed one by one."""
    plain = clients.str.contains(_CANONICAL_V4_FULL)
    if plain.all():
        return clients
    odd = clients.filter(~plain).unique()
    canon = {c: parse_address(c)[0] for c in odd.to_list()}
    return pl.DataFrame({"c": clients, "v4": plain}).select(
        pl.when(pl.col("v4")).then(pl.col("c"))
        .otherwise(pl.col("c").replace_strict(canon, default=None, return_dtype=pl.String))
        .alias("ip"))["ip"]


def _jq(expr: pl.Expr, quotes: bool) -> pl.Expr:
    """A JSON string literal of text holding no backslash or control character (``quotes``:
    whether it may hold '"', which JSON escapes)."""
    if quotes:
        expr = expr.str.replace_all('"', '\\"', literal=True)
    return expr


def _attributes(df: pl.DataFrame) -> pl.Series:
    """``json_text`` of the per-line reader's attributes, built column-wise (keys in order).

    Most lines carry a method, path and protocol, a status and a user agent, no ident, and
    quotes only where JSON allows them unescaped; a byte count and a referer may be there or
    be ``-`` (half the lines of a real log have no referer), a virtual host or a list of
    clients there or not. Those are written with one template whose four optional keys are
    the only pieces decided per line, several times cheaper than deciding each key; the rest
    key by key (``_by_key``).
    """
    words = pl.col("request").str.splitn(" ", 4)
    three = words.struct.field("field_2").is_not_null() & words.struct.field("field_3").is_null()
    present = [pl.col(c).is_not_null() & (pl.col(c) != "-") for c in ("status", "agent")]
    plain = ~pl.col("bytes").str.contains('"', literal=True) & ~pl.col("status").str.contains(
        '"', literal=True
    )
    def optional(cond: pl.Expr, *parts: pl.Expr) -> pl.Expr:
        return pl.when(cond).then(pl.concat_str(list(parts))).otherwise(pl.lit(""))

    out = df.select(
        pl.all_horizontal(*present, three, pl.col("ident") == "-", plain).alias("c"),
        pl.concat_str(
            [
                pl.lit("{"),
                optional(pl.col("bytes") != "-",
                         pl.lit('"bytes": "'), pl.col("bytes"), pl.lit('", ')),
                pl.lit('"method": "'),
                words.struct.field("field_0"),
                pl.lit('", "path": "'),
                words.struct.field("field_1"),
                pl.lit('", "protocol": "'),
                words.struct.field("field_2"),
                optional(pl.col("referer").is_not_null() & (pl.col("referer") != "-"),
                         pl.lit('", "referer": "'), pl.col("referer")),
                pl.lit('", "status": "'),
                pl.col("status"),
                pl.lit('", "user_agent": "'),
                pl.col("agent"),
                optional(pl.col("vhost").is_not_null(), pl.lit('", "vhost": "'), pl.col("vhost")),
                optional(pl.col("xff").is_not_null(), pl.lit('", "xff": "'), pl.col("xff")),
                pl.lit('"}'),
            ]
        ).alias("a"),
    )
    common, template = out["c"], out["a"]
    if common.all():
        return template
    others = (~common).arg_true()
    return template.scatter(others, _by_key(df[others]))


def _by_key(df: pl.DataFrame) -> pl.Series:
    """The attributes' JSON decided key by key (the general case of ``_attributes``).

    The request is split on single spaces as ``str.split(" ")`` does: three words are method,
    path and protocol, anything else (but empty or ``-``) is kept whole as ``request``.
    """
    words = pl.col("request").str.splitn(" ", 4)
    three = words.struct.field("field_2").is_not_null() & words.struct.field("field_3").is_null()
    req = pl.col("request")

    def piece(key: str, cond: pl.Expr, value: pl.Expr, quotes: bool = False) -> pl.Expr:
        return pl.when(cond).then(
            pl.concat_str([pl.lit(f'"{key}": "'), _jq(value, quotes), pl.lit('"')])
        )

    pieces = [
        piece("bytes", pl.col("bytes") != "-", pl.col("bytes"), True),
        piece("ident", pl.col("ident") != "-", pl.col("ident"), True),
        piece("method", three, words.struct.field("field_0")),
        piece("path", three, words.struct.field("field_1")),
        piece("protocol", three, words.struct.field("field_2")),
        piece(
            "referer", pl.col("referer").is_not_null() & (pl.col("referer") != "-"),
            pl.col("referer"),
        ),
        piece("request", ~three & (req != "") & (req != "-"), req),
        piece("status", pl.col("status") != "-", pl.col("status"), True),
        piece(
            "user_agent", pl.col("agent").is_not_null() & (pl.col("agent") != "-"),
            pl.col("agent"),
        ),
        piece("vhost", pl.col("vhost").is_not_null(), pl.col("vhost")),
        piece("xff", pl.col("xff").is_not_null(), pl.col("xff")),
    ]  # fmt: skip
    body = pl.concat_str(pieces, separator=", ", ignore_nulls=True)
    return df.select(pl.concat_str([pl.lit("{"), body, pl.lit("}")]).alias("a"))["a"]


def _batch(ctx: ChunkContext, rows: dict) -> pa.RecordBatch:
    n = len(rows["id"])
    return pa.RecordBatch.from_arrays(
        [
            pa.array(rows["id"], pa.string()),
            rows["time"].cast(pa.timestamp("us", tz="UTC")),
            rows["src_ip"].cast(pa.string()),
            rows["persona"].cast(pa.string()),
            pa.repeat(pa.scalar(weblog.CHANNEL, pa.string()), n),
            pa.repeat(pa.scalar(ctx.path, pa.string()), n),
            pa.repeat(pa.scalar(ctx.sha256, pa.string()), n),
            pc.binary_join_element_wise("line ", pc.cast(rows["number"], pa.string()), ""),
            pa.nulls(n, pa.string()),
            pa.nulls(n, pa.string()),
            rows["attributes"].cast(pa.string()),
            pa.repeat(pa.scalar("[]", pa.string()), n),
            pa.nulls(n, pa.string()),
        ],
        schema=EVENT_SCHEMA,
    )
