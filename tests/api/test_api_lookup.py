"""slipcatch.lookup and slipcatch.enrich: values, types, input kinds, errors."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import slipcatch
from slipcatch.intel import load_pack

from .rowcheck import assert_row_matches

AT = "2014-11-28T02:14:13Z"


def test_lookup_actor_range_at_time() -> None:
    df = slipcatch.lookup(["175.45.176.27"], at=AT)
    assert list(df.columns[:2]) == ["ip", "at"]
    row = df.iloc[0]
    assert row["ip"] == "175.45.176.27"
    assert row["at"] == pd.Timestamp("2014-11-28T02:14:13", tz="UTC")
    assert row["category"] == "actor"
    assert row["actor"] == "dprk-rgb"
    assert row["country"] == "KP"
    assert row["asn"] == 131279
    assert row["prefix"] == "175.45.176.0/22"
    assert not row["tor"] and not row["projected"]
    assert list(row["sources"]) == ["geoip2fast-geolite2", "slipcatch-actors"]


def test_lookup_columns_and_types() -> None:
    df = slipcatch.lookup(["175.45.176.27", "8.8.8.8", "10.0.0.1", "2001:db8::1"], at=AT)
    for col in ("ip", "at", "category", "country", "asn", "as_org", "actor", "tor",
                "projected", "sources"):
        assert col in df.columns
    assert str(df["asn"].dtype) == "Int64"
    assert df["tor"].dtype == bool and df["projected"].dtype == bool
    assert list(df["category"].astype(str)) == ["actor", "hosting", "reserved", "reserved"]
    assert df.loc[1, "asn"] == 15169  # the shipped iptoasn subset (2020), projected back
    assert df.loc[1, "as_org"] == "GOOGLE" and df.loc[1, "country"] == "US"
    assert bool(df.loc[1, "projected"])  # the hosting list is dated after 2014
    assert pd.isna(df.loc[3, "country"])


def test_lookup_matches_the_pack_per_address() -> None:
    """The vectorised columns equal IntelPack.lookup, address by address."""
    rng = np.random.default_rng(7)
    ips = [f"{a}.{b}.{c}.{d}" for a, b, c, d in rng.integers(1, 255, size=(300, 4))]
    ips += ["175.45.176.27", "8.8.8.8", "10.1.2.3", "2001:db8::1", "2a00:1450::1"]
    when = datetime(2014, 12, 1, 12, tzinfo=UTC)
    df = slipcatch.lookup(ips, at=when)
    for f, (_, row) in zip(load_pack().lookup(ips, [when] * len(ips)), df.iterrows(),
                           strict=True):
        assert_row_matches(row, f)


def test_lookup_times_aligned_and_input_order() -> None:
    times = ["2014-11-28T02:14:13Z", 1417399200, datetime(2014, 12, 3, 1, 40, 12)]
    df = slipcatch.lookup(pd.Series(["8.8.8.8", "175.45.176.27", "175.45.179.36"]), at=times)
    assert list(df["ip"]) == ["8.8.8.8", "175.45.176.27", "175.45.179.36"]
    assert list(df["at"]) == [pd.Timestamp("2014-11-28T02:14:13", tz="UTC"),
                              pd.Timestamp("2014-12-01T02:00:00", tz="UTC"),
                              pd.Timestamp("2014-12-03T01:40:12", tz="UTC")]
    assert list(df["actor"].astype(object).where(df["actor"].notna(), None)) == [
        None, "dprk-rgb", "dprk-rgb"]


def test_lookup_tor_with_extra_source(tmp_path) -> None:  # type: ignore[no-untyped-def]
    exits = tmp_path / "exit-addresses"
    exits.write_text(
        "ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E\n"
        "Published 2018-10-11 11:09:54\nLastStatus 2018-10-11 12:02:41\n"
        "ExitAddress 162.247.74.201 2018-10-11 12:07:38\n", encoding="utf-8")
    pack = load_pack([exits])
    df = slipcatch.lookup(["162.247.74.201", "8.8.8.8"], at="2018-10-11T12:10:00Z", pack=pack)
    assert list(df["tor"]) == [True, False]
    assert df.loc[0, "category"] == "tor"
    assert "tordnsel" in " ".join(df.loc[0, "sources"]) or len(df.loc[0, "sources"]) >= 1


def test_lookup_errors() -> None:
    with pytest.raises(slipcatch.UsageError, match=r"ips\[1\]"):
        slipcatch.lookup(["8.8.8.8", "not-an-ip"], at=AT)
    with pytest.raises(slipcatch.UsageError, match="at"):
        slipcatch.lookup(["8.8.8.8"], at="yesterday-ish")
    with pytest.raises(slipcatch.UsageError, match="2 times for 1"):
        slipcatch.lookup(["8.8.8.8"], at=[AT, AT])
    assert issubclass(slipcatch.UsageError, slipcatch.SlipcatchError)
    for name in ("EvidenceError", "IntelError", "CaseError"):
        assert issubclass(getattr(slipcatch, name), slipcatch.SlipcatchError)


def _events() -> pd.DataFrame:
    return pd.DataFrame({
        "time": ["2014-11-28T02:14:13Z", "2014-12-01 10:00", None, "2014-12-01"],
        "src_ip": ["175.45.176.27", "8.8.8.8", "175.45.176.27", "bad"],
        "persona": ["gop", "gop", "gop", "gop"],
    }, index=[10, 11, 12, 13])


def test_enrich_pandas_and_accessor() -> None:
    df = _events()
    out = slipcatch.enrich(df, ip="src_ip", time="time", prefix="sc_")
    assert list(out.index) == [10, 11, 12, 13]
    assert list(out.columns[:3]) == ["time", "src_ip", "persona"]
    assert out.loc[10, "sc_category"] == "actor" and out.loc[10, "sc_actor"] == "dprk-rgb"
    assert out.loc[11, "sc_category"] == "hosting"
    # unreadable time or address: nulls, never an error
    assert pd.isna(out.loc[12, "sc_category"]) and pd.isna(out.loc[13, "sc_category"])
    assert list(out.loc[13, "sc_sources"]) == []
    assert "sc_category" not in df.columns  # the input is not changed
    via = df.slipcatch.enrich(ip="src_ip", time="time")
    assert list(via["category"].astype(object).where(via["category"].notna(), None)) == [
        "actor", "hosting", None, None]
    with pytest.raises(slipcatch.UsageError, match="prefix"):
        slipcatch.enrich(via)
    with pytest.raises(slipcatch.UsageError, match="no ip column 'addr'"):
        slipcatch.enrich(df, ip="addr")


def test_enrich_polars_and_arrow_keep_their_kind() -> None:
    df = _events().reset_index(drop=True)
    pl_out = slipcatch.enrich(pl.from_pandas(df))
    assert isinstance(pl_out, pl.DataFrame)
    assert pl_out["category"].cast(pl.Utf8).to_list() == ["actor", "hosting", None, None]
    assert pl_out["asn"].to_list()[0] == 131279
    tbl = slipcatch.enrich(pa.Table.from_pandas(df, preserve_index=False), prefix="x_")
    assert isinstance(tbl, pa.Table)
    assert tbl.column("x_actor").to_pylist() == ["dprk-rgb", None, None, None]
    assert tbl.column("x_tor").to_pylist() == [False] * 4


def test_enrich_datetime_and_epoch_columns() -> None:
    df = pd.DataFrame({
        "ts": pd.to_datetime(["2014-11-28T02:14:13Z", "2014-12-03T01:40:12Z"], utc=True),
        "ip": ["175.45.176.27", "175.45.179.36"],
    })
    out = slipcatch.enrich(df, ip="ip", time="ts")
    assert list(out["actor"]) == ["dprk-rgb", "dprk-rgb"]
    epoch = pd.DataFrame({"t": [1417140853, 1417570812], "ip": ["175.45.176.27", "8.8.8.8"]})
    out2 = slipcatch.enrich(epoch, ip="ip", time="t")
    assert list(out2["category"].astype(str)) == ["actor", "hosting"]


def test_import_stays_light_and_accessor_registers() -> None:
    import subprocess
    import sys

    light = subprocess.run(
        [sys.executable, "-c", "import sys, slipcatch.model; "
         "print('pandas' in sys.modules, 'slipcatch.api' in sys.modules)"],
        capture_output=True, text=True, check=True)
    assert light.stdout.split() == ["False", "False"]
    accessor = subprocess.run(
        [sys.executable, "-c", "import pandas as pd, slipcatch; "
         "print(hasattr(pd.DataFrame(), 'slipcatch'))"],
        capture_output=True, text=True, check=True)
    assert accessor.stdout.strip() == "True"
