"""``enrich``/``lookup`` columns built from kernel codes: integer addresses, column types,
datetime columns read without parsing, time-bounded against static segments on the kernel's
fast path (large batches) and its general path (small ones), IPv6, unreadable rows; and a
property test against the per-row ``IntelPack.lookup``."""

from __future__ import annotations

import io
import ipaddress
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import slipcatch
from slipcatch.intel import load_pack

from .rowcheck import assert_row_matches

AT = "2014-11-28T02:14:13Z"
BIG = 5000  # at least the kernel's _FAST_MIN (4096): the /24 fast path answers


def _values(series: pd.Series) -> list[object]:
    return [None if not isinstance(v, list) and pd.isna(v) else v
            for v in series.astype(object)]


def test_integer_addresses_by_hand() -> None:
    # 175.45.176.27 = 175*2**24 + 45*2**16 + 176*2**8 + 27 = 2939007003 (the DPRK range);
    # 8.8.8.8 = 134744072; -1, 2**32 and a fraction are no IPv4 address; None is missing
    df = pd.DataFrame({
        "time": [AT] * 6,
        "ip": pd.array([2939007003, 134744072, -1, 2**32, None, 134744072], dtype="Int64"),
    })
    out = slipcatch.enrich(df, ip="ip")
    assert _values(out["category"]) == ["actor", "hosting", None, None, None, "hosting"]
    assert _values(out["actor"]) == ["dprk-rgb", None, None, None, None, None]
    assert _values(out["country"]) == ["KP", "US", None, None, None, "US"]
    assert _values(out["asn"]) == [131279, 15169, None, None, None, 15169]
    assert _values(out["prefix"])[0] == "175.45.176.0/22"
    assert list(out.loc[0, "sources"]) == ["geoip2fast-geolite2", "slipcatch-actors"]
    assert [list(x) for x in out["sources"]][2:5] == [[], [], []]
    assert out["tor"].tolist() == [False] * 6
    floats = pd.DataFrame({"time": [AT] * 3, "ip": [2939007003.0, 2939007003.5, np.nan]})
    assert _values(slipcatch.enrich(floats, ip="ip")["actor"]) == ["dprk-rgb", None, None]
    # a large batch of integers (fast path) gives the texts' answers
    ints = np.resize(np.array([2939007003, 134744072, 167772161], np.uint32), BIG)
    texts = [str(ipaddress.IPv4Address(int(v))) for v in ints]
    by_int = slipcatch.enrich(pd.DataFrame({"time": [AT] * BIG, "ip": ints}), ip="ip")
    by_text = slipcatch.enrich(pd.DataFrame({"time": [AT] * BIG, "ip": texts}), ip="ip")
    for col in ("category", "country", "asn", "as_org", "prefix", "actor", "projected"):
        assert _values(by_int[col]) == _values(by_text[col]), col
    assert _values(by_int["category"])[:3] == ["actor", "hosting", "reserved"]  # 10.0.0.1


def test_lookup_takes_integers_too() -> None:
    df = slipcatch.lookup(pa.array([2939007003], pa.uint32()), at=AT)
    assert df.loc[0, "actor"] == "dprk-rgb" and df.loc[0, "ip"] == 2939007003
    with pytest.raises(slipcatch.UsageError, match=r"ips\[0\]"):
        slipcatch.lookup([-5], at=AT)
    with pytest.raises(slipcatch.UsageError, match="texts or IPv4 integers"):
        slipcatch.lookup(pa.array([True]), at=AT)


