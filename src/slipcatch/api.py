"""The notebook surface: DataFrames in, DataFrames out (``../shared/contracts/API.md``).

::

    slipcatch.lookup(ips, at=None, *, pack=None) -> pandas.DataFrame
    slipcatch.enrich(df, ip="src_ip", time="time", *, prefix="") -> same kind of frame
    df.slipcatch.enrich(...)                                      # pandas accessor
    slipcatch.analyze(evidence, *, intel=(), persona_map=None, trusted_relays=(),
                      analyst=None, case=None) -> Result
    slipcatch.Case(name)  .ingest(paths)  .runs()  .events(where=None)

``lookup`` and ``enrich`` are vectorised over ``IntelPack.lookup_arrays``: address texts are
parsed from Arrow buffers, times converted as int64 microseconds, and every output column is
built from the kernel's index arrays (dictionary-encoded: pandas ``category`` columns), with
no Python object per row on the way.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from slipcatch.errors import CaseError, EvidenceError, IntelError, SlipcatchError, UsageError

if TYPE_CHECKING:
    import pandas as pd

    from slipcatch.intel import IntelPack, LookupArrays
    from slipcatch.model import Assessment, Event, EvidenceFile, Rejection

__all__ = [
    "LOOKUP_COLUMNS",
    "Case",
    "CaseError",
    "EvidenceError",
    "IntelError",
    "Result",
    "SlipcatchError",
    "UsageError",
    "Verdict",
    "analyze",
    "demo_case",
    "enrich",
    "lookup",
]

#: The columns ``lookup`` returns and ``enrich`` adds (after ``ip``/``at`` for ``lookup``).
LOOKUP_COLUMNS: tuple[str, ...] = (
    "category", "country", "asn", "as_org", "prefix", "actor", "tor", "projected", "sources",
)

#: Name under which a frame given to ``analyze`` appears as an evidence file.
FRAME_PATH = "<dataframe>"

Frame = TypeVar("Frame")


# -- the intel pack ------------------------------------------------------------------------


@cache
def _default_pack() -> IntelPack:
    from slipcatch.intel import load_pack

    return load_pack()


def _pack(pack: IntelPack | Sequence[str | Path] | str | Path | None) -> IntelPack:
    """``None``: the default pack (loaded once per process); an ``IntelPack`` as is; paths:
    the default pack with those extra sources."""
    from slipcatch.intel import IntelPack, load_pack

    if pack is None:
        return _default_pack()
    if isinstance(pack, IntelPack):
        return pack
    if isinstance(pack, str | Path):
        return load_pack([pack])
    return load_pack(list(pack))


# -- columns of addresses and times -------------------------------------------------------


def _arrow_strings(values: Any) -> pa.Array:
    """Addresses as an Arrow string array, from a list, NumPy array, pandas/polars series or
    Arrow array."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        arr = values
    elif hasattr(values, "to_arrow"):  # polars Series
        arr = values.to_arrow()
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
    else:
        if isinstance(values, str):
            values = [values]
        try:
            arr = pa.array(values, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
            raise UsageError(f"addresses must be texts: {exc}") from exc
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_null(arr.type):
        arr = arr.cast(pa.string())
    if pa.types.is_string_view(arr.type) or pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    if not pa.types.is_string(arr.type):
        raise UsageError(f"addresses must be texts, not {arr.type}")
    return arr


_EPOCH_US = np.datetime64(0, "us")


def _time_micros(value: Any, n: int, what: str = "at") -> tuple[npt.NDArray[np.int64],
                                                                  npt.NDArray[np.bool_]]:
    """Times as int64 microseconds since the epoch (UTC) and a validity mask.

    ``value``: None (now), one time (datetime, ISO 8601 text, Unix epoch seconds) or a
    sequence/column aligned with the rows. Naive times are UTC.
    """
    import pandas as pd

    if value is None:
        now = datetime.now(tz=UTC)
        return (np.full(n, int(now.timestamp() * 1_000_000), np.int64), np.ones(n, np.bool_))
    scalar = isinstance(value, str | datetime | int | float | np.datetime64 | pd.Timestamp)
    if scalar:
        one = _time_micros([value], 1, what)
        if not one[1][0]:
            raise UsageError(f"{what}: not an ISO 8601 time or Unix epoch: {value!r}")
        return np.full(n, one[0][0], np.int64), np.ones(n, np.bool_)
    arrow_like = isinstance(value, pa.ChunkedArray | pa.Array)
    if arrow_like or (hasattr(value, "to_pandas") and not isinstance(value, pd.Series)):
        series = value.to_pandas()
    else:
        series = pd.Series(value) if not isinstance(value, pd.Series) else value
    if len(series) != n:
        raise UsageError(f"{what}: {len(series)} times for {n} addresses")
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
        series.dtype
    ):
        parsed = pd.to_datetime(series, unit="s", utc=True, errors="coerce")
    elif isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(
        series.dtype
    ):
        parsed = pd.to_datetime(series, utc=True)
    elif series.dtype == object:  # mixed kinds (texts, numbers, datetimes): one by one
        parsed = pd.to_datetime(pd.Series([_one_time(v) for v in series], dtype=object),
                                utc=True)
    else:
        parsed = pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601")
        missing = parsed.isna() & series.notna()
        if missing.any():  # epoch seconds as text ("1417140853")
            epochs = pd.to_numeric(series.where(missing), errors="coerce")
            parsed = parsed.where(~missing, pd.to_datetime(epochs, unit="s", utc=True))
    valid = ~np.asarray(parsed.isna(), np.bool_)
    stamps = parsed.dt.tz_convert(None).to_numpy(dtype="datetime64[us]")
    us = np.where(valid, (stamps - _EPOCH_US).astype(np.int64), 0).astype(np.int64)
    return us, valid


