"""``enrich`` equals the implementation it replaced (tests/api/old_enrich_reference.py: per-row
fact lists, a factorize per fact column, a list column of strings), column by column, on a
large random sample: known networks, uniform addresses, Tor exits, IPv6, bad addresses and
bad times; and the same for integer addresses, the polars and the Arrow paths."""

from __future__ import annotations

import ipaddress

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import slipcatch
from slipcatch.intel import load_pack

from .old_enrich_reference import old_enrich

COLUMNS = ("category", "country", "asn", "as_org", "prefix", "actor", "tor", "projected",
           "sources")


def _first(rng: str) -> str:
    """An address inside a fact's range text (``a.b.c.d/n`` or ``first-last``)."""
    if "-" in rng:
        return rng.split("-")[0].strip()
    return str(ipaddress.ip_network(rng, strict=False)[-1])


def _texts(pack, n: int, seed: int = 3) -> list[str | None]:  # type: ignore[no-untyped-def]
    from slipcatch.intel import CATEGORY_ORDER
    from slipcatch.model import Category

    rng = np.random.default_rng(seed)
    table = pack._d.table
    tor = np.flatnonzero(np.asarray(table.cat) == CATEGORY_ORDER.index(Category.TOR))
    ranges = [table.strings[int(table.rng[f])] for f in tor[:2000]]
    tor_ips = [_first(x) for x in ranges if x]
    known = [_first(table.strings[int(i)])
             for i in np.asarray(table.rng)[rng.integers(0, len(table), 3000)] if i >= 0]
    out: list[str | None] = []
    for k in rng.integers(0, 6, n):
        if k == 0 and tor_ips:
            out.append(tor_ips[rng.integers(0, len(tor_ips))])
        elif k == 1:
            out.append(known[rng.integers(0, len(known))])
        elif k == 2:
            out.append(str(ipaddress.IPv4Address(int(rng.integers(1 << 24, 0xDF000000)))))
        elif k == 3:
            out.append(f"2001:db8::{int(rng.integers(0, 65535)):x}" if rng.random() < 0.5
                       else known[rng.integers(0, len(known))])
        elif k == 4:
            out.append(str(ipaddress.IPv4Address(int(rng.integers(0, 1 << 32)))))
        else:
            out.append(None if rng.random() < 0.05 else
                       "not an address" if rng.random() < 0.1 else tor_ips[0])
    return out


def _plain(series: pd.Series) -> list[object]:
    """Values as plain Python objects, nulls as None (lists as lists)."""
    if series.name is not None and str(series.name).endswith("sources"):
        return [list(x) for x in pa.array(series).to_pylist()]
    return [None if pd.isna(v) else v for v in series.astype(object)]


def _assert_same(new: pd.DataFrame, old: pd.DataFrame) -> None:
    for col in COLUMNS:
        assert _plain(new[col]) == _plain(old[col]), col


@pytest.fixture(scope="module")
def sample():  # type: ignore[no-untyped-def]
    pack = load_pack()
    n = 120_000
    texts = _texts(pack, n)
    rng = np.random.default_rng(5)
    us = rng.integers(1_388_534_400_000_000, 1_735_689_600_000_000, n, dtype=np.int64)
    time = pd.Series(pd.to_datetime(us, unit="us", utc=True))
    time[rng.random(n) < 0.01] = pd.NaT  # unreadable times
    df = pd.DataFrame({"time": time, "src_ip": texts})
    return pack, df, old_enrich(df, pack=pack)


def test_every_column_equals_the_old_implementation(sample) -> None:  # type: ignore[no-untyped-def]
    pack, df, old = sample
    new = slipcatch.enrich(df, pack=pack)
    _assert_same(new, old)
    # the sample exercises what it is meant to: Tor rows, several source sets, nulls
    assert new["tor"].any() and not new["tor"].all()
    assert new["category"].isna().sum() > 100
    assert len({tuple(x) for x in _plain(new["sources"])}) > 5
    assert new["prefix"].notna().sum() > 1000 and new["as_org"].notna().sum() > 1000