def test_column_types() -> None:
    df = pd.DataFrame({"time": [AT, AT], "src_ip": ["175.45.176.27", "bad"]})
    out = slipcatch.enrich(df)
    for col in ("category", "country", "as_org", "prefix", "actor"):
        assert isinstance(out[col].dtype, pd.CategoricalDtype), col
    assert str(out["asn"].dtype) == "Int64"
    assert out["tor"].dtype == bool and out["projected"].dtype == bool
    # sources: a list per row of one-byte codes into the names (the names stored once)
    names_type = pa.list_(pa.dictionary(pa.int8(), pa.string()))
    assert out["sources"].dtype == pd.ArrowDtype(names_type)
    assert out["sources"].list.len().tolist() == [2, 0]
    as_text = out["sources"].astype(pd.ArrowDtype(pa.list_(pa.string())))
    assert as_text.tolist() == [["geoip2fast-geolite2", "slipcatch-actors"], []]
    # to Arrow, and through Parquet, as a list of names
    table = pa.Table.from_pandas(out)
    assert table.column("sources").type == names_type
    buf = io.BytesIO()
    pq.write_table(table, buf)
    buf.seek(0)
    assert pq.read_table(buf).column("sources").to_pylist() == [
        ["geoip2fast-geolite2", "slipcatch-actors"], []]
    pl_out = slipcatch.enrich(pl.from_pandas(df))
    assert pl_out.schema["category"] == pl.Categorical
    assert pl_out.schema["sources"] == pl.List(pl.Categorical)
    assert pl_out["sources"].to_list() == [["geoip2fast-geolite2", "slipcatch-actors"], []]
    tbl = slipcatch.enrich(pa.Table.from_pandas(df, preserve_index=False))
    assert pa.types.is_dictionary(tbl.schema.field("category").type)
    assert tbl.schema.field("sources").type == names_type
    assert tbl.to_pandas().loc[0, "category"] == "actor"


def test_datetime_columns_are_read_as_stamps() -> None:
    """datetime64 in any unit, with or without a zone, polars Datetime and Arrow timestamps
    give the same rows as ISO texts (naive = UTC); NaT gives nulls."""
    texts = ["2014-11-28T02:14:13Z", "2014-12-03T01:40:12Z", None]
    ips = ["175.45.176.27", "175.45.179.36", "175.45.176.27"]
    want = _values(slipcatch.enrich(pd.DataFrame({"time": texts, "ip": ips}),
                                    ip="ip")["actor"])
    assert want == ["dprk-rgb", "dprk-rgb", None]
    stamps = pd.to_datetime(texts, utc=True)
    for kind in (stamps, stamps.as_unit("s"), stamps.as_unit("ms"), stamps.tz_convert(None),
                 stamps.tz_convert("Asia/Pyongyang")):
        got = slipcatch.enrich(pd.DataFrame({"time": kind, "ip": ips}), ip="ip")
        assert _values(got["actor"]) == want, kind.dtype
    pl_df = pl.from_pandas(pd.DataFrame({"time": stamps.tz_convert(None), "ip": ips}))
    assert isinstance(pl_df.schema["time"], pl.Datetime)
    assert slipcatch.enrich(pl_df, ip="ip")["actor"].cast(pl.String).to_list() == want
    tbl = pa.table({"time": pa.array(stamps, pa.timestamp("ns", tz="UTC")), "ip": ips})
    assert tbl.column("time").null_count == 1
    assert slipcatch.enrich(tbl, ip="ip").column("actor").to_pylist() == want


def _tor_pack(tmp_path):  # type: ignore[no-untyped-def]
    exits = tmp_path / "exit-addresses"
    exits.write_text(
        "ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E\n"
        "Published 2018-10-11 11:09:54\nLastStatus 2018-10-11 12:02:41\n"
        "ExitAddress 162.247.74.201 2018-10-11 12:07:38\n", encoding="utf-8")
    return load_pack([exits])


