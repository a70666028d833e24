"""The columns of ``slipcatch.lookup`` and ``slipcatch.enrich``, built from kernel codes.

One kernel pass (``IntelPack.lookup_arrays(..., extras=True)``) answers every row, including
each row's source bits and Tor flag, which the fast paths read from per-segment tables (no
per-row fact list). Every output column is then made from the kernel's integer codes with a
few whole-array operations and no Python object per row:

* ``category``, ``country``, ``as_org``, ``actor``: codes into per-pack dictionaries
  (pandas ``category`` columns / Arrow dictionary columns); the dictionaries and their pandas
  dtypes are built once per pack (:class:`PackDicts`), like the kernel's own /24 table;
* ``prefix``: the decisive fact's range, a dictionary of the ranges the rows use;
* ``asn``: nullable int64; ``tor``, ``projected``: bool;
* ``sources``: each row's key among its part's distinct source sets (the kernel's source set
  plus the geolocation layer's flag); its list is copied from its set's as one-byte codes
  into the pack's source names (``list<dictionary<int8, string>>``, one dictionary per pack):
  each row reads as a list of names.

Addresses come in as texts (parsed on the Arrow buffers, ``intel.addresses_from_arrow``) or
as unsigned integers (IPv4); times as datetime columns (read as int64 without conversion),
ISO 8601 texts or Unix epochs.

An input of more than :data:`PART_ROWS` rows is worked in parts of that many rows on a pool
of threads, one per usable core: each thread parses its part's addresses, has the kernel
write its answers straight into the shared output arrays, finishes their codes there and
builds the part's ``sources`` chunk (NumPy and Arrow release the GIL in those whole-array
operations). The parts' ``prefix`` codes are made common afterwards, by the pack's own order
of ranges, so the result does not depend on which thread finished first.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from slipcatch.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from slipcatch.intel import IntelPack

__all__ = [
    "LOOKUP_COLUMNS",
    "Columns",
    "PackDicts",
    "address_column",
    "address_keys",
    "columns",
    "lookup_columns",
    "pack_dicts",
    "time_micros",
    "to_arrow",
    "to_pandas",
]

#: The columns ``lookup`` returns and ``enrich`` adds (after ``ip``/``at`` for ``lookup``).
LOOKUP_COLUMNS: tuple[str, ...] = (
    "category", "country", "asn", "as_org", "prefix", "actor", "tor", "projected", "sources",
)

_GEO_BIT = np.uint64(1) << np.uint64(63)  # FactBits leaves bit 63 free: the geo layer
_IPV4_MAPPED = np.uint64(0xFFFF << 32)


# -- addresses --------------------------------------------------------------------------------


def address_column(values: Any) -> pa.Array:
    """Addresses as one Arrow array, texts (``string``) or numbers, from a list, NumPy array,
    pandas/polars series or Arrow (chunked) array.

    Raises:
        UsageError: the values are neither texts nor numbers.
    """
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
            raise UsageError(f"addresses must be texts or IPv4 integers: {exc}") from exc
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_null(arr.type):
        arr = arr.cast(pa.string())
    if pa.types.is_string_view(arr.type) or pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    if not (pa.types.is_string(arr.type) or pa.types.is_integer(arr.type)
            or pa.types.is_floating(arr.type)):
        raise UsageError(f"addresses must be texts or IPv4 integers, not {arr.type}")
    return arr


def address_keys(arr: pa.Array) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64],
                                         npt.NDArray[np.bool_]]:
    """``(hi, lo, valid)`` of an :func:`address_column`: texts parsed on the Arrow buffers;
    numbers read as IPv4 addresses (``0 <= v < 2**32``, whole; anything else, and nulls, are
    not valid: ``valid`` False, ``hi = lo = 0``)."""
    from slipcatch.intel import addresses_from_arrow

    if pa.types.is_string(arr.type):
        return addresses_from_arrow(arr)
    n = len(arr)
    present = (np.ones(n, np.bool_) if arr.null_count == 0
               else np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), np.bool_))
    filled = arr if arr.null_count == 0 else arr.fill_null(0)
    raw = filled.to_numpy(zero_copy_only=False)
    if pa.types.is_floating(arr.type):
        with np.errstate(invalid="ignore"):
            valid = present & (raw >= 0) & (raw < 2.0 ** 32) & (np.floor(raw) == raw)
        v = np.where(valid, raw, 0).astype(np.uint64)
    elif pa.types.is_signed_integer(arr.type):
        valid = present & (raw >= 0) & (raw <= 0xFFFFFFFF)
        v = np.where(valid, raw, 0).astype(np.uint64)
    else:
        valid = present & (raw <= 0xFFFFFFFF) if raw.dtype.itemsize > 4 else present
        v = raw.astype(np.uint64)
        if not valid.all():
            v[~valid] = 0
    lo = v | _IPV4_MAPPED
    if not valid.all():
        lo[~valid] = 0
    return np.zeros(n, np.uint64), lo, np.asarray(valid, np.bool_)


# -- times ------------------------------------------------------------------------------------


_EPOCH_US = np.datetime64(0, "us")
_NAT = np.iinfo(np.int64).min


def _stamps_us(i8: npt.NDArray[np.int64], unit: str, valid: npt.NDArray[np.bool_]
               ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """int64 stamps in ``unit`` as microseconds (NumPy's own unit conversion), 0 where not
    ``valid``."""
    if unit == "us":
        us = np.asarray(i8, np.int64)
    else:
        us = np.asarray(i8, np.int64).view(f"M8[{unit}]").astype("M8[us]").view(np.int64)
    if not valid.all():
        us = np.where(valid, us, 0)
    return us, valid


def _datetime_fast(value: Any) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]] | None:
    """A column that already holds datetimes (pandas datetime64, polars Datetime, Arrow
    timestamp) as int64 microseconds without parsing; None for any other column."""
    if isinstance(value, pa.ChunkedArray):
        value = value.combine_chunks()
    if isinstance(value, pa.Array):
        if not pa.types.is_timestamp(value.type):
            return None
        unit = value.type.unit
        valid = (np.ones(len(value), np.bool_) if value.null_count == 0 else
                 np.asarray(value.is_valid().to_numpy(zero_copy_only=False), np.bool_))
        raw = value.cast(pa.int64())
        if value.null_count:
            raw = raw.fill_null(0)
        return _stamps_us(raw.to_numpy(zero_copy_only=False), unit, valid)
    mod = type(value).__module__.split(".")[0]
    if mod == "polars":
        import polars as pl

        if not isinstance(value.dtype, pl.Datetime):
            return None
        return _datetime_fast(value.to_arrow())
    if mod == "pandas":
        import pandas as pd

        if not isinstance(value, pd.Series):
            return None
        dtype = value.dtype
        if isinstance(dtype, pd.DatetimeTZDtype) or (
                isinstance(dtype, np.dtype) and dtype.kind == "M"):
            i8 = np.asarray(cast(Any, value.array).asi8, np.int64)
            unit = dtype.unit if isinstance(dtype, pd.DatetimeTZDtype) else \
                np.datetime_data(cast(Any, dtype))[0]
            return _stamps_us(i8, unit, i8 != _NAT)
        if isinstance(dtype, pd.ArrowDtype) and pa.types.is_timestamp(dtype.pyarrow_dtype):
            return _datetime_fast(pa.array(value.array))
    return None


def time_micros(value: Any, n: int, what: str = "at") -> tuple[npt.NDArray[np.int64],
                                                                npt.NDArray[np.bool_]]:
    """Times as int64 microseconds since the epoch (UTC) and a validity mask.

    ``value``: None (now), one time (datetime, ISO 8601 text, Unix epoch seconds) or a
    sequence/column aligned with the rows. Naive times are UTC. A datetime column is read as
    its int64 stamps; texts and numbers are parsed.

    Raises:
        UsageError: one time cannot be read, or the column's length is not ``n``.
    """
    import pandas as pd

    if value is None:
        now = datetime.now(tz=UTC)
        return (np.full(n, int(now.timestamp() * 1_000_000), np.int64), np.ones(n, np.bool_))
    scalar = isinstance(value, str | datetime | int | float | np.datetime64 | pd.Timestamp)
    if scalar:
        one = time_micros([value], 1, what)
        if not one[1][0]:
            raise UsageError(f"{what}: not an ISO 8601 time or Unix epoch: {value!r}")
        return np.full(n, one[0][0], np.int64), np.ones(n, np.bool_)
    fast = _datetime_fast(value)
    if fast is not None:
        if len(fast[0]) != n:
            raise UsageError(f"{what}: {len(fast[0])} times for {n} addresses")
        return fast
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


# -- per-pack dictionaries ----------------------------------------------------------------------


def _distinct(names: list[str]) -> tuple[list[str], npt.NDArray[np.int32] | None]:
    """``names`` without repeats (first kept) and the remap of the old codes (None when
    nothing repeats: pandas wants distinct categories)."""
    first: dict[str, int] = {}
    remap = np.asarray([first.setdefault(x, len(first)) for x in names] or [0], np.int32)
    if len(first) == len(names):
        return names, None
    return list(first), remap


@dataclass
class _Dict:
    """A dictionary of one categorical column: its names (distinct), the remap of the
    kernel's codes when the pack's list repeats a name, and its pandas/Arrow forms (made on
    first use)."""

    names: list[str]
    remap: npt.NDArray[np.int32] | None = None
    _pd: Any = None
    _pa: pa.Array | None = None

    @classmethod
    def of(cls, names: list[str]) -> _Dict:
        distinct, remap = _distinct(names)
        return cls(distinct, remap)

    def codes(self, kernel_codes: npt.NDArray[Any]) -> npt.NDArray[Any]:
        if self.remap is None:
            return kernel_codes
        c = np.asarray(kernel_codes, np.int64)
        return np.where(c < 0, -1, self.remap[np.maximum(c, 0)]).astype(np.int32)

    def pandas_dtype(self) -> pd.CategoricalDtype:
        import pandas as pd

        if self._pd is None:
            self._pd = pd.CategoricalDtype(self.names)
        return cast("pd.CategoricalDtype", self._pd)

    def arrow(self) -> pa.Array:
        if self._pa is None:
            self._pa = pa.array(self.names, pa.string())
        return self._pa


@dataclass
class PackDicts:
    """What the column builders need of one pack, worked out once per pack: the dictionaries
    of the categorical columns, per fact the code of its AS-organisation label (for rows whose
    AS comes from a fact) and of its range (``prefix``), and the dictionary of source names
    with the codes of the kernel's source bits in it. Built before any thread shares it."""

    category: _Dict
    country: _Dict
    as_org: _Dict
    actor: _Dict
    label_org: npt.NDArray[np.int32]  # per fact: code in as_org of its label, -1 none
    #: per fact + 1: index into range_names (-1: none); ``[decisive + 1]`` is the range of a
    #: row whose decisive fact is ``decisive`` (-1 too: no fact), one gather without a mask
    range_of_decisive: npt.NDArray[np.int32]
    range_names: npt.NDArray[np.object_]  # range texts, as an array (gathered per call)
    #: every source name the pack can give a row, sorted: the one dictionary of every
    #: ``sources`` column made from this pack
    source_dictionary: pa.Array
    source_code: tuple[int, ...]  # per bit of the kernel's source bits: its name's code
    geo_code: int | None  # code of the geolocation layer's source (bit 63), None: not in pack
    set_codes: dict[int, list[int]] = field(default_factory=dict)  # mask -> codes, sorted

    def source_codes(self, mask: int) -> list[int]:
        """The codes in :attr:`source_dictionary` of one source mask's names (the kernel's
        source bits, bit 63 the geolocation layer), sorted like the names; kept: a few
        distinct masks."""
        got = self.set_codes.get(mask)
        if got is None:
            codes = {c for b, c in enumerate(self.source_code) if (mask >> b) & 1}
            if mask >> 63 and self.geo_code is not None:
                codes.add(self.geo_code)
            got = self.set_codes[mask] = sorted(codes)
        return got


_DICTS: weakref.WeakKeyDictionary[IntelPack, PackDicts] = weakref.WeakKeyDictionary()


def _geo_source(pack: IntelPack) -> str | None:
    try:
        from slipcatch.intel.sources import geoip2fast_data
    except ImportError:  # pragma: no cover - the layer moved
        return None
    name = getattr(geoip2fast_data, "SOURCE_NAME", None)
    return str(name) if name and any(s.name == name for s in pack.sources) else None


def pack_dicts(pack: IntelPack) -> PackDicts:
    """The :class:`PackDicts` of ``pack`` (built on first use, kept while the pack lives).

    Raises:
        UsageError: the pack's facts come from more than 63 sources.
    """
    got = _DICTS.get(pack)
    if got is not None:
        return got
    from slipcatch.intel import CATEGORY_ORDER

    try:
        bits = pack.fact_bits()
    except ValueError as exc:
        raise UsageError(f"lookup: {exc} in one pack") from exc
    table = pack._d.table
    strings = table.strings
    as_org = _Dict.of(list(pack.as_orgs))
    # labels of the facts that carry an AS number: the AS organisation where geo has none
    label = np.asarray(table.label, np.int64)
    with_label = np.flatnonzero((np.asarray(table.asn) >= 0) & (label >= 0))
    label_org = np.full(len(table), -1, np.int32)
    if len(with_label):
        uniq, inverse = np.unique(label[with_label], return_inverse=True)
        position = {name: i for i, name in enumerate(as_org.names)}
        codes = np.asarray([position.setdefault(strings[int(i)], len(position))
                            for i in uniq], np.int32)
        extra = list(position)[len(as_org.names):]
        if extra:
            as_org = _Dict(as_org.names + extra, as_org.remap)
        label_org[with_label] = codes[inverse.reshape(-1)]
    rng = np.asarray(table.rng, np.int64)
    r_uniq, r_inverse = np.unique(rng, return_inverse=True)
    range_code = r_inverse.reshape(-1).astype(np.int32)
    missing = bool(len(r_uniq) and r_uniq[0] < 0)
    if missing:  # np.unique sorts -1 first
        range_code -= 1
        r_uniq = r_uniq[1:]
    range_names = np.asarray([strings[int(i)] for i in r_uniq] or [""], dtype=object)
    geo_name = _geo_source(pack)
    names = sorted(set(bits.names) | ({geo_name} if geo_name is not None else set()))
    code = {x: i for i, x in enumerate(names)}
    got = PackDicts(
        category=_Dict.of([str(c) for c in CATEGORY_ORDER]),
        country=_Dict.of(list(pack.countries)),
        as_org=as_org,
        actor=_Dict.of(list(pack.actor_ids)),
        label_org=label_org,
        range_of_decisive=np.concatenate([np.full(1, -1, np.int32), range_code]),
        range_names=range_names,
        source_dictionary=pa.array(names, pa.string()),
        source_code=tuple(code[x] for x in bits.names),
        geo_code=None if geo_name is None else code[geo_name],
    )
    _DICTS[pack] = got
    return got


# -- the columns ----------------------------------------------------------------------------------


@dataclass
class Columns:
    """The lookup columns of ``n`` rows as codes: ``names[codes]`` for the categorical ones
    (-1: null), ``asn`` with its null mask, the two flags, and ``sources`` as Arrow list
    chunks (one per part, in row order)."""

    n: int
    category: npt.NDArray[Any]
    country: npt.NDArray[Any]
    as_org: npt.NDArray[Any]
    actor: npt.NDArray[Any]
    prefix: npt.NDArray[Any]
    prefix_names: list[str]
    asn: npt.NDArray[np.int64]
    asn_null: npt.NDArray[np.bool_]
    tor: npt.NDArray[np.bool_]
    projected: npt.NDArray[np.bool_]
    sources: list[pa.Array]  # list<dictionary<int8, string>> chunks, in row order
    dicts: PackDicts


#: Rows per part of a large lookup. Each part is parsed, looked up and turned into codes by one
#: thread of a pool: NumPy and Arrow release the GIL in the kernel's gathers and reductions,
#: so a lookup uses every core the process may run on (:func:`_threads`).
PART_ROWS = 1 << 20


def _threads() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


_SOURCES_TYPE = pa.list_(pa.dictionary(pa.int8(), pa.string()))


@dataclass
class _Out:
    """The output arrays of a call, written part by part."""

    category: npt.NDArray[np.int8]
    country: npt.NDArray[np.int32]
    as_org: npt.NDArray[np.int32]
    actor: npt.NDArray[np.int32]
    prefix: npt.NDArray[np.int32]  # the decisive fact's range code, then the dense code
    asn: npt.NDArray[np.int64]
    asn_null: npt.NDArray[np.bool_]
    tor: npt.NDArray[np.bool_]
    projected: npt.NDArray[np.bool_]

    @classmethod
    def empty(cls, n: int) -> _Out:
        return cls(
            category=np.empty(n, np.int8), country=np.empty(n, np.int32),
            as_org=np.empty(n, np.int32), actor=np.empty(n, np.int32),
            prefix=np.empty(n, np.int32), asn=np.empty(n, np.int64),
            asn_null=np.empty(n, np.bool_), tor=np.empty(n, np.bool_),
            projected=np.empty(n, np.bool_),
        )


def _sources_part(d: PackDicts, keys: list[int], local: npt.NDArray[np.int32]) -> pa.Array:
    """The ``sources`` list column of one part: ``keys`` are the part's distinct source
    keys, ``local`` each row's index among them. Each row's list is its key's list of
    one-byte codes into the pack's source names (Arrow ``take`` over the few distinct
    lists); the names themselves are stored once, in the dictionary. No Python object per
    row, and no copy of a name's text per row (as a ``list<string>`` that would cost about as
    much as the kernel's whole lookup)."""
    codes = [d.source_codes(k) for k in keys] or [[]]
    offsets = np.zeros(len(codes) + 1, np.int32)
    np.cumsum([len(c) for c in codes], out=offsets[1:])
    flat = np.asarray([x for c in codes for x in c], np.int8)
    table = pa.ListArray.from_arrays(
        pa.array(offsets), pa.DictionaryArray.from_arrays(pa.array(flat, pa.int8()),
                                                          d.source_dictionary),
        type=_SOURCES_TYPE)
    return table.take(pa.array(local, pa.int32()))


_SCRATCH = threading.local()


def _scratch(name: str, k: int, dtype: type[np.generic]) -> npt.NDArray[Any]:
    """A scratch array of ``k`` items of this thread's, kept for its next part of the same
    call: the arrays a part only needs while it is worked are not allocated afresh for every
    part (fresh memory costs a page fault per page, and the threads' allocator arenas return
    freed memory to the system). A pool's threads end with the call; the calling thread's
    scratch is dropped when the call ends."""
    have: dict[str, npt.NDArray[Any]] = _SCRATCH.__dict__.setdefault("arrays", {})
    a = have.get(name)
    if a is None or len(a) < k or a.dtype != dtype:
        a = have[name] = np.empty(max(k, PART_ROWS if k > 1 << 16 else k), dtype)
    return a[:k]


def _fill(pack: IntelPack, d: PackDicts, out: _Out, s: slice,
          hi: npt.NDArray[np.uint64], lo: npt.NDArray[np.uint64],
          ok: npt.NDArray[np.bool_] | None, us: npt.NDArray[np.int64]
          ) -> tuple[npt.NDArray[np.bool_], pa.Array]:
    """Look up the rows ``s`` (``hi, lo, us``: that part's arrays; ``ok``: which of its rows
    can be looked up, None for all), the kernel writing its answers straight into ``out[s]``,
    and finish their codes there. Returns which ranges the part uses (its ``prefix`` codes
    stay the pack's range codes until :func:`_columns` makes them dense) and its ``sources``
    chunk."""
    from slipcatch.intel.fastindex import Answers

    k = s.stop - s.start
    q_us = us if ok is None else np.where(ok, us, 0).astype(np.int64)
    asn_fact, dec, src_set, local = (_scratch(name, k, np.int32) for name in
                                     ("asn_fact", "decisive", "source_set", "local"))
    into = Answers(category=out.category[s], country=out.country[s], asn=out.asn[s],
                   as_org=out.as_org[s], asn_fact=asn_fact, actor=out.actor[s], decisive=dec,
                   projected=out.projected[s])
    r = pack.lookup_arrays(hi, lo, q_us, extras=True, into=into,
                           into_extras=(src_set, out.tor[s]))
    assert r.source_sets is not None
    for name, dic in (("category", d.category), ("country", d.country),
                      ("as_org", d.as_org), ("actor", d.actor)):
        if dic.remap is not None:  # the pack's list repeats a name: codes of the distinct
            col = getattr(out, name)[s]
            col[:] = dic.codes(col)
    # the geo layer (country / AS organisation of the whole address space) is a source too
    org, country = out.as_org[s], out.country[s]
    geo = np.greater_equal(org, 0, out=_scratch("geo", k, np.bool_))
    geo |= (country >= 0) & (asn_fact < 0)
    # AS organisation: the geo table's name, else the label of the fact that gave the AS
    need = np.flatnonzero((org < 0) & (asn_fact >= 0))
    if len(need):
        org[need] = d.label_org[asn_fact[need]]
    # prefix: the range of the fact that decided the category (-1: none, or no range text)
    raw = out.prefix[s]
    dec += 1
    np.take(d.range_of_decisive, dec, out=raw, mode="clip")  # dec + 1 is in range
    np.less(out.asn[s], 0, out=out.asn_null[s])
    if ok is not None:
        none = ~ok
        for a in (out.category, out.country, out.as_org, out.actor, out.prefix):
            a[s][none] = -1
        out.asn_null[s] |= none
        out.tor[s] &= ok
        out.projected[s] &= ok
        geo &= ok
        src_set[none] = 0  # masks[0] == 0: no source
    seen = np.zeros(len(d.range_names) + 1, np.bool_)
    raw += 1
    seen[raw] = True
    raw -= 1
    masks = [int(m) for m in r.source_sets]
    if d.geo_code is None:
        local, keys = src_set, masks
    else:
        np.multiply(src_set, np.int32(2), out=local)
        local += geo
        keys = [m | (g << 63) for m in masks for g in (0, 1)]
    return seen[1:], _sources_part(d, keys, local)


def _parts(n: int) -> list[slice]:
    return [slice(a, min(a + PART_ROWS, n)) for a in range(0, n, PART_ROWS)]


def _run(work: list[Callable[[], Any]], threads: int | None) -> list[Any]:
    """The results of ``work``, on a pool of threads when there is more than one part."""
    workers = min(threads or _threads(), len(work))
    if workers <= 1:
        return [w() for w in work]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda w: w(), work))