def _one_time(v: Any) -> datetime | None:
    """One time of a column of mixed kinds; None when it cannot be read."""
    import pandas as pd

    try:
        if v is None or (isinstance(v, float) and v != v):
            return None
        if isinstance(v, bool):
            return None
        if isinstance(v, int | float | np.integer | np.floating):
            return datetime.fromtimestamp(float(v), tz=UTC)
        if isinstance(v, str):
            text = v.strip()
            if text.isdigit():
                return datetime.fromtimestamp(int(text), tz=UTC)
            stamp = pd.Timestamp(text)
        else:
            stamp = pd.Timestamp(v)
        if pd.isna(stamp):
            return None
        return stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)
    except (ValueError, TypeError, OverflowError, OSError):
        return None


# -- the vectorised lookup ------------------------------------------------------------------


def _dictionary(codes: npt.NDArray[Any], names: Sequence[str]) -> pa.Array:
    """A dictionary-encoded Arrow column: ``names[codes]``, null where ``codes < 0``."""
    idx = np.asarray(codes, np.int32)
    if len(set(names)) != len(names):  # pandas wants distinct categories
        first: dict[str, int] = {}
        remap = np.asarray([first.setdefault(x, len(first)) for x in names], np.int32)
        idx = np.where(idx < 0, -1, remap[np.maximum(idx, 0)]).astype(np.int32)
        names = list(first)
    return pa.DictionaryArray.from_arrays(
        pa.array(idx, pa.int32(), mask=idx < 0), pa.array(list(names), pa.string())
    )


class _Facts:
    """Per-fact fields for arrays of fact ids, as (codes, names): ``names[codes[i]]`` is the
    field of ``fids[i]`` (-1: none). Reads the pack's fact table arrays directly when they are
    there (no Python object per fact), else ``IntelPack.fact`` once per distinct fact."""

    _FIELDS: ClassVar[dict[str, str]] = {"source": "source", "range": "rng", "label": "label"}

    def __init__(self, pack: IntelPack):
        self.pack = pack
        table = getattr(getattr(pack, "_d", None), "table", None)
        needed = ("source", "rng", "label", "cat", "strings")
        self.table = table if table is not None and all(
            hasattr(table, a) for a in needed) else None

    def column(self, fids: npt.NDArray[np.int64], field: str
               ) -> tuple[npt.NDArray[np.int64], list[str]]:
        import pandas as pd

        if self.table is not None:
            idx = np.asarray(getattr(self.table, self._FIELDS[field]))[fids]
            codes, uniq = pd.factorize(idx)
            strings = self.table.strings
            texts: list[str | None] = [strings[int(i)] if i >= 0 else None for i in uniq]
        else:
            codes, uniq = pd.factorize(fids)
            texts = [getattr(self.pack.fact(int(f)), field) for f in uniq]
        codes = np.asarray(codes, np.int64)
        # distinct names; None (no value) becomes code -1
        first: dict[str, int] = {}
        remap = np.asarray([-1 if t is None else first.setdefault(t, len(first))
                            for t in texts] or [-1], np.int64)
        out = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
        return out, list(first)

    def tor(self, fids: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        import pandas as pd

        from slipcatch.intel import CATEGORY_ORDER
        from slipcatch.model import Category

        if self.table is not None:
            code = CATEGORY_ORDER.index(Category.TOR)
            return np.asarray(np.asarray(self.table.cat)[fids] == code, np.bool_)
        codes, uniq = pd.factorize(fids)
        flags = np.asarray([self.pack.fact(int(f)).category == Category.TOR for f in uniq]
                           or [False], np.bool_)
        return np.asarray(flags[np.asarray(codes, np.int64)], np.bool_)


def _per_row(values: npt.NDArray[Any], offsets: npt.NDArray[np.int64], n: int,
             ufunc: Any) -> npt.NDArray[Any]:
    """``ufunc.reduce`` of each row's slice ``values[offsets[i]:offsets[i + 1]]`` (0 when
    empty)."""
    out = np.zeros(n, values.dtype)
    nonempty = np.diff(offsets) > 0
    if len(values) and nonempty.any():
        out[nonempty] = ufunc.reduceat(values, offsets[:-1][nonempty])
    return out


def _fact_bits(pack: IntelPack, facts: _Facts, fids: npt.NDArray[np.int64],
               names: list[str]) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.bool_]]:
    """Per fact in ``fids``: its source as one bit (``names`` order) and whether it is a Tor
    fact. With the pack's fact table, both are read from per-fact arrays (one gather per
    row, no factorize); else once per distinct fact."""
    from slipcatch.intel import CATEGORY_ORDER
    from slipcatch.model import Category

    order = {name: i for i, name in enumerate(names)}
    if facts.table is not None and len(fids):
        src = np.asarray(facts.table.source, np.int64)
        strings = facts.table.strings
        uniq = np.unique(src)
        bit_of = np.zeros(int(uniq.max()) + 2 if len(uniq) else 1, np.uint64)
        for i in uniq:  # a few distinct sources
            name = strings[int(i)] if i >= 0 else None
            if name is not None:
                bit_of[int(i) + 1] = np.uint64(1) << np.uint64(order[name])
        per_fact = bit_of[src + 1]
        tor_code = CATEGORY_ORDER.index(Category.TOR)
        return per_fact[fids], np.asarray(facts.table.cat)[fids] == tor_code
    src_codes, src_names = facts.column(fids, "source")
    remap = np.asarray([order[x] for x in src_names] or [0], np.uint64)
    bits = np.left_shift(np.uint64(1), remap[np.maximum(src_codes, 0)])
    bits[src_codes < 0] = 0
    return bits, facts.tor(fids)


