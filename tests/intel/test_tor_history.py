"""The shipped Tor exit history (data/tor_history.npz): three-way answers on real addresses.

No test here reads ../shared: the layer is package data.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from slipcatch.cli import main
from slipcatch.intel import IntelPack
from slipcatch.intel.addr import ips_to_arrays, to_micros
from slipcatch.intel.torhistory import NO_DAYS, load
from slipcatch.model import Category


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_history_is_package_data_and_small() -> None:
    from importlib import resources

    raw = resources.files("slipcatch.data").joinpath("tor_history.npz").read_bytes()
    assert len(raw) < 3_000_000
    th = load()
    assert th.meta["intervals"] == 165_769
    assert th.meta["addresses"] == 60_717
    assert th.info.valid_from == at(2014, 12, 30)


def test_known_exit_2020_is_tor(pack: IntelPack) -> None:
    a = pack.lookup_one("185.220.101.1", at(2020, 7, 15, 12))
    assert a.category == Category.TOR
    assert a.tor == "listed"
    assert a.tor_nearest_listing_days is None
    assert any(f.source == "tor-exit-history" for f in a.facts)


def test_first_listed_2022_is_not_tor_in_2019(pack: IntelPack) -> None:
    # 101.3.116.49: first listing 2022-03-21T03:30:07Z (SecOps); 2019-10-15 is dense coverage
    a = pack.lookup_one("101.3.116.49", at(2019, 10, 15, 12))
    assert a.category != Category.TOR
    assert a.tor == "not-listed"
    assert a.tor_nearest_listing_days is not None and a.tor_nearest_listing_days > 800
    assert pack.lookup_one("101.3.116.49", at(2022, 3, 21, 12)).tor == "listed"


def test_sony_date_reads_listed_36_days_later(pack: IntelPack) -> None:
    a = pack.lookup_one("171.25.193.77", at(2014, 11, 24, 12))
    assert a.category != Category.TOR
    assert a.tor == "no-data"
    assert a.tor_nearest_listing_days == 36
    # the snapshot day itself, with the 24 h tolerance
    assert pack.lookup_one("171.25.193.77", at(2014, 12, 30, 12)).tor == "listed"


def test_hole_2024_reads_no_data(pack: IntelPack) -> None:
    a = pack.lookup_one("8.8.8.8", at(2024, 5, 26, 12))
    assert a.tor == "no-data"
    assert pack.lookup_one("8.8.8.8", at(2024, 5, 10, 12)).tor == "not-listed"
    assert pack.lookup_one("8.8.8.8", at(2012, 5, 10, 12)).tor == "no-data"


def test_status_is_vectorised_and_matches_objects(pack: IntelPack) -> None:
    ips = ["185.220.101.1", "101.3.116.49", "171.25.193.77", "8.8.8.8"] * 3
    times = [at(2020, 7, 15, 12)] * 4 + [at(2019, 10, 15)] * 4 + [at(2014, 11, 24)] * 4
    hi, lo = ips_to_arrays(ips)
    us = np.array([to_micros(t) for t in times], np.int64)
    status, near = pack.tor_status(hi, lo, us)
    objs = pack.lookup(ips, times)
    for i, o in enumerate(objs):
        assert ("listed", "not-listed", "no-data")[status[i]] == o.tor
        assert (None if near[i] == NO_DAYS else int(near[i])) == o.tor_nearest_listing_days


def test_bounds_match_the_byte_key_search() -> None:
    # IPv4 queries search the keys' low halves as integers; the rest the 16-byte keys.
    from slipcatch.intel.index import key16
    from slipcatch.intel.torhistory import TorIndex

    th = load()
    idx = TorIndex(th.table_rows)
    hi = np.asarray(th.table_rows["th_hi"], np.uint64)
    lo = np.asarray(th.table_rows["th_lo"], np.uint64)
    rng = np.random.default_rng(13)
    one = np.uint64(1)
    q_hi = np.concatenate([hi, hi, hi, np.zeros(5000, np.uint64),
                           rng.integers(0, 1 << 63, 5000, dtype=np.uint64)])
    q_lo = np.concatenate([lo, lo + one, lo - one,
                           rng.integers(0xFFFF_0000_0000, 0xFFFF_FFFF_FFFF, 5000, np.uint64),
                           rng.integers(0, 1 << 63, 5000, dtype=np.uint64)])
    left, right = idx._bounds(q_hi, q_lo)
    q = key16(q_hi, q_lo)
    want_left = np.searchsorted(idx.keys, q, side="left")
    want_right = np.searchsorted(idx.keys, q, side="right")
    assert np.array_equal(right - left, want_right - want_left)
    has = want_right > want_left
    assert np.array_equal(left[has], want_left[has])
    assert int((right > left).sum()) >= len(hi)  # every listed address found, with its repeats
    assert (hi == 0).sum() > 0 and (hi != 0).sum() > 0  # both halves of the search ran


def test_manifest_carries_coverage(pack: IntelPack) -> None:
    info = pack.describe()
    cov = {c["layer"]: c for c in info["coverage"]}
    assert cov["tor"]["from"].startswith("2014-12-30")
    assert cov["tor"]["to"].startswith("2026-08-23")
    assert cov["tor"]["snapshot_days"] > 3000
    assert any(s["name"] == "tor-exit-history" for s in info["sources"])


@pytest.mark.parametrize(("when", "expect"), [
    ("2020-07-15T12:00:00Z", "listed (tor)"),
    ("2014-11-24T12:00:00Z", None),
])
def test_cli_lookup_without_intel(pack_cache: Path, when: str, expect: str | None,
                                  monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    ip = "185.220.101.1" if expect else "171.25.193.77"
    monkeypatch.setenv("SLIPCATCH_CACHE", str(pack_cache.parent / pack_cache.name))
    assert main(["intel", "lookup", ip, "--at", when]) == 0
    out = capsys.readouterr().out
    if expect:
        assert ": tor " in out and expect in out
    else:
        assert "no Tor data; listed 36 days later" in out
    assert main(["intel", "lookup", ip, "--at", when, "--json"]) == 0
    js = json.loads(capsys.readouterr().out)[0]
    assert js["asn"] is None or isinstance(js["asn"], int)
    assert js["tor"] == ("listed" if expect else "no-data")
    assert js["tor_nearest_listing_days"] == (None if expect else 36)