def columns(pack: IntelPack, hi: npt.NDArray[np.uint64], lo: npt.NDArray[np.uint64],
            valid: npt.NDArray[np.bool_], us: npt.NDArray[np.int64],
            time_ok: npt.NDArray[np.bool_], *, threads: int | None = None) -> Columns:
    """The lookup columns of addresses ``(hi, lo)`` at ``us``; rows not ``valid`` or not
    ``time_ok`` know nothing (nulls, flags false, no sources). Large inputs are worked in
    parts of :data:`PART_ROWS` rows on ``threads`` threads (default: one per usable core)."""
    ok = valid & time_ok
    return _columns(pack, len(hi), lambda s: (hi[s], lo[s], None if ok[s].all() else ok[s]),
                    us, threads)


def lookup_columns(pack: IntelPack, addresses: pa.Array, us: npt.NDArray[np.int64],
                   time_ok: npt.NDArray[np.bool_], *, threads: int | None = None) -> Columns:
    """:func:`columns` of an :func:`address_column`, each part's addresses parsed by the
    thread that looks them up (a text column costs more to parse than to look up)."""

    def keys(s: slice) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64],
                                npt.NDArray[np.bool_] | None]:
        hi, lo, valid = address_keys(addresses.slice(s.start, s.stop - s.start))
        ok = valid & time_ok[s]
        return hi, lo, None if ok.all() else ok

    return _columns(pack, len(addresses), keys, us, threads)