def _source_lists(mask: npt.NDArray[np.uint64], names: list[str]) -> pa.Array:
    """A list<string> column, row ``i`` the names of the bits set in ``mask[i]`` (in
    ``names`` order), built from offsets: one small list per distinct mask, then gathers."""
    import pandas as pd

    codes, uniq = pd.factorize(mask)
    codes = np.asarray(codes, np.int64)
    per = [[b for b in range(len(names)) if (int(m) >> b) & 1] for m in uniq]
    lens = np.asarray([len(x) for x in per] or [0], np.int64)
    flat = np.asarray([b for x in per for b in x], np.int32)
    starts = np.zeros(len(lens), np.int64)
    np.cumsum(lens[:-1], out=starts[1:])
    row_len = lens[codes] if len(codes) else np.zeros(0, np.int64)
    offsets = np.zeros(len(codes) + 1, np.int64)
    np.cumsum(row_len, out=offsets[1:])
    total = int(offsets[-1])
    pos = np.repeat(starts[codes] - offsets[:-1], row_len) + np.arange(total, dtype=np.int64)
    values = pa.array(names, pa.string()).take(pa.array(flat[pos] if total else
                                                         np.zeros(0, np.int32)))
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), values)


def _fact_columns(
    pack: IntelPack, r: LookupArrays, n: int, ok: npt.NDArray[np.bool_]
) -> tuple[pa.Array, npt.NDArray[np.bool_], npt.NDArray[np.int32], pa.Array]:
    """Per row: the sources of its valid facts (a list column), whether a Tor fact lists it,
    the fact behind its AS number, and the range of the fact that decided its category."""
    facts = _Facts(pack)
    offsets = np.asarray(r.fact_offsets, np.int64)
    fids = np.asarray(r.fact_ids, np.int64)
    geo_name = _geo_source(pack)
    if facts.table is not None:
        strings = facts.table.strings
        src_names = [strings[int(i)] for i in np.unique(np.asarray(facts.table.source))
                     if i >= 0]
    else:
        src_names = facts.column(fids, "source")[1]
    names = sorted({*src_names, *([geo_name] if geo_name else [])})
    if len(names) > 63:
        raise UsageError(f"lookup: more than 63 intel sources ({len(names)}) in one pack")
    bits, tor_fact = _fact_bits(pack, facts, fids, names)
    mask = _per_row(bits, offsets, n, np.bitwise_or)
    # the geo layer (country / AS organisation of the whole address space) is a source too
    if geo_name is not None:
        geo = (np.asarray(r.as_org) >= 0) | (
            (np.asarray(r.country) >= 0) & (np.asarray(r.asn_fact) < 0)
        )
        mask[geo] |= np.uint64(1) << np.uint64(names.index(geo_name))
    mask[~ok] = 0  # rows whose address or time could not be read know nothing
    sources = _source_lists(mask, names)
    tor = _per_row(tor_fact.astype(np.uint8), offsets, n, np.maximum).astype(np.bool_)
    dec = np.asarray(r.decisive, np.int64)
    has = (dec >= 0) & ok
    rng_codes = np.full(n, -1, np.int64)
    rng_names: list[str] = []
    if has.any():
        got, rng_names = facts.column(dec[has], "range")
        rng_codes[has] = got
    prefix = _dictionary(rng_codes, rng_names)
    return sources, tor & ok, np.asarray(r.asn_fact, np.int32), prefix


@cache
def _geo_source_name() -> str | None:
    try:
        from slipcatch.intel.sources import geoip2fast_data
    except ImportError:  # pragma: no cover - the layer moved
        return None
    name = getattr(geoip2fast_data, "SOURCE_NAME", None)
    return str(name) if name else None


def _geo_source(pack: IntelPack) -> str | None:
    name = _geo_source_name()
    return name if name and any(s.name == name for s in pack.sources) else None