def test_integer_addresses_equal_texts(sample) -> None:  # type: ignore[no-untyped-def]
    """IPv4 as unsigned integers: the same columns as the texts of the same addresses."""
    pack, df, old = sample
    v4 = [isinstance(t, str) and "." in t and ":" not in t and t != "not an address"
          for t in df["src_ip"]]
    sub = df[v4].reset_index(drop=True)
    ints = pd.Series([int(ipaddress.IPv4Address(t)) for t in sub["src_ip"]], dtype="uint32")
    by_int = slipcatch.enrich(sub.assign(src_ip=ints), pack=pack)
    _assert_same(by_int, old[v4].reset_index(drop=True))
    as_int64 = slipcatch.enrich(sub.assign(src_ip=ints.astype("int64")), pack=pack)
    _assert_same(as_int64, by_int)


def test_polars_and_arrow_equal_pandas(sample) -> None:  # type: ignore[no-untyped-def]
    pack, df, old = sample
    head = df.iloc[:20_000]
    want = old.iloc[:20_000]
    got_pl = slipcatch.enrich(pl.from_pandas(head), pack=pack).to_pandas()
    got_pa = slipcatch.enrich(pa.Table.from_pandas(head, preserve_index=False),
                              pack=pack).to_pandas()
    for got in (got_pl, got_pa):
        for col in COLUMNS:
            values = [list(x) if isinstance(x, list | np.ndarray) else x
                      for x in got[col].astype(object)]
            values = [None if not isinstance(v, list) and pd.isna(v) else v for v in values]
            assert values == _plain(want[col].reset_index(drop=True)), col


def test_parts_on_threads_equal_one_pass(sample, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A large input is worked in parts on a pool of threads: with parts of 7,000 rows (18 of
    them, the last one short) on 3 threads every column still equals the old implementation,
    for texts, integers and the polars path, and the source lists read as lists."""
    from slipcatch import _lookupframe

    pack, df, old = sample
    monkeypatch.setattr(_lookupframe, "PART_ROWS", 7_000)
    monkeypatch.setattr(_lookupframe, "_threads", lambda: 3)
    new = slipcatch.enrich(df, pack=pack)
    _assert_same(new, old)
    assert new["sources"].list.len().sum() == sum(len(x) for x in _plain(old["sources"]))
    chunks = new["sources"].array._pa_array  # the ArrowExtensionArray's chunked array
    assert chunks.num_chunks == 18
    v4 = [isinstance(t, str) and "." in t and ":" not in t and t != "not an address"
          for t in df["src_ip"]]
    sub = df[v4].reset_index(drop=True)
    ints = pd.Series([int(ipaddress.IPv4Address(t)) for t in sub["src_ip"]], dtype="uint32")
    _assert_same(slipcatch.enrich(sub.assign(src_ip=ints), pack=pack),
                 old[v4].reset_index(drop=True))
    got_pl = slipcatch.enrich(pl.from_pandas(df), pack=pack)
    assert got_pl["category"].to_list() == _plain(old["category"])
    assert [list(x) for x in got_pl["sources"].to_list()] == _plain(old["sources"])


def test_scratch_arrays_not_kept_after_the_call(sample, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Parts worked on the calling thread (one usable core) reuse that thread's scratch arrays
    during the call and leave none behind: the values equal the reference, and the calling
    thread holds no scratch afterwards."""
    from slipcatch import _lookupframe

    pack, df, old = sample
    monkeypatch.setattr(_lookupframe, "PART_ROWS", 7_000)
    monkeypatch.setattr(_lookupframe, "_threads", lambda: 1)
    _assert_same(slipcatch.enrich(df, pack=pack), old)
    assert "arrays" not in _lookupframe._SCRATCH.__dict__