def _columns(pack: IntelPack, n: int,
             keys: Callable[[slice], tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64],
                                           npt.NDArray[np.bool_] | None]],
             us: npt.NDArray[np.int64], threads: int | None) -> Columns:
    d = pack_dicts(pack)
    out = _Out.empty(n)
    parts = _parts(n) or [slice(0, 0)]
    if len(parts) > 1:
        pack.prepare_fast_index()  # built once, before the threads share it
    else:
        threads = 1

    def part(s: slice) -> Callable[[], tuple[npt.NDArray[np.bool_], pa.Array]]:
        return lambda: _fill(pack, d, out, s, *keys(s), us[s])

    done = _run([part(s) for s in parts], threads)
    # prefix: dense codes over the ranges the rows use, in the pack's order of ranges
    used = (np.flatnonzero(np.logical_or.reduce([seen for seen, _ in done])) if n
            else np.zeros(0, np.int64))
    dense = np.full(len(d.range_names) + 1, -1, np.int32)  # dense[code + 1]; -1 stays -1
    dense[used + 1] = np.arange(len(used), dtype=np.int32)

    def densify(s: slice) -> Callable[[], None]:
        def run() -> None:
            raw = out.prefix[s]
            raw += 1
            np.take(dense, raw, out=raw)
        return run

    _run([densify(s) for s in parts], threads)
    _SCRATCH.__dict__.pop("arrays", None)  # parts worked on the calling thread: not kept
    return Columns(
        n=n, category=out.category, country=out.country, as_org=out.as_org,
        actor=out.actor, prefix=out.prefix, prefix_names=d.range_names[used].tolist(),
        asn=out.asn, asn_null=out.asn_null, tor=out.tor, projected=out.projected,
        sources=[chunk for _, chunk in done], dicts=d,
    )