def _lookup_table(pack: IntelPack, ips: pa.Array, us: npt.NDArray[np.int64],
                  time_ok: npt.NDArray[np.bool_], prefix: str = "") -> pa.Table:
    """The lookup columns for Arrow address texts at int64-microsecond times."""
    from slipcatch.intel import CATEGORY_ORDER, addresses_from_arrow

    hi, lo, valid = addresses_from_arrow(ips)
    ok = valid & time_ok
    n = len(ips)
    r = pack.lookup_arrays(hi, lo, np.where(ok, us, 0).astype(np.int64))
    none = ~ok
    category = np.where(none, -1, r.category)
    country = np.where(none, -1, r.country)
    asn = np.asarray(r.asn, np.int64)
    sources, tor, asn_fact, prefix_col = _fact_columns(pack, r, n, ok)
    # AS organisation: the geo table's name, else the label of the fact that gave the AS
    orgs = list(pack.as_orgs)
    org_codes = np.where(none, -1, np.asarray(r.as_org, np.int64))
    need = (org_codes < 0) & (asn_fact >= 0) & ok
    if need.any():
        got, labels = _Facts(pack).column(asn_fact[need].astype(np.int64), "label")
        base = len(orgs)
        orgs.extend(labels)
        org_codes[np.flatnonzero(need)] = np.where(got >= 0, base + got, -1)
    columns: dict[str, pa.Array] = {
        "category": _dictionary(category, [str(c) for c in CATEGORY_ORDER]),
        "country": _dictionary(country, pack.countries),
        "asn": pa.array(asn, pa.int64(), mask=(asn < 0) | none),
        "as_org": _dictionary(org_codes, orgs),
        "prefix": _mask(prefix_col, none),
        "actor": _dictionary(np.where(none, -1, r.actor), pack.actor_ids),
        "tor": pa.array(tor, pa.bool_()),
        "projected": pa.array(np.asarray(r.projected, np.bool_) & ok, pa.bool_()),
        "sources": sources,
    }
    return pa.table({prefix + k: v for k, v in columns.items()})


def _mask(arr: pa.Array, none: npt.NDArray[np.bool_]) -> pa.Array:
    if not none.any():
        return arr
    import pyarrow.compute as pc

    return pc.if_else(pa.array(none), pa.scalar(None, arr.type), arr)


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    """The lookup columns as pandas columns, without a Python object per row: dictionary
    columns become ``category`` columns (from their codes), lists Arrow-backed list columns,
    nullable integers ``Int64``."""
    import pandas as pd

    cols: dict[str, Any] = {}
    for name in table.column_names:
        arr = table.column(name).combine_chunks()
        if pa.types.is_dictionary(arr.type):
            codes = arr.indices.fill_null(-1).to_numpy(zero_copy_only=False)
            cols[name] = pd.Categorical.from_codes(codes, arr.dictionary.to_pylist())
        elif pa.types.is_list(arr.type):
            cols[name] = pd.arrays.ArrowExtensionArray(arr)
        elif pa.types.is_int64(arr.type):
            values = arr.fill_null(0).to_numpy(zero_copy_only=False)
            mask = arr.is_null().to_numpy(zero_copy_only=False)
            cols[name] = pd.arrays.IntegerArray(values, mask)
        else:
            cols[name] = arr.to_pandas()
    return pd.DataFrame(cols, copy=False)


def lookup(ips: Any, at: Any = None, *, pack: Any = None) -> pd.DataFrame:
    """What each address was at its time: one row per input, in input order.

    ``ips``: address texts (list, array, pandas/polars series, Arrow array). ``at``: None
    (now), one time (``datetime``, ISO 8601 text, Unix epoch seconds) or a sequence aligned
    with ``ips``; naive times are UTC. ``pack``: an ``IntelPack``, extra intel source paths,
    or None for the default pack.

    Columns: ``ip``, ``at`` (UTC), ``category``, ``country``, ``asn`` (nullable integer),
    ``as_org``, ``prefix`` (the range that decided the category; null when only the
    geolocation layer knows the address), ``actor``, ``tor`` (a Tor
    exit list names the address then), ``projected`` (a fact behind the category comes from
    data dated after ``at``), ``sources`` (list of the sources that know the address).

    Raises:
        UsageError: an address or a time cannot be read (the message names the first one),
            or ``at`` is not aligned with ``ips``.
        IntelError: an extra intel source cannot be loaded.
    """
    import pandas as pd

    arr = _arrow_strings(ips)
    n = len(arr)
    us, time_ok = _time_micros(at, n)
    if not time_ok.all():
        bad = int(np.flatnonzero(~time_ok)[0])
        raise UsageError(f"at[{bad}]: not an ISO 8601 time or Unix epoch")
    from slipcatch.intel import addresses_from_arrow

    valid = addresses_from_arrow(arr)[2]
    if not valid.all():
        bad = int(np.flatnonzero(~valid)[0])
        raise UsageError(f"ips[{bad}]: not an IP address: {arr[bad].as_py()!r}")
    table = _lookup_table(_pack(pack), arr, us, time_ok)
    out = _to_pandas(table)
    out.insert(0, "at", pd.to_datetime(us.astype("datetime64[us]")).tz_localize(UTC))
    out.insert(0, "ip", arr.to_pandas())
    return out


# -- enrich ---------------------------------------------------------------------------------


def _columns_of(df: Any) -> list[str]:
    if isinstance(df, pa.Table):
        return list(df.column_names)
    return [str(c) for c in df.columns]


