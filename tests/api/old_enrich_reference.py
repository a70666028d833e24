"""The implementation of ``slipcatch.lookup``/``slipcatch.enrich`` columns before the kernel
computed source bits and Tor flags per row (main at 442de44), kept verbatim as the reference
the new columns are compared against (tests/api/test_enrich_reference.py). Not used by
slipcatch itself."""
# ruff: noqa

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from slipcatch.errors import UsageError

IntelPack = Any
LookupArrays = Any
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


def old_enrich(df: Any, ip: str = "src_ip", time: str = "time", *, prefix: str = "",
               pack: Any = None) -> Any:
    """The old ``enrich`` for a pandas DataFrame (its added columns only)."""
    us, ok = _time_micros(df[time], len(df), time)
    added = _to_pandas(_lookup_table(pack, _arrow_strings(df[ip]), us, ok, prefix))
    added.index = df.index
    return added