def _sources_arrow(c: Columns) -> pa.ChunkedArray:
    """The ``list<dictionary<int8, string>>`` column of the rows' source names (the parts'
    chunks, in row order)."""
    return pa.chunked_array(c.sources, _SOURCES_TYPE)


def to_pandas(c: Columns, prefix: str = "", index: Any = None) -> pd.DataFrame:
    """The columns as a pandas DataFrame: ``category`` columns from the codes (dtypes made
    once per pack), ``asn`` an ``Int64`` column, ``sources`` an Arrow-backed list column
    (each row reads as a list of names)."""
    import pandas as pd

    def cat(codes: npt.NDArray[Any], dtype: pd.CategoricalDtype) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)

    d = c.dicts
    cols: dict[str, Any] = {
        "category": cat(c.category, d.category.pandas_dtype()),
        "country": cat(c.country, d.country.pandas_dtype()),
        "asn": pd.arrays.IntegerArray(c.asn, c.asn_null),
        "as_org": cat(c.as_org, d.as_org.pandas_dtype()),
        # (through an Index: a dtype from a list checks its names three times slower)
        "prefix": cat(c.prefix, pd.CategoricalDtype(pd.Index(c.prefix_names))),
        "actor": cat(c.actor, d.actor.pandas_dtype()),
        "tor": c.tor,
        "projected": c.projected,
        "sources": pd.arrays.ArrowExtensionArray(_sources_arrow(c)),
    }
    return pd.DataFrame({prefix + k: v for k, v in cols.items()}, index=index, copy=False)