def enrich(df: Frame, ip: str = "src_ip", time: str = "time", *, prefix: str = "",
           pack: Any = None) -> Frame:
    """``df`` with the ``lookup`` columns (``prefix`` + category, country, asn, as_org,
    prefix, actor, tor, projected, sources) added for each row's address at its time.

    ``df`` may be a pandas or polars DataFrame or a pyarrow Table; the result is of the same
    kind (a new frame; ``df`` is not changed). Rows whose address or time cannot be read get
    nulls (and ``tor``/``projected`` false).

    Raises:
        UsageError: ``ip`` or ``time`` is not a column, an added column would replace an
            existing one (use ``prefix``), or ``df`` is not a frame.
    """
    names = _columns_of(df) if hasattr(df, "columns") or isinstance(df, pa.Table) else None
    if names is None:
        raise UsageError(f"enrich: need a pandas or polars DataFrame or an Arrow Table, "
                         f"not {type(df).__name__}")
    for col, what in ((ip, "ip"), (time, "time")):
        if col not in names:
            raise UsageError(f"enrich: no {what} column {col!r} (columns: {', '.join(names)})")
    clash = [prefix + c for c in LOOKUP_COLUMNS if prefix + c in names]
    if clash:
        raise UsageError(f"enrich: would replace column(s) {', '.join(clash)}; give a prefix")
    the_pack = _pack(pack)
    if isinstance(df, pa.Table):
        us, ok = _time_micros(df.column(time), df.num_rows, time)
        added = _lookup_table(the_pack, _arrow_strings(df.column(ip)), us, ok, prefix)
        out_t = df
        for name in added.column_names:
            out_t = out_t.append_column(name, added.column(name))
        return cast(Frame, out_t)
    if type(df).__module__.split(".")[0] == "polars":
        import polars as pl

        frame: Any = df
        us, ok = _time_micros(frame[time], len(frame), time)
        added = _lookup_table(the_pack, _arrow_strings(frame[ip]), us, ok, prefix)
        extra = pl.from_arrow(added)
        assert isinstance(extra, pl.DataFrame)
        return cast(Frame, frame.hstack(extra))
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise UsageError(f"enrich: need a pandas or polars DataFrame or an Arrow Table, "
                         f"not {type(df).__name__}")
    us, ok = _time_micros(df[time], len(df), time)
    added = _to_pandas(_lookup_table(the_pack, _arrow_strings(df[ip]), us, ok, prefix))
    added.index = df.index
    return cast(Frame, pd.concat([df, added], axis=1))


def _register_accessor() -> None:
    import pandas as pd

    if "slipcatch" in getattr(pd.DataFrame, "_accessors", set()):
        return

    @pd.api.extensions.register_dataframe_accessor("slipcatch")
    class _Accessor:
        """``df.slipcatch.enrich(ip="src_ip", time="time", prefix="")``."""

        def __init__(self, df: pd.DataFrame):
            self._df = df

        def enrich(self, ip: str = "src_ip", time: str = "time", *, prefix: str = "",
                   pack: Any = None) -> pd.DataFrame:
            return enrich(self._df, ip, time, prefix=prefix, pack=pack)

        def lookup(self, ip: str = "src_ip", time: str | None = None) -> pd.DataFrame:
            at = self._df[time] if time else None
            return lookup(self._df[ip], at)


# The accessor exists as soon as slipcatch.api is imported (any API name imports it).
_register_accessor()


# -- analyze --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    """One persona's verdict: who (actor id, or None), how likely, how sure, in words."""

    persona: str
    actor: str | None
    probability: float
    likelihood: str
    confidence: str
    statement: str


def _frame_rows(frame: Any) -> pa.Table:
    """A pandas/polars frame or Arrow table as an Arrow table."""
    if isinstance(frame, pa.Table):
        return frame
    if type(frame).__module__.split(".")[0] == "polars":
        table = frame.to_arrow()
        assert isinstance(table, pa.Table)
        return table
    import pandas as pd

    if isinstance(frame, pd.DataFrame):
        return pa.Table.from_pandas(frame, preserve_index=False)
    raise UsageError(f"analyze: evidence must be paths or a frame, not {type(frame).__name__}")


def _json_value(v: Any) -> Any:
    if isinstance(v, datetime):
        v = v if v.tzinfo else v.replace(tzinfo=UTC)
        return v.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(v, float) and v != v:  # NaN: a missing value
        return None
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, list | tuple | dict):
        return json.dumps(v, default=str, sort_keys=True)
    return v


def _write_frame(frame: Any, path: Path) -> int:
    """Write a table of events as JSON lines, one object a row (the ``table`` reader's input:
    the same column names, the same events, the same rejections with reasons)."""
    table = _frame_rows(frame)
    with path.open("w", encoding="utf-8") as fh:
        for batch in table.to_batches(max_chunksize=65_536):
            for row in batch.to_pylist():
                obj = {str(k): _json_value(v) for k, v in row.items()}
                fh.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    return int(table.num_rows)