@pytest.mark.parametrize("rows", [4, BIG])
def test_time_bounded_and_static_segments(tmp_path, rows: int) -> None:  # type: ignore[no-untyped-def]
    """A Tor exit listed on 2018-10-11 (a fact bounded in time) is tor then and not in 2012;
    the DPRK range (unbounded facts, the fast path's static answers) is the same at both
    times; IPv6 and bad addresses alongside. ``rows`` 4: the general kernel; 5000: the /24 and
    /64 fast paths with the per-segment source sets."""
    pack = _tor_pack(tmp_path)
    ips = ["162.247.74.201", "175.45.176.27", "2001:db8::1", "nope"]
    then, before = "2018-10-11T12:10:00Z", "2012-01-01T00:00:00Z"
    for when, tor in ((then, True), (before, False)):
        df = pd.DataFrame({"time": [when] * rows, "ip": (ips * rows)[:rows]})
        out = slipcatch.enrich(df, ip="ip", pack=pack).iloc[:4]
        assert out["tor"].tolist() == [tor, False, False, False]
        assert _values(out["actor"]) == [None, "dprk-rgb", None, None]
        assert _values(out["category"])[1:] == ["actor", "reserved", None]
        assert (out.loc[0, "category"] == "tor") == tor
        assert ("tordnsel" in " ".join(out.loc[0, "sources"])) == tor
        assert list(out.loc[1, "sources"]) == ["geoip2fast-geolite2", "slipcatch-actors"]
        assert list(out.loc[3, "sources"]) == []
        assert _values(out["prefix"])[1] == "175.45.176.0/22"


# -- property: enrich equals the per-row lookup ---------------------------------------------


_PACK = None


def _pack():  # type: ignore[no-untyped-def]
    global _PACK
    if _PACK is None:
        _PACK = load_pack()
    return _PACK


def _known_addresses() -> list[str]:
    pack = _pack()
    table = pack._d.table
    rng = np.random.default_rng(11)
    out = []
    for f in rng.integers(0, len(table), 300):
        text = table.strings[int(table.rng[int(f)])]
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            continue
        out += [str(net[0]), str(net[-1])]
    return out


ADDRESS = st.one_of(
    st.sampled_from(["175.45.176.27", "8.8.8.8", "10.1.2.3", "2001:db8::1", "::1",
                     "185.220.101.7", "2a00:1450::1"]),
    st.integers(1 << 24, (1 << 32) - 1).map(lambda v: str(ipaddress.IPv4Address(v))),
    st.integers(0, (1 << 128) - 1).map(lambda v: str(ipaddress.IPv6Address(v))),
    st.just("__known__"),
)
WHEN = st.integers(0, 15 * 365 * 24).map(
    lambda h: datetime(2010, 1, 1, tzinfo=UTC) + timedelta(hours=h))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(ADDRESS, WHEN, st.integers(0, 599)), min_size=1, max_size=12),
       big=st.booleans())
def test_enrich_equals_the_per_row_lookup(rows, big: bool) -> None:  # type: ignore[no-untyped-def]
    pack = _pack()
    known = _known_addresses()
    ips = [known[k] if ip == "__known__" else ip for ip, _, k in rows]
    whens = [w for _, w, _ in rows]
    n = BIG if big else len(ips)
    df = pd.DataFrame({"time": (whens * n)[:n], "ip": (ips * n)[:n]})
    out = slipcatch.enrich(df, ip="ip", pack=pack).iloc[:len(ips)]
    for i, f in enumerate(pack.lookup(ips, whens)):
        assert_row_matches(out.iloc[i], f)


def test_too_many_sources_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """The source sets are bits of one 64-bit word: a pack with more sources than that is
    refused by enrich (a UsageError naming the count), while the kernel without extras still
    answers (its fast tables are built without source sets)."""
    from slipcatch.intel import fastindex
    from slipcatch.intel.addr import MAPPED_FIRST

    monkeypatch.setattr(fastindex.FactBits, "MAX_SOURCES", 2)
    pack = load_pack()  # a new pack object: its fact bits are not worked out yet
    df = pd.DataFrame({"time": [AT], "ip": ["8.8.8.8"]})
    with pytest.raises(slipcatch.UsageError, match="more than 2 intel sources"):
        slipcatch.enrich(df, ip="ip", pack=pack)
    with pytest.raises(ValueError, match="more than 2 intel sources"):
        pack.fact_bits()  # the refusal is remembered, not recomputed
    lo = np.full(BIG, MAPPED_FIRST | 0x08080808, np.uint64)  # 8.8.8.8
    r = pack.lookup_arrays(np.zeros(BIG, np.uint64), lo, np.zeros(BIG, np.int64))
    assert r.source_set is None and r.tor_fact is None
    assert pack._fast4 is not None and pack._fast4.sets is None
    assert {int(c) for c in r.category} == {5}  # hosting, from the fast path