def _dict_arrow(codes: npt.NDArray[Any], names: pa.Array) -> pa.DictionaryArray:
    idx = np.asarray(codes, np.int32)
    neg = idx < 0
    return pa.DictionaryArray.from_arrays(
        pa.array(idx, pa.int32(), mask=neg if neg.any() else None), names)


def to_arrow(c: Columns, prefix: str = "") -> pa.Table:
    """The columns as an Arrow table: dictionary columns from the codes, ``sources`` a list
    of dictionary-encoded names."""
    d = c.dicts
    sources = _sources_arrow(c)
    cols: dict[str, pa.Array] = {
        "category": _dict_arrow(c.category, d.category.arrow()),
        "country": _dict_arrow(c.country, d.country.arrow()),
        "asn": pa.array(c.asn, pa.int64(), mask=c.asn_null),
        "as_org": _dict_arrow(c.as_org, d.as_org.arrow()),
        "prefix": _dict_arrow(c.prefix, pa.array(c.prefix_names, pa.string())),
        "actor": _dict_arrow(c.actor, d.actor.arrow()),
        "tor": pa.array(c.tor, pa.bool_()),
        "projected": pa.array(c.projected, pa.bool_()),
        "sources": sources,
    }
    return pa.table({prefix + k: v for k, v in cols.items()})