def _split(evidence: Any) -> tuple[list[str | Path], list[Any]]:
    """Paths and frames in ``evidence`` (one of them, or a list mixing both)."""
    if isinstance(evidence, str | os.PathLike):
        return [Path(evidence)], []
    if _is_frame(evidence):
        return [], [evidence]
    paths: list[str | Path] = []
    frames: list[Any] = []
    for item in evidence:
        if isinstance(item, str | os.PathLike):
            paths.append(Path(item))
        elif _is_frame(item):
            frames.append(item)
        else:
            raise UsageError(f"analyze: evidence must be paths or frames, not "
                             f"{type(item).__name__}")
    return paths, frames


def _is_frame(x: Any) -> bool:
    if isinstance(x, pa.Table):
        return True
    mod = type(x).__module__.split(".")[0]
    return mod in ("pandas", "polars") and hasattr(x, "columns")


def _rename(path: str, names: Mapping[str, str]) -> str:
    return names.get(path, path)


def _relabel(a: Assessment, names: Mapping[str, str]) -> Assessment:
    """The assessment with the temporary files of frames named ``<dataframe>`` instead."""
    if not names:
        return a

    def ev(e: Event) -> Event:
        if e.evidence.path not in names:
            return e
        return dataclasses.replace(
            e, evidence=dataclasses.replace(e.evidence, path=names[e.evidence.path])
        )

    files: list[EvidenceFile] = [dataclasses.replace(f, path=_rename(f.path, names))
                                 for f in a.evidence]
    rejections: list[Rejection] = [dataclasses.replace(r, path=_rename(r.path, names))
                                   for r in a.rejections]
    observations = [dataclasses.replace(o, event=ev(o.event)) for o in a.observations]
    return dataclasses.replace(a, evidence=tuple(files), rejections=tuple(rejections),
                               observations=tuple(observations))


def analyze(
    evidence: Any = (),
    *,
    intel: Sequence[str | Path] = (),
    persona_map: str | Path | None = None,
    trusted_relays: Sequence[str] = (),
    analyst: str | Path | None = None,
    case: str | Path | None = None,
    out_dir: str | Path | None = None,
    cache_dir: Path | None = None,
    evidence_file: str | Path | None = None,
) -> Result:
    """Analyse evidence paths and/or tables of events; returns a :class:`Result`.

    ``evidence``: a path, a frame (pandas, polars or Arrow with columns time, src_ip,
    persona [, channel, id], any of the aliases of docs/formats.md), or a list of both.
    A frame is read by the same table reader as a CSV/JSON-lines file: each row is one event,
    or one rejection with its reason (``missing-time``, ``bad-address``...), and its account
    reconciles (records = events + rejected + duplicates); it appears as ``<dataframe>``
    (``<dataframe-2>``...) among the evidence files. ``analyst``: analyst evidence (YAML,
    docs/model.md); ``evidence_file`` is the same, under the pipeline's name. ``case``: ingest
    into that case store, analyse all it holds and record the run. ``out_dir``: also write
    the reports there.

    Raises:
        EvidenceError, IntelError, UsageError, CaseError: as ``pipeline.analyze``.
    """
    from slipcatch import pipeline

    if analyst is not None and evidence_file is not None:
        raise UsageError("analyze: give analyst= or evidence_file=, not both")
    paths, frames = _split(evidence)
    with tempfile.TemporaryDirectory(prefix="slipcatch-frames-") as tmp:
        names: dict[str, str] = {}
        for k, frame in enumerate(frames):
            path = Path(tmp) / f"frame-{k + 1}.jsonl"
            _write_frame(frame, path)
            label = FRAME_PATH if k == 0 else f"<dataframe-{k + 1}>"
            names[str(path)] = label
            paths.append(path)
        if case is not None and names:
            from slipcatch.case import Case as Store

            with Store.open(case) as store:
                store.ingest(paths, _read_options(persona_map, trusted_relays))
                store.rename_paths(names)
            paths = [p for p in paths if str(p) not in names]
        result = pipeline.analyze(
            paths, intel=intel, persona_map=persona_map, trusted_relays=trusted_relays,
            case=case, cache_dir=cache_dir, evidence_file=analyst or evidence_file,
        )
    assessment = _relabel(result.assessment, names)
    outputs: dict[str, Path] = {}
    res = Result(assessment, outputs)
    if out_dir is not None:
        outputs.update(res.write(out_dir))
    return res


def _read_options(persona_map: str | Path | None, trusted_relays: Sequence[str]) -> Any:
    from slipcatch.evidence import PersonaMap, ReadOptions

    return ReadOptions(
        trusted_relays=tuple(trusted_relays),
        persona_map=PersonaMap.load(persona_map) if persona_map else None,
    )


def _hypothesis_name(h: Any) -> str:
    if h.kind == "actor" and h.actor:
        return str(h.actor)
    if h.kind == "false_flag":
        return f"false-flag:{h.actor}" if h.actor else "false-flag"
    if h.kind == "unknown":
        return "unknown"
    return str(h.id)


class Result:
    """An analysis run's result: the ``model.Assessment`` and views of it as DataFrames."""

    def __init__(self, assessment: Assessment, outputs: dict[str, Path] | None = None):
        self.assessment = assessment
        #: Files written by ``analyze(out_dir=...)`` or ``write`` (key -> path).
        self.outputs: dict[str, Path] = outputs if outputs is not None else {}

    def __repr__(self) -> str:
        a = self.assessment
        return (f"<slipcatch.Result: {len(a.evidence)} files, {len(a.observations)} events, "
                f"{len(a.rejections)} rejected, {len(a.personas)} personas>")

    @property
    def verdicts(self) -> list[Verdict]:
        """One verdict per persona, attributed ones first, then by probability."""
        ranked = sorted(
            self.assessment.personas,
            key=lambda p: (p.verdict.actor is None, -p.verdict.probability, p.persona.name),
        )
        return [
            Verdict(p.persona.name, p.verdict.actor, p.verdict.probability,
                    p.verdict.likelihood, p.verdict.confidence, p.verdict.statement)
            for p in ranked
        ]

    def events(self) -> pd.DataFrame:
        """One row per event (time order): id, time, src_ip, persona, channel, path, locator,
        category (at the event's time), country, asn, as_org, prefix, actor, projected,
        origin_trust, entry_ip, slip (id of the slip it belongs to, if any)."""
        import pandas as pd

        slip_of = {e: s.id for p in self.assessment.personas for s in p.slips
                   for e in s.event_ids}
        persona_of = {e: p.persona.name for p in self.assessment.personas
                      for e in p.persona.event_ids}
        rows = []
        for o in self.assessment.observations:
            e, f = o.event, o.address
            rows.append({
                "id": e.id, "time": e.time, "src_ip": e.src_ip,
                "persona": persona_of.get(e.id, e.persona), "channel": e.channel,
                "path": e.evidence.path, "locator": e.evidence.locator,
                "category": str(f.category), "country": f.country, "asn": f.asn,
                "as_org": f.as_org, "prefix": f.prefix, "actor": f.actor,
                "projected": f.projected,
                "origin_trust": str(e.origin_trust) if e.origin_trust else None,
                "entry_ip": e.entry_ip, "slip": slip_of.get(e.id),
            })
        cols = ["id", "time", "src_ip", "persona", "channel", "path", "locator", "category",
                "country", "asn", "as_org", "prefix", "actor", "projected", "origin_trust",
                "entry_ip", "slip"]
        df = pd.DataFrame(rows, columns=cols)
        df["time"] = pd.to_datetime(df["time"], utc=True)
        df["asn"] = df["asn"].astype("Int64")
        df["projected"] = df["projected"].astype(bool)
        return df

    def slips(self) -> pd.DataFrame:
        """persona, ip, first_seen, last_seen, events, attributed_to, closed_after_seconds,
        category, country, asn, prefix, id."""
        import pandas as pd

        rows = [
            {"persona": p.persona.name, "ip": s.ip, "first_seen": s.first_seen,
             "last_seen": s.last_seen, "events": len(s.event_ids),
             "attributed_to": s.attributed_to, "closed_after_seconds": s.closed_after_seconds,
             "category": str(s.category), "country": s.country, "asn": s.asn,
             "prefix": s.prefix, "id": s.id}
            for p in self.assessment.personas for s in p.slips
        ]
        cols = ["persona", "ip", "first_seen", "last_seen", "events", "attributed_to",
                "closed_after_seconds", "category", "country", "asn", "prefix", "id"]
        df = pd.DataFrame(rows, columns=cols)
        for c in ("first_seen", "last_seen"):
            df[c] = pd.to_datetime(df[c], utc=True)
        df["asn"] = df["asn"].astype("Int64")
        df["events"] = df["events"].astype("int64")
        df["closed_after_seconds"] = df["closed_after_seconds"].astype("float64")
        return df.sort_values(["persona", "first_seen"], kind="stable").reset_index(drop=True)

    def personas(self) -> pd.DataFrame:
        """persona, events, cover_ratio, slips, actor, probability, likelihood, confidence."""
        import pandas as pd

        rows = [
            {"persona": p.persona.name, "events": len(p.persona.event_ids),
             "cover_ratio": p.persona.cover_ratio, "slips": len(p.slips),
             "actor": p.verdict.actor, "probability": p.verdict.probability,
             "likelihood": p.verdict.likelihood, "confidence": p.verdict.confidence}
            for p in self.assessment.personas
        ]
        cols = ["persona", "events", "cover_ratio", "slips", "actor", "probability",
                "likelihood", "confidence"]
        df = pd.DataFrame(rows, columns=cols)
        return df.sort_values(["probability", "persona"], ascending=[False, True],
                              kind="stable").reset_index(drop=True)

    def lines(self) -> pd.DataFrame:
        """Evidence lines: persona, id, kind, summary, reliability, rule, diagnosticity,
        likelihoods (hypothesis -> likelihood), and one ``lr:<hypothesis>`` column per
        hypothesis with the line's likelihood ratio (Bayes factor) for it. Hypotheses are
        named by actor id (``lr:dprk-rgb``), ``unknown``, ``false-flag:<actor>`` or, for an
        analyst's hypothesis, its id."""
        import pandas as pd

        rows: list[dict[str, Any]] = []
        for p in self.assessment.personas:
            names = {h.id: _hypothesis_name(h) for h in p.hypotheses}
            for line in p.evidence:
                row: dict[str, Any] = {
                    "persona": p.persona.name, "id": line.id, "kind": line.kind,
                    "summary": line.summary, "reliability": line.reliability,
                    "rule": line.rule, "diagnosticity": line.diagnosticity,
                    "likelihoods": {names.get(h, h): v for h, v in line.likelihoods.items()},
                }
                for h, v in line.bayes_factors.items():
                    row[f"lr:{names.get(h, h)}"] = v
                rows.append(row)
        base = ["persona", "id", "kind", "summary", "reliability", "rule", "diagnosticity",
                "likelihoods"]
        df = pd.DataFrame(rows)
        if df.empty:
            return pd.DataFrame(columns=base)
        return df[base + sorted(c for c in df.columns if c not in base)]

    def to_json(self) -> str:
        """The ``assessment.json`` document, as written by ``slipcatch analyze``."""
        from slipcatch.report import assessment_document
        from slipcatch.report.json_doc import dumps_document

        return dumps_document(assessment_document(self.assessment))

    def to_html(self) -> str:
        """The self-contained HTML report (``report.html``; no network)."""
        from slipcatch.report import render_html

        return render_html(self.assessment)

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write the same files as ``slipcatch analyze --out out_dir``; returns key -> path."""
        from slipcatch.report import write_reports

        written = write_reports(self.assessment, Path(out_dir))
        self.outputs.update(written)
        return written

    def _repr_html_(self) -> str:
        from slipcatch._notebook import result_html

        return result_html(self)


def demo_case() -> dict[str, Any]:
    """The bundled demo case's inputs, as keyword arguments of ``analyze``:
    ``analyze(**slipcatch.api.demo_case())`` is ``slipcatch demo``. Keys: evidence (paths),
    intel (paths), persona_map, analyst, trusted_relays, and title (pop it first)."""
    from slipcatch.cli import demo_case_dir

    root = demo_case_dir()
    m = json.loads((root / "case.json").read_text(encoding="utf-8"))
    return {
        "evidence": [root / p for p in m["evidence"]],
        "intel": [root / p for p in m.get("intel", [])],
        "persona_map": root / m["persona_map"] if m.get("persona_map") else None,
        "analyst": root / m["evidence_file"] if m.get("evidence_file") else None,
        "trusted_relays": list(m.get("trusted_relays", [])),
        "title": str(m.get("title", "")),
    }


# -- case stores ----------------------------------------------------------------------------


class Case:
    """A case store (DuckDB) by name or path, created if missing (see docs/case-store.md).

    Each method opens the store for its own work and closes it again, so a notebook does not
    hold the database's lock between cells.
    """

    def __init__(self, name: str | Path, *, create: bool = True):
        from slipcatch.case import Case as Store
        from slipcatch.case import case_path

        self.path = case_path(name)
        self.name = str(name)
        if create or self.path.exists():
            Store.open(self.path, create=create).close()
        else:
            raise CaseError("no such case", source=str(self.path))

    def __repr__(self) -> str:
        return f"<slipcatch.Case {self.path}>"

    def _open(self) -> Any:
        from slipcatch.case import Case as Store

        return Store.open(self.path, create=False)

    def ingest(self, paths: str | Path | Iterable[str | Path], *,
               persona_map: str | Path | None = None,
               trusted_relays: Sequence[str] = ()) -> pd.DataFrame:
        """Ingest evidence files (idempotent); one row per file: path, sha256, format,
        records, events, rejected, duplicates, already_present."""
        import pandas as pd

        items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
        with self._open() as store:
            done = store.ingest(items, _read_options(persona_map, trusted_relays))
        return pd.DataFrame(
            [{"path": d.file.path, "sha256": d.file.sha256, "format": d.file.format,
              "records": d.file.records, "events": d.file.events,
              "rejected": d.file.rejected, "duplicates": d.file.duplicates,
              "already_present": d.already_present} for d in done],
            columns=["path", "sha256", "format", "records", "events", "rejected",
                     "duplicates", "already_present"],
        )

    def analyze(self, evidence: Any = (), **kwargs: Any) -> Result:
        """``slipcatch.analyze(evidence, case=this case, ...)``."""
        return analyze(evidence, case=self.path, **kwargs)

    def runs(self) -> pd.DataFrame:
        """One row per recorded run, oldest first: run_id, generated_at, pack_id,
        model_version, sources (intel source names), verdicts (one statement each)."""
        import pandas as pd

        with self._open() as store:
            rows = store.run_summaries()
        df = pd.DataFrame(rows, columns=["run_id", "generated_at", "pack_id", "model_version",
                                         "sources", "verdicts"])
        df["generated_at"] = pd.to_datetime(df["generated_at"], utc=True)
        return df

    def events(self, where: str | None = None) -> pd.DataFrame:
        """The case's events (time order), with the category and facts of the latest run when
        there is one. ``where``: an SQL condition over these columns (DuckDB syntax), e.g.
        ``"category = 'actor'"``.

        Raises:
            CaseError: the condition is not valid SQL over the columns.
        """
        with self._open() as store:
            frame: pd.DataFrame = store.events_frame(where)
        return frame

    def load(self, run_id: str | None = None) -> Result:
        """A recorded run (the latest by default) as a ``Result``."""
        with self._open() as store:
            return Result(store.load_run(run_id))
